"""The Python ceiling: the benchmarked operations in bare Starlette, on the same uvicorn.

Each endpoint reads the bearer header, parses the JSON body where there is one, builds a
response of the same shape and size as codestand's and serializes it: what any Python server
of these operations must do. No spec, no validation, no state beyond canned records, so
codestand's distance from it is what Connexion and codestand's own code cost.

    python benchmarks/bare_starlette.py PORT [LIST_SIZE]
"""

from __future__ import annotations

import json
import sys
import uuid

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

COURSE = {"id": "8f2a1c34-5b6d-4e7f-9a01-2b3c4d5e6f70", "title": "Onboarding Essentials"}
LIST_SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 20


def _unauthorized(request: Request) -> bool:
    return not request.headers.get("authorization", "").startswith("Bearer ")


def _group(group_id: str, label: str, total: int, courses: list[dict], listed: bool) -> dict:
    body = {
        "id": group_id,
        "label": label,
        "redeemedCodesCount": 0,
        "totalCodesCount": total,
        "expirationDate": None,
        "accessDays": None,
        "accessExpirationDate": None,
        "client": None,
        "courses": courses,
        "learningPaths": [],
        "bundles": [],
        "licenses": [],
    }
    if listed:
        body["uploaded"] = False
        body["gift"] = False
    return body


GROUPS = [(str(uuid.uuid4()), "Benchmark group", 1) for _ in range(LIST_SIZE)]


async def create_group(request: Request) -> Response:
    if _unauthorized(request):
        return Response(status_code=401)
    body = json.loads(await request.body())
    courses = [{"id": c, "title": COURSE["title"]} for c in body.get("courses", [])]
    return JSONResponse(_group(str(uuid.uuid4()), body["label"], body["totalCodesCount"], courses, False), status_code=201)


async def get_group(request: Request) -> Response:
    if _unauthorized(request):
        return Response(status_code=401)
    return JSONResponse(_group(request.path_params["id"], "Benchmark group", 1, [COURSE], True))


async def list_groups(request: Request) -> Response:
    if _unauthorized(request):
        return Response(status_code=401)
    groups = [_group(i, label, total, [COURSE], True) for i, label, total in GROUPS]
    return JSONResponse({"redemptionCodeGroups": groups, "pageInfo": {"total": len(groups), "hasMore": False, "cursor": None}})


PROMOTION = {
    "type": "promotion",
    "name": "Benchmark promotion",
    "description": "Benchmark",
    "enabled": True,
    "promotion_type": "fixed_discount",
    "schema": {"currencies": [{"currency": "USD", "amount": 900}]},
    "start": "2017-11-13T00:00:00Z",
    "end": "2099-11-13T00:00:00Z",
    "created_at": "2025-01-01T00:00:00.000Z",
}


async def add_codes(request: Request) -> Response:
    if _unauthorized(request):
        return Response(status_code=401)
    body = json.loads(await request.body())
    _codes = [c["code"] for c in body["data"]["codes"]]
    data = {**PROMOTION, "id": request.path_params["id"], "updated_at": "2025-01-01T00:00:00.000Z"}
    return JSONResponse({"data": data}, status_code=201)


async def list_codes(request: Request) -> Response:
    if _unauthorized(request):
        return Response(status_code=401)
    codes = [{"code": f"code-{n}", "consume_unit": "per_cart"} for n in range(LIST_SIZE)]
    base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}?page[limit]=100&page[offset]="
    return JSONResponse(
        {
            "data": codes,
            "links": {"current": base + "0", "first": base + "0", "last": base + "0", "prev": None, "next": None},
            "meta": {"page": {"limit": 100, "offset": 0, "current": 1, "total": 1}, "results": {"total": len(codes)}},
        }
    )


async def ping(request: Request) -> Response:
    return JSONResponse({"valid": True})


app = Starlette(
    routes=[
        Route("/incoming/v2/redemptionCodes", create_group, methods=["POST"]),
        Route("/incoming/v2/redemptionCodes", list_groups, methods=["GET"]),
        Route("/incoming/v2/redemptionCodes/{id}", get_group, methods=["GET"]),
        Route("/v2/promotions/{id}/codes", add_codes, methods=["POST"]),
        Route("/v2/promotions/{id}/codes", list_codes, methods=["GET"]),
        Route("/incoming/v2/ping", ping),
    ]
)

if __name__ == "__main__":
    # The same server settings as `codestand serve`: uvloop and httptools when installed.
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=False, log_level="warning", lifespan="off")
