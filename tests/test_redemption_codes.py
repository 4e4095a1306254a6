"""Thought Industries redemption code groups, as a client of the vendor's REST API sees them.

Every test asserts the exact status and the exact body (and the headers that matter) that the
vendor page "Create Redemption Code Group" and the vendor notes describe.
"""

from __future__ import annotations

import functools
import itertools
import json
import string
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from codestand.core import tenants
from codestand.app import create_app
from codestand.core.clock import Clock
from codestand.core.errors import RuleViolation
from codestand.settings import Settings
from codestand.storage.base import CodesTaken, Storage
from codestand.storage.memory import MemoryStorage
from codestand.storage.sqlite import SqliteStorage
from tests.conftest import TEST_STORES, fresh_pg_store
from codestand.thoughtindustries import codes
from codestand.thoughtindustries import groups as redemption_groups
from codestand.thoughtindustries.catalog import load_seed
from tests.conftest import TI_KEY

URL = "/incoming/v2/redemptionCodes"

# From the shipped seed, codestand/seed/catalog.yaml.
COURSE = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"  # Onboarding Essentials
COURSE_2 = "3c1e9b2a-7d4f-4a6b-8c0d-1e2f3a4b5c6d"  # Data Privacy Fundamentals
BUNDLE = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"  # New Manager Bundle
LICENSE = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"  # Enterprise Annual License
LEARNING_PATH = "7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"  # Customer Success Certification
CLIENT = "0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b"  # Acme Corporation
UNKNOWN = "11111111-2222-4333-8444-555555555555"
UNKNOWN_2 = "66666666-7777-4888-9999-aaaaaaaaaaaa"

# The vendor page's example request, with a real course id for `<course-uuid>`.
EXAMPLE_REQUEST = {"label": "Spring Promo", "codeLength": 8, "totalCodesCount": 100, "courses": [COURSE]}

# The vendor page's example response, in its field order; `id` is the one thing that varies.
EXAMPLE_RESPONSE = {
    "id": "rc100000-1111-2222-3333-444455556666",
    "label": "Spring Promo",
    "redeemedCodesCount": 0,
    "totalCodesCount": 100,
    "expirationDate": None,
    "accessDays": None,
    "accessExpirationDate": None,
    "client": None,
    "courses": [{"id": "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70", "title": "Onboarding Essentials"}],
    "learningPaths": [],
    "bundles": [],
    "licenses": [],
}
GROUP_FIELDS = list(EXAMPLE_RESPONSE)
# Get and list: the group-detail page's order.
DETAIL_FIELDS = [*GROUP_FIELDS[:7], "uploaded", "gift", *GROUP_FIELDS[7:]]

CODES_AND_LENGTH = "Generated Redemption Code Groups must have a value for code length and total codes."
AT_LEAST_ONE_ITEM = "Please choose at least one item to give access to, or select a license."
NEED_LABEL = "Redemption Code Groups must have a label."
ACCESS_EXCLUSIVE = "Access days and access expiration date cannot both be set; choose one."
CODE_LENGTH_RANGE = "Code length must be between 4 and 20 characters."
MAX_CODES = "Generated Redemption Code Groups cannot have more than 10,000 codes."
MIN_CODES = "Generated Redemption Code Groups must have at least 1 code."
NOT_JSON = "Request body is not valid JSON."
NOT_OBJECT = "Request body must be a JSON object."
NOT_UTF8 = "Request body is not valid UTF-8."
BAD_CURSOR = "cursor is not a cursor this server issued."
BAD_SORT = "sort must be label, totalCodesCount or redeemedCodesCount, then :asc or :desc."
GROUP_NOT_FOUND = {"errors": ["Redemption code group not found."]}


@pytest.fixture(scope="module")
def apps(tmp_path_factory) -> Iterator[dict]:
    made: dict = {}
    yield made
    for app in made.values():
        app.codestand.store.close()


@pytest.fixture(params=TEST_STORES)
def backend(request) -> str:
    """Every test here runs against every store, as a client would meet any."""
    return request.param


@pytest.fixture
def app(apps, settings, backend, tmp_path_factory, request):
    """One app per `Settings` and backend in this module, its store and clock reset for every test.

    Building an app reads and validates the whole spec (about 50 ms); the tests here only need
    fresh state, which `reset` gives.
    """
    app = apps.get((settings, backend))
    if app is None:
        if backend == "postgresql":
            store = fresh_pg_store(request)
        else:
            store = MemoryStorage() if backend == "memory" else SqliteStorage(tmp_path_factory.mktemp("ti") / "codestand.sqlite")
        app = apps[(settings, backend)] = create_app(settings, store=store, clock=Clock())
    app.codestand.store.reset()
    app.codestand.clock.reset()
    return app


@pytest.fixture
def store(app) -> Storage:
    return app.codestand.store


@pytest.fixture
def clock(app) -> Clock:
    return app.codestand.clock


def body_with(**changes) -> dict:
    """The example request with fields changed; a value of `...` removes the field."""
    body = {**EXAMPLE_REQUEST, **changes}
    return {key: value for key, value in body.items() if value is not ...}


