"""What a request can reach: the settings, the store, the clock, the seed catalog, the request
journal and the fault rules.

`create_app` builds one `Services` per app and an outer middleware puts it in every request's
ASGI scope, so nothing is global and two apps in one process never share state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codestand.domain.catalog import Seed
from codestand.domain.clock import Clock
from codestand.faults import Faults
from codestand.journal import Journal
from codestand.routes import RouteTable
from codestand.settings import Settings
from codestand.storage.base import Storage

SCOPE_KEY = "codestand.services"


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Storage
    clock: Clock
    seed: Seed
    routes: RouteTable
    journal: Journal = field(default_factory=Journal)
    faults: Faults = field(default_factory=Faults)


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
