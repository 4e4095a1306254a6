"""Schemathesis against a real `codestand serve`: the Thought Industries operations.

Every check is on and every phase runs: the examples, coverage and fuzzing phases for each
operation (`schema.parametrize()`), and the stateful phase, which follows the spec's link from
create to get. `CODESTAND_FUZZ_EXAMPLES` sets the number of examples (`make fuzz` sets 500).

Each test starts its own server, which accepts only a random API key made for this run (the
stateful test makes its own) through `--ti-api-key`: invalid credentials are really invalid
(the `ignored_auth` check), and no two tests or runs ever share a tenant.
"""

from __future__ import annotations

import os
import re
import secrets

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st

from codestand.domain import cursors
from codestand.spec import SPEC_DIR
from tests.live import Server

EXAMPLES = int(os.environ.get("CODESTAND_FUZZ_EXAMPLES", "50"))

# `format: cursor` / `events-cursor` in the spec: only a cursor the server issued for that list is
# one, so valid data uses those.
for fmt, kind in (("cursor", "groups"), ("events-cursor", "events")):
    schemathesis.openapi.format(fmt, st.integers(min_value=0, max_value=10_000).map(lambda n, kind=kind: cursors.cursor(n, kind)))


def config_for(api_key: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "checks": {"enabled": True},
            "phases": {"enabled": True},
            "generation": {"max-examples": EXAMPLES},
            "auth": {"openapi": {"tiApiKey": {"bearer": api_key}}},
        }
    )


# The spec file is what the server serves (tests/test_spec.py); the key is this run's own.
OPERATIONS_KEY = f"contract-{secrets.token_hex(16)}"
schema = schemathesis.openapi.from_path(SPEC_DIR / "openapi.yaml", config=config_for(OPERATIONS_KEY)).include(
    tag="Thought Industries"
)


def serve(tmp_path, api_key: str) -> Server:
    return Server(tmp_path / "stderr.log", "--ti-api-key", api_key)


@pytest.fixture
def live(tmp_path):
    with serve(tmp_path, OPERATIONS_KEY) as server:
        yield server
        assert "Traceback" not in server.log()


@schema.parametrize()
# One server serves every input generated for an operation: that is the point.
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_thought_industries_operation(case, live):
    case.call_and_validate(base_url=live.url)


def test_thought_industries_stateful(tmp_path):
    api_key = f"contract-{secrets.token_hex(16)}"
    with serve(tmp_path, api_key) as server:
        served = schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=config_for(api_key))
        served.include(tag="Thought Industries").as_state_machine().run(
            settings=hypothesis.settings(max_examples=EXAMPLES, stateful_step_count=6, deadline=None)
        )
        log = server.log()
    assert "Traceback" not in log
    followed = re.findall(r" GET /incoming/v2/redemptionCodes/[0-9a-f-]{36} 200 ", log)
    assert followed, "the create -> get link was never followed"
