"""Schemathesis against a running stand-in: the Moltin operations, every check, every phase.

Each run uses fresh stores (client_ids), so runs never collide and the 1000-promotion quota of
a store is never reached by the fuzzer itself. `CODESTAND_FUZZ_EXAMPLES` sets the number of
examples per operation (`make fuzz` raises it).
"""

from __future__ import annotations

import os
import uuid

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.live import ROOT, serving

EXAMPLES = int(os.environ.get("CODESTAND_FUZZ_EXAMPLES", "25"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("CODESTAND_FUZZ_SEED") is None,
)


# The schema is the spec file the server serves (tests/test_spec.py checks they agree), read at
# collection time; requests go to the live server that the `live` fixture starts.
schema = schemathesis.openapi.from_path(
    ROOT / "codestand" / "openapi.yaml", config=SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
).exclude(tag="Thought Industries")  # include() would be ORed with the config's own filter
LIVE: dict[str, str] = {}


@pytest.fixture(scope="module")
def live():
    with serving("--quiet") as base:
        LIVE["base"] = base
        yield base


class Stores:
    """Tokens of fresh stores (client_ids): a new one every 200 requests, so that runs never
    collide and the fuzzer never fills a store's 1000-promotion quota by itself."""

    def __init__(self) -> None:
        self.calls = 0
        self.token = ""

    def headers(self, case) -> dict[str, str]:
        if not case.operation.path.startswith("/v2/"):
            return {}
        if self.calls % 200 == 0:
            response = httpx.post(
                f"{LIVE['base']}/oauth/access_token",
                data={"grant_type": "client_credentials", "client_id": f"fuzz-{uuid.uuid4()}", "client_secret": "s"},
            )
            response.raise_for_status()
            self.token = response.json()["access_token"]
        self.calls += 1
        return {"Authorization": f"Bearer {self.token}"}


STORES = Stores()


@schemathesis.hook("filter_body").apply_to(method="POST", path="/v2/promotions")
def start_before_end(ctx, body):
    # The vendor refuses a promotion whose end is not after its start (a 422 no JSON Schema can
    # state); generated promotions keep that rule so that valid data stays valid.
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("start"), str) or not isinstance(data.get("end"), str):
        return True
    start, end = _instant(data["start"]), _instant(data["end"])
    # A date that does not parse makes the body invalid whatever the order: keep it.
    return start is None or end is None or start < end


def _instant(text: str):
    from codestand.domain.promotions import instant

    try:
        return instant({"d": text}, "d")
    except Exception:
        return None


@schema.parametrize()
@SETTINGS
def test_moltin_operations(case, live):
    case.call_and_validate(base_url=live, headers=STORES.headers(case))


def test_moltin_stateful(live):
    # Links in the spec drive it: create promotion -> get / update / add codes / list codes /
    # delete; add codes -> list codes / delete one code.
    machine = schema.as_state_machine()

    class Machine(machine):
        def get_call_kwargs(self, case):
            return {"base_url": live, "headers": STORES.headers(case)}

    Machine.run(
        settings=settings(
            max_examples=max(EXAMPLES // 2, 10),
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
