"""A SOQL subset: tokenizer, recursive-descent parser and a compiler to Python closures.

Supported: SELECT fields (with child-to-parent paths such as `Account.Name`) or COUNT();
FROM one object; WHERE with =, !=, <>, <, >, <=, >=, LIKE, IN, NOT IN, AND/OR/NOT and
parentheses (mixing AND and OR without parentheses is a syntax error, as in SOQL); NULL,
TRUE/FALSE, string literals with backslash escapes, numbers, date and datetime literals and
relative date literals (TODAY, LAST_N_DAYS:n, ...); ORDER BY (ASC/DESC, NULLS FIRST/LAST);
LIMIT; OFFSET. Everything else is reported as unsupported, never silently ignored.

String comparisons are case-insensitive, as SOQL's are. Relative date literals use UTC as the
org's time zone and Sunday as the first day of the week (en_US locale).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sandbox.salesforce import ids
from sandbox.salesforce.errors import SfError
from sandbox.salesforce.schema import NUMBER_TYPES, OBJECTS, TEXT_TYPES, Field, SObject
from sandbox.salesforce.schema import get as get_object
from sandbox.salesforce.values import parse_datetime

# ---------------------------------------------------------------- tokens


@dataclass
class Tok:
    kind: str  # IDENT STRING NUMBER DATE DATETIME OP ( ) , . : EOF
    text: str
    pos: int
    value: object = None
    like: str | None = None  # regex for a string used as a LIKE pattern


_WS = re.compile(r"\s+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATETIME_TOK = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})")
_DATE_TOK = re.compile(r"\d{4}-\d{2}-\d{2}(?![\dT])")
_NUMBER_TOK = re.compile(r"[+-]?\d+(?:\.\d+)?(?![\w.])")
_OPS = ("!=", "<>", "<=", ">=", "=", "<", ">")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


class SoqlError(Exception):
    def __init__(self, code: str, detail: str, pos: int | None):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.pos = pos


class Unsupported(Exception):
    """A SOQL feature this emulator does not implement (or Bulk API 2.0 rejects)."""

    def __init__(self, feature: str, pos: int):
        super().__init__(feature)
        self.feature = feature
        self.pos = pos


def _malformed(detail: str, pos: int) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", detail, pos)


def tokenize(src: str) -> list[Tok]:
    toks: list[Tok] = []
    i, n = 0, len(src)
    while i < n:
        m = _WS.match(src, i)
        if m:
            i = m.end()
            continue
        ch = src[i]
        if ch == "'":
            toks.append(_string(src, i))
            i = toks[-1].pos + len(toks[-1].text)
            continue
        if ch.isdigit() or (ch in "+-" and i + 1 < n and src[i + 1].isdigit()):
            m = _DATETIME_TOK.match(src, i)
            if m:
                toks.append(Tok("DATETIME", m.group(), i, parse_datetime(m.group())))
                if toks[-1].value is None:
                    raise _malformed(f"unexpected token: '{m.group()}'", i)
                i = m.end()
                continue
            m = _DATE_TOK.match(src, i)
            if m:
                try:
                    value = date.fromisoformat(m.group())
                except ValueError as exc:
                    raise _malformed(f"unexpected token: '{m.group()}'", i) from exc
                toks.append(Tok("DATE", m.group(), i, value))
                i = m.end()
                continue
            m = _NUMBER_TOK.match(src, i)
            if m:
                toks.append(Tok("NUMBER", m.group(), i, Decimal(m.group())))
                i = m.end()
                continue
            raise _malformed(f"unexpected token: '{src[i:i + 20].split()[0]}'", i)
        m = _IDENT.match(src, i)
        if m:
            toks.append(Tok("IDENT", m.group(), i))
            i = m.end()
            continue
        op = next((o for o in _OPS if src.startswith(o, i)), None)
        if op:
            toks.append(Tok("OP", op, i))
            i += len(op)
            continue
        if ch in "(),.:":
            toks.append(Tok(ch, ch, i))
            i += 1
            continue
        raise _malformed(f"unexpected token: '{ch}'", i)
    toks.append(Tok("EOF", "<EOF>", n))
    return toks


def _string(src: str, start: int) -> Tok:
    out: list[str] = []
    like: list[str] = []
    i = start + 1
    n = len(src)
    while i < n:
        ch = src[i]
        if ch == "'":
            return Tok("STRING", src[start : i + 1], start, "".join(out), "".join(like))
        if ch == "\\":
            if i + 1 >= n:
                break
            esc = src[i + 1]
            if esc in "%_":
                # Escaped wildcard: literal in LIKE; the backslash stays in a plain string (as SOQL).
                out.append("\\" + esc)
                like.append(re.escape(esc))
                i += 2
                continue
            if esc == "u" and re.match(r"[0-9a-fA-F]{4}", src[i + 2 : i + 6]):
                char = chr(int(src[i + 2 : i + 6], 16))
                i += 6
            elif esc.lower() in _ESCAPES:
                char = _ESCAPES[esc.lower()] if esc not in "\"'\\" else esc
                i += 2
            else:
                raise _malformed(
                    f"Invalid string literal '{src[start:i + 2]}'. Illegal escape sequence '\\{esc}'", i
                )
            out.append(char)
            like.append(re.escape(char))
            continue
        out.append(ch)
        like.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    raise _malformed(f"line 1:{start} mismatched character '<EOF>' expecting '''", start)


# ---------------------------------------------------------------- AST


@dataclass
class FieldRef:
    parts: list[str]
    pos: int


@dataclass
class Literal:
    kind: str  # STRING NUMBER DATE DATETIME NULL BOOL RELDATE
    value: object
    pos: int
    like: str | None = None
    arg: int | None = None  # N of LAST_N_DAYS:N


@dataclass
class Cmp:
    ref: FieldRef
    op: str  # = != < > <= >= LIKE IN NOTIN
    values: list[Literal]


@dataclass
class BoolOp:
    op: str  # AND OR NOT
    items: list


@dataclass
class OrderItem:
    ref: FieldRef
    desc: bool
    nulls_first: bool


@dataclass
class Query:
    object_name: str
    object_pos: int
    select: list[FieldRef] = field(default_factory=list)
    count_only: bool = False
    where: object = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


_RELDATES = {
    "YESTERDAY", "TODAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK", "LAST_MONTH",
    "THIS_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS", "THIS_QUARTER", "LAST_QUARTER",
    "NEXT_QUARTER", "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR",
}
_RELDATES_N = {
    "LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_WEEKS", "NEXT_N_WEEKS", "N_WEEKS_AGO",
    "LAST_N_MONTHS", "NEXT_N_MONTHS", "N_MONTHS_AGO", "LAST_N_QUARTERS", "NEXT_N_QUARTERS",
    "LAST_N_YEARS", "NEXT_N_YEARS", "N_YEARS_AGO",
}
_CLAUSE_WORDS = {"FROM", "WHERE", "ORDER", "LIMIT", "OFFSET", "GROUP", "HAVING", "WITH", "FOR", "USING"}


class Parser:
    def __init__(self, src: str):
        self.src = src
        self.toks = tokenize(src)
        self.i = 0

    # -- helpers
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def _kw(self, word: str, offset: int = 0) -> bool:
        t = self.toks[min(self.i + offset, len(self.toks) - 1)]
        return t.kind == "IDENT" and t.text.upper() == word

    def _take_kw(self, word: str) -> bool:
        if self._kw(word):
            self.i += 1
            return True
        return False

    def _expect_kw(self, word: str) -> Tok:
        if not self._kw(word):
            raise self._unexpected()
        t = self.tok
        self.i += 1
        return t

    def _expect(self, kind: str) -> Tok:
        if self.tok.kind != kind:
            raise self._unexpected()
        t = self.tok
        self.i += 1
        return t

    def _unexpected(self) -> SoqlError:
        t = self.tok
        text = t.text if t.kind == "EOF" else f"'{t.text}'" if t.kind != "IDENT" else t.text
        return _malformed(f"unexpected token: {text}", t.pos)

    # -- grammar
    def parse(self) -> Query:
        self._expect_kw("SELECT")
        select: list[FieldRef] = []
        count_only = False
        while True:
            t = self.tok
            if t.kind == "(":
                raise Unsupported("parent-to-child relationship subqueries", t.pos)
            if t.kind == "IDENT" and self.toks[self.i + 1].kind == "(":
                fn = t.text.upper()
                if fn == "COUNT" and self.toks[self.i + 2].kind == ")":
                    self.i += 3
                    count_only = True
                elif fn in ("COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"):
                    raise Unsupported("aggregate functions", t.pos)
                elif fn == "FIELDS":
                    raise Unsupported("FIELDS()", t.pos)
                else:
                    raise Unsupported(f"function {t.text}()", t.pos)
            elif t.kind == "IDENT" and t.text.upper() == "TYPEOF":
                raise Unsupported("TYPEOF", t.pos)
            else:
                select.append(self._field_ref())
            if self.tok.kind == ",":
                self.i += 1
                continue
            break
        if count_only and select:
            raise _malformed("COUNT() cannot be combined with other fields", self.tok.pos)
        self._expect_kw("FROM")
        obj = self._expect("IDENT")
        q = Query(obj.text, obj.pos, select, count_only)
        if self.tok.kind == "IDENT" and self.tok.text.upper() not in _CLAUSE_WORDS:
            raise Unsupported("object aliases", self.tok.pos)
        if self._take_kw("USING"):
            raise Unsupported("USING SCOPE", self.toks[self.i - 1].pos)
        if self._take_kw("WHERE"):
            q.where = self._condition()
        if self._kw("WITH"):
            raise Unsupported("WITH", self.tok.pos)
        if self._kw("GROUP"):
            raise Unsupported("GROUP BY", self.tok.pos)
        if self._kw("HAVING"):
            raise Unsupported("HAVING", self.tok.pos)
        if self._take_kw("ORDER"):
            self._expect_kw("BY")
            q.order = self._order_list()
        if self._take_kw("LIMIT"):
            q.limit = self._int()
        if self._kw("OFFSET"):
            pos = self.tok.pos
            self.i += 1
            q.offset = self._int()
            q.offset_pos = pos  # type: ignore[attr-defined]
        if self._kw("FOR"):
            raise Unsupported("FOR VIEW/UPDATE/REFERENCE", self.tok.pos)
        if self.tok.kind != "EOF":
            raise self._unexpected()
        return q

    def _int(self) -> int:
        t = self._expect("NUMBER")
        value = t.value
        if not isinstance(value, Decimal) or value != value.to_integral_value() or value < 0:
            raise _malformed(f"unexpected token: '{t.text}'", t.pos)
        return int(value)

    def _field_ref(self) -> FieldRef:
        t = self.tok
        if t.kind != "IDENT" or t.text.upper() in _CLAUSE_WORDS and t.text.upper() != "FOR":
            raise self._unexpected()
        parts = [self._expect("IDENT").text]
        while self.tok.kind == ".":
            self.i += 1
            parts.append(self._expect("IDENT").text)
        return FieldRef(parts, t.pos)

    def _order_list(self) -> list[OrderItem]:
        items = []
        while True:
            ref = self._field_ref()
            desc = False
            if self._take_kw("DESC"):
                desc = True
            else:
                self._take_kw("ASC")
            nulls_first = not desc
            if self._take_kw("NULLS"):
                if self._take_kw("FIRST"):
                    nulls_first = True
                else:
                    self._expect_kw("LAST")
                    nulls_first = False
            items.append(OrderItem(ref, desc, nulls_first))
            if self.tok.kind != ",":
                return items
            self.i += 1

    def _condition(self):
        first = self._unary()
        if self._kw("AND") or self._kw("OR"):
            op = self.tok.text.upper()
            items = [first]
            while self._kw(op):
                self.i += 1
                items.append(self._unary())
            if self._kw("AND") or self._kw("OR"):
                # SOQL needs parentheses when AND and OR are mixed.
                raise self._unexpected()
            return BoolOp(op, items)
        return first

    def _unary(self):
        if self._take_kw("NOT"):
            return BoolOp("NOT", [self._unary()])
        if self.tok.kind == "(":
            self.i += 1
            inner = self._condition()
            self._expect(")")
            return inner
        return self._simple()

    def _simple(self) -> Cmp:
        ref = self._field_ref()
        t = self.tok
        if t.kind == "OP":
            self.i += 1
            op = "!=" if t.text == "<>" else t.text
            return Cmp(ref, op, [self._value()])
        if self._take_kw("LIKE"):
            return Cmp(ref, "LIKE", [self._value()])
        negate = False
        if self._kw("NOT") and self._kw("IN", 1):
            self.i += 1
            negate = True
        if self._take_kw("IN"):
            self._expect("(")
            if self._kw("SELECT"):
                raise Unsupported("semi-join subqueries", self.tok.pos)
            values = [self._value()]
            while self.tok.kind == ",":
                self.i += 1
                values.append(self._value())
            self._expect(")")
            return Cmp(ref, "NOTIN" if negate else "IN", values)
        if self._kw("INCLUDES") or self._kw("EXCLUDES"):
            raise Unsupported("INCLUDES/EXCLUDES", t.pos)
        raise self._unexpected()

    def _value(self) -> Literal:
        t = self.tok
        if t.kind in ("STRING", "NUMBER", "DATE", "DATETIME"):
            self.i += 1
            return Literal(t.kind, t.value, t.pos, t.like)
        if t.kind == ":":
            raise _malformed("unexpected token: ':' (bind variables are only valid in Apex)", t.pos)
        if t.kind == "IDENT":
            word = t.text.upper()
            self.i += 1
            if word == "NULL":
                return Literal("NULL", None, t.pos)
            if word in ("TRUE", "FALSE"):
                return Literal("BOOL", word == "TRUE", t.pos)
            if word in _RELDATES:
                return Literal("RELDATE", word, t.pos)
            if word in _RELDATES_N:
                if self.tok.kind != ":":
                    raise _malformed(f"unexpected token: {t.text}", t.pos)
                self.i += 1
                n = self._int()
                return Literal("RELDATE", word, t.pos, arg=n)
            self.i -= 1
        raise self._unexpected()


# ---------------------------------------------------------------- compilation


@dataclass
class Path:
    """A resolved field: the chain of reference fields to follow, then the final field."""

    chain: tuple[Field, ...]
    field: Field
    name: str  # canonical dotted name, e.g. "Account.Name"

    @property
    def rel_names(self) -> tuple[str, ...]:
        return tuple(f.relationship_name for f in self.chain)  # type: ignore[misc]


@dataclass
class Plan:
    obj: SObject
    columns: list[Path]
    count_only: bool
    predicate: object  # callable(rec, store) -> bool, or None
    order: list[tuple[Path, bool, bool]]
    limit: int | None
    offset: int | None


def error_message(src: str, pos: int | None, detail: str) -> str:
    """Salesforce's query error text: the query line, a caret, then `ERROR at Row:r:Column:c`."""
    if pos is None:
        return detail
    before = src[:pos]
    row = before.count("\n") + 1
    line_start = before.rfind("\n") + 1
    col = pos - line_start + 1
    line_end = src.find("\n", pos)
    line = src[line_start : line_end if line_end >= 0 else len(src)]
    return f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{detail}"