def create(http, body: dict | None = None, /, **changes) -> dict:
    response = http.post(URL, json=body if body is not None else body_with(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def listed(group: dict) -> dict:
    """A created group as get and list show it, in the group-detail page's field order."""
    fields = list(group)
    at = fields.index("accessExpirationDate") + 1
    return {**{k: group[k] for k in fields[:at]}, "uploaded": False, "gift": False, **{k: group[k] for k in fields[at:]}}


def assert_json(response, status: int, body) -> None:
    """Exact status, exact body, and the vendor's JSON media type."""
    assert (response.status_code, response.json()) == (status, body)
    assert response.headers["content-type"] == "application/json"


def assert_unauthorized(response) -> None:
    """The vendor answers 401 with an empty body [vendor notes, A]."""
    assert response.status_code == 401
    assert response.content == b""
    assert "content-type" not in response.headers


def total(http) -> int:
    response = http.get(URL)
    assert response.status_code == 200
    return response.json()["pageInfo"]["total"]


# Create: the vendor page's example ---------------------------------------------------------------


def test_vendor_example_is_answered_with_the_vendor_example(ti):
    response = ti.post(URL, json=EXAMPLE_REQUEST)

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == GROUP_FIELDS
    assert uuid.UUID(body["id"]).version == 4
    assert body["id"] == str(uuid.UUID(body["id"]))  # canonical, lower case
    assert body == {**EXAMPLE_RESPONSE, "id": body["id"]}


def test_every_group_gets_a_fresh_id(ti):
    ids = {create(ti)["id"] for _ in range(3)}
    assert len(ids) == 3


def test_create_answers_every_field_it_was_given(ti):
    response = ti.post(
        URL,
        json={
            "label": "Everything",
            "codeLength": 12,
            "totalCodesCount": 3,
            "client": CLIENT,
            "expirationDate": "2030-06-30",
            "accessDays": 90,
            "courses": [COURSE, COURSE_2],
            "bundles": [BUNDLE],
            "licenses": [LICENSE],
            "learningPaths": [LEARNING_PATH],
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert list(body) == GROUP_FIELDS
    assert body == {
        "id": body["id"],
        "label": "Everything",
        "redeemedCodesCount": 0,
        "totalCodesCount": 3,
        "expirationDate": "2030-06-30T00:00:00.000Z",
        "accessDays": 90,
        "accessExpirationDate": None,
        "client": {"id": CLIENT, "name": "Acme Corporation"},
        "courses": [
            {"id": COURSE, "title": "Onboarding Essentials"},
            {"id": COURSE_2, "title": "Data Privacy Fundamentals"},
        ],
        "learningPaths": [{"id": LEARNING_PATH, "name": "Customer Success Certification"}],
        "bundles": [{"id": BUNDLE, "name": "New Manager Bundle"}],
        "licenses": [{"id": LICENSE, "name": "Enterprise Annual License"}],
    }


@pytest.mark.parametrize(
    "kind",
    ["courses", "bundles", "licenses", "learningPaths"],
)
def test_any_one_kind_of_item_is_enough(ti, kind):
    known = {"courses": COURSE, "bundles": BUNDLE, "licenses": LICENSE, "learningPaths": LEARNING_PATH}
    response = ti.post(URL, json={"label": "One kind", "codeLength": 8, "totalCodesCount": 1, kind: [known[kind]]})
    assert response.status_code == 201
    assert [item["id"] for item in response.json()[kind]] == [known[kind]]


def test_null_access_fields_do_not_conflict(ti):
    group = create(ti, accessDays=None, accessExpirationDate="2031-01-01", client=None, expirationDate=None)
    assert (group["accessDays"], group["accessExpirationDate"], group["client"]) == (
        None,
        "2031-01-01T00:00:00.000Z",
        None,
    )


def test_each_item_is_listed_once_and_ids_are_answered_in_lower_case(ti):
    group = create(ti, courses=[COURSE.upper(), COURSE, COURSE_2])
    assert group["courses"] == [
        {"id": COURSE, "title": "Onboarding Essentials"},
        {"id": COURSE_2, "title": "Data Privacy Fundamentals"},
    ]


def test_unknown_fields_are_ignored(ti):
    group = create(ti, body_with(notAField=1))
    assert group == {**EXAMPLE_RESPONSE, "id": group["id"]}


def test_chunked_body_is_read_whole(ti):
    raw = json.dumps(EXAMPLE_REQUEST).encode()
    response = ti.post(
        URL, content=iter([raw[:7], raw[7:30], raw[30:]]), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201
    assert response.json() == {**EXAMPLE_RESPONSE, "id": response.json()["id"]}


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON", "application/json "],
)
def test_json_content_type_variants_are_accepted(ti, content_type):
    response = ti.post(URL, content=json.dumps(EXAMPLE_REQUEST).encode(), headers={"Content-Type": content_type})
    assert response.status_code == 201
    assert response.json() == {**EXAMPLE_RESPONSE, "id": response.json()["id"]}


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "application/x-www-form-urlencoded", "text/plain", "application/json"],
)
def test_a_content_type_without_a_body_is_ignored(ti, content_type):
    """A Content-Type describes a body; on a request without one it means nothing."""
    headers = {"Content-Type": content_type}
    assert_json(ti.get("/incoming/v2/ping", headers=headers), 200, {"valid": True})
    assert_json(
        ti.get(URL, headers=headers),
        200,
        {"redemptionCodeGroups": [], "pageInfo": {"total": 0, "hasMore": False, "cursor": None}},
    )
    assert_json(ti.get(f"{URL}/{UNKNOWN}", headers=headers), 404, GROUP_NOT_FOUND)
    assert_json(ti.post(URL, headers=headers), 400, {"errors": [NOT_OBJECT]})


# Get ---------------------------------------------------------------------------------------------


def test_get_answers_the_group_with_uploaded_and_gift(ti):
    created = create(ti)
    response = ti.get(f"{URL}/{created['id']}")
    assert_json(response, 200, listed(created))
    # The vendor page "Get Redemption Code Group" puts `uploaded` and `gift` after `accessExpirationDate`.
    assert list(response.json()) == DETAIL_FIELDS


def test_get_unknown_id_is_404(ti):
    create(ti)
    assert_json(ti.get(f"{URL}/{uuid.uuid4()}"), 404, GROUP_NOT_FOUND)
    assert_json(ti.get(f"{URL}/not-a-uuid"), 404, GROUP_NOT_FOUND)
    # However long: an id is unknown, not malformed.
    assert_json(ti.get(f"{URL}/{'a' * 101}"), 404, GROUP_NOT_FOUND)
    assert_json(ti.get(f"{URL}/{'a' * 5000}"), 404, GROUP_NOT_FOUND)


# List --------------------------------------------------------------------------------------------


def test_empty_list(ti):
    assert_json(
        ti.get(URL), 200, {"redemptionCodeGroups": [], "pageInfo": {"total": 0, "hasMore": False, "cursor": None}}
    )


def test_list_pages_through_120_groups_50_at_a_time(ti):
    created = [create(ti, label=f"Group {n:03d}", totalCodesCount=1) for n in range(120)]

    first = ti.get(URL)
    assert first.status_code == 200
    page = first.json()
    assert list(page) == ["redemptionCodeGroups", "pageInfo"]
    assert page["redemptionCodeGroups"] == [listed(g) for g in created[:50]]
    cursor = page["pageInfo"]["cursor"]
    assert isinstance(cursor, str) and cursor
    assert page["pageInfo"] == {"total": 120, "hasMore": True, "cursor": cursor}

    second = ti.get(URL, params={"cursor": cursor}).json()
    cursor_2 = second["pageInfo"]["cursor"]
    assert isinstance(cursor_2, str) and cursor_2 != cursor
    assert second == {
        "redemptionCodeGroups": [listed(g) for g in created[50:100]],
        "pageInfo": {"total": 120, "hasMore": True, "cursor": cursor_2},
    }

    last = ti.get(URL, params={"cursor": cursor_2}).json()
    assert last == {
        "redemptionCodeGroups": [listed(g) for g in created[100:]],
        "pageInfo": {"total": 120, "hasMore": False, "cursor": None},
    }


def test_list_of_exactly_one_page_has_no_cursor(ti):
    created = [create(ti, label=f"G{n}", totalCodesCount=1) for n in range(50)]
    assert_json(
        ti.get(URL),
        200,
        {
            "redemptionCodeGroups": [listed(g) for g in created],
            "pageInfo": {"total": 50, "hasMore": False, "cursor": None},
        },
    )


def test_query_is_a_case_insensitive_substring_of_the_label(ti):
    spring = create(ti, label="Spring Promo", totalCodesCount=1)
    create(ti, label="Autumn Sale", totalCodesCount=1)
    springtime = create(ti, label="SPRINGTIME partners", totalCodesCount=1)
    offspring = create(ti, label="offspring", totalCodesCount=1)

    assert_json(
        ti.get(URL, params={"query": "sPrInG"}),
        200,
        {
            "redemptionCodeGroups": [listed(spring), listed(springtime), listed(offspring)],
            "pageInfo": {"total": 3, "hasMore": False, "cursor": None},
        },
    )
    assert_json(
        ti.get(URL, params={"query": "winter"}),
        200,
        {"redemptionCodeGroups": [], "pageInfo": {"total": 0, "hasMore": False, "cursor": None}},
    )


def test_query_pages_count_only_matches(ti):
    matches = []
    for n in range(60):
        matches.append(create(ti, label=f"Match {n:02d}", totalCodesCount=1))
        create(ti, label=f"Other {n:02d}", totalCodesCount=1)

    first = ti.get(URL, params={"query": "match"}).json()
    assert first["redemptionCodeGroups"] == [listed(g) for g in matches[:50]]
    assert first["pageInfo"]["total"] == 60 and first["pageInfo"]["hasMore"] is True
    second = ti.get(URL, params={"query": "match", "cursor": first["pageInfo"]["cursor"]}).json()
    assert second == {
        "redemptionCodeGroups": [listed(g) for g in matches[50:]],
        "pageInfo": {"total": 60, "hasMore": False, "cursor": None},
    }


@pytest.fixture
def sortable(ti) -> dict[str, dict]:
    """Four groups created in the order b, A, c, d (codes: 5, 1, 5, 3)."""
    return {
        "b": create(ti, label="bravo", totalCodesCount=5),
        "A": create(ti, label="Alpha", totalCodesCount=1),
        "c": create(ti, label="charlie", totalCodesCount=5),
        "d": create(ti, label="Delta", totalCodesCount=3),
    }


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("label:asc", "Abcd"),
        ("label:desc", "dcbA"),
        # Ties keep creation order in both directions.
        ("totalCodesCount:asc", "Adbc"),
        ("totalCodesCount:desc", "bcdA"),
        ("redeemedCodesCount:asc", "bAcd"),
        (None, "bAcd"),
    ],
    ids=lambda value: str(value),
)
def test_sort(ti, sortable, sort, order):
    params = {"sort": sort} if sort else {}
    assert_json(
        ti.get(URL, params=params),
        200,
        {
            "redemptionCodeGroups": [listed(sortable[key]) for key in order],
            "pageInfo": {"total": 4, "hasMore": False, "cursor": None},
        },
    )


