"""Moltin's documented rate limit, 25 requests a second for a (development) store, with
`--rate-limits vendor`; off by default."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from codestand.settings import Settings
from tests.conftest import token_for

NOW = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
TOO_MANY = {"errors": [{"status": 429, "title": "Too Many Requests", "detail": "Too many requests; retry later"}]}


@pytest.fixture
def clock(clock):
    clock.freeze(NOW)
    return clock


class TestEnforced:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(access_log=False, rate_limits="vendor")

    def test_the_26th_request_in_a_second_is_refused(self, client, clock):
        mine = {"Authorization": f"Bearer {token_for(client, 'store-1')}"}
        other = {"Authorization": f"Bearer {token_for(client, 'store-2')}"}
        assert [client.get("/v2/promotions", headers=mine).status_code for _ in range(25)] == [200] * 25
        response = client.get("/v2/promotions", headers=mine)
        assert (response.status_code, response.json(), response.headers["retry-after"]) == (429, TOO_MANY, "1")
        # Another store has its own limit; the token endpoint is not counted.
        assert client.get("/v2/promotions", headers=other).status_code == 200
        assert client.post("/oauth/access_token", data={"grant_type": "implicit", "client_id": "store-1"}).status_code == 200
        clock.advance(timedelta(seconds=1))
        assert client.get("/v2/promotions", headers=mine).status_code == 200


def test_off_by_default(client, clock):
    mine = {"Authorization": f"Bearer {token_for(client, 'store-1')}"}
    assert {client.get("/v2/promotions", headers=mine).status_code for _ in range(40)} == {200}


class TestPerStore:
    """The control plane turns one store's limits on or off and chooses its kind (rate-limits
    guide: development 25 a second, the default; production 100)."""

    def test_limits_turned_on_for_one_store_only(self, client, clock):
        mine = {"Authorization": f"Bearer {token_for(client, 'store-1')}"}
        other = {"Authorization": f"Bearer {token_for(client, 'store-2')}"}
        path = "/__codestand/moltin/tenants/store-1/rate-limits"
        assert (client.get(path).status_code, client.get(path).json()) == (200, {"enforced": False, "store_kind": "development"})
        changed = client.put(path, json={"enforced": True})
        assert (changed.status_code, changed.json()) == (200, {"enforced": True, "store_kind": "development"})
        assert [client.get("/v2/promotions", headers=mine).status_code for _ in range(25)] == [200] * 25
        response = client.get("/v2/promotions", headers=mine)
        assert (response.status_code, response.json(), response.headers["retry-after"]) == (429, TOO_MANY, "1")
        assert {client.get("/v2/promotions", headers=other).status_code for _ in range(40)} == {200}

    def test_a_production_store_has_100_a_second(self, client, clock):
        mine = {"Authorization": f"Bearer {token_for(client, 'store-1')}"}
        path = "/__codestand/moltin/tenants/store-1/rate-limits"
        assert client.put(path, json={"enforced": True, "store_kind": "production"}).json() == {"enforced": True, "store_kind": "production"}
        assert [client.get("/v2/promotions", headers=mine).status_code for _ in range(100)] == [200] * 100
        assert client.get("/v2/promotions", headers=mine).status_code == 429
        # Turned off again: through at once, in the same second.
        assert client.put(path, json={"enforced": False}).json() == {"enforced": False, "store_kind": "production"}
        assert client.get("/v2/promotions", headers=mine).status_code == 200

    def test_a_change_that_sets_nothing_is_refused_and_a_reset_forgets_the_settings(self, client, clock):
        path = "/__codestand/moltin/tenants/store-1/rate-limits"
        refused = client.put(path, json={"kind": "production"})
        assert (refused.status_code, refused.json()) == (
            400,
            {"errors": [{"status": 400, "title": "Bad Request", "detail": "Say what to change: enforced, store_kind or both"}]},
        )
        bad = client.put(path, json={"store_kind": "staging"})
        assert (bad.status_code, bad.json()) == (
            400,
            {"errors": [{"status": 400, "title": "enum", "detail": "store_kind must be one of: development, production", "source": "store_kind"}]},
        )
        assert client.put(path, json={"store_kind": "production"}).status_code == 200
        assert client.post("/__codestand/moltin/tenants/store-1/reset", headers={"X-Codestand": "1"}).status_code == 204
        assert client.get(path).json() == {"enforced": False, "store_kind": "development"}


class TestOnForAllButOne:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(access_log=False, rate_limits="vendor")

    def test_the_control_plane_turns_one_store_off(self, client, clock):
        mine = {"Authorization": f"Bearer {token_for(client, 'store-1')}"}
        assert client.get("/__codestand/moltin/tenants/store-1/rate-limits").json() == {"enforced": True, "store_kind": "development"}
        assert client.put("/__codestand/moltin/tenants/store-1/rate-limits", json={"enforced": False}).status_code == 200
        assert {client.get("/v2/promotions", headers=mine).status_code for _ in range(40)} == {200}