def to_sf_error(src: str, exc: SoqlError) -> SfError:
    return SfError(400, exc.code, error_message(src, exc.pos, exc.detail))


def parse(src: str) -> Query:
    return Parser(src).parse()


def resolve(obj: SObject, ref: FieldRef) -> Path:
    parts = list(ref.parts)
    if len(parts) > 1 and obj.relationship(parts[0]) is None and parts[0].lower() == obj.name.lower():
        parts = parts[1:]
    chain: list[Field] = []
    current = obj
    for rel in parts[:-1]:
        f = current.relationship(rel)
        if f is None:
            raise SoqlError(
                "INVALID_FIELD",
                f"Didn't understand relationship '{rel}' in field path. If you are attempting to use a "
                "custom relationship, be sure to append the '__r' after the custom relationship name. "
                "Please reference your WSDL or the describe call for the appropriate names.",
                ref.pos,
            )
        chain.append(f)
        current = OBJECTS[f.reference_to]  # type: ignore[index]
    final = current.field(parts[-1])
    if final is None:
        shown = ".".join(ref.parts)
        raise SoqlError(
            "INVALID_FIELD",
            f"No such column '{parts[-1] if not chain else shown}' on entity '{current.name}'. If you are "
            "attempting to use a custom field, be sure to append the '__c' after the custom field name. "
            "Please reference your WSDL or the describe call for the appropriate names.",
            ref.pos,
        )
    name = ".".join([*(f.relationship_name for f in chain), final.name])  # type: ignore[list-item]
    return Path(tuple(chain), final, name)


