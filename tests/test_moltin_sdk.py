"""The official Moltin JavaScript SDK (@moltin/sdk, pinned in tests/sdk) against a running stand-in.

The SDK is installed with `npm ci` from tests/sdk/package-lock.json the first time, then reused.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import serving

SDK_DIR = Path(__file__).resolve().parent / "sdk"
FLOW = SDK_DIR / "moltin_flow.mjs"
CLIENT_ID = "codestand-sdk-client"
CLIENT_SECRET = "codestand-sdk-secret"
CODES = ["ZXY_CBA", "ABC_XYZ"]  # the vendor doc's example codes; moltin_flow.mjs deletes the first


def _installed_sdk_version() -> str | None:
    try:
        return json.loads((SDK_DIR / "node_modules/@moltin/sdk/package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="module")
def sdk() -> Path:
    """The tests/sdk folder with the pinned SDK installed."""
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.fail("Node.js is required for the Moltin SDK test: install node and npm (Node.js 18 or later)")
    pinned = json.loads((SDK_DIR / "package.json").read_text())["dependencies"]["@moltin/sdk"]
    if _installed_sdk_version() != pinned:
        # --ignore-scripts: nothing but the locked npm packages is fetched or run.
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=SDK_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci in {SDK_DIR} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return SDK_DIR


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`codestand serve` in a subprocess; yields its host:port."""
    with serving("--quiet") as base:
        yield base.removeprefix("http://")


def run_flow(sdk: Path, host: str) -> dict:
    done = subprocess.run(
        ["node", str(FLOW), host, CLIENT_ID, CLIENT_SECRET],
        cwd=sdk,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        pytest.fail(f"the SDK flow failed ({done.returncode}): {done.stderr.strip()}\n{done.stdout}")
    return json.loads(done.stdout)


def test_sdk_creates_a_promotion_and_manages_its_codes(sdk, server):
    report = run_flow(sdk, server)
    steps = report["steps"]

    # One exchange per step: the token's `expires` lies ahead, so the SDK neither re-authenticates nor retries.
    for name, step in steps.items():
        assert len(step["exchanges"]) == 1, f"{name}: {step['exchanges']}"

    token = steps["authenticate"]["result"]
    assert token["access_token"]
    assert token["token_type"] == "Bearer"
    assert token["identifier"] == "client_credentials"
    assert token["expires"] > time.time()

    create = steps["create_promotion"]
    assert create["exchanges"][0]["status"] == 201
    promotion = create["result"]["data"]
    assert promotion["type"] == "promotion"
    assert promotion["name"] == "Promo #1"
    assert promotion["promotion_type"] == "fixed_discount"
    assert promotion["schema"] == {
        "currencies": [{"currency": "USD", "amount": 900}, {"currency": "GBP", "amount": 1100}]
    }

    add = steps["add_codes"]
    assert add["exchanges"][0] == {
        "method": "POST",
        "path": f"/v2/promotions/{promotion['id']}/codes",
        "status": 201,
    }
    # The SDK turns an empty or non-JSON body into the string "{}".
    assert isinstance(add["result"], dict), f"AddCodes resolved with {add['result']!r}, not the promotion"
    assert add["result"]["data"]["type"] == "promotion"
    assert add["result"]["data"]["id"] == promotion["id"]

    listed = steps["list_codes"]["result"]["data"]
    assert sorted(code["code"] for code in listed) == sorted(CODES)

    delete = steps["delete_code"]
    assert delete["exchanges"][0] == {
        "method": "DELETE",
        "path": f"/v2/promotions/{promotion['id']}/codes/{CODES[0]}",
        "status": 204,
    }

    remaining = steps["list_codes_after_delete"]["result"]["data"]
    assert [code["code"] for code in remaining] == [CODES[1]]
