"""Conditional GET on the Thought Industries routes (vendor page "Status codes": 304 Not Modified)."""

from __future__ import annotations

import pytest

from tests.conftest import TI_KEY

URL = "/incoming/v2/redemptionCodes"
COURSE = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"
LEARNER = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def create(ti) -> dict:
    return ti.post(URL, json={"label": "Tagged", "codeLength": 8, "totalCodesCount": 2, "courses": [COURSE]}).json()


@pytest.mark.parametrize("path", ["group", URL, "/incoming/v2/events/redemptionCodeRedeem", "/incoming/v2/ping"])
def test_an_unchanged_resource_is_304_with_its_tag_and_no_body(ti, path):
    group = create(ti)
    path = f"{URL}/{group['id']}" if path == "group" else path
    first = ti.get(path)
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('"') and len(tag) == 34
    for sent in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        again = ti.get(path, headers={"If-None-Match": sent})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
        assert "content-type" not in again.headers and "content-length" not in again.headers
        assert again.headers["x-ratelimit-limit"] in ("120", "100")
    other = ti.get(path, headers={"If-None-Match": '"other"'})
    assert (other.status_code, other.json(), other.headers["etag"]) == (200, first.json(), tag)


def test_a_change_changes_the_tag(ti):
    group = create(ti)
    path = f"{URL}/{group['id']}"
    tag = ti.get(path).headers["etag"]
    list_tag = ti.get(URL).headers["etag"]
    code = ti.get(f"/__codestand/tenants/{TI_KEY}/redemption-code-groups/{group['id']}/codes").json()["codes"][0]["code"]
    ti.post(f"/__codestand/tenants/{TI_KEY}/redemptions", json={"code": code, "userId": LEARNER})
    changed = ti.get(path, headers={"If-None-Match": tag})
    assert (changed.status_code, changed.json()["redeemedCodesCount"]) == (200, 1)
    assert changed.headers["etag"] != tag
    assert ti.get(URL, headers={"If-None-Match": list_tag}).status_code == 200


def test_errors_and_writes_carry_no_tag(ti):
    assert "etag" not in ti.get(f"{URL}/nope").headers
    assert "etag" not in ti.post(URL, json={"label": "x", "codeLength": 8, "totalCodesCount": 1, "courses": [COURSE]}).headers
