"""The vendor's own contract: Elastic Path's published Promotions Standard document
(`tests/contract/vendor/elasticpath-promotions-openapi.yaml`, a copy of
`../shared/vendor-docs/elasticpath/current/promotions-openapi.yaml` with the five smallest fixes
that make it load and mean what its examples say, each marked `codestand fix N`), run by
Schemathesis against a running stand-in on each store.

Checks: `response_schema_conformance` (no answer breaks the vendor's schemas),
`not_a_server_error`, and `positive_data_acceptance`, where the statuses a vendor rule stated
outside the document's schemas gives are added per operation in `VENDOR_RULES`, each with its
source; an operation not listed there gets none (`test_every_vendor_operation_has_its_rules`). The rest of Schemathesis' checks run on our own contract (test_schemathesis_moltin.py).
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

# What a request the document calls valid may still get, by a vendor rule stated outside the
# document's schemas: per operation, each status with its source. 401 and 403 are every
# operation's (the permissions guide: a peer's token, an implicit token on promotions).
PAGING = "400: `page[limit]`/`page[offset]` are numbers, at most 100 and 10,000 (pagination.md)"
FILTER = "400: `filter` in the filtering guide's syntax, else 'Could not parse the supplied filter'"
UNKNOWN = "404: the ids the document generates at random name no promotion (or job)"
PROMOTION_BODY = (
    "400: `start`/`end` are dates, `currency` three letters, `schema` fits its `promotion_type` (the"
    " discriminator's mapping), an item-level promotion names its targets and `\"targets\": \"all\"`"
    " comes with `target_nodes` (the `targets` and `target_nodes` descriptions); over the store's"
    " 1000 promotions, 400 (the documented quota)"
)
DATES = "422: `end` after `start`, counting stored values (the Promotions tag)"
CODES = "400: code strings that fit a URL path (the SDKs do not encode them); over 1000 codes, 400 (the quota)"
VENDOR_RULES: dict[str, list[str]] = {
    "GET /v2/promotions": [PAGING, FILTER],
    "POST /v2/promotions": [PROMOTION_BODY, DATES],
    "GET /v2/promotions/{promotionID}": [UNKNOWN],
    "PUT /v2/promotions/{promotionID}": [PROMOTION_BODY, UNKNOWN, DATES + "; an expired promotion moved on with over 1000 codes"],
    "DELETE /v2/promotions/{promotionID}": [UNKNOWN],
    "GET /v2/promotions/{promotionID}/history": [PAGING, UNKNOWN],
    "GET /v2/promotions/{promotionID}/codes": [PAGING, FILTER, UNKNOWN],
    "POST /v2/promotions/{promotionID}/codes": [
        CODES,
        UNKNOWN,
        "409: a code already used in the store (codes are unique across promotions: the Promotion Codes tag)",
        "422: codes on an automatic promotion (the Promotion Codes tag)",
    ],
    "DELETE /v2/promotions/{promotionID}/codes": [CODES, UNKNOWN],
    "DELETE /v2/promotions/{promotionID}/codes/{code}": [CODES, UNKNOWN],
    "GET /v2/promotions/{promotionID}/jobs": [PAGING, FILTER, UNKNOWN],
    "POST /v2/promotions/{promotionID}/jobs": [
        "400: job parameters: a code length of 8 to 16 (its own description)",
        UNKNOWN,
        "422: one job at a time in a promotion (the Promotion Jobs tag)",
    ],
    "POST /v2/promotions/{promotionID}/jobs/{jobID}/cancel": [
        UNKNOWN,
        "422: cancelling a job that is not pending or processing (its summary)",
    ],
    "GET /v2/promotions/{promotionID}/jobs/{jobID}/file": [UNKNOWN],
}


def expected_statuses(rules: list[str]) -> list[str]:
    return ["2xx", "401", "403", *sorted({rule[:3] for rule in rules})]


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
            "positive_data_acceptance": {"enabled": True},
        },
        "operations": [
            {"include-name": name, "checks": {"positive_data_acceptance": {"expected-statuses": expected_statuses(rules)}}}
            for name, rules in VENDOR_RULES.items()
        ],
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


def test_every_vendor_operation_has_its_rules():
    """The rules name exactly the document's operations: a new one must say what it may refuse."""
    document = schemathesis.openapi.from_path(VENDOR_SPEC)
    names = {operation.ok().label for operation in document.get_all_operations()}
    assert names == set(VENDOR_RULES)
