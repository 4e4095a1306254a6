"""Both contracts pass Spectral's `spectral:oas` ruleset with no error, warning, info or hint.

Swagger UI and code generators read these files; Spectral (pinned in tests/lint, installed with
`npm ci` the first time) checks what they rely on: examples valid against their schemas, every
operation described, an `info.contact`, unique operation ids, and the rest of the OAS rules.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from codestand.spec import SPEC_DIR

LINT_DIR = Path(__file__).resolve().parent / "lint"
SPECTRAL = LINT_DIR / "node_modules/.bin/spectral"


@pytest.fixture(scope="module")
def spectral() -> Path:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.fail("Node.js is required for the Spectral lint: install node and npm (Node.js 18 or later)")
    if not SPECTRAL.exists():
        # --ignore-scripts: nothing but the locked npm packages is fetched or run.
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=LINT_DIR, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci in {LINT_DIR} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return SPECTRAL


def lint(spectral: Path, document: Path) -> list[dict]:
    done = subprocess.run(
        [str(spectral), "lint", "--ruleset", str(LINT_DIR / ".spectral.yaml"), "--format", "json", "--quiet", str(document)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", ["openapi.yaml", "control.yaml"])
def test_contract_passes_spectral_oas(spectral, name):
    results = lint(spectral, SPEC_DIR / name)
    assert [f"{r['code']} at {'.'.join(map(str, r['path']))}: {r['message']}" for r in results] == []


def test_the_ruleset_is_in_force(spectral, tmp_path):
    # A document breaking two of the rules the contracts are held to: the lint must say so.
    bare = tmp_path / "bare.yaml"
    bare.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1', description: d}\nservers: [{url: /}]\ntags: []\n"
        "paths:\n  /x:\n    get:\n      operationId: x\n      summary: x\n      responses:\n        '200': {description: ok}\n"
    )
    assert {r["code"] for r in lint(spectral, bare)} >= {"info-contact", "operation-description"}
