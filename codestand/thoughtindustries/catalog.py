"""What a Thought Industries tenant's groups can give access to, with titles and names.

The vendor's responses show `{id, title}` for courses and `{id, name}` for the rest, so the
stand-in needs a catalog: a seed (YAML, shared by every tenant) plus each tenant's own items in
the store. An id neither knows is, by default, accepted as a placeholder whose name says so;
with `strict`, it is refused naming the id (what the vendor itself does is not documented).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from codestand.core.errors import Problem, RuleViolation
from codestand.core.models import CatalogItem
from codestand.storage.base import CATALOG_KINDS, Storage

DEFAULT_SEED = Path(__file__).resolve().parent.parent / "seed" / "catalog.yaml"

SINGULAR = {
    "courses": "course",
    "bundles": "bundle",
    "licenses": "license",
    "learningPaths": "learning path",
    "clients": "client",
}

Seed = Mapping[str, Mapping[str, CatalogItem]]


class SeedError(ValueError):
    """A seed file that cannot be read; the message says where and why."""


def load_seed(path: Path | str = DEFAULT_SEED) -> dict[str, dict[str, CatalogItem]]:
    """Read a seed file: for each kind, a list of `{id, title}` (courses) or `{id, name}`."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SeedError(f"cannot read seed file {path}: {exc}") from None
    if not isinstance(data, dict) or set(data) - set(CATALOG_KINDS):
        raise SeedError(f"seed file {path}: top-level keys must be among {', '.join(CATALOG_KINDS)}")
    seed: dict[str, dict[str, CatalogItem]] = {kind: {} for kind in CATALOG_KINDS}
    for kind, entries in data.items():
        for n, entry in enumerate(entries or []):
            name = entry.get("title", entry.get("name")) if isinstance(entry, dict) else None
            if not isinstance(name, str) or not isinstance(entry.get("id"), str):
                raise SeedError(f"seed file {path}: {kind}[{n}] needs a string id and title or name")
            seed[kind][entry["id"].lower()] = CatalogItem(id=entry["id"].lower(), name=name)
    return seed


def resolve(
    store: Storage, seed: Seed, tenant: str, kind: str, ids: list[str], *, strict: bool
) -> tuple[CatalogItem, ...]:
    """The catalog items behind `ids`, in the order given, each id once."""
    if not ids:
        return ()
    wanted = list(dict.fromkeys(i.lower() for i in ids))
    own = store.catalog_items(tenant, kind, wanted)
    found = {i: own.get(i) or seed.get(kind, {}).get(i) for i in wanted}
    missing = [i for i, item in found.items() if item is None]
    if missing and strict:
        raise RuleViolation(
            *(Problem("unknown_catalog_item", kind, {"kind": SINGULAR[kind], "id": i}) for i in missing)
        )
    return tuple(
        found[i] or CatalogItem(id=i, name=f"Unknown {SINGULAR[kind]} {i}", placeholder=True) for i in wanted
    )
