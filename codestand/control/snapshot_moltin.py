"""A Moltin promotion in a snapshot: its fields, and its history, jobs and usages beside its
codes, so that a restored store answers `GET .../history`, `.../jobs` and `.../usages` as the
exported one did (`control.yaml`, `SnapshotPromotion`).

A snapshot without `history` (one written before these were kept) restores the promotion with
one version, itself, as `POST /v2/promotions` would have left it; without `jobs` or `usages`,
with none.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from codestand.core.clock import iso_millis, parse_datetime
from codestand.core.models import Promotion, PromotionJob, PromotionUsage
from codestand.storage.base import Storage


def instant(text: str) -> datetime:
    """In UTC (no offset: UTC), as every store keeps instants; one whose offset takes it out of
    the years a datetime holds is refused here, before anything is written."""
    moment = parse_datetime(text)
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"{text} falls outside the years 1 to 9999") from None


def promotion_json(p: Promotion) -> dict:
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "enabled": p.enabled,
        "automatic": p.automatic,
        "promotion_type": p.promotion_type,
        "schema": p.schema,
        "start": iso_millis(p.start),
        "end": iso_millis(p.end),
        "created_at": iso_millis(p.created_at),
        "updated_at": iso_millis(p.updated_at),
        "extras": p.extras,
        "created_by": p.created_by,
        "updated_by": p.updated_by,
    }


def promotion_from(p: dict) -> Promotion:
    return Promotion(
        id=p["id"],
        name=p["name"],
        description=p["description"],
        enabled=p["enabled"],
        automatic=p.get("automatic"),
        promotion_type=p["promotion_type"],
        schema=p["schema"],
        start=instant(p["start"]),
        end=instant(p["end"]),
        created_at=instant(p["created_at"]),
        updated_at=instant(p["updated_at"]),
        extras=p.get("extras", {}),
        created_by=p.get("created_by"),
        updated_by=p.get("updated_by"),
    )


# Export ---------------------------------------------------------------------------------
def records(store: Storage, tenant: str, promotion_id: str) -> dict[str, list[dict]]:
    everything = 10**9
    versions = store.list_promotion_versions(tenant, promotion_id, offset=0, limit=everything).items
    return {
        "history": [promotion_json(v) for v in versions],
        "jobs": [_job_json(j) for j in store.list_promotion_jobs(tenant, promotion_id)],
        "usages": [_usage_json(u) for u in store.list_promotion_usages(tenant, promotion_id)],
    }


def _job_json(j: PromotionJob) -> dict[str, Any]:
    return {
        "id": j.id, "job_type": j.job_type, "name": j.name, "parameters": j.parameters, "status": j.status,
        "created_at": iso_millis(j.created_at), "updated_at": iso_millis(j.updated_at), "created_by": j.created_by,
        "result": j.result, "error": j.error, "codes": list(j.codes), "file": j.file,
    }  # fmt: skip


def _usage_json(u: PromotionUsage) -> dict[str, Any]:
    return {
        "id": u.id, "code": u.code, "code_id": u.code_id, "used_on": iso_millis(u.used_on),
        "updated_at": iso_millis(u.updated_at), "times_used": u.times_used, "order_id": u.order_id,
        "customer_id": u.customer_id, "customer_email": u.customer_email, "anonymized": u.anonymized,
        "updated_by": u.updated_by,
    }  # fmt: skip


# Import ---------------------------------------------------------------------------------
class Records:
    """What a snapshot's promotion holds beside its codes, read (and so checked for types)
    before anything is written."""

    __slots__ = ("history", "jobs", "usages")

    def __init__(self, promotion: Promotion, p: dict) -> None:
        history = p.get("history")
        # Versions are of this promotion, whatever id an edited snapshot gave them.
        self.history = [promotion] if history is None else [_version(promotion, v) for v in history]
        self.jobs = [_job_from(promotion.id, j) for j in p.get("jobs") or ()]
        self.usages = [_usage_from(promotion.id, u) for u in p.get("usages") or ()]

    def write(self, store: Storage, tenant: str) -> None:
        for version in self.history:
            store.add_promotion_version(tenant, version)
        for job in self.jobs:
            store.add_promotion_job(tenant, job)
        for usage in self.usages:
            store.add_promotion_usage(tenant, usage)


def _version(promotion: Promotion, v: dict) -> Promotion:
    return promotion_from({**v, "id": promotion.id})


def _job_from(promotion_id: str, j: dict) -> PromotionJob:
    return PromotionJob(
        id=j["id"], promotion_id=promotion_id, job_type=j["job_type"], status=j["status"],
        created_at=instant(j["created_at"]), updated_at=instant(j["updated_at"]), name=j.get("name"),
        parameters=j.get("parameters") or {}, created_by=j.get("created_by"), result=j.get("result"),
        error=j.get("error"), codes=tuple(j.get("codes") or ()), file=j.get("file"),
    )  # fmt: skip


def _usage_from(promotion_id: str, u: dict) -> PromotionUsage:
    return PromotionUsage(
        id=u["id"], promotion_id=promotion_id, code=u["code"], code_id=u["code_id"], used_on=instant(u["used_on"]),
        updated_at=instant(u["updated_at"]), times_used=u.get("times_used", 1), order_id=u.get("order_id"),
        customer_id=u.get("customer_id"), customer_email=u.get("customer_email"), anonymized=u.get("anonymized", False),
        updated_by=u.get("updated_by"),
    )  # fmt: skip


def problems(all_records: list[Records], refuse) -> None:
    """What the stores would refuse half-way, or the jobs queue could not run: a job or usage
    id twice in the store; more than one unfinished job of a promotion (one at a time: the
    Promotion Jobs tag); a processing job without its work, which would wait for ever
    (`moltin.jobs`: it would be in another process's hands)."""
    jobs: set[str] = set()
    usages: set[str] = set()
    for n, held in enumerate(all_records):
        where = f"promotions[{n}]"
        unfinished = 0
        for m, job in enumerate(held.jobs):
            if job.id in jobs:
                refuse(f"{where}.jobs[{m}].id", f"job {job.id} appears twice")
            jobs.add(job.id)
            if job.status in ("pending", "processing"):
                unfinished += 1
                if unfinished == 2:
                    refuse(f"{where}.jobs[{m}].status", "a promotion has one job pending or processing at a time")
            worked = job.result is not None if job.job_type == "code_generate" else job.file is not None
            if job.status == "processing" and not worked:
                refuse(f"{where}.jobs[{m}]", "a processing job holds its work (a code_generate job its result, a code_export job its file)")
        for m, usage in enumerate(held.usages):
            if usage.id in usages:
                refuse(f"{where}.usages[{m}].id", f"usage {usage.id} appears twice")
            usages.add(usage.id)
