"""Path patterns, as fault rules and journal filters write them: `/v2/promotions/*/codes`.

`*` stands for any characters within one path segment, `**` for any characters across segments,
`?` for one character other than `/`; everything else stands for itself. A pattern matches the
whole path (never the query). Python's `fnmatch` would let `*` cross `/`, so that
`/v2/promotions/*` would also match a promotion's codes.

Matching runs the pattern as a set of states, one bit each (the shift-and method), advanced one
character at a time: a regular expression would backtrack (`/*a*a*a*a*a*a*x` against a long path
of `a`s takes hours), and a fault rule is checked on every vendor request. The step from a set
of states on a character depends only on which class the character is in (one of the pattern's
literal characters, `/`, anything else), so each step is remembered: a path costs one lookup per
character, whatever the pattern (a lazily built DFA). Patterns are at most `MAX_PATTERN`
characters, so a state set stays a small integer and a pattern has few classes.
"""

from __future__ import annotations

import functools

MAX_PATTERN = 256
# Remembered steps per pattern; a path adds at most one per character, and the table is
# emptied when full, so it never outgrows this.
_MAX_STEPS = 4096


class _Row(dict):
    """One state of the DFA: a set of the pattern's states (`bits`), and the row it goes to on
    each character seen so far from it."""

    __slots__ = ("bits",)

    def __init__(self, bits: int) -> None:
        super().__init__()
        self.bits = bits


class Glob:
    """Bit i of a state set: the first i tokens of the pattern have matched so far."""

    __slots__ = ("_literals", "_one", "_star_stays", "_stars_stay", "_skippable", "accept", "_start", "_rows", "_dead", "_size")

    def __init__(self, literals: dict[str, int], one: int, star_stays: int, stars_stay: int, skippable: int, accept: int) -> None:
        self._literals = literals
        self._one, self._star_stays, self._stars_stay = one, star_stays, stars_stay
        self._skippable, self.accept = skippable, accept
        self._reset()

    def _reset(self) -> None:
        self._rows: dict[int, _Row] = {}
        self._size = 0
        self._dead = self._row(0)
        self._start = self._row(self._closure(1))

    def matches(self, path: str) -> bool:
        row, dead = self._start, self._dead
        for char in path:
            following = row.get(char)
            if following is None:
                following = self._follow(row, char)
            row = following
            if row is dead:
                return False
        return bool(row.bits & self.accept)

    def _follow(self, row: _Row, char: str) -> _Row:
        if self._size >= _MAX_STEPS:
            # Full: start the table afresh (the row in hand stays valid on its own).
            bits = row.bits
            self._reset()
            row = self._row(bits)
        moves = self._literals.get(char, 0)
        stays = self._stars_stay
        if char != "/":
            moves |= self._one
            stays |= self._star_stays
        following = self._row(self._closure(((row.bits & moves) << 1) | (row.bits & stays)))
        row[char] = following
        self._size += 1
        return following

    def _row(self, bits: int) -> _Row:
        row = self._rows.get(bits)
        if row is None:
            row = self._rows[bits] = _Row(bits)
        return row

    def _closure(self, states: int) -> int:
        # Runs of stars are one token (see `compile_glob`), so one step reaches every state.
        return states | ((states & self._skippable) << 1)


@functools.lru_cache(maxsize=512)
def compile_glob(pattern: str) -> Glob:
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"a path pattern is at most {MAX_PATTERN} characters")
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