def test_an_unknown_field_named_with_a_nul_is_passed_over(ti):
    # Only values are refused for a NUL: an unknown field is ignored, name and all.
    assert ti.post(URL, json={**EXAMPLE_REQUEST, "x\u0000": 1}).status_code == 201


@pytest.mark.parametrize("query", ["sort=label:asc&sort=label:desc", "query=a&query=b", "sort=label:asc&sort=label:asc"])
def test_a_query_parameter_sent_twice_is_400(ti, query):
    name = query.split("=", 1)[0]
    assert_json(ti.get(f"{URL}?{query}"), 400, {"errors": [f"{name} is sent more than once."]})


def test_sort_and_query_together_page_consistently(ti):
    for n in range(55):
        create(ti, label=f"promo {54 - n:02d}", totalCodesCount=1)
    first = ti.get(URL, params={"sort": "label:asc", "query": "PROMO"}).json()
    labels = [g["label"] for g in first["redemptionCodeGroups"]]
    assert labels == [f"promo {n:02d}" for n in range(50)]
    second = ti.get(URL, params={"sort": "label:asc", "query": "PROMO", "cursor": first["pageInfo"]["cursor"]}).json()
    assert [g["label"] for g in second["redemptionCodeGroups"]] == [f"promo {n:02d}" for n in range(50, 55)]
    assert second["pageInfo"] == {"total": 55, "hasMore": False, "cursor": None}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "label"}, BAD_SORT),
        ({"sort": "label:up"}, BAD_SORT),
        ({"sort": "title:asc"}, BAD_SORT),
        ({"sort": "LABEL:ASC"}, BAD_SORT),
        ({"sort": ""}, BAD_SORT),
        ({"cursor": "not-a-cursor"}, BAD_CURSOR),
        ({"cursor": "Z3JvdXBzOi0x"}, BAD_CURSOR),  # base64 of "groups:-1"
        ({"cursor": "b3RoZXI6NTA"}, BAD_CURSOR),  # base64 of "other:50"
        ({"cursor": "%%%"}, BAD_CURSOR),
        ({"cursor": ""}, BAD_CURSOR),
        # An offset cursor of earlier versions (base64 of "groups:50"): positions are keysets now.
        ({"cursor": "Z3JvdXBzOjUw"}, BAD_CURSOR),
        ({"cursor": "g1.1.2.3.abc"}, BAD_CURSOR),  # an odd number of hex digits
        ({"cursor": "g1.01.2.3."}, BAD_CURSOR),  # a leading zero
        ({"cursor": "g1.1.2.3.AB"}, BAD_CURSOR),  # upper-case hex
        ({"cursor": "g1." + "1" * 19 + ".2.3."}, BAD_CURSOR),
        ({"cursor": "g1.1.2.3." + "61" * 97}, BAD_CURSOR),  # labels sort by their first 96 bytes
        ({"query": "q" * 201}, "query can be at most 200 characters."),
    ],
    ids=["sort-no-direction", "sort-bad-direction", "sort-unknown-field", "sort-upper-case", "sort-empty",
         "cursor-garbage", "cursor-negative", "cursor-other-prefix", "cursor-not-base64", "cursor-empty",
         "cursor-offset-form", "cursor-odd-hex", "cursor-leading-zero", "cursor-upper-hex", "cursor-huge-seq",
         "cursor-too-long", "query-too-long"],
)
def test_bad_list_parameters_are_400(ti, params, message):
    assert_json(ti.get(URL, params=params), 400, {"errors": [message]})


def test_several_bad_list_parameters_are_reported_together(ti):
    assert_json(
        ti.get(URL, params={"sort": "x", "cursor": ""}),
        400,
        {"errors": [BAD_SORT, BAD_CURSOR]},
    )


def test_a_cursor_names_a_position_in_the_list(ti):
    create(ti)
    first = [create(ti, label=f"G{n}", totalCodesCount=1) for n in range(50)]
    cursor = ti.get(URL).json()["pageInfo"]["cursor"]
    assert first and cursor
    # A cursor stays valid when groups are added meanwhile: it names a position.
    for n in range(3):
        create(ti, label=f"late {n}", totalCodesCount=1)
    page = ti.get(URL, params={"cursor": cursor}).json()
    assert [g["label"] for g in page["redemptionCodeGroups"]] == ["G49", "late 0", "late 1", "late 2"]
    assert page["pageInfo"] == {"total": 54, "hasMore": False, "cursor": None}


