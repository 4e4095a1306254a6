"""SQLite tables and statements for a Moltin promotion's history and jobs (schema version 2).

Kept apart from `sqlite.py`: version 2 adds, to files of version 1,
- columns `promotions.created_by`, `promotions.updated_by` (the vendor's `created_by` /
  `updated_by`), and `promotion_codes.created_at`, `promotion_codes.created_by`,
  `promotion_codes.users_json` (a code's list of customer ids; `code_user` keeps one id);
- table `promotion_versions`: each create and update of a promotion, as JSON;
- table `promotion_jobs`: a promotion's jobs, as JSON, with their status beside for the queue;
- table `promotion_usages`: each use of a promotion's codes, as JSON.
A fresh file gets version 1's statements and then these, so both paths end in the same schema.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

from codestand.core.models import Page, Promotion, PromotionJob, PromotionUsage

# The tenant's number, in a statement that reads by tenant name (as in sqlite.py).
_TENANT = "(SELECT id FROM tenants WHERE name = ?)"

MIGRATION_1_TO_2: tuple[str, ...] = (
    "ALTER TABLE promotions ADD COLUMN created_by TEXT",
    "ALTER TABLE promotions ADD COLUMN updated_by TEXT",
    "ALTER TABLE promotion_codes ADD COLUMN created_at TEXT",
    "ALTER TABLE promotion_codes ADD COLUMN created_by TEXT",
    "ALTER TABLE promotion_codes ADD COLUMN users_json TEXT",
    """CREATE TABLE promotion_versions (
        seq INTEGER PRIMARY KEY,
        tenant INTEGER NOT NULL,
        promotion_id TEXT NOT NULL,
        promotion_json TEXT NOT NULL
    )""",
    "CREATE INDEX promotion_versions_by_promotion ON promotion_versions (tenant, promotion_id, seq)",
    """CREATE TABLE promotion_jobs (
        seq INTEGER PRIMARY KEY,
        tenant INTEGER NOT NULL,
        promotion_id TEXT NOT NULL,
        id TEXT NOT NULL,
        status TEXT NOT NULL,
        job_json TEXT NOT NULL,
        UNIQUE (tenant, id)
    )""",
    "CREATE INDEX promotion_jobs_by_promotion ON promotion_jobs (tenant, promotion_id, seq)",
    """CREATE TABLE promotion_usages (
        seq INTEGER PRIMARY KEY,
        tenant INTEGER NOT NULL,
        promotion_id TEXT NOT NULL,
        id TEXT NOT NULL,
        usage_json TEXT NOT NULL,
        UNIQUE (tenant, id)
    )""",
    "CREATE INDEX promotion_usages_by_promotion ON promotion_usages (tenant, promotion_id, seq)",
)
# Tables a tenant's reset empties (no foreign keys point at them).
TABLES = ("promotion_versions", "promotion_jobs", "promotion_usages")


def delete_of_promotion(db: sqlite3.Connection, tenant: str, promotion_id: str) -> None:
    for table in TABLES:
        db.execute(f"DELETE FROM {table} WHERE tenant = {_TENANT} AND promotion_id = ?", (tenant, promotion_id))


# Versions ---------------------------------------------------------------------------
def add_version(db: sqlite3.Connection, number: int, promotion: Promotion) -> None:
    db.execute(
        "INSERT INTO promotion_versions (tenant, promotion_id, promotion_json) VALUES (?, ?, ?)",
        (number, promotion.id, json.dumps(_promotion_json(promotion))),
    )


def list_versions(db: sqlite3.Connection, tenant: str, promotion_id: str, offset: int, limit: int) -> Page:
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
def add_job(db: sqlite3.Connection, number: int, job: PromotionJob) -> None:
    db.execute(
        "INSERT INTO promotion_jobs (tenant, promotion_id, id, status, job_json) VALUES (?, ?, ?, ?, ?)",
        (number, job.promotion_id, job.id, job.status, json.dumps(_job_json(job))),
    )


def replace_job(db: sqlite3.Connection, tenant: str, job: PromotionJob) -> None:
    db.execute(
        f"UPDATE promotion_jobs SET status = ?, job_json = ? WHERE tenant = {_TENANT} AND id = ?",
        (job.status, json.dumps(_job_json(job)), tenant, job.id),
    )


def get_job(db: sqlite3.Connection, tenant: str, promotion_id: str, job_id: str) -> PromotionJob | None:
    row = db.execute(
        f"SELECT job_json FROM promotion_jobs WHERE tenant = {_TENANT} AND promotion_id = ? AND id = ?",
        (tenant, promotion_id, job_id),
    ).fetchone()
    return _job_from(json.loads(row[0])) if row else None


def list_jobs(db: sqlite3.Connection, tenant: str, promotion_id: str) -> list[PromotionJob]:
    rows = db.execute(
        f"SELECT job_json FROM promotion_jobs WHERE tenant = {_TENANT} AND promotion_id = ? ORDER BY seq",
        (tenant, promotion_id),
    ).fetchall()
    return [_job_from(json.loads(row[0])) for row in rows]


def unfinished_jobs(db: sqlite3.Connection, tenant: str) -> list[PromotionJob]:
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
def add_usage(db: sqlite3.Connection, number: int, usage: PromotionUsage) -> None:
    db.execute(
        "INSERT INTO promotion_usages (tenant, promotion_id, id, usage_json) VALUES (?, ?, ?, ?)",
        (number, usage.promotion_id, usage.id, json.dumps(_usage_json(usage))),
    )


def list_usages(db: sqlite3.Connection, tenant: str, promotion_id: str) -> list[PromotionUsage]:
    rows = db.execute(
        f"SELECT usage_json FROM promotion_usages WHERE tenant = {_TENANT} AND promotion_id = ? ORDER BY seq",
        (tenant, promotion_id),
    ).fetchall()
    return [_usage_from(json.loads(row[0])) for row in rows]


def replace_usages(db: sqlite3.Connection, tenant: str, usages: list[PromotionUsage]) -> None:
    db.executemany(
        f"UPDATE promotion_usages SET usage_json = ? WHERE tenant = {_TENANT} AND id = ?",
        [(json.dumps(_usage_json(u)), tenant, u.id) for u in usages],
    )


def get_usages(db: sqlite3.Connection, tenant: str, ids: list[str]) -> list[PromotionUsage]:
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


def _text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)
