"""API keys, instances and roles (vendor page "Authentication").

"Each key is scoped to a single instance and carries the permissions of the role you assign
during creation." A team declares its keys in a YAML or JSON file (`--ti-keys`):

    keys:
      - key: ti_live_a1b2c3d4e5f6g7h8i9j0
        instance: acme          # the tenant: keys of one instance share its groups
        role: admin             # admin (everything) or reader (GET only)
        plan: enterprise        # standard (default) or enterprise: the rate-limit plan

Without such a file every key names its own instance, with every permission, as before. The
documented `ti_live_` / `ti_test_` prefixes are accepted like any key; the stand-in keeps no
separate sandbox data for test keys (each instance is its own data anyway).

The vendor's role names and what each may do are not public: `admin` and `reader` are the
stand-in's (README, "Where the stand-in guesses").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

ROLES = ("admin", "reader")
PLANS = ("standard", "enterprise")
# What a role may do, by method.
_ALLOWED = {"admin": None, "reader": frozenset({"GET", "HEAD"})}


@dataclass(frozen=True, slots=True)
class Key:
    key: str
    instance: str
    role: str = "admin"
    plan: str = "standard"

    def allows(self, method: str) -> bool:
        allowed = _ALLOWED[self.role]
        return allowed is None or method in allowed


class KeysError(ValueError):
    """A keys file that cannot be used; the message says where and why."""


def load(path: Path | str) -> dict[str, Key]:
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise KeysError(f"cannot read keys file {path}: {exc}") from None
    entries = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise KeysError(f"keys file {path}: needs a list under `keys`")
    keys: dict[str, Key] = {}
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) or not entry["key"].strip():
            raise KeysError(f"keys file {path}: keys[{n}] needs a non-empty string `key`")
        key = entry["key"].strip()
        instance = entry.get("instance", key)
        role, plan = entry.get("role", "admin"), entry.get("plan", "standard")
        if not isinstance(instance, str) or not instance or len(instance) > 500:
            raise KeysError(f"keys file {path}: keys[{n}].instance must be a string of 1 to 500 characters")
        if role not in ROLES:
            raise KeysError(f"keys file {path}: keys[{n}].role must be one of {', '.join(ROLES)}")
        if plan not in PLANS:
            raise KeysError(f"keys file {path}: keys[{n}].plan must be one of {', '.join(PLANS)}")
        if key in keys:
            raise KeysError(f"keys file {path}: keys[{n}] repeats a key")
        keys[key] = Key(key=key, instance=instance, role=role, plan=plan)
    return keys