# Code generation ---------------------------------------------------------------------------------

ALPHABET = set(string.ascii_lowercase + string.digits)


@pytest.mark.parametrize(("length", "count"), [(4, 1), (8, 100), (20, 37), (4, 10_000), (6, 10_000)])
def test_codes_have_the_count_length_and_alphabet_asked_for(ti, store, length, count):
    group = create(ti, codeLength=length, totalCodesCount=count)
    generated = store.group_codes(tenants.ti(TI_KEY), group["id"])
    assert len(generated) == count
    assert len(set(generated)) == count
    assert {len(code) for code in generated} == {length}
    assert set("".join(generated)) <= ALPHABET


def test_codes_use_the_whole_alphabet(ti, store):
    group = create(ti, codeLength=20, totalCodesCount=200)
    assert set("".join(store.group_codes(tenants.ti(TI_KEY), group["id"]))) == ALPHABET


def test_codes_are_unique_across_a_tenants_groups(ti, store):
    groups = [create(ti, codeLength=4, totalCodesCount=10_000) for _ in range(5)]
    all_codes = [code for g in groups for code in store.group_codes(tenants.ti(TI_KEY), g["id"])]
    assert len(all_codes) == 50_000
    assert len(set(all_codes)) == 50_000
    assert store.code_count(tenants.ti(TI_KEY), 4) == 50_000


def test_codes_are_not_in_any_response(ti, store):
    group = create(ti, codeLength=10, totalCodesCount=5)
    texts = [
        json.dumps(group),
        ti.get(f"{URL}/{group['id']}").text,
        ti.get(URL).text,
    ]
    for code in store.group_codes(tenants.ti(TI_KEY), group["id"]):
        assert not any(code in text for text in texts)


def test_tenants_have_separate_code_spaces(ti, store):
    mine = create(ti, codeLength=5, totalCodesCount=3)
    theirs = ti.post(URL, json=body_with(codeLength=5, totalCodesCount=4), headers={"Authorization": "Bearer other"})
    assert theirs.status_code == 201
    assert store.code_count(tenants.ti(TI_KEY), 5) == 3
    assert store.code_count(tenants.ti("other"), 5) == 4
    assert store.group_codes(tenants.ti("other"), mine["id"]) == []


def test_space_counts_codes_of_a_length():
    assert codes.space(4) == 36**4
    assert codes.space(20) == 36**20
    assert codes.space(3, alphabet="ab") == 8


def test_draw_returns_distinct_unused_codes_of_the_alphabet():
    taken = {"aaa", "abb", "bbb"}
    drawn = codes.draw(5, 3, len(taken), lambda batch: {c for c in batch if c in taken}, alphabet="ab")
    # Eight codes of length 3 exist over "ab"; three are taken, so the other five are all there is.
    assert sorted(drawn) == ["aab", "aba", "baa", "bab", "bba"]


def test_draw_in_a_roomy_space_never_returns_a_taken_code():
    taken = {"".join(p) for p in ("ab", "ba")}
    for _ in range(50):
        drawn = codes.draw(1, 2, len(taken), lambda batch: {c for c in batch if c in taken}, alphabet="abcdefgh")
        assert len(drawn) == 1 and drawn[0] not in taken and set(drawn[0]) <= set("abcdefgh")


def test_a_clash_is_rare_in_a_roomy_space_and_likely_in_a_crowded_one():
    assert codes.may_clash(10_000, 8, used=0) is False  # 36^8 codes: a clash in about 1 in 28,000 groups
    assert codes.may_clash(10_000, 8, used=1_000_000) is True  # a grown tenant: 1 in 280
    assert codes.may_clash(10_000, 4, used=0) is True  # 36^4 = 1.7 million codes
    assert codes.may_clash(1, 20, used=10**9) is False


def test_a_roomy_group_is_drawn_without_a_lookup_and_drawn_again_after_a_clash():
    """Where a clash is rare the codes are not looked up first; the store's refusal of a taken
    code (another writer's, say) makes the domain draw the group again."""

    class ClashOnce(MemoryStorage):
        attempts = 0

        def codes_taken(self, tenant, codes):
            raise AssertionError("no lookup where a clash is rare")

        def create_group(self, tenant, group, drawn):
            self.attempts += 1
            if self.attempts == 1:
                raise CodesTaken({drawn[0]})
            super().create_group(tenant, group, drawn)

    store = ClashOnce()
    group = redemption_groups.create(store, Clock(), load_seed(), "t", body_with(codeLength=8, totalCodesCount=500), strict_catalog=False)
    assert store.attempts == 2
    assert len(set(store.group_codes("t", group.id))) == 500


@pytest.fixture
def two_letter_codes(monkeypatch):
    """Codes drawn from `ab` only, so that length 4 holds 16 codes and is crowded at once."""
    space, draw, may_clash = codes.space, codes.draw, codes.may_clash
    monkeypatch.setattr(codes, "space", lambda length, alphabet="ab": space(length, alphabet))
    monkeypatch.setattr(codes, "draw", functools.partial(draw, alphabet="ab"))
    monkeypatch.setattr(codes, "may_clash", functools.partial(may_clash, alphabet="ab"))


def test_crowded_code_space_is_refused_at_once_by_the_domain(two_letter_codes):
    """With a two-letter alphabet, length 4 holds 16 codes: the 17th cannot be made."""
    store, clock, seed = MemoryStorage(), Clock(), load_seed()
    first = redemption_groups.create(store, clock, seed, "t", body_with(codeLength=4, totalCodesCount=10), strict_catalog=False)
    assert set("".join(store.group_codes("t", first.id))) <= {"a", "b"}

    with pytest.raises(RuleViolation) as refused:
        redemption_groups.create(store, clock, seed, "t", body_with(codeLength=4, totalCodesCount=7), strict_catalog=False)
    (problem,) = refused.value.problems
    assert (problem.key, problem.field, problem.params) == ("rule:code_space", "codeLength", {"available": 6, "length": 4})

    last = redemption_groups.create(store, clock, seed, "t", body_with(codeLength=4, totalCodesCount=6), strict_catalog=False)
    assert sorted(store.group_codes("t", first.id) + store.group_codes("t", last.id)) == sorted(
        "".join(bits) for bits in itertools.product("ab", repeat=4)
    )


def test_crowded_code_space_is_422_over_http(ti, store, two_letter_codes, monkeypatch):
    """The same through the API: refused before a single code is drawn."""
    create(ti, codeLength=4, totalCodesCount=10)
    draw = codes.draw

    def no_draw(*args, **kwargs):
        raise AssertionError("a refused request must not draw codes")

    monkeypatch.setattr(codes, "draw", no_draw)
    refused = ti.post(URL, json=body_with(codeLength=4, totalCodesCount=7))
    assert_json(
        refused,
        422,
        {"errors": ["Only 6 unused codes of length 4 remain; choose a longer code length or fewer codes."]},
    )
    assert total(ti) == 1
    assert store.code_count(tenants.ti(TI_KEY), 4) == 10
    monkeypatch.setattr(codes, "draw", draw)
    # Another length is another space, and the rest of this one can still be had.
    assert ti.post(URL, json=body_with(codeLength=5, totalCodesCount=7)).status_code == 201
    last = create(ti, codeLength=4, totalCodesCount=6)
    assert store.code_count(tenants.ti(TI_KEY), 4) == 16
    assert len(store.group_codes(tenants.ti(TI_KEY), last["id"])) == 6


