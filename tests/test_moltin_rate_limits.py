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
