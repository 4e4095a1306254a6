"""Promotion jobs: `code_generate` and `code_export`, run by the stand-in's clock.

From the vendor's Promotion Jobs tag and operations (current/promotions-openapi.yaml):
- statuses `pending`, `processing`, `completed`, `failed`, `cancelling`, `cancelled`;
- one job at a time within a promotion: a new one waits until the last is `completed` or
  `failed` (here: a new job while one is pending or processing is refused with 422);
- jobs are queued and processed one after the other (here: per store, oldest first);
- `code_generate` is accepted even when the promotion has its 1000 codes, and fails when
  processed, with `error: "codes limit exceeded"`;
- codes are 8 to 16 characters (default 8) with a dash after every four, after the prefix;
- cancelling a pending or processing job; `result.deleted` counts the codes it removed.

There is no background thread: every read of a store's jobs first brings them up to the
clock's `now` (`advance`). A job starts when the one before it in the store's queue is done,
generates its codes or takes its export at that instant, and is done `PROCESSING` later. So a
test with a frozen clock sees `processing` until it advances the clock, and the control plane's
hold (`hold`) keeps a store's jobs `pending` for as long as it is set.

Each step of a job (start, its work written, completed, cancelled) is written only if the job
is still as it was read (`replace_promotion_job(..., expected=)`), so when workers or replicas
on one store read the queue at once, one of them takes the step and the others see its result:
a job generates its codes once. A started job whose work is not written yet is in another
process's hands; the queue waits for it.
"""

from __future__ import annotations

import csv
import io
import secrets
import string
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from codestand.core.clock import Clock
from codestand.core.errors import NotFound, Problem, RuleViolation
from codestand.core.models import Page, PromotionCode, PromotionJob
from codestand.moltin import filters, promotion_codes, promotions
from codestand.storage.base import CodesTaken, QuotaExceeded, Storage

PROCESSING = timedelta(seconds=1)  # how long a job takes: a guess, the vendor gives none
UNFINISHED = ("pending", "processing")
ALPHABET = string.ascii_lowercase + string.digits  # the vendor's example `aa2b-3c4d`

# The control plane's hold on a store's jobs (a tenant setting, so every worker and replica
# sees it): `{"held": true}` while set; `{"released_at": ...}` once let go (no job starts
# before that instant, so a job held pending is not reported as started in the past).
HOLD = "promotion_jobs_hold"


def hold(store: Storage, tenant: str, on: bool, now: datetime) -> None:
    if on:
        store.set_tenant_setting(tenant, HOLD, {"held": True})
    elif held(store, tenant):
        store.set_tenant_setting(tenant, HOLD, {"released_at": now.isoformat()})


def held(store: Storage, tenant: str) -> bool:
    setting = store.tenant_setting(tenant, HOLD)
    return isinstance(setting, dict) and bool(setting.get("held"))


def create(store: Storage, clock: Clock, tenant: str, promotion_id: str, data: dict) -> PromotionJob:
    promotions.get(store, tenant, promotion_id)
    advance(store, clock, tenant)
    if any(j.promotion_id == promotion_id for j in store.unfinished_promotion_jobs(tenant)):
        raise RuleViolation(Problem("job_in_progress"))
    now = clock.now()
    parameters = {}
    if data["job_type"] == "code_generate":
        given = data.get("parameters") or {}
        parameters = {"number_of_codes": given.get("number_of_codes", 1), "code_length": given.get("code_length", 8)}
        for key in ("consume_unit", "max_uses_per_code", "code_prefix"):
            if key in given:
                parameters[key] = given[key]
    job = PromotionJob(
        id=str(uuid.uuid4()),
        promotion_id=promotion_id,
        job_type=data["job_type"],
        name=data.get("name"),
        parameters=parameters,
        status="pending",
        created_at=now,
        updated_at=now,
        created_by=promotions.actor(tenant),
    )
    store.add_promotion_job(tenant, job)
    return job  # `pending`; it starts on the next read of the store's jobs


FILTERS = {"job_type": frozenset({"eq"}), "status": frozenset({"eq"})}  # [doc]


def list_page(store: Storage, clock: Clock, tenant: str, promotion_id: str, *, offset: int, limit: int, filter: str | None) -> Page:
    promotions.get(store, tenant, promotion_id)
    conditions = filters.parse(filter, FILTERS)
    advance(store, clock, tenant)
    kept = [j for j in store.list_promotion_jobs(tenant, promotion_id) if filters.matches(conditions, lambda name, j=j: getattr(j, name))]
    return Page(items=kept[offset : offset + limit], total=len(kept))


def get(store: Storage, clock: Clock, tenant: str, promotion_id: str, job_id: str) -> PromotionJob:
    promotions.get(store, tenant, promotion_id)
    advance(store, clock, tenant)
    job = store.get_promotion_job(tenant, promotion_id, job_id)
    if job is None:
        raise NotFound(Problem("job_not_found"))
    return job


def cancel(store: Storage, clock: Clock, tenant: str, promotion_id: str, job_id: str) -> PromotionJob:
    # Tried again only when another process moved the job on meanwhile, which it can do at most
    # three times (started, work written, completed) before the job is no longer cancellable.
    while True:
        job = get(store, clock, tenant, promotion_id, job_id)
        if job.status not in UNFINISHED:
            raise RuleViolation(Problem("job_not_cancellable", params={"status": job.status}))
        result = job.result
        if job.job_type == "code_generate":
            result = {"generated": (job.result or {}).get("generated", 0), "deleted": 0}
        # The stand-in removes generated codes at once, so `cancelling` passes in no time.
        cancelled = replace(job, status="cancelled", updated_at=clock.now(), result=result, codes=())
        if store.replace_promotion_job(tenant, cancelled, expected=job):
            break
    if job.codes:
        deleted = store.delete_promotion_codes(tenant, promotion_id, list(job.codes))
        counted = replace(cancelled, result={**cancelled.result, "deleted": deleted})
        if store.replace_promotion_job(tenant, counted, expected=cancelled):
            cancelled = counted
    advance(store, clock, tenant)
    return cancelled


