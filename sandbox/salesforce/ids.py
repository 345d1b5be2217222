"""Salesforce record Ids: 15-character case-sensitive ids and their 18-character case-safe form.

The 3-character suffix encodes, for each block of 5 characters, which positions are upper-case
letters; that lets an 18-character id typed in any case be mapped back to the real id.
"""

from __future__ import annotations

import itertools
import re

import numpy as np

_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_SHAPE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


_UPPER_BITS = str.maketrans(
    {chr(c): "1" for c in range(ord("A"), ord("Z") + 1)}
    | {chr(c): "0" for c in range(128) if not ord("A") <= c <= ord("Z")}
)


def _suffix(id15: str) -> str:
    # Bit i of block b is set when character b*5+i is an upper-case letter.
    bits = id15.translate(_UPPER_BITS)
    return (
        _SUFFIX_CHARS[int(bits[4::-1], 2)]
        + _SUFFIX_CHARS[int(bits[9:4:-1], 2)]
        + _SUFFIX_CHARS[int(bits[14:9:-1], 2)]
    )


_SUFFIX_LOOKUP = np.frombuffer(_SUFFIX_CHARS.encode(), dtype=np.uint8)
_BIT_WEIGHTS = np.array([1, 2, 4, 8, 16], dtype=np.uint8)
_ALNUM_RUN = re.compile(rb"[0-9A-Za-z]*")


def all_canonical(values: list[str]) -> bool:
    """True if every value is an 18-character id exactly as `normalize` would return it.

    Vectorised (numpy over the concatenated ids), because a large org loads millions of ids
    and checking them one by one took most of its load time.
    """
    if not values:
        return True
    if set(map(len, values)) != {18} or not all(map(str.isascii, values)):
        return False
    joined = "".join(values).encode("ascii")
    if not _ALNUM_RUN.fullmatch(joined):
        return False
    chars = np.frombuffer(joined, dtype=np.uint8).reshape(len(values), 18)
    upper = (chars[:, :15] >= ord("A")) & (chars[:, :15] <= ord("Z"))
    blocks = (upper.reshape(len(values), 3, 5) * _BIT_WEIGHTS).sum(axis=2)
    return bool(np.array_equal(_SUFFIX_LOOKUP[blocks], chars[:, 15:]))


def to18(id15: str) -> str:
    return id15 + _suffix(id15)


def normalize(value: object) -> str | None:
    """The canonical 18-character id for a 15- or 18-character id string, or None if malformed.

    An 18-character id is case-insensitive: its suffix tells which letters are upper-case.
    """
    if not isinstance(value, str) or not _ID_SHAPE.match(value):
        return None
    if len(value) == 15:
        return to18(value)
    if _suffix(value[:15]) == value[15:]:
        return value  # the usual case: already canonical
    suffix = value[15:].upper()
    chars = list(value[:15])
    for block in range(3):
        idx = _SUFFIX_CHARS.find(suffix[block])
        if idx < 0:
            return None
        for pos in range(5):
            i = block * 5 + pos
            upper = bool(idx & (1 << pos))
            ch = chars[i]
            if ch.isalpha():
                chars[i] = ch.upper() if upper else ch.lower()
            elif upper:
                return None
    return "".join(chars) + suffix


def looks_like_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID_SHAPE.match(value))


class IdFactory:
    """New ids for one org: prefix + pod + a base-62 counter, never colliding with loaded ids."""

    def __init__(self, pod: str = "Sb", start: int = 0):
        self._pod = pod
        self._counter = itertools.count(start)
        self.taken: set[str] = set()

    def new(self, key_prefix: str) -> str:
        while True:
            n = next(self._counter)
            digits = []
            for _ in range(9):
                n, r = divmod(n, 62)
                digits.append(_BASE62[r])
            candidate = to18(key_prefix + self._pod + "0" + "".join(reversed(digits)))
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate
