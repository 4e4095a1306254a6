"""Restarting on the same SQLite file: the same requests get the same answers."""

from __future__ import annotations

import httpx

from tests.live import (
    LASTING_PROMOTION,
    Server,
    codes_body,
    free_port,
    moltin_headers,
    ti_group,
    ti_headers,
)

KEY = "restart-key"


def ask_everything(http: httpx.Client, moltin: dict[str, str], group_ids: list[str], promotion_ids: list[str]) -> list:
    """Every read both vendors offer, with its status and body."""
    ti = ti_headers(KEY)
    requests = [
        ("/incoming/v2/redemptionCodes", ti, {}),
        ("/incoming/v2/redemptionCodes", ti, {"sort": "label:desc"}),
        ("/incoming/v2/redemptionCodes", ti, {"query": "SPRING", "sort": "totalCodesCount:asc"}),
        *((f"/incoming/v2/redemptionCodes/{g}", ti, {}) for g in group_ids),
        ("/v2/promotions", moltin, {}),
        ("/v2/promotions", moltin, {"filter": "eq(code,KEEP-2)"}),
        *((f"/v2/promotions/{p}", moltin, {}) for p in promotion_ids),
        *((f"/v2/promotions/{p}/codes", moltin, {"page[limit]": 2, "page[offset]": 1}) for p in promotion_ids),
    ]
    answers = []
    for path, headers, params in requests:
        response = http.get(path, headers=headers, params=params)
        answers.append((path, params, response.status_code, response.json()))
    return answers


def test_the_same_requests_get_the_same_answers_after_a_restart(tmp_path):
    storage, log, port = ("--storage", f"sqlite:{tmp_path / 'kept.sqlite'}", "--quiet"), tmp_path / "server.log", free_port()
    with Server(log, *storage, port=port) as server:
        with server.client() as http:
            group_ids = [
                http.post("/incoming/v2/redemptionCodes", headers=ti_headers(KEY), json=ti_group(label, count, 6)).json()["id"]
                for label, count in (("Spring promo", 30), ("Winter", 10), ("spring sale", 20))
            ]
            moltin = moltin_headers(http, "restart-store")
            promotion_ids = [http.post("/v2/promotions", headers=moltin, json=LASTING_PROMOTION).json()["data"]["id"] for _ in range(2)]
            http.post(f"/v2/promotions/{promotion_ids[0]}/codes", headers=moltin, json=codes_body(*(f"KEEP-{n}" for n in range(5))))
            http.delete(f"/v2/promotions/{promotion_ids[0]}/codes/KEEP-3", headers=moltin)
            http.put(f"/v2/promotions/{promotion_ids[1]}", headers=moltin, json={"data": {"type": "promotion", "name": "Renamed"}})
            before = ask_everything(http, moltin, group_ids, promotion_ids)
        assert server.stop() == 0

    with Server(log, *storage, "--workers", "2", port=port) as server:
        with server.client() as http:
            after = ask_everything(http, moltin, group_ids, promotion_ids)  # the token, too, was kept
        assert server.stop() == 0

    assert [status for *_, status, _ in before] == [200] * len(before)
    assert after == before
    # Stopped cleanly, the workers closed the file: its write-ahead log is folded back in.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.sqlite", "server.log"]
