"""The plugin's handle sends what the control plane's routes expect (recorded, no server)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from codestand.testing import Codestand, ControlError

CLOCK = {"now": "2030-01-01T00:00:00.000Z", "frozen": False}
# One answer that fits every helper, for tests that call several.
ANY = {**CLOCK, "access_token": "tok", "codes": [], "entries": []}


class Recorder:
    """An httpx transport that answers every request with `answer` and remembers it."""

    def __init__(self, answer: httpx.Response | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer or httpx.Response(200, json={})

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def handle(answer: httpx.Response | None = None, admin_token: str | None = None) -> tuple[Codestand, Recorder]:
    recorder = Recorder(answer)
    return Codestand("http://stand-in.test/", admin_token=admin_token, transport=httpx.MockTransport(recorder)), recorder


def sent(request: httpx.Request) -> tuple[str, str, object]:
    body = json.loads(request.content) if request.content else None
    return request.method, request.url.raw_path.decode(), body


def test_every_handle_has_fresh_tenants():
    first, _ = handle()
    second, _ = handle()
    assert first.ti_key != second.ti_key
    assert first.moltin_client_id != second.moltin_client_id
    assert first.url == "http://stand-in.test"


def test_group_codes_lists_the_code_strings():
    stand_in, recorder = handle(httpx.Response(200, json={"codes": [{"code": "ab12", "redeemed": False}, {"code": "cd34", "redeemed": True}]}))
    assert stand_in.group_codes("g-1") == ["ab12", "cd34"]
    assert sent(recorder.last) == ("GET", f"/__codestand/thoughtindustries/tenants/{stand_in.ti_key}/redemption-code-groups/g-1/codes", None)


def test_redeem_posts_code_and_user_id_for_the_ti_tenant():
    stand_in, recorder = handle(httpx.Response(201, json={"code": "ab12"}))
    assert stand_in.redeem("ab12", "learner-1") == {"code": "ab12"}
    assert sent(recorder.last) == ("POST", f"/__codestand/thoughtindustries/tenants/{stand_in.ti_key}/redemptions", {"code": "ab12", "userId": "learner-1"})


@pytest.mark.parametrize(("user", "body"), [(None, {"code": "SPRING"}), ("shopper-1", {"code": "SPRING", "user": "shopper-1"})])
def test_use_posts_the_code_for_the_moltin_store(user, body):
    stand_in, recorder = handle()
    stand_in.use("SPRING", user=user)
    assert sent(recorder.last) == ("POST", f"/__codestand/moltin/tenants/{stand_in.moltin_client_id}/promotion-code-uses", body)


def test_journal_passes_filters_as_query_parameters_and_returns_entries():
    stand_in, recorder = handle(httpx.Response(200, json={"entries": [{"method": "GET"}]}))
    assert stand_in.journal(method="GET", tenant="k") == [{"method": "GET"}]
    assert recorder.last.url.path == "/__codestand/journal"
    assert dict(recorder.last.url.params) == {"method": "GET", "tenant": "k"}


def test_clock_helpers():
    stand_in, recorder = handle(httpx.Response(200, json=CLOCK))
    moment = datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert stand_in.clock.now() == moment
    stand_in.clock.set(datetime(2030, 1, 1), frozen=True)  # naive: read as UTC
    assert sent(recorder.last) == ("PUT", "/__codestand/clock", {"now": "2030-01-01T00:00:00+00:00", "frozen": True})
    stand_in.clock.advance(timedelta(days=1))
    assert sent(recorder.last) == ("POST", "/__codestand/clock/advance", {"seconds": 86400.0})
    stand_in.clock.advance(30)
    assert sent(recorder.last) == ("POST", "/__codestand/clock/advance", {"seconds": 30})
    assert stand_in.clock.reset() == moment
    assert sent(recorder.last) == ("DELETE", "/__codestand/clock", None)


def test_moltin_token_asks_for_client_credentials_of_the_test_store():
    stand_in, recorder = handle(httpx.Response(200, json={"access_token": "tok"}))
    assert stand_in.moltin_token() == "tok"
    form = dict(httpx.QueryParams(recorder.last.content.decode()))
    assert recorder.last.url.path == "/oauth/access_token"
    assert form["grant_type"] == "client_credentials" and form["client_id"] == stand_in.moltin_client_id
    stand_in.moltin_token("other-store")
    assert dict(httpx.QueryParams(recorder.last.content.decode()))["client_id"] == "other-store"


def test_admin_token_goes_to_the_control_plane_only():
    stand_in, recorder = handle(httpx.Response(200, json=ANY), admin_token="s3cret")
    stand_in.group_codes("g")
    assert recorder.last.headers["authorization"] == "Bearer s3cret"
    stand_in.moltin_token()
    assert "authorization" not in recorder.last.headers


def test_reset_everything_or_only_the_tests_tenants():
    stand_in, recorder = handle(httpx.Response(200, json=ANY))
    stand_in.reset()
    assert [sent(r)[:2] for r in recorder.requests] == [("POST", "/__codestand/reset")]

    recorder.requests.clear()
    stand_in.moltin_token("second-store")
    stand_in.clock.advance(5)
    recorder.requests.clear()
    stand_in.reset(everything=False)
    paths = [sent(r)[:2] for r in recorder.requests]
    assert ("POST", f"/__codestand/thoughtindustries/tenants/{stand_in.ti_key}/reset") in paths
    assert ("POST", f"/__codestand/moltin/tenants/{stand_in.moltin_client_id}/reset") in paths
    assert ("POST", "/__codestand/moltin/tenants/second-store/reset") in paths
    assert paths[-1] == ("DELETE", "/__codestand/clock")


def test_a_refusal_raises_with_status_and_body():
    stand_in, _ = handle(httpx.Response(422, json={"errors": [{"status": 422, "title": "expired"}]}))
    with pytest.raises(ControlError) as refused:
        stand_in.use("OLD")
    assert refused.value.status == 422
    assert refused.value.body == {"errors": [{"status": 422, "title": "expired"}]}
    assert "promotion-code-uses answered 422" in str(refused.value)