# Auth --------------------------------------------------------------------------------------------

AUTH_REQUESTS = [
    ("GET", "/incoming/v2/ping", None),
    ("GET", URL, None),
    ("GET", f"{URL}/{UNKNOWN}", None),
    ("POST", URL, EXAMPLE_REQUEST),
    ("POST", URL, {"label": 5}),  # auth is checked before the body
]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer ", "Bearer    ", "Basic xxx", "Basic dXNlcjpwYXNz", "Token abc", "ti-test-key"],
    ids=["missing", "bearer-alone", "bearer-space", "bearer-spaces", "basic", "basic-real", "other-scheme", "no-scheme"],
)
@pytest.mark.parametrize(("method", "path", "body"), AUTH_REQUESTS, ids=["ping", "list", "get", "create", "create-bad"])
def test_unusable_credentials_are_401_with_an_empty_body(client, authorization, method, path, body):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.request(method, path, json=body, headers=headers)
    assert_unauthorized(response)


def test_nothing_is_created_without_credentials(client, store):
    assert_unauthorized(client.post(URL, json=EXAMPLE_REQUEST))
    assert_unauthorized(client.post(URL, json=EXAMPLE_REQUEST, headers={"Authorization": "Bearer "}))
    assert store.code_count(tenants.ti(""), 8) == 0
    listed_groups = client.get(URL, headers={"Authorization": f"Bearer {TI_KEY}"}).json()
    assert listed_groups["pageInfo"]["total"] == 0


@pytest.mark.parametrize(
    "authorizations",
    [[f"Bearer {TI_KEY}", "Bearer other-key"], ["Bearer other-key", f"Bearer {TI_KEY}"], [f"Bearer {TI_KEY}"] * 2],
    ids=["key-then-another", "another-then-key", "key-twice"],
)
def test_several_authorization_headers_are_401(client, authorizations):
    # One of them was taken (the first): which tenant a request acted for depended on the order
    # a proxy put them in.
    headers = [("Authorization", value) for value in authorizations]
    assert_unauthorized(client.post(URL, json=EXAMPLE_REQUEST, headers=headers))
    assert_unauthorized(client.get("/incoming/v2/ping", headers=headers))
    assert client.get(URL, headers={"Authorization": f"Bearer {TI_KEY}"}).json()["pageInfo"]["total"] == 0


@pytest.mark.parametrize("length", [501, 65_536])
def test_a_key_longer_than_500_characters_is_401(client, length):
    # No tenant of the control plane can be longer (its `{tenant}` is at most 500 characters).
    assert_unauthorized(client.get("/incoming/v2/ping", headers={"Authorization": "Bearer " + "k" * length}))
    assert client.get("/incoming/v2/ping", headers={"Authorization": "Bearer " + "k" * 500}).status_code == 200


def test_any_key_is_accepted_by_default(client):
    for key in (b"a", b"some-long-key-0123456789", "ünïcödé".encode()):
        response = client.get("/incoming/v2/ping", headers={"Authorization": b"Bearer " + key})
        assert_json(response, 200, {"valid": True})


def test_auth_scheme_is_case_insensitive(client):
    assert_json(client.get("/incoming/v2/ping", headers={"Authorization": f"bearer {TI_KEY}"}), 200, {"valid": True})


class TestConfiguredKeys:
    """`--ti-api-key` (or CODESTAND_TI_API_KEYS) limits the keys accepted."""

    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(access_log=False, ti_api_keys=("alpha-key", "beta-key"))

    @pytest.mark.parametrize("key", ["alpha-key", "beta-key"])
    def test_listed_keys_work(self, client, key):
        headers = {"Authorization": f"Bearer {key}"}
        assert_json(client.get("/incoming/v2/ping", headers=headers), 200, {"valid": True})
        response = client.post(URL, json=EXAMPLE_REQUEST, headers=headers)
        assert response.status_code == 201

    @pytest.mark.parametrize("key", ["gamma-key", "alpha", "alpha-key2", "ALPHA-KEY", "alpha-key,beta-key"])
    def test_other_keys_are_401(self, client, key):
        headers = {"Authorization": f"Bearer {key}"}
        assert_unauthorized(client.get("/incoming/v2/ping", headers=headers))
        assert_unauthorized(client.post(URL, json=EXAMPLE_REQUEST, headers=headers))
        assert_unauthorized(client.get(URL, headers=headers))

    def test_listed_keys_are_still_separate_tenants(self, client):
        created = client.post(URL, json=EXAMPLE_REQUEST, headers={"Authorization": "Bearer alpha-key"}).json()
        response = client.get(f"{URL}/{created['id']}", headers={"Authorization": "Bearer beta-key"})
        assert_json(response, 404, GROUP_NOT_FOUND)


# Catalog -----------------------------------------------------------------------------------------


def test_unknown_ids_are_placeholders_named_after_them(ti):
    group = create(
        ti,
        courses=[UNKNOWN, COURSE],
        bundles=[UNKNOWN],
        licenses=[UNKNOWN_2],
        learningPaths=[UNKNOWN],
        client=UNKNOWN_2,
    )
    assert group == {
        **EXAMPLE_RESPONSE,
        "id": group["id"],
        "client": {"id": UNKNOWN_2, "name": f"Unknown client {UNKNOWN_2}"},
        "courses": [
            {"id": UNKNOWN, "title": f"Unknown course {UNKNOWN}"},
            {"id": COURSE, "title": "Onboarding Essentials"},
        ],
        "learningPaths": [{"id": UNKNOWN, "name": f"Unknown learning path {UNKNOWN}"}],
        "bundles": [{"id": UNKNOWN, "name": f"Unknown bundle {UNKNOWN}"}],
        "licenses": [{"id": UNKNOWN_2, "name": f"Unknown license {UNKNOWN_2}"}],
    }
    assert_json(ti.get(f"{URL}/{group['id']}"), 200, listed(group))


