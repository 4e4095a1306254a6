"""Schemathesis against a running stand-in: the Moltin operations, every check, every phase.

Tokens come through Schemathesis' own auth provider, so the cases it sends without credentials
(`ignored_auth`, negative headers) really go without. Every minute the provider moves to a
fresh store (client_id), so runs never collide and the fuzzer never fills a store's
1000-promotion quota by itself. `CODESTAND_FUZZ_EXAMPLES` sets the examples per operation
(`make fuzz` raises it).
"""

from __future__ import annotations

import os
import uuid

import httpx
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.live import ROOT, shared_server

EXAMPLES = int(os.environ.get("CODESTAND_FUZZ_EXAMPLES", "25"))

# The schema is the spec file the server serves (tests/test_spec.py checks they agree).
schema = schemathesis.openapi.from_path(
    ROOT / "codestand" / "openapi.yaml", config=SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
).exclude(tag="Thought Industries")  # include() would be ORed with the config's own filter


@schema.auth(refresh_interval=60).apply_to(path_regex=r"^/v2/")
class MoltinToken:
    def get(self, case, context):
        # Schemathesis asks for a token while it builds examples, before any fixture runs,
        # hence a server shared by the module and started on first use.
        response = httpx.post(
            f"{shared_server()}/oauth/access_token",
            data={"grant_type": "client_credentials", "client_id": f"fuzz-{uuid.uuid4()}", "client_secret": "s"},
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_moltin_operations(case):
    case.call_and_validate(base_url=shared_server())


def test_moltin_stateful():
    # Links in the spec drive it: create promotion -> get / update / add codes / list codes /
    # delete; add codes -> list codes / delete one code.
    class Machine(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"base_url": shared_server()}

    Machine.run(
        settings=settings(
            max_examples=max(EXAMPLES // 2, 10),
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
