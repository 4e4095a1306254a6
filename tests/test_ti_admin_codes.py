"""Uploaded, added and gift codes through the control plane, as the vendor's admin UI offers them
(support article "Managing Learners with Redemption Codes"), and how the vendor routes show them
(vendor page "List Redemption Code Groups", second example: `uploaded: true`, `gift: true`)."""

from __future__ import annotations

import pytest

from tests.conftest import TI_KEY

CONTROL = f"/__codestand/tenants/{TI_KEY}/redemption-code-groups"
URL = "/incoming/v2/redemptionCodes"
PATH_ID = "1d9e8f70-4a3b-4c2d-8e1f-0a9b8c7d6e5f"  # Manager Fundamentals, a learning path of the seed
LEARNER = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def upload(ti, **body):
    return ti.post(CONTROL, json={"label": "Partner Gift Codes", "learningPaths": [PATH_ID], **body})


def refused(status: int, title: str, *details: tuple[str, str]) -> dict:
    return {"errors": [{"status": status, "title": title, "detail": d, "source": s} for s, d in details]}


def codes_of(ti, group_id: str) -> list[str]:
    return [c["code"] for c in ti.get(f"{CONTROL}/{group_id}/codes").json()["codes"]]


def test_an_uploaded_gift_group_is_listed_as_the_vendor_example_shows(ti):
    response = upload(ti, codes=["partner-001", "partner-002"], gift=True, accessExpirationDate="2026-01-01T00:00:00Z")
    assert response.status_code == 201, response.text
    group = response.json()
    expected = {
        "id": group["id"],
        "label": "Partner Gift Codes",
        "redeemedCodesCount": 0,
        "totalCodesCount": 2,
        "expirationDate": None,
        "accessDays": None,
        "accessExpirationDate": "2026-01-01T00:00:00.000Z",
        "uploaded": True,
        "gift": True,
        "client": None,
        "courses": [],
        "learningPaths": [{"id": PATH_ID, "name": group["learningPaths"][0]["name"]}],
        "bundles": [],
        "licenses": [],
    }
    assert group == expected
    got = ti.get(f"{URL}/{group['id']}")
    assert (got.status_code, got.json(), list(got.json())) == (200, expected, list(expected))
    assert ti.get(URL).json()["redemptionCodeGroups"] == [expected]
    assert codes_of(ti, group["id"]) == ["partner-001", "partner-002"]
    # A learner redeems an uploaded code like any other.
    assert ti.post(f"/__codestand/tenants/{TI_KEY}/redemptions", json={"code": "PARTNER-002", "userId": LEARNER}).status_code == 201


def test_a_csv_upload_reads_the_first_column_under_an_optional_header(ti):
    response = upload(ti, csv="code,note\r\nspring-1,first\n\nspring-2,second\n")
    assert response.status_code == 201, response.text
    assert codes_of(ti, response.json()["id"]) == ["spring-1", "spring-2"]
    assert upload(ti, csv="summer-1\nsummer-2").json()["totalCodesCount"] == 2


@pytest.mark.parametrize(
    ("codes", "status", "errors"),
    [
        (["a" * 21], 422, refused(422, "Code refused", ("codes[0]", f"The code {'a' * 21} is longer than 20 characters"))),
        (["Spring"], 422, refused(422, "Code refused", ("codes[0]", "The code Spring uses characters other than a-z, 0-9 and -"))),
        (["ok-1", "sp ace", "ok_2"], 422, refused(
            422, "Code refused",
            ("codes[1]", "The code sp ace uses characters other than a-z, 0-9 and -"),
            ("codes[2]", "The code ok_2 uses characters other than a-z, 0-9 and -"),
        )),
        (["twice", "twice"], 422, refused(422, "Code refused", ("codes[1]", "The code twice is in the upload more than once"))),
        ([], 422, refused(422, "No codes", ("codes", "An upload needs at least one code"))),
        ([f"c{n}" for n in range(10_001)], 422, refused(
            422, "Too many codes", ("codes", "A group holds at most 10000 codes; this one would hold 10001")
        )),
    ],
    ids=["too-long", "upper-case", "characters", "repeated", "none", "over-10000"],
)
def test_every_refused_code_is_named_with_why(ti, codes, status, errors):
    response = upload(ti, codes=codes)
    assert (response.status_code, response.json()) == (status, errors)
    assert ti.get(URL).json()["pageInfo"]["total"] == 0


