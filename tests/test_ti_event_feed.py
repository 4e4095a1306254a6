"""`GET /incoming/v2/events/redemptionCodeRedeem` as the vendor's pages describe it.

Sources: vendor page "List redemptionCodeRedeem" (parameters `kind`, `cursor`, `startDate` "on or
after", `endDate` "on or before", `notifiableId` and `userId` as UUIDs; `pageInfo` with
`perPage`, `cursor`, `total`, `hasMore`), the REST overview (dates and cursors in Unix
milliseconds) and the pagination page (cursors stable while data changes).
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import TI_KEY

FEED = "/incoming/v2/events/redemptionCodeRedeem"
COURSE = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"
LEARNER = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
OTHER_LEARNER = "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"
NOW = datetime(2030, 3, 1, 12, 0, tzinfo=timezone.utc)
NOW_MS = 1898596800000  # NOW in Unix milliseconds
BAD_DATE = "{} must be Unix milliseconds or an ISO 8601 date or date-time."
BAD_CURSOR = "cursor is not a cursor this server issued."
EMPTY = {"data": {"APIEvents": {"pageInfo": {"perPage": 50, "cursor": None, "total": 0, "hasMore": False}, "events": []}}}


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture
def clock(clock):
    clock.freeze(NOW)
    return clock


def new_group(ti, count: int) -> tuple[str, list[str]]:
    body = {"label": "Feed", "codeLength": 8, "totalCodesCount": count, "courses": [COURSE]}
    group = ti.post("/incoming/v2/redemptionCodes", json=body).json()
    codes = ti.get(f"/__codestand/tenants/{TI_KEY}/redemption-code-groups/{group['id']}/codes").json()["codes"]
    return group["id"], [c["code"] for c in codes]


def redeem(ti, code: str, user: str = LEARNER) -> None:
    response = ti.post(f"/__codestand/tenants/{TI_KEY}/redemptions", json={"code": code, "userId": user})
    assert response.status_code == 201, response.text


def feed(ti, **params) -> dict:
    response = ti.get(FEED, params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]["APIEvents"]


def codes_in(page: dict) -> list[str]:
    return [e["redemptionCode"] for e in page["events"]]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        # The example: Unix milliseconds are a date, not schema-validator text.
        ({"startDate": "yesterday"}, [BAD_DATE.format("startDate")]),
        ({"endDate": "2030-13-01"}, [BAD_DATE.format("endDate")]),
        ({"endDate": "-1"}, [BAD_DATE.format("endDate")]),
        ({"startDate": "1" * 15}, [BAD_DATE.format("startDate")]),  # beyond year 5138
        ({"startDate": "1.5"}, [BAD_DATE.format("startDate")]),
        ({"userId": "learner-1"}, ["userId must be a UUID."]),
        ({"notifiableId": "group-1"}, ["notifiableId must be a UUID."]),
        ({"kind": ""}, ["kind must not be empty."]),
        ({"kind": "k" * 101}, ["kind can be at most 100 characters."]),
        ({"cursor": "not a cursor"}, [BAD_CURSOR]),
        ({"cursor": b64("groups:0")}, [BAD_CURSOR]),  # an offset cursor of earlier versions
        ({"cursor": b64("12.x")}, [BAD_CURSOR]),
        ({"cursor": b64("99999999999999999")}, [BAD_CURSOR]),  # beyond year 9999
        ({"cursor": "A" * 49}, [BAD_CURSOR]),
        ({"userId": "x", "startDate": "x"}, [BAD_DATE.format("startDate"), "userId must be a UUID."]),
    ],
    ids=lambda value: str(value)[:40],
)
def test_bad_parameters_are_400_in_the_vendors_words(ti, params, errors):
    response = ti.get(FEED, params=params)
    assert (response.status_code, response.json()) == (400, {"errors": errors})
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "abcd"),
        # startDate: on or after; endDate: on or before (both ends inclusive).
        ({"startDate": str(NOW_MS + 60_000)}, "bcd"),
        ({"endDate": str(NOW_MS + 60_000)}, "ab"),
        ({"startDate": str(NOW_MS + 60_000), "endDate": str(NOW_MS + 60_000)}, "b"),
        ({"startDate": "2030-03-01T12:01:00Z", "endDate": "2030-03-01T12:01:00.000Z"}, "b"),
        ({"endDate": "2030-03-01T12:00:59.999Z"}, "a"),
        ({"startDate": "2030-03-01T12:01:00.001Z"}, "cd"),
        # A date-time with an offset is that instant.
        ({"endDate": "2030-03-01T13:01:00+01:00"}, "ab"),
        # A date-only startDate is its midnight (UTC); a date-only endDate the whole day.
        ({"startDate": "2030-03-02"}, "d"),
        ({"endDate": "2030-03-01"}, "abc"),
        ({"startDate": "2030-03-01", "endDate": "2030-03-01"}, "abc"),
        ({"startDate": "0"}, "abcd"),
        ({"endDate": "0"}, ""),
        ({"userId": OTHER_LEARNER}, "c"),
        ({"userId": OTHER_LEARNER.upper()}, "c"),
        ({"kind": "redemptionCodeRedeem"}, "abcd"),
        # The feed has no events of another kind.
        ({"kind": "courseCompletion"}, ""),
    ],
    ids=lambda value: str(value)[:60],
)
def test_filters(ti, clock, params, expected):
    _, codes = new_group(ti, 4)
    named = dict(zip("abcd", codes))
    for letter, at in zip("abcd", (NOW, NOW + timedelta(minutes=1), NOW + timedelta(hours=2), NOW + timedelta(days=1))):
        clock.freeze(at)
        redeem(ti, named[letter], OTHER_LEARNER if letter == "c" else LEARNER)
    page = feed(ti, **params)
    assert codes_in(page) == [named[letter] for letter in expected]
    assert page["pageInfo"] == {"perPage": 50, "cursor": None, "total": len(expected), "hasMore": False}


def test_notifiable_id_is_the_group(ti, clock):
    first, codes = new_group(ti, 2)
    second, others = new_group(ti, 1)
    for code in (*codes, *others):
        redeem(ti, code)
    assert codes_in(feed(ti, notifiableId=second)) == others
    assert codes_in(feed(ti, notifiableId=first.upper())) == codes


def test_an_event_is_as_the_vendor_lists_it(ti, clock):
    clock.freeze(NOW + timedelta(microseconds=123_456))
    group, codes = new_group(ti, 1)
    redeem(ti, codes[0], LEARNER.upper())
    page = feed(ti)
    assert page["events"] == [
        {
            "id": page["events"][0]["id"],
            "type": "redemptionCodeRedeem",
            # Whole milliseconds: an event is at the instant a client reads in it.
            "timestamp": "2030-03-01T12:00:00.123Z",
            "userId": LEARNER,
            "notifiableId": group,
            "notifiableType": "redemptionCodeGroup",
            "redemptionCode": codes[0],
        }
    ]
    # So the instant shown, as endDate, includes the event; one millisecond before excludes it.
    assert feed(ti, endDate="2030-03-01T12:00:00.123Z")["pageInfo"]["total"] == 1
    assert feed(ti, endDate=str(NOW_MS + 122))["pageInfo"]["total"] == 0
    assert feed(ti, startDate=str(NOW_MS + 123))["pageInfo"]["total"] == 1


def test_empty_feed(ti):
    response = ti.get(FEED)
    assert (response.status_code, response.json()) == (200, EMPTY)


def test_cursor_is_base64_of_unix_ms_and_seq(ti, clock):
    _, codes = new_group(ti, 51)
    for code in codes:
        redeem(ti, code)
    first = feed(ti)
    cursor = first["pageInfo"]["cursor"]
    assert (len(first["events"]), first["pageInfo"]["total"], first["pageInfo"]["hasMore"]) == (50, 51, True)
    ms, _, seq = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(".")
    assert ms == str(NOW_MS) and seq.isdigit()
    assert codes_in(first) == codes[:50]  # one millisecond: in the order they were recorded
    second = feed(ti, cursor=cursor)
    assert codes_in(second) == codes[50:]
    assert second["pageInfo"] == {"perPage": 50, "cursor": None, "total": 51, "hasMore": False}


def test_a_bare_unix_ms_cursor_is_after_that_millisecond(ti, clock):
    """The vendor's own cursor form (`MTUxODM2NTg1Mzk5OQ` is base64 of `1518365853999`)."""
    _, codes = new_group(ti, 3)
    redeem(ti, codes[0])
    redeem(ti, codes[1])
    clock.freeze(NOW + timedelta(milliseconds=1))
    redeem(ti, codes[2])
    assert codes_in(feed(ti, cursor=b64(str(NOW_MS)))) == [codes[2]]
    assert codes_in(feed(ti, cursor=b64(str(NOW_MS - 1)))) == codes
    assert codes_in(feed(ti, cursor="MTUxODM2NTg1Mzk5OQ")) == codes


def test_pages_neither_repeat_nor_skip_while_events_are_added(ti, clock):
    _, codes = new_group(ti, 140)
    for n, code in enumerate(codes[:60]):
        clock.freeze(NOW + timedelta(seconds=n // 7))  # several events a second, ties by seq
        redeem(ti, code)
    seen = codes_in(first := feed(ti))
    # Added between the pages: later ones (which the next pages show), and one at an earlier
    # instant (a clock set back), which lies before the cursor and is never shown.
    for code in codes[60:100]:
        redeem(ti, code)
    clock.freeze(NOW - timedelta(days=1))
    redeem(ti, codes[100])
    clock.freeze(NOW + timedelta(hours=1))
    page, added = first, 0
    while page["pageInfo"]["hasMore"]:
        if added < 3:  # and more between the later pages, after everything shown so far
            redeem(ti, codes[101 + added])
            added += 1
        page = feed(ti, cursor=page["pageInfo"]["cursor"])
        seen += codes_in(page)
    assert seen == codes[:100] + codes[101 : 101 + added]
    assert page["pageInfo"]["total"] == 101 + added