class TestStrictCatalog:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(access_log=False, strict_catalog=True)

    def test_known_ids_are_accepted(self, ti):
        group = create(ti, courses=[COURSE], bundles=[BUNDLE], licenses=[LICENSE], learningPaths=[LEARNING_PATH], client=CLIENT)
        assert group["client"] == {"id": CLIENT, "name": "Acme Corporation"}

    def test_an_unknown_id_is_422_naming_it(self, ti):
        assert_json(
            ti.post(URL, json=body_with(courses=[COURSE, UNKNOWN])),
            422,
            {"errors": [f"No course with id {UNKNOWN} exists."]},
        )
        assert total(ti) == 0

    @pytest.mark.parametrize(
        ("field", "value", "kind"),
        [
            ("bundles", [UNKNOWN], "bundle"),
            ("licenses", [UNKNOWN], "license"),
            ("learningPaths", [UNKNOWN], "learning path"),
            ("client", UNKNOWN, "client"),
        ],
        ids=["bundle", "license", "learning-path", "client"],
    )
    def test_every_kind_is_checked(self, ti, field, value, kind):
        assert_json(
            ti.post(URL, json=body_with(**{field: value})), 422, {"errors": [f"No {kind} with id {UNKNOWN} exists."]}
        )

    def test_every_unknown_id_is_named_at_once(self, ti):
        response = ti.post(
            URL, json=body_with(courses=[UNKNOWN_2, COURSE, UNKNOWN], bundles=[UNKNOWN], client=UNKNOWN_2)
        )
        assert_json(
            response,
            422,
            {
                "errors": [
                    f"No bundle with id {UNKNOWN} exists.",
                    f"No client with id {UNKNOWN_2} exists.",
                    f"No course with id {UNKNOWN_2} exists.",
                    f"No course with id {UNKNOWN} exists.",
                ]
            },
        )
        assert total(ti) == 0


class TestSeedFile:
    """`--seed FILE` replaces the shipped catalog."""

    OWN_COURSE = "abcdefab-cdef-4abc-8def-abcdefabcdef"

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        seed = tmp_path / "catalog.yaml"
        seed.write_text(
            f"courses:\n  - id: {self.OWN_COURSE.upper()}\n    title: Our Own Course\n"
            f"clients:\n  - id: {UNKNOWN}\n    name: Initech\n",
            encoding="utf-8",
        )
        return Settings(access_log=False, seed=seed)

    def test_seed_items_are_named(self, ti):
        group = create(ti, courses=[self.OWN_COURSE], client=UNKNOWN)
        assert group["courses"] == [{"id": self.OWN_COURSE, "title": "Our Own Course"}]
        assert group["client"] == {"id": UNKNOWN, "name": "Initech"}

    def test_the_shipped_seed_is_not_loaded(self, ti):
        group = create(ti)
        assert group["courses"] == [{"id": COURSE, "title": f"Unknown course {COURSE}"}]


# Dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "answered"),
    [
        ("2030-01-02", "2030-01-02T00:00:00.000Z"),
        ("2030-01-02T03:04:05Z", "2030-01-02T03:04:05.000Z"),
        ("2030-01-02T03:04:05z", "2030-01-02T03:04:05.000Z"),
        ("2030-01-02T03:04:05.678Z", "2030-01-02T03:04:05.678Z"),
        ("2030-01-02T03:04:05.678901Z", "2030-01-02T03:04:05.678Z"),
        ("2030-01-02T03:04:05.5+02:00", "2030-01-02T01:04:05.500Z"),
        ("2030-01-01T23:30:00-05:30", "2030-01-02T05:00:00.000Z"),
        ("2030-01-02T03:04:05+00:00", "2030-01-02T03:04:05.000Z"),
        ("2030-01-02T03:04:05", "2030-01-02T03:04:05.000Z"),  # no offset: UTC
        ("2030-01-02T03:04", "2030-01-02T03:04:00.000Z"),
        ("2030-01-02 03:04:05Z", "2030-01-02T03:04:05.000Z"),
        ("2028-02-29", "2028-02-29T00:00:00.000Z"),
        ("0038-02-27", "0038-02-27T00:00:00.000Z"),  # four-digit years before 1000
        ("0202-09-10T15:33:38Z", "0202-09-10T15:33:38.000Z"),
        # The edges of the years 0001-9999.
        ("0001-01-01", "0001-01-01T00:00:00.000Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
        ("0001-01-01T00:00:00-00:00", "0001-01-01T00:00:00.000Z"),
        ("0001-01-01T05:00:00-01:00", "0001-01-01T06:00:00.000Z"),
        ("9999-12-31", "9999-12-31T00:00:00.000Z"),
        ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
        ("9999-12-31T23:59:59+01:00", "9999-12-31T22:59:59.000Z"),
    ],
)
@pytest.mark.parametrize("field", ["expirationDate", "accessExpirationDate"])
def test_dates_are_answered_as_utc_instants_with_milliseconds(ti, field, given, answered):
    group = create(ti, **{field: given})
    assert group[field] == answered
    other = "accessExpirationDate" if field == "expirationDate" else "expirationDate"
    assert group[other] is None
    assert ti.get(f"{URL}/{group['id']}").json()[field] == answered


@pytest.mark.parametrize(
    "given",
    [
        "tomorrow",
        "",
        "2030-13-01",
        "2030-02-30",
        "2029-02-29",
        "30-01-02",
        "01/02/2030",
        "2030/01/02",
        "20300102",
        "2030-1-2",
        "2030-01-02T25:00:00Z",
        "2030-01-02T03:04:05Zjunk",
        "2030-01-02T03",
        "2030-W01-1",
        " 2030-01-02",
        "2030-01-02\n",
        # Past the edges of the years 0001-9999 in UTC, or offsets that could carry them there.
        "0001-01-01T00:00:00+00:30",
        "0001-01-01T23:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T00:00:00-01:00",
        "0000-12-31",
        "10000-01-01",
        20300102,
        True,
        ["2030-01-02"],
        {"date": "2030-01-02"},
    ],
)
@pytest.mark.parametrize("field", ["expirationDate", "accessExpirationDate"])
def test_anything_else_is_400_naming_the_field(ti, field, given):
    assert_json(
        ti.post(URL, json=body_with(**{field: given})),
        400,
        {"errors": [f"{field} must be an ISO 8601 date or date-time."]},
    )
    assert total(ti) == 0


# Rules and malformed input: one table ------------------------------------------------------------

UUID_NOT = "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f7g"


def case(id, body, status, errors, *, raw=None, content_type="application/json", method="POST", path=URL):
    return pytest.param(body, raw, content_type, method, path, status, errors, id=id)


# The vendor's status table [vendor notes, A]: 400 for a malformed body or wrong types and formats,
# 422 for a well-formed body that breaks a rule. Rows say which they are; the status follows.
def rule(id, body, errors):
    return case(id, body, 422, errors)


def malformed(id, body, errors, **request):
    return case(id, body, 400, errors, **request)


