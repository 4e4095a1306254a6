"""The app factory: `create_app(settings)` builds a Connexion `AsyncApp`; importing does nothing."""

from __future__ import annotations

from datetime import timedelta

from connexion.middleware import MiddlewarePosition

from codestand import control, moltin, spec, thoughtindustries
from codestand.context import Services
from codestand.control.examples import ResponseCatalog
from codestand.control.cross_site import CrossSiteGuard
from codestand.control.faults import FaultInjector, Faults
from codestand.control.journal import Journal, JournalRecorder
from codestand.control.prefer import PreferCode
from codestand.control.shared import SharedClock, SharedFaults, SharedJournal, SharedState
from codestand.core.clock import Clock
from codestand.core.retention import SharedTenants, Tenants
from codestand.http import error_handling, fastpath, offload, operations, spec_once, swagger_ui, vendors
from codestand.http.auth import ColonBearer
from codestand.http.connections import DroppingApp
from codestand.http.metrics import Metrics
from codestand.http.cors import VendorCORS
from codestand.http.hosts import HostCheck, allowed_names
from codestand.http.landing import LandingPage
from codestand.http.middleware import (
    AdminGate,
    BodyLimit,
    EncodedSlashes,
    ServicesAndLog,
)
from codestand.http.routes import RouteTable
from codestand.http.validation import VALIDATOR_MAP
from codestand.moltin.ratelimits import MoltinLimits, MoltinRateLimits
from codestand.settings import Settings
from codestand.storage import Storage, open_storage
from codestand.thoughtindustries import keys as ti_keys
from codestand.thoughtindustries.catalog import DEFAULT_SEED, load_seed
from codestand.thoughtindustries.conditional import ConditionalGet
from codestand.thoughtindustries.ratelimits import RateLimits, TiState


def create_app(settings: Settings | None = None, *, store: Storage | None = None, clock: Clock | None = None) -> DroppingApp:
    """A stand-in serving both vendors' APIs from `openapi.yaml`.

    `store` and `clock` may be passed in by tests that want to look at or move them.
    """
    settings = settings or Settings()
    spec_once.install()
    vendors.install((thoughtindustries.VENDOR, moltin.VENDOR, control.VENDOR), fallback=thoughtindustries.VENDOR.render)
    store = store or open_storage(
        settings.storage, workers=settings.workers, pool_size=settings.db_pool_size, timeout=settings.db_timeout
    )
    secrets = [settings.admin_token, *(secret for _, secret in settings.moltin_clients)]
    ttl = None if settings.tenant_ttl_seconds is None else timedelta(seconds=settings.tenant_ttl_seconds)
    clock = clock or (SharedClock(store) if store.shared else Clock())
    # One copy of each contract for what only reads it (routes, metrics, documented answers, the
    # fast path); Connexion gets copies of its own, as it changes what it is given.
    vendor_spec, control_spec = spec.load(), spec.load("control.yaml")
    ti = TiState(ti_keys.load(settings.ti_keys) if settings.ti_keys else {}, enforce=settings.rate_limits == "vendor", store=store)
    if store.shared:
        # One set of fault rules and one journal for every process on this store (the clock too).
        journal: Journal = SharedJournal(store, settings.journal_size, secrets=secrets)
        faults: Faults = SharedFaults(store, settings.fault_seed)
    else:
        journal, faults = Journal(settings.journal_size, secrets=secrets), Faults(settings.fault_seed)
    services = Services(
        settings=settings,
        store=store,
        clock=clock,
        seed=load_seed(settings.seed or DEFAULT_SEED),
        routes=RouteTable(vendor_spec, control_spec),
        journal=journal,
        faults=faults,
        metrics=Metrics(store, vendor_spec, control_spec),
        tenants=(SharedTenants if store.shared else Tenants)(store, clock, ttl=ttl, limit=settings.max_tenants),
        ti=ti,
        moltin_limits=MoltinLimits(store, enforce=settings.rate_limits == "vendor"),
    )
    app = DroppingApp(
        __name__,
        validator_map=VALIDATOR_MAP,
        security_map={"bearer": ColonBearer.offloading() if store.waits else ColonBearer},
    )
    # A store whose calls wait is called off the event loop (http/offload.py).
    offload.reserve(store.threads)
    operations.install(app, offload=store.waits)
    app.add_api(spec.load(), name="vendors", swagger_ui_options=swagger_ui.for_vendors())
    app.add_api(spec.load("control.yaml"), name="control", swagger_ui_options=swagger_ui.for_control())
    app.add_middleware(ServicesAndLog, position=MiddlewarePosition.BEFORE_EXCEPTION, services=services)
    # Right after the log, before anything else looks at the request (see `hosts`).
    app.add_middleware(
        HostCheck, position=MiddlewarePosition.BEFORE_EXCEPTION, names=allowed_names(settings.host, settings.allowed_hosts)
    )
    if store.shared:
        # Before the journal reads the clock: the request's snapshot of the shared state.
        app.add_middleware(SharedState, position=MiddlewarePosition.BEFORE_EXCEPTION, store=store)
    # Outside the error path, so it records the status the client got, errors included.
    app.add_middleware(
        JournalRecorder,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        journal=services.journal,
        clock=services.clock,
    )
    # Outside Connexion's exception, routing and security middlewares: preflights name no
    # operation and carry no credentials, and error answers need CORS headers too.
    app.add_middleware(VendorCORS, position=MiddlewarePosition.BEFORE_EXCEPTION, origins=settings.cors_origins)
    app.add_middleware(LandingPage, position=MiddlewarePosition.BEFORE_EXCEPTION)
    # Inside CORS and the journal, so a 429 gets both.
    app.add_middleware(MoltinRateLimits, position=MiddlewarePosition.BEFORE_EXCEPTION, limits=services.moltin_limits)
    # Inside CORS and the journal (so a 429 gets both), outside the error path (so every answer
    # gets the quota headers).
    app.add_middleware(RateLimits, position=MiddlewarePosition.BEFORE_EXCEPTION, services=services)
    # Inside the rate limits, so a 304 carries the quota headers too.
    app.add_middleware(ConditionalGet, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(BodyLimit, position=MiddlewarePosition.BEFORE_SWAGGER, limit=settings.max_body_bytes)
    app.add_middleware(EncodedSlashes, position=MiddlewarePosition.BEFORE_SWAGGER)
    # Faults act before security; `Prefer: code=` after security and validation. Both raise
    # their errors into the one error path.
    app.add_middleware(
        FaultInjector, position=MiddlewarePosition.BEFORE_SWAGGER, faults=services.faults, body_limit=settings.max_body_bytes
    )
    app.add_middleware(
        PreferCode,
        position=MiddlewarePosition.BEFORE_CONTEXT,
        responses=ResponseCatalog(vendor_spec),
        body_limit=settings.max_body_bytes,
    )
    if settings.admin_token:
        app.add_middleware(AdminGate, position=MiddlewarePosition.BEFORE_SWAGGER, token=settings.admin_token)
    # After the admin gate: without the token, a request learns nothing else. (Inside BodyLimit,
    # which drops the Content-Type of a request without a body: an empty POST needs the header.)
    app.add_middleware(CrossSiteGuard, position=MiddlewarePosition.BEFORE_SWAGGER)
    fastpath.install(app, vendor_spec, offload=store.waits)  # after BodyLimit, so that it runs inside it
    error_handling.install(app)
    app.codestand = services  # type: ignore[attr-defined]  # for tests and the pytest plugin
    return app
