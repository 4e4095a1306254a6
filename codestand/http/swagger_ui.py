"""Swagger UI offering both contracts: the vendors' API and the control plane.

Connexion mounts one Swagger UI per API (`/ui/` for the vendors, `/__codestand/ui/` for the
control plane), each showing its own spec. Swagger UI's `urls` option adds a picker to its top
bar, so either page offers both specs; the vendor spec's tags keep Thought Industries and Moltin
apart. Connexion 3.3 serves `swagger_ui_config` as `swagger-ui-config.json` beside the page,
which Swagger UI merges into its own configuration.
"""

from __future__ import annotations

from connexion.options import SwaggerUIOptions

VENDORS = "Vendors: Thought Industries and Moltin"
CONTROL = "codestand control plane"


def options(to_root: str, primary: str) -> SwaggerUIOptions:
    """The options of the UI mounted `to_root` below the site's root (`../` for `/ui/`).

    Spec links are relative to the UI page, so they hold under a proxy's path prefix too.
    """
    return SwaggerUIOptions(
        swagger_ui_config={
            "urls": [
                {"url": f"{to_root}openapi.json", "name": VENDORS},
                {"url": f"{to_root}__codestand/openapi.json", "name": CONTROL},
            ],
            "urls.primaryName": primary,
            # A bearer filled in via Authorize survives a reload and a switch between the specs.
            "persistAuthorization": True,
            "displayRequestDuration": True,
        },
    )


def for_vendors() -> SwaggerUIOptions:
    return options("../", VENDORS)


def for_control() -> SwaggerUIOptions:
    return options("../../", CONTROL)
