"""Schemathesis against a running stand-in: the control plane (`control.yaml`), every check,
every phase, like the vendor APIs, on each storage backend.

The servers run with `--admin-token` and every case carries it, so the fuzzing goes through the
gate as a protected deployment's tests do (tests/test_control.py covers the refusals).
"""

from __future__ import annotations

import secrets

import schemathesis

from codestand.spec import SPEC_DIR
from tests.contract.conftest import STORES, config, examples, stand_ins

EXAMPLES = examples(25)
TOKEN = f"admin-{secrets.token_hex(16)}"
SERVERS = stand_ins("control", "--admin-token", TOKEN)


def operations_test(backend: str):
    schema = schemathesis.openapi.from_path(
        SPEC_DIR / "control.yaml",
        config=config(
            base_url=f"{SERVERS[backend].url}/__codestand",
            max_examples=EXAMPLES,
            # X-Codestand: what test code sends, so that a POST without a body reaches its checks.
            headers={"Authorization": f"Bearer {TOKEN}", "X-Codestand": "1"},
        ),
    )

    @schema.parametrize()
    def test(case):
        case.call_and_validate()

    return test


for _backend in STORES:
    globals()[f"test_control_operations_{_backend}"] = operations_test(_backend)
