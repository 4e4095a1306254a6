"""The contract files, parsed once per process.

Connexion would parse `openapi.yaml` with PyYAML's pure-Python loader twice per app; with
libyaml and one parse per process, building an app (every test does) costs a fraction of that.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml

SPEC_DIR = Path(__file__).resolve().parent
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _parsed(name: str) -> dict:
    return yaml.load((SPEC_DIR / name).read_text(encoding="utf-8"), Loader=_Loader)


def load(name: str = "openapi.yaml") -> dict:
    """A private copy of a contract file: Connexion may change what it is given."""
    return copy.deepcopy(_parsed(name))
