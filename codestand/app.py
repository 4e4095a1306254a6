"""The app factory: `create_app(settings)` builds a Connexion `AsyncApp`; importing does nothing."""

from __future__ import annotations

from connexion import AsyncApp
from connexion.middleware import MiddlewarePosition

from codestand import error_handling, fastpath, operations, spec
from codestand.auth import ColonBearer
from codestand.context import Services
from codestand.domain.catalog import DEFAULT_SEED, load_seed
from codestand.domain.clock import Clock
from codestand.middleware import AdminGate, BodyLimit, ServicesAndLog
from codestand.routes import RouteTable
from codestand.settings import Settings
from codestand.storage import Storage, open_storage
from codestand.validation import VALIDATOR_MAP


def create_app(settings: Settings | None = None, *, store: Storage | None = None, clock: Clock | None = None) -> AsyncApp:
    """A stand-in serving both vendors' APIs from `openapi.yaml`.

    `store` and `clock` may be passed in by tests that want to look at or move them.
    """
    settings = settings or Settings()
    services = Services(
        settings=settings,
        store=store or open_storage(settings.storage),
        clock=clock or Clock(),
        seed=load_seed(settings.seed or DEFAULT_SEED),
        routes=RouteTable(spec.load(), spec.load("control.yaml")),
    )
    app = AsyncApp(
        __name__,
        validator_map=VALIDATOR_MAP,
        security_map={"bearer": ColonBearer},
    )
    operations.install(app)
    app.add_api(spec.load(), name="vendors")
    app.add_api(spec.load("control.yaml"), name="control")
    app.add_middleware(ServicesAndLog, position=MiddlewarePosition.BEFORE_EXCEPTION, services=services)
    app.add_middleware(BodyLimit, position=MiddlewarePosition.BEFORE_SWAGGER, limit=settings.max_body_bytes)
    if settings.admin_token:
        app.add_middleware(AdminGate, position=MiddlewarePosition.BEFORE_SWAGGER, token=settings.admin_token)
    fastpath.install(app, spec.load())  # after BodyLimit, so that it runs inside it
    error_handling.install(app)
    app.codestand = services  # type: ignore[attr-defined]  # for tests and the pytest plugin
    return app