TABLE = [
    # The two messages the vendor page documents, verbatim.
    rule("codeLength-missing", body_with(codeLength=...), [CODES_AND_LENGTH]),
    rule("codeLength-null", body_with(codeLength=None), [CODES_AND_LENGTH]),
    rule("totalCodesCount-missing", body_with(totalCodesCount=...), [CODES_AND_LENGTH]),
    rule("totalCodesCount-null", body_with(totalCodesCount=None), [CODES_AND_LENGTH]),
    rule("both-missing", body_with(codeLength=..., totalCodesCount=...), [CODES_AND_LENGTH]),
    rule("no-items", body_with(courses=...), [AT_LEAST_ONE_ITEM]),
    rule("all-lists-empty", body_with(courses=[], bundles=[], licenses=[], learningPaths=[]), [AT_LEAST_ONE_ITEM]),
    rule("courses-empty", body_with(courses=[]), [AT_LEAST_ONE_ITEM]),
    rule("client-is-no-item", body_with(courses=..., client=CLIENT), [AT_LEAST_ONE_ITEM]),
    # The page's other rules.
    rule("label-missing", body_with(label=...), [NEED_LABEL]),
    rule("label-null", body_with(label=None), [NEED_LABEL]),
    rule("label-empty", body_with(label=""), [NEED_LABEL]),
    rule("label-too-long", body_with(label="x" * 256), ["Labels can be at most 255 characters."]),
    rule("accessDays-and-accessExpirationDate", body_with(accessDays=30, accessExpirationDate="2030-01-01"), [ACCESS_EXCLUSIVE]),
    rule("accessDays-0", body_with(accessDays=0), ["Access days must be between 1 and 36500."]),
    rule("accessDays-36501", body_with(accessDays=36501), ["Access days must be between 1 and 36500."]),
    rule("totalCodesCount-10001", body_with(totalCodesCount=10_001), [MAX_CODES]),
    rule("totalCodesCount-0", body_with(totalCodesCount=0), [MIN_CODES]),
    rule("totalCodesCount-negative", body_with(totalCodesCount=-5), [MIN_CODES]),
    rule("codeLength-3", body_with(codeLength=3), [CODE_LENGTH_RANGE]),
    rule("codeLength-21", body_with(codeLength=21), [CODE_LENGTH_RANGE]),
    rule("codeLength-2-with-10000", body_with(codeLength=2, totalCodesCount=10_000), [CODE_LENGTH_RANGE]),
    rule("codeLength-huge", body_with(codeLength=2**70), [CODE_LENGTH_RANGE]),
    rule("courses-over-1000", body_with(courses=[str(uuid.UUID(int=n)) for n in range(1001)]), ["courses can list at most 1000 ids."]),
    # Wrong types and formats.
    malformed("label-5", body_with(label=5), ["label must be a string."]),
    malformed("label-list", body_with(label=["Spring"]), ["label must be a string."]),
    malformed("codeLength-string", body_with(codeLength="8"), ["codeLength must be an integer."]),
    malformed("codeLength-8.0", body_with(codeLength=8.0), ["codeLength must be an integer."]),
    malformed("codeLength-8.5", body_with(codeLength=8.5), ["codeLength must be an integer."]),
    malformed("codeLength-true", body_with(codeLength=True), ["codeLength must be an integer."]),
    malformed("totalCodesCount-string", body_with(totalCodesCount="100"), ["totalCodesCount must be an integer."]),
    malformed("accessDays-string", body_with(accessDays="30"), ["accessDays must be an integer."]),
    malformed("courses-not-a-list", body_with(courses=COURSE), ["courses must be an array."]),
    malformed("courses-object", body_with(courses={"id": COURSE}), ["courses must be an array."]),
    malformed("courses-null", body_with(courses=None), ["courses must not be null."]),
    case("courses-item-not-a-uuid", body_with(courses=["course-1"]), 400, ["courses[0] must be a UUID."]),
    case("courses-item-almost-a-uuid", body_with(courses=[COURSE, UUID_NOT]), 400, ["courses[1] must be a UUID."]),
    case("courses-item-uuid-without-dashes", body_with(courses=[COURSE.replace("-", "")]), 400, ["courses[0] must be a UUID."]),
    case("courses-item-number", body_with(courses=[5]), 400, ["courses[0] must be a string."]),
    case("courses-item-null", body_with(courses=[None]), 400, ["courses[0] must not be null."]),
    case("bundles-item-not-a-uuid", body_with(bundles=["b"]), 400, ["bundles[0] must be a UUID."]),
    malformed("licenses-not-a-list", body_with(licenses="x"), ["licenses must be an array."]),
    case("learningPaths-item-not-a-uuid", body_with(learningPaths=["x"]), 400, ["learningPaths[0] must be a UUID."]),
    malformed("client-not-a-uuid", body_with(client="acme"), ["client must be a UUID."]),
    malformed("client-object", body_with(client={"id": CLIENT}), ["client must be a string."]),
    # Bodies that are not a JSON object.
    malformed("body-not-json", None, [NOT_JSON], raw=b"label=Spring+Promo"),
    malformed("body-truncated-json", None, [NOT_JSON], raw=json.dumps(EXAMPLE_REQUEST).encode()[:-1]),
    malformed("body-json-array", None, [NOT_OBJECT], raw=json.dumps([EXAMPLE_REQUEST]).encode()),
    malformed("body-json-string", None, [NOT_OBJECT], raw=b'"Spring Promo"'),
    malformed("body-json-number", None, [NOT_OBJECT], raw=b"42"),
    malformed("body-json-null", None, [NOT_OBJECT], raw=b"null"),
    malformed("body-empty", None, [NOT_OBJECT], raw=b""),
    malformed("body-whitespace", None, [NOT_OBJECT], raw=b" \r\n\t"),
    malformed("body-NaN", None, [NOT_JSON], raw=b'{"label": "a", "codeLength": NaN, "totalCodesCount": 1, "courses": []}'),
    malformed("body-Infinity", None, [NOT_JSON], raw=b'{"label": "a", "codeLength": Infinity, "totalCodesCount": 1}'),
    malformed("body-duplicate-keys", None, [NOT_JSON], raw=b'{"label": "a", "label": "b", "codeLength": 8, "totalCodesCount": 1, "courses": ["%s"]}' % COURSE.encode()),
    malformed("body-invalid-utf8", None, [NOT_UTF8], raw=b'{"label": "\xff\xfe", "codeLength": 8, "totalCodesCount": 1, "courses": ["%s"]}' % COURSE.encode()),
    malformed("body-latin1-declared", None, [NOT_UTF8], raw='{"label": "Caf\u00e9"}'.encode("latin-1"), content_type="application/json;charset=latin-1"),
    malformed("body-utf8-bom", None, [NOT_JSON], raw=b"\xef\xbb\xbf" + json.dumps(EXAMPLE_REQUEST).encode()),
    malformed("body-deeply-nested", None, [NOT_JSON], raw=b"[" * 100_000),
    malformed("body-trailing-garbage", None, [NOT_JSON], raw=json.dumps(EXAMPLE_REQUEST).encode() + b" x"),
    malformed("label-with-nul", body_with(label="Spring\u0000Promo"), ["Request body must not contain NUL characters."]),
    malformed("unknown-field-with-nul", body_with(extra=["\u0000"]), ["Request body must not contain NUL characters."]),
    malformed("unknown-field-nested-65", body_with(extra=json.loads("[" * 65 + "]" * 65)), ["Request body is nested more than 64 levels deep."]),
    malformed("unknown-field-beyond-double", None, [NOT_JSON], raw=json.dumps(EXAMPLE_REQUEST).encode()[:-1] + b', "extra": 1e400}'),
    # The wrong media type, size, method or path: their own statuses.
    case("content-type-text", None, 415, ["Content-Type must be application/json."], raw=json.dumps(EXAMPLE_REQUEST).encode(), content_type="text/plain"),
    case("content-type-form", None, 415, ["Content-Type must be application/json."], raw=b"label=Spring", content_type="application/x-www-form-urlencoded"),
    case("content-type-json-suffix", None, 415, ["Content-Type must be application/json."], raw=json.dumps(EXAMPLE_REQUEST).encode(), content_type="application/vnd.api+json"),
    case("content-type-missing", None, 415, ["Content-Type must be application/json."], raw=json.dumps(EXAMPLE_REQUEST).encode(), content_type=None),
    case("body-over-1-MiB", None, 413, ["Request body is larger than 1048576 bytes."], raw=b'{"label": "' + b"a" * (1 << 20) + b'"}'),
    case("unknown-path", None, 404, ["Not found."], method="GET", path="/incoming/v2/redemptionCode"),
    case("unknown-path-deeper", None, 404, ["Not found."], method="GET", path=f"{URL}/{UNKNOWN}/codes"),
    case("unknown-version", EXAMPLE_REQUEST, 404, ["Not found."], path="/incoming/v1/redemptionCodes"),
    # Several problems at once: every one, in the order of the message table; one malformed
    # problem makes the whole request 400.
    rule(
        "several-rules",
        {"label": "", "codeLength": 3, "totalCodesCount": 10_001, "accessDays": 5, "accessExpirationDate": "2030-01-01"},
        [NEED_LABEL, CODE_LENGTH_RANGE, MAX_CODES, AT_LEAST_ONE_ITEM, ACCESS_EXCLUSIVE],
    ),
    rule(
        "several-missing",
        {"courses": []},
        [NEED_LABEL, CODES_AND_LENGTH, AT_LEAST_ONE_ITEM],
    ),
    malformed(
        "several-types-and-rules",
        {"label": 5, "codeLength": "8", "totalCodesCount": 0, "courses": "x", "expirationDate": "soon", "client": "nope"},
        [
            MIN_CODES,
            "codeLength must be an integer.",
            "courses must be an array.",
            "label must be a string.",
            "client must be a UUID.",
            "expirationDate must be an ISO 8601 date or date-time.",
        ],
    ),
    malformed(
        "several-item-formats",
        body_with(courses=["x", COURSE, "y"], bundles=["z"]),
        ["bundles[0] must be a UUID.", "courses[0] must be a UUID.", "courses[2] must be a UUID."],
    ),
]


