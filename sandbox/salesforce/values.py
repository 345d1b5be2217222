"""Field values in and out: JSON and CSV input parsing, validation, and output formatting.

Stored values: str for text/ids, bool, Decimal for double/currency/percent, int for int,
`date`, and UTC `datetime` truncated to milliseconds (the precision Salesforce stores).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from operator import attrgetter

from sandbox.salesforce import ids
from sandbox.salesforce.errors import RecordError, SfError
from sandbox.salesforce.schema import NUMBER_TYPES, TEXT_TYPES, Field

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_datetime(text: str) -> datetime | None:
    m = _DATETIME.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        ms = int((frac or "0").ljust(3, "0")[:3])
        value = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), ms * 1000, tzinfo=UTC)
    except ValueError:
        return None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        value = value - sign * offset
    return value


def parse_date(text: str) -> date | None:
    m = _DATE.match(text)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def normalize_stored(f: Field, value: object) -> object:
    """Bring a value from a Dataset into the stored representation (fail fast on nonsense)."""
    if value is None:
        return None
    t = f.type
    if t == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"{f.name}: expected bool, got {value!r}")
        return value
    if t in NUMBER_TYPES:
        if isinstance(value, bool):
            raise ValueError(f"{f.name}: expected a number, got {value!r}")
        if t == "int":
            return int(value)
        return value if isinstance(value, Decimal) else Decimal(str(value))
    if t == "datetime":
        if isinstance(value, str):
            parsed = parse_datetime(value)
            if parsed is None:
                raise ValueError(f"{f.name}: not a datetime: {value!r}")
            return parsed
        if not isinstance(value, datetime):
            raise ValueError(f"{f.name}: expected datetime, got {value!r}")
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if t == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, str):
            parsed = parse_date(value)
            if parsed is None:
                raise ValueError(f"{f.name}: not a date: {value!r}")
            return parsed
        if not isinstance(value, date):
            raise ValueError(f"{f.name}: expected date, got {value!r}")
        return value
    if t in ("id", "reference"):
        norm = ids.normalize(value)
        if norm is None:
            raise ValueError(f"{f.name}: not a Salesforce id: {value!r}")
        return norm
    return str(value)


_NONE = type(None)
_STORED_TYPES = {
    "boolean": {bool},
    "int": {int, _NONE},
    "date": {date, _NONE},
    "datetime": {datetime, _NONE},
}


def column_is_stored_form(f: Field, col: list) -> bool:
    """True if every value of a column is already in its stored form (checked in C where possible)."""
    types = set(map(type, col))
    t = f.type
    if t in TEXT_TYPES:
        return types <= {str, _NONE}
    if t in ("id", "reference"):
        # Lookups repeat (an account has many opportunities): each distinct id is checked once.
        return types <= {str, _NONE} and ids.all_canonical([v for v in set(col) if v is not None])
    if t in NUMBER_TYPES and t != "int":
        return types <= {Decimal, _NONE}
    if not types <= _STORED_TYPES[t]:
        return False
    if t == "datetime":
        present = [v for v in col if v is not None]
        return set(map(attrgetter("tzinfo"), present)) <= {UTC} and all(
            m % 1000 == 0 for m in set(map(attrgetter("microsecond"), present))
        )
    return True


# ---------------------------------------------------------------- input from JSON (REST)


def _json_error(f: Field, value: object, type_name: str) -> SfError:
    kind = "VALUE_STRING" if isinstance(value, str) else "VALUE_NUMBER" if isinstance(value, int | float) else "START_OBJECT" if isinstance(value, dict) else "START_ARRAY" if isinstance(value, list) else "VALUE_TRUE"
    return SfError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {type_name} from {kind} value {value} or request may be "
        f"missing a required field (field {f.name})",
    )


def from_json(f: Field, value: object) -> object:
    """A JSON value for field `f`; a wrong JSON type fails the whole request as Salesforce does."""
    if value is None:
        return None
    t = f.type
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _json_error(f, value, "boolean")
    if t in NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _json_error(f, value, "double" if t != "int" else "int")
        text = str(value).strip()
        if not _NUMBER.match(text):
            raise _json_error(f, value, "double" if t != "int" else "int")
        return Decimal(text)
    if t == "date":
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            raise _json_error(f, value, "date")
        return parsed
    if t == "datetime":
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise _json_error(f, value, "datetime")
        return parsed
    if isinstance(value, dict | list):
        raise _json_error(f, value, "string")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------- input from CSV (Bulk ingest)


def from_csv(f: Field, text: str) -> object:
    """A Bulk API CSV cell (already known non-empty and not #N/A) for field `f`."""
    t = f.type
    bad = RecordError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{f.name}: value not of required type: {text}", [f.name]
    )
    if t == "boolean":
        low = text.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise bad
    if t in NUMBER_TYPES:
        if not _NUMBER.match(text.strip()):
            raise bad
        return Decimal(text.strip())
    if t == "date":
        # Bulk accepts a date or a dateTime in a date column; the time part is dropped.
        parsed = parse_date(text.strip())
        if parsed is None:
            dt = parse_datetime(text.strip())
            if dt is None:
                raise bad
            parsed = dt.date()
        return parsed
    if t == "datetime":
        parsed = parse_datetime(text.strip())
        if parsed is None:
            raise bad
        return parsed
    return text


