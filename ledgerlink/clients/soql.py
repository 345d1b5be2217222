"""Putting values into SOQL safely: string escapes and datetime literals.

The escape table is simple-salesforce's (`simple_salesforce.format`), which follows
Salesforce's "Quoted String Escape Sequences": backslash, both quotes, newline, carriage
return, tab, backspace and form feed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from simple_salesforce.format import quote_soql_value, soql_escapes, soql_like_escapes


def escape_soql(value: str) -> str:
    """`value` escaped for use inside a quoted SOQL string literal (quotes not added)."""
    if not isinstance(value, str):
        raise TypeError(f"escape_soql expects a str, got {type(value).__name__}")
    return value.translate(soql_escapes)


def escape_soql_like(value: str) -> str:
    """Like `escape_soql`, and also escapes LIKE's wildcards `%` and `_`."""
    return escape_soql(value).translate(soql_like_escapes)


def soql_literal(value) -> str:
    """A complete SOQL literal: quoted string, number, boolean, null, date, or a list of them."""
    if isinstance(value, datetime):
        return soql_datetime(value)
    return quote_soql_value(value)


def soql_datetime(value: datetime) -> str:
    """A SOQL dateTime literal in UTC, e.g. `2026-11-22T02:00:00Z` (unquoted, as SOQL wants).

    Fractions of a second are dropped (floored), so a `>=`/`>` watermark filter can only
    re-read a boundary record, never skip one. Naive datetimes are refused: their zone is a
    guess, and a wrong guess silently moves a watermark by hours.
    """
    if not isinstance(value, datetime):
        raise TypeError(f"soql_datetime expects a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"soql_datetime needs a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def soql_date(value: date) -> str:
    """A SOQL date literal, e.g. `2026-11-22`."""
    if isinstance(value, datetime):
        raise TypeError("soql_date expects a date; use soql_datetime for datetimes")
    return value.isoformat()