def test_a_code_used_in_the_instance_is_refused(ti):
    first = upload(ti, codes=["taken-1"]).json()
    response = upload(ti, codes=["fresh-1", "taken-1"])
    assert (response.status_code, response.json()) == (
        409, refused(409, "Code taken", ("codes[1]", "The code taken-1 is used in this instance already"))
    )
    assert codes_of(ti, first["id"]) == ["taken-1"]


def test_adding_codes_to_a_group(ti):
    created = ti.post(URL, json={"label": "Batch", "codeLength": 6, "totalCodesCount": 2, "learningPaths": [PATH_ID]}).json()
    more = ti.post(f"{CONTROL}/{created['id']}/added-codes", json={"count": 3})
    assert more.status_code == 200, more.text
    assert (more.json()["totalCodesCount"], more.json()["uploaded"]) == (5, False)
    codes = codes_of(ti, created["id"])
    assert len(codes) == len(set(codes)) == 5 and all(len(c) == 6 for c in codes)
    own = ti.post(f"{CONTROL}/{created['id']}/added-codes", json={"codes": ["mine-1"]})
    assert (own.json()["totalCodesCount"], own.json()["uploaded"]) == (6, True)
    assert codes_of(ti, created["id"])[-1] == "mine-1"
    assert ti.get(f"{URL}/{created['id']}").json()["totalCodesCount"] == 6
    too_many = ti.post(f"{CONTROL}/{created['id']}/added-codes", json={"count": 9_995})
    assert (too_many.status_code, too_many.json()) == (
        422, refused(422, "Too many codes", ("count", "A group holds at most 10000 codes; this one would hold 10001"))
    )
    repeated = ti.post(f"{CONTROL}/{created['id']}/added-codes", json={"codes": ["mine-1"]})
    assert repeated.status_code == 409


def test_gift_and_delete(ti):
    created = ti.post(URL, json={"label": "Gifts", "codeLength": 6, "totalCodesCount": 1, "learningPaths": [PATH_ID]}).json()
    gifted = ti.put(f"{CONTROL}/{created['id']}/gift", json={"gift": True})
    assert (gifted.status_code, gifted.json()["gift"]) == (200, True)
    assert ti.get(f"{URL}/{created['id']}").json()["gift"] is True
    assert ti.put(f"{CONTROL}/{created['id']}/gift", json={"gift": False}).json()["gift"] is False
    code = codes_of(ti, created["id"])[0]
    assert ti.delete(f"{CONTROL}/{created['id']}").status_code == 204
    assert ti.get(f"{URL}/{created['id']}").status_code == 404
    assert ti.delete(f"{CONTROL}/{created['id']}").status_code == 404
    # Its code is free again.
    assert upload(ti, codes=[code]).status_code == 201


def test_unknown_group_is_404(ti):
    for response in (
        ti.post(f"{CONTROL}/nope/added-codes", json={"count": 1}),
        ti.put(f"{CONTROL}/nope/gift", json={"gift": True}),
        ti.delete(f"{CONTROL}/nope"),
    ):
        assert (response.status_code, response.json()) == (
            404, {"errors": [{"status": 404, "title": "Not Found", "detail": "No redemption code group with this id for this tenant"}]}
        )


def test_adding_nothing_is_400_saying_what_to_give(ti):
    created = ti.post(URL, json={"label": "Batch", "codeLength": 6, "totalCodesCount": 1, "learningPaths": [PATH_ID]}).json()
    for body in ({}, {"counts": 3}):
        response = ti.post(f"{CONTROL}/{created['id']}/added-codes", json=body)
        assert (response.status_code, response.json()) == (
            400, {"errors": [{"status": 400, "title": "Bad Request", "detail": "Say what to add: count, codes or csv"}]}
        )
    # An empty list is something to add, and the admin UI refuses it as an empty upload.
    empty = ti.post(f"{CONTROL}/{created['id']}/added-codes", json={"codes": []})
    assert (empty.status_code, empty.json()) == (422, refused(422, "No codes", ("codes", "An upload needs at least one code")))
    assert ti.get(f"{URL}/{created['id']}").json()["totalCodesCount"] == 1
