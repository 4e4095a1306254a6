"""The pytest plugin (`codestand.testing`): as a project using it sees it, and through its fixture."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import datetime, timedelta, timezone

import httpcore  # noqa: F401  (see below)
import httpx
import pytest

from codestand.testing import Codestand, ControlError
from tests.live import ROOT, serving

pytest_plugins = ["pytester"]
# pytester runs the inner sessions in this process and then forgets the modules they imported.
# httpx imports httpcore on first use; were that inside an inner session, httpx would go on
# mapping the forgotten module's exceptions, and a refused connection would escape as
# httpcore's instead of httpx's. Imported here, httpcore outlives every inner session.

COURSE = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"

# What a project's test file holds: nothing but the fixture and httpx.
INNER_TESTS = f"""
import httpx

seen = {{}}


def test_a_group_and_its_codes(codestand):
    response = httpx.post(
        f"{{codestand.url}}/incoming/v2/redemptionCodes",
        headers={{"Authorization": f"Bearer {{codestand.ti_key}}"}},
        json={{"label": "Spring", "codeLength": 8, "totalCodesCount": 5, "courses": ["{COURSE}"]}},
    )
    assert response.status_code == 201, response.text
    codes = codestand.group_codes(response.json()["id"])
    assert len(codes) == len(set(codes)) == 5
    seen.update(key=codestand.ti_key, id=response.json()["id"])


def test_the_next_test_sees_a_reset_store(codestand):
    assert codestand.ti_key != seen["key"]
    response = httpx.get(
        f"{{codestand.url}}/incoming/v2/redemptionCodes",
        headers={{"Authorization": f"Bearer {{seen['key']}}"}},
    )
    assert response.json()["redemptionCodeGroups"] == []