def export_file(store: Storage, clock: Clock, tenant: str, promotion_id: str, job_id: str) -> str:
    """The CSV of a completed `code_export` job."""
    job = get(store, clock, tenant, promotion_id, job_id)
    if job.job_type != "code_export" or job.status != "completed" or job.file is None:
        raise NotFound(Problem("job_file_not_found"))
    return job.file


def advance(store: Storage, clock: Clock, tenant: str) -> None:
    """Bring the store's queue up to `now`: start and finish jobs in turn, oldest first."""
    setting = store.tenant_setting(tenant, HOLD)
    if isinstance(setting, dict) and setting.get("held"):
        return
    now = clock.now()
    released = setting.get("released_at") if isinstance(setting, dict) else None
    free_at = datetime.fromisoformat(released) if released else None  # when the job before finished (or the hold ended)
    for job in store.unfinished_promotion_jobs(tenant):
        if job.status == "pending":
            start = max(job.created_at, free_at) if free_at else job.created_at
            if start > now:
                return
            job = _start(store, tenant, job, start)
            if job is None:
                return  # another process took this step first
        if job.status == "processing":
            if not _worked(job):
                return  # started by another process, which is still at its work
            done_at = job.updated_at + PROCESSING
            if done_at > now:
                return  # the queue waits for this one
            completed = replace(job, status="completed", updated_at=done_at, codes=())
            if not store.replace_promotion_job(tenant, completed, expected=job):
                return
            job = completed
        free_at = job.updated_at


def _worked(job: PromotionJob) -> bool:
    """Whether a started job's work is written: its codes generated, or its export taken."""
    return job.result is not None if job.job_type == "code_generate" else job.file is not None


def _start(store: Storage, tenant: str, job: PromotionJob, at: datetime) -> PromotionJob | None:
    """A job's work, done at the instant it starts; it is then `processing`, or `failed`. None
    if another process started it first."""
    claimed = replace(job, status="processing", updated_at=at)
    if not store.replace_promotion_job(tenant, claimed, expected=job):
        return None
    promotion = store.get_promotion(tenant, job.promotion_id)
    if promotion is None:
        started = replace(claimed, status="failed", error="promotion not found")
    elif job.job_type == "code_export":
        started = replace(claimed, file=_csv(store, tenant, job.promotion_id))
    else:
        started = _generate(store, tenant, claimed, promotion, at)
    if store.replace_promotion_job(tenant, started, expected=claimed):
        return started
    # Cancelled while at its work (the only step another process can take meanwhile): what
    # it generated goes too, counted in the cancelled job's result.
    if started.codes:
        deleted = store.delete_promotion_codes(tenant, job.promotion_id, list(started.codes))
        now = store.get_promotion_job(tenant, job.promotion_id, job.id)
        if now is not None:
            result = {"generated": len(started.codes), "deleted": (now.result or {}).get("deleted", 0) + deleted}
            store.replace_promotion_job(tenant, replace(now, result=result), expected=now)
    return None


def _generate(store: Storage, tenant: str, job: PromotionJob, promotion, at: datetime) -> PromotionJob:
    p = job.parameters
    count = p.get("number_of_codes", 1)
    have = store.promotion_code_count(tenant, promotion.id)
    if have + count > promotion_codes.MAX_CODES:
        return replace(job, status="failed", updated_at=at, error="codes limit exceeded")  # [doc]
    made: list[PromotionCode] = []
    for _ in range(20):  # a collision with a code in the store: draw those again
        need = count - len(made)
        batch = [
            PromotionCode(
                code=_code(p.get("code_length", 8), p.get("code_prefix", "")),
                uses=p.get("max_uses_per_code"),
                consume_unit=p.get("consume_unit", "per_cart"),
                created_at=at,
                created_by=job.created_by,
            )
            for _ in range(need)
        ]
        try:
            store.add_promotion_codes(tenant, promotion, batch, promotion_codes.MAX_CODES)
        except CodesTaken:
            continue
        except QuotaExceeded:
            return replace(job, status="failed", updated_at=at, error="codes limit exceeded")
        made += batch
        if len(made) == count:
            break
    return replace(
        job, status="processing", updated_at=at, result={"generated": len(made)}, codes=tuple(c.code for c in made)
    )


def _code(length: int, prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(length))
    grouped = "-".join(body[i : i + 4] for i in range(0, length, 4))
    if not prefix:
        return grouped
    return prefix + grouped if prefix.endswith("-") else f"{prefix}-{grouped}"


def _csv(store: Storage, tenant: str, promotion_id: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "uses", "max_uses", "consume_unit", "user"])
    page = store.list_promotion_codes(tenant, promotion_id, offset=0, limit=promotion_codes.MAX_CODES + 1)
    for c in page.items:
        user = c.user if isinstance(c.user, str) or c.user is None else "|".join(c.user)
        writer.writerow([c.code, "" if c.uses_left is None else c.uses_left, "" if c.uses is None else c.uses, c.consume_unit, user or ""])
    return out.getvalue()
