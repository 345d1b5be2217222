"""Record Ids shaped like the real ones.

Salesforce: 15 case-sensitive characters (3-character key prefix, instance, counter) plus the
3-character case-insensitive checksum that makes the 18-character form. QBO: small numeric
strings, one sequence for name lists (customers, items, terms) and one shared by transactions.
"""

from __future__ import annotations

import string

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_CHECKSUM = string.ascii_uppercase + "012345"

KEY_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "OpportunityLineItem": "00k",
    "Pricebook2": "01s",
    "Product2": "01t",
    "PricebookEntry": "01u",
}


def sf_checksum(id15: str) -> str:
    """The 3 characters that turn a 15-character Id into its case-insensitive 18-character form."""
    out = []
    for start in (0, 5, 10):
        bits = 0
        for position, char in enumerate(id15[start : start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        out.append(_CHECKSUM[bits])
    return "".join(out)


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(reversed(chars))


_PAIRS = [
    (a + b, (a.isupper() << 3) | (b.isupper() << 4)) for a in _BASE62 for b in _BASE62
]  # last two characters of an Id and their checksum bits (positions 3 and 4 of the last chunk)


class SalesforceIds:
    """Sequential 18-character Ids per object, like one org's instance would hand them out.

    Hot path of the large profile (a million Ids): the first 13 characters and their share
    of the checksum change only every 3,844 Ids, so they are cached.
    """

    def __init__(self, instance: str = "5g"):
        self.instance = instance
        self.counters: dict[str, int] = {}
        self._head: dict[str, tuple[int, str, str, int]] = {}

    def next(self, sobject: str) -> str:
        count = self.counters.get(sobject, 0) + 1
        self.counters[sobject] = count
        high, low = divmod(count + 3_000_000, 3844)
        head = self._head.get(sobject)
        if head is None or head[0] != high:
            head13 = f"{KEY_PREFIXES[sobject]}{self.instance}0{_base62(high, 7)}"
            first_two = sf_checksum(head13 + "00")[:2]
            bits = sum(1 << i for i, char in enumerate(head13[10:13]) if "A" <= char <= "Z")
            head = (high, head13, first_two, bits)
            self._head[sobject] = head
        tail, tail_bits = _PAIRS[low]
        return f"{head[1]}{tail}{head[2]}{_CHECKSUM[head[3] | tail_bits]}"


class QboIds:
    """QBO hands out Ids from a counter per list and one shared by all transactions."""

    def __init__(self):
        self._next: dict[str, int] = {}

    def next(self, sequence: str, start: int = 1) -> str:
        value = self._next.get(sequence, start)
        self._next[sequence] = value + 1
        return str(value)