def getter(path: Path):
    """A function (record, store) -> value that follows the relationship chain."""
    fname = path.field.name
    if not path.chain:
        return lambda rec, store: rec.get(fname)
    chain = [(f.name, f.reference_to) for f in path.chain]

    def get(rec, store):
        for ref_field, target in chain:
            pid = rec.get(ref_field)
            if pid is None:
                return None
            rec = store[target].get(pid)
            if rec is None:
                return None
        return rec.get(fname)

    return get


def compile_query(q: Query, today: date | None = None) -> Plan:
    obj = get_object(q.object_name)
    if obj is None:
        raise SoqlError(
            "INVALID_TYPE",
            f"sObject type '{q.object_name}' is not supported. If you are attempting to use a custom "
            "object, be sure to append the '__c' after the entity name. Please reference your WSDL or "
            "the describe call for the appropriate names.",
            q.object_pos,
        )
    columns: list[Path] = []
    seen: set[str] = set()
    for ref in q.select:
        path = resolve(obj, ref)
        if path.name.lower() in seen:
            raise SoqlError("MALFORMED_QUERY", f"duplicate field selected: {path.name}", ref.pos)
        seen.add(path.name.lower())
        columns.append(path)
    today = today or datetime.now(UTC).date()
    predicate = _compile_cond(obj, q.where, today) if q.where is not None else None
    order = [(resolve(obj, item.ref), item.desc, item.nulls_first) for item in q.order]
    return Plan(obj, columns, q.count_only, predicate, order, q.limit, q.offset)


