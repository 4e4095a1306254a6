"""Codes an admin uploads, codes added to a group, gift groups: what the vendor's admin UI does.

Support article "Managing Learners with Redemption Codes": "Upload Codes I've Created ... add
codes to a CSV file and upload them ... you must limit your codes to 20 characters and use only
"a-z", "0-9" and "-"", "a limit of 10,000 for number of codes per group", "Add Codes next to the
batch ... the # of Additional Codes", and "View Gifted Redemption Codes". The REST API has none of
these; the control plane plays the admin, and the vendor routes then show `uploaded: true` and
`gift: true` groups as the list page's second example does.

Every refusal names the code and why, all at once, and nothing is written.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from codestand.core.clock import Clock
from codestand.core.errors import Conflict, Problem, RuleViolation
from codestand.core.models import RedemptionGroup
from codestand.storage.base import CodesTaken, Storage
from codestand.thoughtindustries import catalog, codes, groups

MAX_CODE_LENGTH = 20  # [doc]
MAX_GROUP_CODES = 10_000  # [doc]
_ALLOWED = re.compile(r"[a-z0-9-]+")


def read_codes(body: dict[str, Any]) -> list[str]:
    """The codes of a body: a JSON list `codes`, or `csv` text (one code a row, its first
    column; a first row `code` is a header; blank rows are passed over)."""
    if body.get("codes") is not None:
        return list(body["codes"])
    rows = csv.reader(io.StringIO(body.get("csv") or ""))
    found = [row[0].strip() for row in rows if row and row[0].strip()]
    return found[1:] if found and found[0].lower() == "code" else found


def check_codes(store: Storage, tenant: str, wanted: list[str], *, already: int) -> None:
    """Refuse, naming each code and why, what the admin UI would not take."""
    problems: list[Problem] = []
    if not wanted:
        problems.append(Problem("upload_no_codes", "codes"))
    if already + len(wanted) > MAX_GROUP_CODES:
        problems.append(Problem("upload_too_many", "codes", {"count": already + len(wanted), "limit": MAX_GROUP_CODES}))
    seen: set[str] = set()
    for n, code in enumerate(wanted):
        where = f"codes[{n}]"
        if len(code) > MAX_CODE_LENGTH:
            problems.append(Problem("upload_code_too_long", where, {"code": code, "limit": MAX_CODE_LENGTH}))
        elif not _ALLOWED.fullmatch(code):
            problems.append(Problem("upload_code_characters", where, {"code": code}))
        elif code in seen:
            problems.append(Problem("upload_code_repeated", where, {"code": code}))
        seen.add(code)
    if problems:
        raise RuleViolation(*problems)
    taken = store.codes_taken(tenant, wanted)
    if taken:
        _refuse_taken(wanted, taken)


def _refuse_taken(wanted: list[str], taken: set[str]) -> None:
    raise Conflict(*(Problem("upload_code_taken", f"codes[{n}]", {"code": c}) for n, c in enumerate(wanted) if c in taken))


def upload(
    store: Storage, clock: Clock, seed: catalog.Seed, tenant: str, body: dict[str, Any], *, strict_catalog: bool
) -> RedemptionGroup:
    wanted = read_codes(body)
    check_codes(store, tenant, wanted, already=0)
    group = groups.record(
        store,
        clock,
        seed,
        tenant,
        body,
        code_length=max(map(len, wanted)),
        total_codes=len(wanted),
        strict_catalog=strict_catalog,
        uploaded=True,
        gift=bool(body.get("gift")),
    )
    try:
        store.create_group(tenant, group, wanted)
    except CodesTaken as exc:  # another writer took some meanwhile
        _refuse_taken(wanted, exc.codes)
    return groups.get(store, tenant, group.id)


def add_codes(store: Storage, tenant: str, group_id: str, body: dict[str, Any]) -> RedemptionGroup:
    """Codes given (`codes` or `csv`), or `count` more generated at the group's code length."""
    group = groups.get(store, tenant, group_id)
    if body.get("count") is not None:
        count, length = body["count"], group.code_length
        if group.total_codes + count > MAX_GROUP_CODES:
            raise RuleViolation(Problem("upload_too_many", "count", {"count": group.total_codes + count, "limit": MAX_GROUP_CODES}))
        used = store.code_count(tenant, length)
        if count > codes.space(length) - used:
            raise RuleViolation(Problem("upload_code_space", "count", {"available": codes.space(length) - used, "length": length}))
        wanted, uploaded = codes.draw(count, length, used, lambda batch: store.codes_taken(tenant, batch)), False
    else:
        wanted, uploaded = read_codes(body), True
        check_codes(store, tenant, wanted, already=group.total_codes)
    try:
        added = store.add_group_codes(tenant, group_id, wanted, uploaded=uploaded)
    except CodesTaken as exc:
        _refuse_taken(wanted, exc.codes)
    return added if added is not None else groups.get(store, tenant, group_id)


def set_gift(store: Storage, tenant: str, group_id: str, gift: bool) -> RedemptionGroup:
    changed = store.set_group_gift(tenant, group_id, gift)
    return changed if changed is not None else groups.get(store, tenant, group_id)


def delete(store: Storage, tenant: str, group_id: str) -> None:
    if not store.delete_group(tenant, group_id):
        groups.get(store, tenant, group_id)  # the not-found answer
