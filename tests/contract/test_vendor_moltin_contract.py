"""The vendor's own contract: Elastic Path's published Promotions Standard document
(`tests/contract/vendor/elasticpath-promotions-openapi.yaml`, a copy of
`../shared/vendor-docs/elasticpath/current/promotions-openapi.yaml` with the five smallest fixes
that make it load and mean what its examples say, each marked `codestand fix N`), run by
Schemathesis against a running stand-in on each store.

Checks: `response_schema_conformance` (no answer breaks the vendor's schemas),
`not_a_server_error`, and `positive_data_acceptance`, where the statuses a vendor rule stated
outside the document's schemas gives are added per operation in `VENDOR_RULES`, each with its
source. The rest of Schemathesis' checks run on our own contract (test_schemathesis_moltin.py).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import schemathesis
from schemathesis.config import SchemathesisConfig

from tests.contract.conftest import OWNER, PEER, SEED, STORES, examples, folder, stand_ins, token_identity, wfc_document

VENDOR_SPEC = Path(__file__).resolve().parent / "vendor" / "elasticpath-promotions-openapi.yaml"
EXAMPLES = examples(10)
SERVERS = stand_ins("vendor-moltin")

# 400: the document types what its guides and field descriptions constrain as bare strings:
# `page[limit]`/`page[offset]` (numbers, at most 100 and 10,000: pagination.md), `filter` (the
# filtering guide's syntax, else 400 "Could not parse the supplied filter"), `start`/`end` (dates),
# `currency` (three letters), `schema` against its `promotion_type` (the discriminator's mapping),
# the targeting fields an item-level promotion needs and `"targets": "all"` without `target_nodes`
# (the `targets` and `target_nodes` descriptions), job parameters (code length 8 to 16: its own
# description), code strings that fit a URL path (the SDKs do not encode them).
# 404: ids the document generates at random name no promotion or job.
# 409: a code already used in the store (codes are unique across promotions: the Promotion Codes tag).
# 422: `end` after `start`; codes on an automatic promotion; one job at a time in a promotion
# (the Promotion Jobs tag); cancelling a job that is not pending or processing (its summary).
VENDOR_RULES = ["2xx", "400", "401", "403", "404", "409", "422"]


def vendor_schema(url: str):
    owner, peer = f"vendor-{uuid.uuid4()}", f"vendor-{uuid.uuid4()}"
    wfc = wfc_document(folder("vendor-moltin-auth"), token_identity(OWNER, owner, "s"), token_identity(PEER, peer, "s"))
    settings = {
        "base-url": url,
        "suppress-health-check": ["all"],
        "generation": {"max-examples": EXAMPLES, "deterministic": SEED is None, "allow-x00": False},
        "phases": {"enabled": True},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "positive_data_acceptance": {"enabled": True, "expected-statuses": VENDOR_RULES},
        },
        "auth": {"wfc": {"path": str(wfc), "user": OWNER, "peers": [OWNER, PEER]}},
    }
    if SEED is not None:
        settings["seed"] = SEED
    return schemathesis.openapi.from_path(VENDOR_SPEC, config=SchemathesisConfig.from_dict(settings))


def operations_test(backend: str):
    @vendor_schema(SERVERS[backend].url).parametrize()
    def test(case):
        case.call_and_validate()

    return test


for _backend in STORES:
    globals()[f"test_vendor_contract_{_backend}"] = operations_test(_backend)