def _type_word(f: Field) -> str:
    if f.type == "datetime":
        return "dateTime"
    if f.type == "int":
        return "integer"
    if f.type in NUMBER_TYPES:
        return "double"
    return f.type


def _filter_error(f: Field, lit: Literal, quoted: bool) -> SoqlError:
    word = _type_word(f)
    tail = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    return SoqlError(
        "INVALID_QUERY_FILTER_OPERATOR",
        f"value of filter criterion for field '{f.name}' must be of type {word} and {tail}",
        lit.pos,
    )


def _month_add(d: date, months: int) -> date:
    total = d.year * 12 + d.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def _reldate_range(word: str, n: int | None, today: date) -> tuple[date, date]:
    """[start, end) of a relative date literal."""
    day = timedelta(days=1)
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)
    month_start = today.replace(day=1)
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    year_start = date(today.year, 1, 1)
    n = n or 0
    table = {
        "YESTERDAY": (today - day, today),
        "TODAY": (today, today + day),
        "TOMORROW": (today + day, today + 2 * day),
        "LAST_WEEK": (week_start - 7 * day, week_start),
        "THIS_WEEK": (week_start, week_start + 7 * day),
        "NEXT_WEEK": (week_start + 7 * day, week_start + 14 * day),
        "LAST_MONTH": (_month_add(month_start, -1), month_start),
        "THIS_MONTH": (month_start, _month_add(month_start, 1)),
        "NEXT_MONTH": (_month_add(month_start, 1), _month_add(month_start, 2)),
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
        "THIS_QUARTER": (quarter_start, _month_add(quarter_start, 3)),
        "LAST_QUARTER": (_month_add(quarter_start, -3), quarter_start),
        "NEXT_QUARTER": (_month_add(quarter_start, 3), _month_add(quarter_start, 6)),
        "THIS_YEAR": (year_start, date(today.year + 1, 1, 1)),
        "LAST_YEAR": (date(today.year - 1, 1, 1), year_start),
        "NEXT_YEAR": (date(today.year + 1, 1, 1), date(today.year + 2, 1, 1)),
        # LAST_N_DAYS:n includes today; NEXT_N_DAYS:n starts tomorrow (Salesforce's definitions).
        "LAST_N_DAYS": (today - n * day, today + day),
        "NEXT_N_DAYS": (today + day, today + (n + 1) * day),
        "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
        "LAST_N_WEEKS": (week_start - 7 * n * day, week_start),
        "NEXT_N_WEEKS": (week_start + 7 * day, week_start + 7 * (n + 1) * day),
        "N_WEEKS_AGO": (week_start - 7 * n * day, week_start - 7 * (n - 1) * day),
        "LAST_N_MONTHS": (_month_add(month_start, -n), month_start),
        "NEXT_N_MONTHS": (_month_add(month_start, 1), _month_add(month_start, n + 1)),
        "N_MONTHS_AGO": (_month_add(month_start, -n), _month_add(month_start, -n + 1)),
        "LAST_N_QUARTERS": (_month_add(quarter_start, -3 * n), quarter_start),
        "NEXT_N_QUARTERS": (_month_add(quarter_start, 3), _month_add(quarter_start, 3 * (n + 1))),
        "LAST_N_YEARS": (date(today.year - n, 1, 1), year_start),
        "NEXT_N_YEARS": (date(today.year + 1, 1, 1), date(today.year + n + 1, 1, 1)),
        "N_YEARS_AGO": (date(today.year - n, 1, 1), date(today.year - n + 1, 1, 1)),
    }
    return table[word]


