"""Path patterns, as fault rules and journal filters write them: `/v2/promotions/*/codes`.

`*` stands for any characters within one path segment, `**` for any characters across segments,
`?` for one character other than `/`; everything else stands for itself. A pattern matches the
whole path (never the query). Python's `fnmatch` would let `*` cross `/`, so that
`/v2/promotions/*` would also match a promotion's codes.

Matching runs the pattern as a set of states, one bit each, advanced one character at a time
(the shift-and method): time grows with the path's length, whatever the pattern. A regular
expression would backtrack: `/*a*a*a*a*a*a*x` against a long path of `a`s takes hours, and a
fault rule is checked on every vendor request.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Glob:
    """Bit i of a state set: the first i tokens of the pattern have matched so far."""

    literals: dict[str, int]  # character -> tokens that are that character
    one: int  # `?` tokens
    star_stays: int  # bit i + 1 for a `*` token i: it takes one more character (never `/`)
    stars_stay: int  # the same for `**` tokens (any character)
    skippable: int  # `*` and `**` tokens, which may match nothing
    accept: int  # the bit of the whole pattern

    def matches(self, path: str) -> bool:
        states = self._closure(1)
        for char in path:
            steps = self.literals.get(char, 0)
            stays = self.stars_stay
            if char != "/":
                steps |= self.one
                stays |= self.star_stays
            states = self._closure(((states & steps) << 1) | (states & stays))
            if not states:
                return False
        return bool(states & self.accept)

    def _closure(self, states: int) -> int:
        # Runs of stars are one token (see `compile_glob`), so one step reaches every state.
        return states | ((states & self.skippable) << 1)


@functools.lru_cache(maxsize=512)
def compile_glob(pattern: str) -> Glob:
    tokens: list[str] = []
    i = 0
    while i < len(pattern):
        token = "**" if pattern.startswith("**", i) else pattern[i]
        i += len(token)
        if token in ("*", "**") and tokens and tokens[-1] in ("*", "**"):
            # `*` next to `**` (or another `*`) matches what the wider one matches alone.
            tokens[-1] = "**" if "**" in (token, tokens[-1]) else "*"
            continue
        tokens.append(token)
    literals: dict[str, int] = {}
    one = star_stays = stars_stay = skippable = 0
    for index, token in enumerate(tokens):
        bit = 1 << index
        if token == "?":
            one |= bit
        elif token == "*":
            skippable |= bit
            star_stays |= bit << 1
        elif token == "**":
            skippable |= bit
            stars_stay |= bit << 1
        else:
            literals[token] = literals.get(token, 0) | bit
    return Glob(literals, one, star_stays, stars_stay, skippable, 1 << len(tokens))


def matches(pattern: str, path: str) -> bool:
    return compile_glob(pattern).matches(path)


def is_glob(text: str) -> bool:
    return "*" in text or "?" in text
