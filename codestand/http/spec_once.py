"""Each contract validated once a process, not once an app.

Connexion validates a contract against the OpenAPI schema every time an app adds it: about
70 ms for `openapi.yaml`, most of what building an app costs (a test suite builds thousands).
The contracts do not change within a process, so each is validated the first time it is added
and remembered by the digest of its content; any other content, or a contract that fails, is
validated (and refused) as Connexion always does.
"""

from __future__ import annotations

import hashlib
import json

from connexion.spec import OpenAPISpecification

_validated: set[bytes] = set()
_connexions = OpenAPISpecification._validate_spec.__func__


def _validate_once(cls, spec) -> None:
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).digest()
    if digest in _validated:
        return
    _connexions(cls, spec)  # raises InvalidSpecification, remembering nothing
    _validated.add(digest)


def install() -> None:
    OpenAPISpecification._validate_spec = classmethod(_validate_once)