def _literal_value(f: Field, lit: Literal, op: str, today: date):
    """The comparable value of a literal for field f: a scalar, None, or a (start, end) range."""
    t = f.type
    k = lit.kind
    if k == "NULL":
        return None
    if t in ("id", "reference"):
        if k != "STRING":
            raise _filter_error(f, lit, True)
        norm = ids.normalize(lit.value)
        if norm is None:
            raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {lit.value}", lit.pos)
        return norm
    if t in TEXT_TYPES:
        if k != "STRING":
            raise _filter_error(f, lit, True)
        return str(lit.value).lower()
    if t == "boolean":
        if k != "BOOL":
            raise _filter_error(f, lit, False)
        return lit.value
    if t in NUMBER_TYPES:
        if k != "NUMBER":
            raise _filter_error(f, lit, False)
        return lit.value
    if t == "date":
        if k == "DATE":
            return lit.value
        if k == "RELDATE":
            return _reldate_range(lit.value, lit.arg, today)  # type: ignore[arg-type]
        raise _filter_error(f, lit, False)
    if t == "datetime":
        if k == "DATETIME":
            return lit.value
        if k == "RELDATE":
            start, end = _reldate_range(lit.value, lit.arg, today)  # type: ignore[arg-type]
            return (
                datetime(start.year, start.month, start.day, tzinfo=UTC),
                datetime(end.year, end.month, end.day, tzinfo=UTC),
            )
        raise _filter_error(f, lit, False)
    raise _filter_error(f, lit, False)


