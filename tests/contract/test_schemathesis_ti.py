"""Schemathesis against a real `codestand serve`: the Thought Industries operations, on each
storage backend.

Every check is on and every phase runs: the examples, coverage and fuzzing phases for each
operation (`schema.parametrize()`), and the stateful phase, which follows the spec's link from
create to get. `CODESTAND_FUZZ_EXAMPLES` sets the number of examples.

The servers accept only random API keys made for this run (`--ti-api-key`): invalid credentials
are really invalid (the `ignored_auth` check), and no two runs ever share a tenant. Of each pair
of keys the first makes every request and the second replays the first one's reads
(`object_level_authorization`, see conftest.py); the stateful test has a pair of its own.
"""

from __future__ import annotations

import base64
import re
import secrets

import pytest
import schemathesis
from hypothesis import strategies as st

from codestand.spec import SPEC_DIR
from tests.contract.conftest import (
    OWNER,
    PEER,
    SEED,
    STORES,
    PeerReplays,
    bearer_identity,
    config,
    examples,
    folder,
    stand_ins,
    stateful_settings,
    wfc_document,
)

EXAMPLES = examples(50)

# `format: events-cursor` in the spec: only a cursor the server issued for the feed is one, so
# valid data uses that form (base64 of `<Unix ms>.<seq>`). The groups list's cursor is a pattern
# every match of which is a position, so Schemathesis draws it from the pattern itself.
schemathesis.openapi.format(
    "events-cursor",
    st.tuples(st.integers(min_value=0, max_value=4_102_444_800_000), st.integers(min_value=0, max_value=10**6)).map(
        lambda t: base64.urlsafe_b64encode(f"{t[0]}.{t[1]}".encode()).decode().rstrip("=")
    ),
)

OPERATIONS_KEYS = (f"contract-{secrets.token_hex(16)}", f"contract-{secrets.token_hex(16)}")
STATEFUL_KEYS = (f"contract-{secrets.token_hex(16)}", f"contract-{secrets.token_hex(16)}")
SERVERS = stand_ins("ti", *(arg for key in (*OPERATIONS_KEYS, *STATEFUL_KEYS) for arg in ("--ti-api-key", key)))


def ti_config(url: str, keys: tuple[str, str]):
    owner, peer = keys
    wfc = wfc_document(folder("ti-auth"), bearer_identity(OWNER, owner), bearer_identity(PEER, peer))
    return config(base_url=url, max_examples=EXAMPLES, wfc=wfc)


def operations_test(backend: str):
    # The spec file is what the server serves (tests/test_spec.py).
    schema = schemathesis.openapi.from_path(
        SPEC_DIR / "openapi.yaml", config=ti_config(SERVERS[backend].url, OPERATIONS_KEYS)
    ).include(tag="Thought Industries")

    @schema.parametrize()
    def test(case):
        case.call_and_validate()

    return test


for _backend in STORES:
    globals()[f"test_thought_industries_operation_{_backend}"] = operations_test(_backend)


@pytest.mark.parametrize("backend", STORES)
def test_thought_industries_stateful(backend):
    server = SERVERS[backend]
    # The spec as served, links included.
    served = schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=ti_config(server.url, STATEFUL_KEYS))
    replays = PeerReplays(server.url, STATEFUL_KEYS[1])

    class Machine(served.include(tag="Thought Industries").as_state_machine()):
        def teardown(self):
            replays.collect()

    Machine.run(settings=stateful_settings(EXAMPLES, steps=6))
    followed = re.findall(r" GET /incoming/v2/redemptionCodes/[0-9a-f-]{36} 200 ", server.log())
    assert followed, "the create -> get link was never followed"
    # `object_level_authorization` really ran: the second key asked for the first key's groups
    # by id and was told there are none.
    # (Which steps a scenario takes is drawn: in a seeded run of `make fuzz` one may take none
    # that the check can replay; the deterministic run of `make test` always does.)
    if SEED is None:
        assert replays.refused(r"/incoming/v2/redemptionCodes/[0-9a-f-]{36}"), replays.seen