"""


def ti_group(stand_in: Codestand, total: int = 3) -> str:
    response = httpx.post(
        f"{stand_in.url}/incoming/v2/redemptionCodes",
        headers={"Authorization": f"Bearer {stand_in.ti_key}"},
        json={"label": "Plugin", "codeLength": 8, "totalCodesCount": total, "courses": [COURSE]},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


# A project's view: pytest runs a test file that uses only the fixture. ------------------------


def test_an_in_process_stand_in_reset_after_each_test(pytester):
    pytester.makepyfile(test_codes=INNER_TESTS)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_attaching_to_the_server_at_codestand_url(pytester, monkeypatch):
    pytester.makepyfile(
        test_codes=INNER_TESTS
        + textwrap.dedent("""
            import os


            def test_it_is_the_server_named(codestand):
                assert codestand.url == os.environ["CODESTAND_URL"]
            """)
    )
    with serving("--quiet") as url:
        monkeypatch.setenv("CODESTAND_URL", url)
        pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_the_admin_token_is_sent_to_the_control_plane(pytester, monkeypatch):
    monkeypatch.setenv("CODESTAND_ADMIN_TOKEN", "s3cret")
    pytester.makepyfile(
        test_admin=INNER_TESTS
        + textwrap.dedent("""
            def test_the_control_plane_wants_the_token(codestand):
                assert httpx.get(f"{codestand.url}/__codestand/health").status_code == 401
            """)
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_tenant_reset_leaves_other_tenants_alone(pytester):
    """`codestand_reset = tenants`: on a shared server, another job's data outlives the test."""
    pytester.makeini("[pytest]\ncodestand_reset = tenants\n")
    pytester.makepyfile(
        test_shared=f"""
        import httpx

        BODY = {{"label": "x", "codeLength": 8, "totalCodesCount": 1, "courses": ["{COURSE}"]}}
        seen = {{}}


        def create(url, key):
            response = httpx.post(f"{{url}}/incoming/v2/redemptionCodes", headers={{"Authorization": f"Bearer {{key}}"}}, json=BODY)
            assert response.status_code == 201
            return response.json()["id"]


        def groups(url, key):
            response = httpx.get(f"{{url}}/incoming/v2/redemptionCodes", headers={{"Authorization": f"Bearer {{key}}"}})
            return response.json()["redemptionCodeGroups"]


        def test_one(codestand):
            create(codestand.url, codestand.ti_key)
            create(codestand.url, "another-job")
            codestand.clock.advance(86400)
            seen.update(key=codestand.ti_key, moved=codestand.clock.now())


        def test_two(codestand):
            assert groups(codestand.url, seen["key"]) == []
            assert len(groups(codestand.url, "another-job")) == 1
            assert codestand.clock.now() < seen["moved"]
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_documented_example_runs(pytester):
    doc = (ROOT / "docs" / "PYTEST_PLUGIN.md").read_text(encoding="utf-8")
    example = re.search(r"```python\n(.*?)```", doc, re.DOTALL).group(1)
    # The README shows the same example; keep the two in step.
    assert f"```python\n{example}```" in (ROOT / "README.md").read_text(encoding="utf-8")
    pytester.makepyfile(test_example=example)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_a_bad_reset_mode_is_a_usage_error(pytester):
    pytester.makeini("[pytest]\ncodestand_reset = sometimes\n")
    pytester.makepyfile(test_x="def test_x(codestand):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*codestand_reset = 'sometimes': use 'all' or 'tenants'*"])


# The helpers against the session's live stand-in. -------------------------------------------


def test_group_codes(codestand):
    group = ti_group(codestand, total=4)
    codes = codestand.group_codes(group)
    assert len(codes) == 4 and all(len(code) == 8 for code in codes)


def test_group_codes_of_an_unknown_group_raise(codestand):
    with pytest.raises(ControlError) as refused:
        codestand.group_codes("no-such-group")
    assert refused.value.status == 404


def test_a_moltin_token_opens_the_tests_own_store(codestand):
    token = codestand.moltin_token()
    response = httpx.get(f"{codestand.url}/v2/promotions", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["data"] == []


def test_clock(codestand):
    moment = datetime(2031, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert codestand.clock.set(moment, frozen=True) == moment
    assert codestand.clock.advance(timedelta(hours=1)) == moment + timedelta(hours=1)
    assert codestand.clock.advance(60) == moment + timedelta(hours=1, minutes=1)
    assert codestand.clock.now() == moment + timedelta(hours=1, minutes=1)
    assert abs(codestand.clock.reset() - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_redeem(codestand):
    group = ti_group(codestand)
    code = codestand.group_codes(group)[0]
    codestand.redeem(code, "5f0c1d2e-3a4b-4c5d-9e6f-7a8b9c0d1e21")
    listed = httpx.get(
        f"{codestand.url}/__codestand/tenants/{codestand.ti_key}/redemption-code-groups/{group}/codes"
    ).json()["codes"]
    assert [entry["code"] for entry in listed if entry["redeemed"]] == [code]


def test_use_until_the_promotion_ends(codestand):
    headers = {"Authorization": f"Bearer {codestand.moltin_token()}"}
    promotion = {
        "type": "promotion", "name": "Spring", "description": "Spring", "enabled": True,
        "promotion_type": "fixed_discount", "schema": {"currencies": [{"currency": "USD", "amount": 900}]},
        "start": "2020-01-01", "end": "2040-01-01",
    }
    created = httpx.post(f"{codestand.url}/v2/promotions", headers=headers, json={"data": promotion})
    codes = {"data": {"type": "promotion_codes", "codes": [{"code": "SPRING"}]}}
    httpx.post(f"{codestand.url}/v2/promotions/{created.json()['data']['id']}/codes", headers=headers, json=codes)
    codestand.use("SPRING", user="shopper-1")
    codestand.clock.set(datetime(2040, 1, 2, tzinfo=timezone.utc))
    with pytest.raises(ControlError) as refused:
        codestand.use("SPRING")
    assert 400 <= refused.value.status < 500


def test_journal(codestand):
    httpx.get(f"{codestand.url}/incoming/v2/ping", headers={"Authorization": f"Bearer {codestand.ti_key}"})
    entries = codestand.journal()
    assert any("/incoming/v2/ping" in json.dumps(entry) for entry in entries)