def _compile_cond(obj: SObject, node, today: date):
    if isinstance(node, BoolOp):
        parts = [_compile_cond(obj, item, today) for item in node.items]
        if node.op == "NOT":
            inner = parts[0]
            return lambda r, s: not inner(r, s)
        if node.op == "AND":
            return lambda r, s: all(p(r, s) for p in parts)
        return lambda r, s: any(p(r, s) for p in parts)
    return _compile_cmp(obj, node, today)


def _compile_cmp(obj: SObject, cmp: Cmp, today: date):
    path = resolve(obj, cmp.ref)
    f = path.field
    get = getter(path)
    text = f.type in TEXT_TYPES
    lower = (lambda v: v.lower() if v is not None else None) if text else (lambda v: v)
    op = cmp.op
    if op == "LIKE":
        lit = cmp.values[0]
        if not text:
            raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on field '{f.name}': LIKE", lit.pos)
        if lit.kind == "NULL":
            return lambda r, s: False
        if lit.kind != "STRING":
            raise _filter_error(f, lit, True)
        rx = re.compile(lit.like or "", re.IGNORECASE | re.DOTALL)
        match = rx.fullmatch
        return lambda r, s: (v := get(r, s)) is not None and match(v) is not None
    if op in ("IN", "NOTIN"):
        vals = [_literal_value(f, lit, "=", today) for lit in cmp.values]
        if any(isinstance(v, tuple) for v in vals):
            raise SoqlError("MALFORMED_QUERY", "date literals are not allowed in IN lists", cmp.values[0].pos)
        has_null = None in vals
        wanted = {v for v in vals if v is not None}

        def member(r, s) -> bool:
            v = lower(get(r, s))
            return has_null if v is None else v in wanted

        if op == "IN":
            return member
        return lambda r, s: not member(r, s)
    lit = cmp.values[0]
    if f.type == "boolean" and op not in ("=", "!="):
        raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on boolean field: {op}", lit.pos)
    value = _literal_value(f, lit, op, today)
    if value is None:
        if op == "=":
            return lambda r, s: get(r, s) is None
        if op == "!=":
            return lambda r, s: get(r, s) is not None
        return lambda r, s: False
    if isinstance(value, tuple):
        start, end = value
        ranges = {
            "=": lambda v: start <= v < end,
            "!=": lambda v: not (start <= v < end),
            "<": lambda v: v < start,
            "<=": lambda v: v < end,
            ">": lambda v: v >= end,
            ">=": lambda v: v >= start,
        }
        test = ranges[op]
        if op == "!=":
            return lambda r, s: (v := get(r, s)) is None or test(v)
        return lambda r, s: (v := get(r, s)) is not None and test(v)
    if op == "=":
        return lambda r, s: lower(get(r, s)) == value
    if op == "!=":
        # SOQL's != also matches records where the field is null.
        return lambda r, s: lower(get(r, s)) != value
    compare = {
        "<": lambda v: v < value,
        "<=": lambda v: v <= value,
        ">": lambda v: v > value,
        ">=": lambda v: v >= value,
    }[op]
    return lambda r, s: (v := lower(get(r, s))) is not None and compare(v)


def sort_rows(rows: list, order: list[tuple[Path, bool, bool]], store) -> list:
    """Stable multi-key sort; text sorts case-insensitively, nulls per NULLS FIRST/LAST."""
    for path, desc, nulls_first in reversed(order):
        get = getter(path)
        text = path.field.type in TEXT_TYPES

        def key(rec, get=get, text=text, desc=desc, nulls_first=nulls_first):
            v = get(rec, store)
            if v is None:
                # With reverse=True the flag order flips, so pick it to land nulls where asked.
                return (0 if nulls_first != desc else 2, 0)
            return (1, v.lower() if text else v)

        rows.sort(key=key, reverse=desc)
    return rows
