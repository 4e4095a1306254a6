"""Generating unique redemption codes.

Codes are drawn from `secrets` (a cryptographic source) over `ALPHABET`, the lowercase `a-z0-9`
that the vendor allows for uploaded codes. Uniqueness within a tenant is the store's to enforce;
this module only draws candidates and knows how large a code space is.
"""

from __future__ import annotations

import functools
import secrets
import string
from collections.abc import Callable, Iterable

ALPHABET = string.ascii_lowercase + string.digits
MIN_LENGTH, MAX_LENGTH = 4, 20


def space(length: int, alphabet: str = ALPHABET) -> int:
    """How many distinct codes of `length` exist."""
    return len(alphabet) ** length


# Below this chance that a drawn batch clashes with a stored code, a writer that retries on a
# clash (the store's key refuses it anyway) need not look the batch up first.
RARE_CLASH = 1 / 1000


def may_clash(count: int, length: int, used: int, alphabet: str = ALPHABET) -> bool:
    """Whether `count` random codes of `length` may well meet one of `used` stored ones: the
    expected number of clashes, `count * used / space` (and of repeats within the batch, which
    `draw` removes), is at least `RARE_CLASH`."""
    return count * (used + count) >= space(length, alphabet) * RARE_CLASH


def nothing_taken(batch: Iterable[str]) -> set[str]:
    return set()


def draw(
    count: int,
    length: int,
    used: int,
    taken: Callable[[Iterable[str]], set[str]],
    alphabet: str = ALPHABET,
) -> list[str]:
    """`count` distinct codes of `length`, none of which `taken` reports as already in use.

    `used` is how many codes of `length` the tenant already has; the caller has checked that
    `count` more fit. While most of the space is free, random draws almost never collide; when
    it is crowded, drawing at random would take ever longer, so the free codes are enumerated
    and sampled from instead: either way the work is bounded and nothing hangs.
    """
    if count * 4 > space(length, alphabet) - used:
        return _sample_free(count, length, taken, alphabet)
    chosen: set[str] = set()
    while len(chosen) < count:
        batch = set(_random_codes(count - len(chosen), length, alphabet)) - chosen
        chosen |= batch - taken(batch)
    return list(chosen)


def _random_codes(count: int, length: int, alphabet: str) -> list[str]:
    """`count` random codes, uniform over `alphabet`, from `secrets.token_bytes`.

    Bytes at or above the largest multiple of the alphabet's size are dropped (rejection
    sampling), so `byte % size` carries no bias; `bytes.translate` does it in C, which keeps a
    10,000-code group to a few milliseconds.
    """
    table, dropped = _translation(alphabet)
    need = count * length
    text = b""
    while len(text) < need:
        text += secrets.token_bytes(need - len(text) + need // 8 + 16).translate(table, dropped)
    chars = text[:need].decode("ascii")
    return [chars[i : i + length] for i in range(0, need, length)]


@functools.cache
def _translation(alphabet: str) -> tuple[bytes, bytes]:
    """The byte -> character table and the bytes to drop, for `bytes.translate`."""
    size = len(alphabet)
    cutoff = 256 - 256 % size
    return bytes(ord(alphabet[b % size]) if b < cutoff else 0 for b in range(256)), bytes(range(cutoff, 256))


def _sample_free(count: int, length: int, taken: Callable[[Iterable[str]], set[str]], alphabet: str) -> list[str]:
    free: list[str] = []
    chunk: list[str] = []
    for n in range(space(length, alphabet)):
        chunk.append(_nth(n, length, alphabet))
        if len(chunk) == 10_000:
            free.extend(_unused(chunk, taken))
            chunk = []
    free.extend(_unused(chunk, taken))
    return secrets.SystemRandom().sample(free, count)


def _unused(codes: list[str], taken: Callable[[Iterable[str]], set[str]]) -> list[str]:
    used = taken(codes)
    return [code for code in codes if code not in used]


def _nth(n: int, length: int, alphabet: str) -> str:
    base = len(alphabet)
    chars = []
    for _ in range(length):
        n, digit = divmod(n, base)
        chars.append(alphabet[digit])
    return "".join(chars)
