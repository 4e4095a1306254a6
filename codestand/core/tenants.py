"""Whose tenant: the two vendors' tenants are separate namespaces in one store.

A Thought Industries API key and a Moltin `client_id` are both free text, and the same text
names two unrelated tenants: a TI key `acme` and a Moltin store `acme` must not share groups,
catalog or snapshots. So the store knows every tenant by its vendor and its name together
(`ti:acme`, `moltin:acme`); the vendors' security gives handlers those keys, and the control
plane's routes say which vendor's tenant they mean (`/__codestand/thoughtindustries/tenants/acme`).
Names hold no `/` (the control plane's tenant pattern), so no key of one vendor can spell a key
of the other.
"""

from __future__ import annotations

THOUGHT_INDUSTRIES = "ti"
MOLTIN = "moltin"
_PREFIXES = {THOUGHT_INDUSTRIES: "ti:", MOLTIN: "moltin:"}


def ti(name: str) -> str:
    """The store's key of the Thought Industries tenant named by API key `name`."""
    return "ti:" + name


def moltin(name: str) -> str:
    """The store's key of the Moltin store of `client_id` `name`."""
    return "moltin:" + name


def split(key: str) -> tuple[str | None, str]:
    """(vendor, name) of a store key; (None, key) for a key of neither vendor."""
    for vendor, prefix in _PREFIXES.items():
        if key.startswith(prefix):
            return vendor, key[len(prefix) :]
    return None, key
