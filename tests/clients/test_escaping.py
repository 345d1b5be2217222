"""Values put into SOQL and QBO queries can't break out of their string literal."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ledgerlink.clients.qbo import escape_qbo, qbo_datetime
from ledgerlink.clients.soql import escape_soql, escape_soql_like, soql_date, soql_datetime, soql_literal


def test_soql_escapes_quotes_backslashes_and_control_characters():
    assert escape_soql("O'Brien") == "O\\'Brien"
    assert escape_soql('say "hi"') == 'say \\"hi\\"'
    assert escape_soql("C:\\temp") == "C:\\\\temp"
    assert escape_soql("line1\nline2\r\tend") == "line1\\nline2\\r\\tend"


def test_soql_injection_stays_inside_the_literal():
    hostile = "x' OR Name != 'y"
    where = f"Name = '{escape_soql(hostile)}'"
    # The only unescaped quotes are the two we put around the literal.
    unescaped = [i for i, ch in enumerate(where) if ch == "'" and where[i - 1] != "\\"]
    assert unescaped == [7, len(where) - 1]


def test_backslash_before_quote_cannot_unescape_it():
    # A trailing backslash must not swallow our closing quote.
    assert escape_soql("abc\\") == "abc\\\\"
    assert soql_literal("abc\\") == "'abc\\\\'"


def test_soql_like_also_escapes_wildcards():
    assert escape_soql_like("50%_off's") == "50\\%\\_off\\'s"


def test_soql_literals_for_other_types():
    assert soql_literal(["a'b", "c"]) == "('a\\'b','c')"
    assert soql_literal(None) == "null"
    assert soql_literal(True) == "true"
    assert soql_date(date(2026, 11, 22)) == "2026-11-22"


def test_soql_datetime_is_utc_and_floors_fractions():
    pacific = timezone(timedelta(hours=-8))
    value = datetime(2026, 11, 21, 18, 0, 5, 999_999, tzinfo=pacific)
    assert soql_datetime(value) == "2026-11-22T02:00:05Z"
    assert soql_literal(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_soql_datetime_refuses_naive_values():
    with pytest.raises(ValueError, match="timezone-aware"):
        soql_datetime(datetime(2026, 11, 22, 2, 0))


def test_qbo_escapes_quotes_and_backslashes():
    assert escape_qbo("Bob's Bikes") == "Bob\\'s Bikes"
    assert escape_qbo("a\\b") == "a\\\\b"
    assert escape_qbo("end\\") == "end\\\\"
    assert escape_qbo("x' OR Id > '0") == "x\\' OR Id > \\'0"


def test_qbo_datetime():
    assert qbo_datetime(datetime(2026, 11, 22, 2, 0, tzinfo=UTC)) == "2026-11-22T02:00:00+00:00"
    with pytest.raises(ValueError):
        qbo_datetime(datetime(2026, 11, 22))