@pytest.mark.parametrize(("body", "raw", "content_type", "method", "path", "status", "errors"), TABLE)
def test_rejected_requests(ti, store, body, raw, content_type, method, path, status, errors):
    if raw is not None or body is None:
        headers = {"Content-Type": content_type} if content_type else {}
        response = ti.request(method, path, content=raw, headers=headers)
    else:
        response = ti.request(method, path, json=body)

    assert_json(response, status, {"errors": errors})
    # Nothing was stored.
    assert total(ti) == 0
    assert store.code_count(tenants.ti(TI_KEY), 8) == 0


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", URL, "GET, POST"),
        ("PATCH", URL, "GET, POST"),
        ("DELETE", URL, "GET, POST"),
        ("OPTIONS", URL, "GET, POST"),
        ("TRACE", URL, "GET, POST"),
        ("POST", f"{URL}/{UNKNOWN}", "GET"),
        ("PUT", f"{URL}/{UNKNOWN}", "GET"),
        ("DELETE", f"{URL}/{UNKNOWN}", "GET"),
        ("POST", "/incoming/v2/ping", "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(ti, method, path, allow):
    response = ti.request(method, path, json=EXAMPLE_REQUEST)
    assert_json(response, 405, {"errors": ["Method not allowed."]})
    assert response.headers["allow"] == allow
    assert total(ti) == 0


def test_wrong_method_is_405_before_auth(client):
    response = client.delete(URL)
    assert_json(response, 405, {"errors": ["Method not allowed."]})
    assert response.headers["allow"] == "GET, POST"


def test_unknown_path_is_404_before_auth(client):
    assert_json(client.get("/incoming/v2/nothing"), 404, {"errors": ["Not found."]})


def test_chunked_body_over_the_limit_is_413(ti):
    chunks = iter([b'{"label": "'] + [b"a" * 65_536] * 17 + [b'"}'])
    response = ti.post(URL, content=chunks, headers={"Content-Type": "application/json"})
    assert_json(response, 413, {"errors": ["Request body is larger than 1048576 bytes."]})
    assert total(ti) == 0


def test_a_body_just_under_the_limit_is_read(ti):
    padding = (1 << 20) - len(json.dumps(body_with(label=""))) - 1
    response = ti.post(URL, content=json.dumps(body_with(label="x" * padding)).encode(), headers={"Content-Type": "application/json"})
    assert_json(response, 422, {"errors": ["Labels can be at most 255 characters."]})


def test_rejections_leave_earlier_groups_alone(ti, store):
    kept = create(ti)
    codes_before = store.group_codes(tenants.ti(TI_KEY), kept["id"])
    for bad in (body_with(totalCodesCount=0), body_with(label=5), body_with(courses=[])):
        assert ti.post(URL, json=bad).status_code in (400, 422)
    assert_json(
        ti.get(URL),
        200,
        {"redemptionCodeGroups": [listed(kept)], "pageInfo": {"total": 1, "hasMore": False, "cursor": None}},
    )
    assert store.group_codes(tenants.ti(TI_KEY), kept["id"]) == codes_before
    assert store.code_count(tenants.ti(TI_KEY), 8) == 100


def test_ping(ti):
    response = ti.get("/incoming/v2/ping")
    assert_json(response, 200, {"valid": True})


@pytest.mark.parametrize("label", ['"\\ud800"', '"x\\udfff"', '"\\udc00\\ud800"'])
def test_a_lone_surrogate_is_not_text(ti, label):
    body = '{"label": %s, "codeLength": 8, "totalCodesCount": 1, "courses": ["8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"]}' % label
    response = ti.post("/incoming/v2/redemptionCodes", content=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, {"errors": ["Request body is not valid UTF-8."]})


def test_a_surrogate_pair_is_one_character(ti):
    body = '{"label": "\\ud83d\\ude00", "codeLength": 8, "totalCodesCount": 1, "courses": ["8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70"]}'
    response = ti.post("/incoming/v2/redemptionCodes", content=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["label"]) == (201, "\U0001f600")
