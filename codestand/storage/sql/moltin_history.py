"""Moltin tables for a promotion's history, jobs and usages (schema version 3). A mixin of
`SqlStorage`; its SQL is written once for both dialects.

Version 3 adds, to databases of version 2,
- columns `promotions.created_by`, `promotions.updated_by` (the vendor's `created_by` /
  `updated_by`), and `promotion_codes.created_at`, `promotion_codes.created_by`,
  `promotion_codes.users_json` (a code's list of customer ids; `code_user` keeps one id);
- table `promotion_versions`: each create and update of a promotion, as JSON;
- table `promotion_jobs`: a promotion's jobs, as JSON, with their status beside for the queue;
- table `promotion_usages`: each use of a promotion's codes, as JSON.
A new database gets version 2's statements and then these, so both paths end in the same schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from codestand.core.models import Page, Promotion, PromotionJob, PromotionUsage
from codestand.storage.sql.common import TENANT as _TENANT
from codestand.storage.sql.common import Db, moment as _moment, tenant_number, text as _text

TO_VERSION_3: tuple[str, ...] = (
    "ALTER TABLE promotions ADD COLUMN created_by TEXT",
    "ALTER TABLE promotions ADD COLUMN updated_by TEXT",
    "ALTER TABLE promotion_codes ADD COLUMN created_at TEXT",
    "ALTER TABLE promotion_codes ADD COLUMN created_by TEXT",
    "ALTER TABLE promotion_codes ADD COLUMN users_json TEXT",
    """CREATE TABLE promotion_versions (
        seq {seq},
        tenant INTEGER NOT NULL,
        promotion_id TEXT NOT NULL,
        promotion_json TEXT NOT NULL
    )""",
    "CREATE INDEX promotion_versions_by_promotion ON promotion_versions (tenant, promotion_id, seq)",
    """CREATE TABLE promotion_jobs (
        seq {seq},
        tenant INTEGER NOT NULL,
        promotion_id TEXT NOT NULL,
        id TEXT NOT NULL,
        status TEXT NOT NULL,
        job_json TEXT NOT NULL,
        UNIQUE (tenant, id)
    )""",
    "CREATE INDEX promotion_jobs_by_promotion ON promotion_jobs (tenant, promotion_id, seq)",
    """CREATE TABLE promotion_usages (
        seq {seq},
        tenant INTEGER NOT NULL,
        promotion_id TEXT NOT NULL,
        id TEXT NOT NULL,
        usage_json TEXT NOT NULL,
        UNIQUE (tenant, id)
    )""",
    "CREATE INDEX promotion_usages_by_promotion ON promotion_usages (tenant, promotion_id, seq)",
)
# Tables a tenant's reset empties (no foreign keys point at them).
STATE = ("promotion_versions", "promotion_jobs", "promotion_usages")


def delete_of_promotion(db: Db, tenant: str, promotion_id: str) -> None:
    for table in STATE:
        db.execute(f"DELETE FROM {table} WHERE tenant = {_TENANT} AND promotion_id = ?", (tenant, promotion_id))


# Versions ---------------------------------------------------------------------------
def add_version(db: Db, number: int, promotion: Promotion) -> None:
    db.execute(
        "INSERT INTO promotion_versions (tenant, promotion_id, promotion_json) VALUES (?, ?, ?)",
        (number, promotion.id, json.dumps(_promotion_json(promotion))),
    )


def list_versions(db: Db, tenant: str, promotion_id: str, offset: int, limit: int) -> Page:
    where = f"tenant = {_TENANT} AND promotion_id = ?"
    total = db.execute(f"SELECT count(*) FROM promotion_versions WHERE {where}", (tenant, promotion_id)).fetchone()[0]
    rows = db.execute(
        f"SELECT promotion_json FROM promotion_versions WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
        (tenant, promotion_id, limit, offset),
    ).fetchall()
    return Page(items=[_promotion_from(json.loads(row[0])) for row in rows], total=total)


def _promotion_json(p: Promotion) -> dict:
    return {
        "id": p.id, "name": p.name, "description": p.description, "enabled": p.enabled,
        "promotion_type": p.promotion_type, "schema": p.schema, "start": _text(p.start), "end": _text(p.end),
        "created_at": _text(p.created_at), "updated_at": _text(p.updated_at), "automatic": p.automatic,
        "extras": p.extras, "created_by": p.created_by, "updated_by": p.updated_by,
    }  # fmt: skip


def _promotion_from(d: dict) -> Promotion:
    moments = {k: _moment(d[k]) for k in ("start", "end", "created_at", "updated_at")}
    return Promotion(**{**d, **moments})


# Jobs -------------------------------------------------------------------------------
def add_job(db: Db, number: int, job: PromotionJob) -> None:
    db.execute(
        "INSERT INTO promotion_jobs (tenant, promotion_id, id, status, job_json) VALUES (?, ?, ?, ?, ?)",
        (number, job.promotion_id, job.id, job.status, json.dumps(_job_json(job))),
    )


def replace_job(db: Db, tenant: str, job: PromotionJob, expected: PromotionJob | None) -> bool:
    new = (job.status, json.dumps(_job_json(job)), tenant, job.id)
    if expected is None:
        return db.execute(f"UPDATE promotion_jobs SET status = ?, job_json = ? WHERE tenant = {_TENANT} AND id = ?", new).rowcount > 0
    # The JSON as stored: `expected` was read from it, and its text is written the same way again.
    return db.execute(
        f"UPDATE promotion_jobs SET status = ?, job_json = ? WHERE tenant = {_TENANT} AND id = ? AND job_json = ?",
        (*new, json.dumps(_job_json(expected))),
    ).rowcount > 0


def get_job(db: Db, tenant: str, promotion_id: str, job_id: str) -> PromotionJob | None:
    row = db.execute(
        f"SELECT job_json FROM promotion_jobs WHERE tenant = {_TENANT} AND promotion_id = ? AND id = ?",
        (tenant, promotion_id, job_id),
    ).fetchone()
    return _job_from(json.loads(row[0])) if row else None


def list_jobs(db: Db, tenant: str, promotion_id: str) -> list[PromotionJob]:
    rows = db.execute(
        f"SELECT job_json FROM promotion_jobs WHERE tenant = {_TENANT} AND promotion_id = ? ORDER BY seq",
        (tenant, promotion_id),
    ).fetchall()
    return [_job_from(json.loads(row[0])) for row in rows]


def unfinished_jobs(db: Db, tenant: str) -> list[PromotionJob]:
    rows = db.execute(
        f"SELECT job_json FROM promotion_jobs WHERE tenant = {_TENANT} AND status IN ('pending', 'processing') ORDER BY seq",
        (tenant,),
    ).fetchall()
    return [_job_from(json.loads(row[0])) for row in rows]


def _job_json(j: PromotionJob) -> dict:
    return {
        "id": j.id, "promotion_id": j.promotion_id, "job_type": j.job_type, "status": j.status,
        "created_at": _text(j.created_at), "updated_at": _text(j.updated_at), "name": j.name,
        "parameters": j.parameters, "created_by": j.created_by, "result": j.result, "error": j.error,
        "codes": list(j.codes), "file": j.file,
    }  # fmt: skip


def _job_from(d: dict) -> PromotionJob:
    return PromotionJob(
        **{**d, "created_at": _moment(d["created_at"]), "updated_at": _moment(d["updated_at"]), "codes": tuple(d["codes"])}
    )


# Usages -----------------------------------------------------------------------------
def add_usage(db: Db, number: int, usage: PromotionUsage) -> None:
    db.execute(
        "INSERT INTO promotion_usages (tenant, promotion_id, id, usage_json) VALUES (?, ?, ?, ?)",
        (number, usage.promotion_id, usage.id, json.dumps(_usage_json(usage))),
    )


def list_usages(db: Db, tenant: str, promotion_id: str) -> list[PromotionUsage]:
    rows = db.execute(
        f"SELECT usage_json FROM promotion_usages WHERE tenant = {_TENANT} AND promotion_id = ? ORDER BY seq",
        (tenant, promotion_id),
    ).fetchall()
    return [_usage_from(json.loads(row[0])) for row in rows]


def replace_usages(db: Db, tenant: str, usages: list[PromotionUsage]) -> None:
    for u in usages:
        db.execute(f"UPDATE promotion_usages SET usage_json = ? WHERE tenant = {_TENANT} AND id = ?", (json.dumps(_usage_json(u)), tenant, u.id))


def get_usages(db: Db, tenant: str, ids: list[str]) -> list[PromotionUsage]:
    found = {}
    for usage_id in ids:
        row = db.execute(f"SELECT usage_json FROM promotion_usages WHERE tenant = {_TENANT} AND id = ?", (tenant, usage_id)).fetchone()
        if row:
            found[usage_id] = _usage_from(json.loads(row[0]))
    return [found[i] for i in ids if i in found]


def _usage_json(u: PromotionUsage) -> dict:
    return {
        "id": u.id, "promotion_id": u.promotion_id, "code": u.code, "code_id": u.code_id, "used_on": _text(u.used_on),
        "updated_at": _text(u.updated_at), "times_used": u.times_used, "order_id": u.order_id,
        "customer_id": u.customer_id, "customer_email": u.customer_email, "anonymized": u.anonymized,
        "updated_by": u.updated_by,
    }  # fmt: skip


def _usage_from(d: dict) -> PromotionUsage:
    return PromotionUsage(**{**d, "used_on": _moment(d["used_on"]), "updated_at": _moment(d["updated_at"])})


class MoltinHistoryTables:
    """The storage methods of a promotion's versions, jobs and usages."""

    def add_promotion_version(self, tenant: str, promotion: Promotion) -> None:
        with self._writing() as db:
            add_version(db, tenant_number(db, tenant), promotion)

    def list_promotion_versions(self, tenant: str, promotion_id: str, *, offset: int, limit: int) -> Page:
        with self._reading() as db:
            return list_versions(db, tenant, promotion_id, offset, limit)

    def add_promotion_job(self, tenant: str, job: PromotionJob) -> None:
        with self._writing() as db:
            add_job(db, tenant_number(db, tenant), job)

    def replace_promotion_job(self, tenant: str, job: PromotionJob, expected: PromotionJob | None = None) -> bool:
        with self._writing() as db:
            return replace_job(db, tenant, job, expected)

    def get_promotion_job(self, tenant: str, promotion_id: str, job_id: str) -> PromotionJob | None:
        with self._read() as db:
            return get_job(db, tenant, promotion_id, job_id)

    def list_promotion_jobs(self, tenant: str, promotion_id: str) -> list[PromotionJob]:
        with self._read() as db:
            return list_jobs(db, tenant, promotion_id)

    def unfinished_promotion_jobs(self, tenant: str) -> list[PromotionJob]:
        with self._read() as db:
            return unfinished_jobs(db, tenant)

    def add_promotion_usage(self, tenant: str, usage: PromotionUsage) -> None:
        with self._writing() as db:
            add_usage(db, tenant_number(db, tenant), usage)

    def list_promotion_usages(self, tenant: str, promotion_id: str) -> list[PromotionUsage]:
        with self._read() as db:
            return list_usages(db, tenant, promotion_id)

    def replace_promotion_usages(self, tenant: str, usages: list[PromotionUsage]) -> None:
        with self._writing() as db:
            replace_usages(db, tenant, usages)

    def get_promotion_usages(self, tenant: str, ids: Iterable[str]) -> list[PromotionUsage]:
        with self._read() as db:
            return get_usages(db, tenant, list(ids))
