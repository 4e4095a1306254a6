"""Schemathesis against a running stand-in: the control plane (`control.yaml`), every check,
every phase, like the vendor APIs."""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.live import ROOT, shared_server

EXAMPLES = int(os.environ.get("CODESTAND_FUZZ_EXAMPLES", "25"))

schema = schemathesis.openapi.from_path(
    ROOT / "codestand" / "control.yaml", config=SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_control_operations(case):
    case.call_and_validate(base_url=f"{shared_server()}/__codestand")
