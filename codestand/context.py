"""What a request can reach: the settings, the store, the clock, the seed catalog, the request
journal and the fault rules.

`create_app` builds one `Services` per app and an outer middleware puts it in every request's
ASGI scope, so nothing is global and two apps in one process never share state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the pipeline reads Services through this module; it imports no vendor
    from codestand.control.faults import Faults
    from codestand.control.journal import Journal
    from codestand.core.clock import Clock
    from codestand.core.retention import Tenants
    from codestand.http.metrics import Metrics
    from codestand.http.routes import RouteTable
    from codestand.moltin.ratelimits import MoltinLimits
    from codestand.settings import Settings
    from codestand.storage.base import Storage
    from codestand.thoughtindustries.catalog import Seed
    from codestand.thoughtindustries.ratelimits import TiState

SCOPE_KEY = "codestand.services"


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Storage
    clock: Clock
    seed: Seed
    routes: RouteTable
    journal: Journal
    faults: Faults
    tenants: Tenants
    metrics: Metrics | None = None
    # Thought Industries' keys, rate-limit windows and per-tenant limits.
    ti: TiState | None = None
    # Moltin's per-store limits and their window.
    moltin_limits: MoltinLimits | None = None


def services_of(scope: dict[str, Any]) -> Services:
    return scope[SCOPE_KEY]


def current() -> Services:
    """The services of the request being handled (valid inside a handler only)."""
    from connexion.context import scope

    return scope[SCOPE_KEY]


def current_request():
    """The request being handled, as a Starlette `Request`: its query parameters and URL.

    One object per call; Connexion's `request` proxy builds a new request on every attribute.
    """
    from connexion.context import scope
    from starlette.requests import Request

    return Request(scope._get_current_object())