# ---------------------------------------------------------------- validation (per record)


def check(f: Field, value: object) -> object:
    """Field-level validation of a parsed value; returns the value to store."""
    if value is None:
        return False if f.type == "boolean" else None
    t = f.type
    if t in TEXT_TYPES or t in ("id", "reference"):
        assert isinstance(value, str)
        if f.name == "CurrencyIsoCode" and not _CURRENCY_CODE.match(value):
            raise RecordError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Currency ISO Code: invalid currency code: {value}",
                [f.name],
            )
        if f.length is not None and len(value) > f.length:
            raise RecordError(
                "STRING_TOO_LONG",
                f"{f.name}: data value too large: {value[:50]} (max length={f.length})",
                [f.name],
            )
        if t == "email" and not _EMAIL.match(value):
            raise RecordError("INVALID_EMAIL_ADDRESS", f"{f.name}: invalid email address: {value}", [f.name])
        if value == "" and t not in ("id", "reference"):
            # Salesforce stores an empty string as null.
            return None
        return value
    if t in NUMBER_TYPES:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        scale = f.scale or 0
        try:
            number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
        except InvalidOperation as exc:
            raise _out_of_range(f, value) from exc
        if f.precision is not None:
            limit = Decimal(10) ** (f.precision - scale)
            if abs(number) >= limit:
                raise _out_of_range(f, value)
        return int(number) if t == "int" else number
    return value


def _out_of_range(f: Field, value: object) -> RecordError:
    return RecordError(
        "NUMBER_OUTSIDE_VALID_RANGE", f"{f.name}: value outside of valid range on numeric field: {value}", [f.name]
    )


# ---------------------------------------------------------------- output


def format_datetime(value: datetime) -> str:
    """`2026-01-05T10:00:00.000+0000`, as Salesforce writes datetimes in JSON and CSV."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "+0000"


def format_number(value: object) -> str:
    # Salesforce keeps numbers as doubles and prints them like Java does (1500.0, 1234.56);
    # the exact text for huge values in Bulk CSV is unverified, so avoid exponents.
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    if "e" in text or "inf" in text or "nan" in text:
        text = format(Decimal(value), "f")
    return text


def to_json(value: object) -> object:
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if '"' in text else '"' + text + '"'


def column_formatter(f: Field):
    """A function [stored value, ...] -> [fully quoted CSV cell, ...] (`""` for null).

    Works a column at a time (one comprehension, no call per cell) because formatting every
    cell of a 500,000-record org must take seconds, not minutes. Values that repeat (picklists,
    lookups, dates) share one string through a memo.
    """
    t = f.type
    if t == "boolean":
        return lambda col: ['"true"' if v else '"false"' for v in col]
    if t in ("date", "datetime", "reference", "picklist") or t in NUMBER_TYPES:
        if t == "datetime":
            # Stored datetimes are UTC already, so isoformat ends in "+00:00".
            render = lambda v: '"' + v.isoformat(timespec="milliseconds")[:-6] + '+0000"'  # noqa: E731
        elif t == "date":
            render = lambda v: '"' + v.isoformat() + '"'  # noqa: E731
        elif t in NUMBER_TYPES:
            render = lambda v: '"' + format_number(v) + '"'  # noqa: E731
        else:
            render = _q

        def memoized(col):
            # Render each distinct value once; the per-cell work is C-level hashing.
            memo = {v: render(v) for v in set(col) if v is not None}
            memo[None] = '""'
            return list(map(memo.__getitem__, col))

        return memoized
    return lambda col: [
        '""' if v is None else '"' + v.replace('"', '""') + '"' if '"' in v else '"' + v + '"' for v in col
    ]


def csv_cell(text: str) -> str:
    return _q(text)


def utc_now_ms() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)

