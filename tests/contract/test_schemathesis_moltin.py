"""Schemathesis against a running stand-in: the Moltin operations, every check, every phase, on
each storage backend.

Tokens come from the token endpoint through Schemathesis' own auth (a Web Fuzzing Commons
login, see conftest.py), so the cases it sends without credentials (`ignored_auth`, negative
headers) really go without. Two stores take part: the owner makes every request and a second
store replays the owner's reads (`object_level_authorization`). Each schema gets two fresh
client_ids, so runs never collide; the stateful scenarios forget both stores between
scenarios, so a long run never fills a store's 1000-promotion quota by itself.
`CODESTAND_FUZZ_EXAMPLES` sets the examples per operation (`make fuzz` raises it).
"""

from __future__ import annotations

import uuid

import httpx
import pytest
import schemathesis

from codestand.spec import SPEC_DIR
from tests.contract.conftest import (
    OWNER,
    PEER,
    SEED,
    STORES,
    PeerReplays,
    config,
    examples,
    folder,
    stand_ins,
    stateful_settings,
    token_identity,
    wfc_document,
)

EXAMPLES = examples(25)
SERVERS = stand_ins("moltin")


def moltin_schema(url: str, stores: tuple[str, str]):
    # The spec file is the one the server serves (tests/test_spec.py checks they agree).
    owner, peer = stores
    wfc = wfc_document(folder("moltin-auth"), token_identity(OWNER, owner, "owner-secret"), token_identity(PEER, peer, "peer-secret"))
    return schemathesis.openapi.from_path(
        SPEC_DIR / "openapi.yaml", config=config(base_url=url, max_examples=EXAMPLES, wfc=wfc)
    ).exclude(tag="Thought Industries")  # include() would be ORed with the config's own filter


def fresh_stores() -> tuple[str, str]:
    return f"fuzz-{uuid.uuid4()}", f"fuzz-{uuid.uuid4()}"


def operations_test(backend: str):
    @moltin_schema(SERVERS[backend].url, fresh_stores()).parametrize()
    def test(case):
        case.call_and_validate()

    return test


for _backend in STORES:
    globals()[f"test_moltin_operations_{_backend}"] = operations_test(_backend)


@pytest.mark.parametrize("backend", STORES)
def test_moltin_stateful(backend):
    # Links in the spec drive it: create promotion -> get / update / add codes / list codes /
    # delete; add codes -> list codes / delete one code.
    url = SERVERS[backend].url
    stores = fresh_stores()
    replays = PeerReplays(url, stores[1])

    class Machine(moltin_schema(url, stores).as_state_machine()):
        def teardown(self):
            replays.collect()
            for store in stores:
                httpx.post(f"{url}/__codestand/moltin/tenants/{store}/reset", headers={"X-Codestand": "1"}).raise_for_status()

    # 12 steps a scenario: Schemathesis' choice of transitions, though seeded, changes with the
    # interpreter's state (which modules the run loaded: `make test` fails at 8 steps where this
    # file alone passes); at 8 no scenario of the whole suite's run reached a linked read of a
    # created promotion, at 12 every run tried (this file, the contract folder, the whole suite) does.
    Machine.run(settings=stateful_settings(max(EXAMPLES // 2, 10), steps=12))
    # `object_level_authorization` really ran: the second store asked for the owner's
    # promotions, or their parts, by id and was told there are none.
    # (Which steps a scenario takes is drawn: in a seeded run of `make fuzz` one may take none
    # that the check can replay; the deterministic run of `make test` always does.)
    if SEED is None:
        # A read of the owner's promotion or of one of its parts (its codes, history, jobs).
        assert replays.refused(r"/v2/promotions/[^/]+(/[^/]+)?"), replays.seen
