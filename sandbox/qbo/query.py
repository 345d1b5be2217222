"""QBO's query language: a tokenizer, a parser and an evaluator (no eval, no SQL engine).

Grammar (Intuit's data-queries page, plus the spellings real clients send):

    SELECT * [, Field ...] | COUNT(*) | Field [, Field ...]
    FROM Entity
    [WHERE cond [AND cond ...]]            cond: Field (= < > <= >=) value | Field IN (v, ...) | Field LIKE 'x%'
    [ORDERBY | ORDER BY Field [ASC|DESC] [, ...]]
    [STARTPOSITION n] [MAXRESULTS n]

No OR, no NOT, no GROUP BY or JOIN; LIKE knows only `%`; backslash escapes the next character in a
string. Keywords, entity and field names are case-insensitive. Errors raise `QboError` (code 4000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sandbox.qbo.clock import parse_instant
from sandbox.qbo.errors import query_error

DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_LIMIT = 1000

_KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDERBY", "ORDER", "BY", "ASC",
    "DESC", "STARTPOSITION", "MAXRESULTS", "COUNT", "GROUP", "JOIN", "HAVING", "TRUE", "FALSE",
}
_COMPARISONS = {"=", "<", ">", "<=", ">="}


@dataclass(frozen=True)
class Token:
    kind: str  # "kw", "ident", "string", "number", "sym", "end"
    text: str
    value: object
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch == "'":
            i += 1
            chars: list[str] = []
            while True:
                if i >= n:
                    raise query_error(f"QueryParserError: Unterminated string starting at column {start + 1}")
                c = text[i]
                if c == "\\":
                    if i + 1 >= n:
                        raise query_error(f"QueryParserError: Dangling escape at column {i + 1}")
                    chars.append(text[i + 1])
                    i += 2
                    continue
                if c == "'":
                    i += 1
                    break
                chars.append(c)
                i += 1
            tokens.append(Token("string", text[start:i], "".join(chars), start))
            continue
        if ch.isdigit() or (ch == "-" and i + 1 < n and text[i + 1].isdigit()):
            m = re.compile(r"-?\d+(\.\d+)?").match(text, i)
            assert m is not None
            i = m.end()
            tokens.append(Token("number", m.group(0), Decimal(m.group(0)), start))
            continue
        if ch.isalpha() or ch == "_":
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*").match(text, i)
            assert m is not None
            i = m.end()
            word = m.group(0)
            if word.upper() in _KEYWORDS:
                tokens.append(Token("kw", word.upper(), word, start))
            else:
                tokens.append(Token("ident", word, word, start))
            continue
        two = text[i : i + 2]
        if two in ("<=", ">=", "<>", "!="):
            tokens.append(Token("sym", two, two, start))
            i += 2
            continue
        if ch in "*,()=<>;":
            tokens.append(Token("sym", ch, ch, start))
            i += 1
            continue
        raise query_error(f"QueryParserError: Encountered \"{ch}\" at line 1, column {i + 1}.")
    tokens.append(Token("end", "<EOF>", None, n))
    return tokens


@dataclass
class Condition:
    field: str
    op: str  # one of _COMPARISONS, "IN", "LIKE"
    value: object  # str | Decimal | bool | list


@dataclass
class Query:
    entity: str
    count: bool = False
    projection: list[str] | None = None  # None = all properties
    where: list[Condition] = field(default_factory=list)
    order_by: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, expecting: str) -> None:
        t = self.tok
        raise query_error(
            f'QueryParserError: Encountered "{t.text}" at line 1, column {t.pos + 1}. Was expecting {expecting}'
        )

    def kw(self, word: str) -> bool:
        if self.tok.kind == "kw" and self.tok.text == word:
            self.i += 1
            return True
        return False

    def expect_kw(self, word: str) -> None:
        if not self.kw(word):
            self.fail(word)

    def sym(self, s: str) -> bool:
        if self.tok.kind == "sym" and self.tok.text == s:
            self.i += 1
            return True
        return False

    def expect_sym(self, s: str) -> None:
        if not self.sym(s):
            self.fail(f'"{s}"')

    def ident(self) -> str:
        if self.tok.kind != "ident":
            self.fail("a property name")
        name = self.tok.text
        self.i += 1
        return name

    def integer(self, what: str) -> int:
        t = self.tok
        if t.kind == "number" and "." not in t.text:
            self.i += 1
            return int(t.text)
        if t.kind == "string" and str(t.value).isdigit():  # STARTPOSITION '1' is accepted too
            self.i += 1
            return int(str(t.value))
        self.fail(f"an integer for {what}")
        raise AssertionError  # unreachable

    def value(self) -> object:
        t = self.tok
        if t.kind in ("string", "number"):
            self.i += 1
            return t.value
        if t.kind == "kw" and t.text in ("TRUE", "FALSE"):
            self.i += 1
            return t.text == "TRUE"
        self.fail("a value")
        raise AssertionError

    def parse(self) -> Query:
        self.expect_kw("SELECT")
        count, projection = False, None
        if self.kw("COUNT"):
            self.expect_sym("(")
            self.expect_sym("*")
            self.expect_sym(")")
            count = True
        elif self.sym("*"):
            while self.sym(","):  # `SELECT *, Sku FROM Item` (python-quickbooks' Item.all())
                self.ident()
        else:
            projection = [self.ident()]
            while self.sym(","):
                projection.append(self.ident())
        self.expect_kw("FROM")
        if self.tok.kind != "ident":
            self.fail("an entity name")
        query = Query(entity=self.ident(), count=count, projection=projection)
        if self.kw("WHERE"):
            query.where.append(self.condition())
            while True:
                if self.kw("AND"):
                    query.where.append(self.condition())
                elif self.tok.kind == "kw" and self.tok.text == "OR":
                    raise query_error("QueryValidationError: OR operator is not supported")
                else:
                    break
        seen_start = seen_max = False
        while True:
            if self.kw("ORDERBY") or (self.kw("ORDER") and (self.expect_kw("BY") or True)):
                query.order_by.append(self.order_item())
                while self.sym(","):
                    query.order_by.append(self.order_item())
            elif not seen_start and self.kw("STARTPOSITION"):
                seen_start = True
                # 1-based; clients sending 0 have been seen to get the first page.
                query.start_position = max(1, self.integer("STARTPOSITION"))
            elif not seen_max and self.kw("MAXRESULTS"):
                seen_max = True
                query.max_results = self.integer("MAXRESULTS")
                if query.max_results < 1 or query.max_results > MAX_RESULTS_LIMIT:
                    raise query_error(
                        f"QueryValidationError: MAXRESULTS must be between 1 and {MAX_RESULTS_LIMIT}, "
                        f"got {query.max_results}"
                    )
            else:
                break
        self.sym(";")
        if self.tok.kind != "end":
            if self.tok.kind == "kw" and self.tok.text in ("GROUP", "JOIN", "HAVING", "OR", "NOT"):
                raise query_error(f"QueryValidationError: {self.tok.text} is not supported")
            self.fail("<EOF>")
        return query

    def condition(self) -> Condition:
        name = self.ident()
        t = self.tok
        if t.kind == "sym" and t.text in _COMPARISONS:
            self.i += 1
            return Condition(name, t.text, self.value())
        if self.kw("IN"):
            self.expect_sym("(")
            values = [self.value()]
            while self.sym(","):
                values.append(self.value())
            self.expect_sym(")")
            return Condition(name, "IN", values)
        if self.kw("LIKE"):
            if self.tok.kind != "string":
                self.fail("a quoted pattern after LIKE")
            return Condition(name, "LIKE", self.value())
        if (t.kind == "sym" and t.text in ("!=", "<>")) or (t.kind == "kw" and t.text == "NOT"):
            raise query_error(f"QueryValidationError: operator {t.text} is not supported")
        self.fail("one of =, <, >, <=, >=, IN, LIKE")
        raise AssertionError

    def order_item(self) -> tuple[str, bool]:
        name = self.ident()
        if self.kw("DESC"):
            return name, True
        self.kw("ASC")
        return name, False


def parse(text: str) -> Query:
    if not isinstance(text, str) or not text.strip():
        raise query_error("QueryParserError: Encountered \"<EOF>\" at line 1, column 1. Was expecting SELECT")
    return _Parser(text).parse()


# ---- evaluation ---------------------------------------------------------------------------------


def resolve(entity: dict, path: str) -> object:
    """The value a query compares for `path`: nested keys, refs compare by their `value`."""
    current: object = entity
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    if isinstance(current, dict):
        for key in ("value", "Address", "FreeFormNumber", "URI"):
            if key in current:
                return current[key]
        return None
    return current


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _key(kind: str, value: object) -> object:
    """A comparable form of `value` for a field of `kind`, or None if it has no such form."""
    if value is None:
        return None
    if kind == "number" or kind == "id":
        return _number(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return None
    if kind == "date":
        if isinstance(value, str):
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                return None
        return None
    if kind == "datetime":
        return parse_instant(value) if isinstance(value, str) else None
    # Strings compare case-insensitively (SQL Server collation; unverified, the doc is silent).
    return str(value).casefold()


def like_regex(pattern: str) -> re.Pattern:
    parts = [re.escape(p) for p in pattern.split("%")]
    return re.compile("^" + ".*".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def matches(entity: dict, cond: Condition, kind: str) -> bool:
    stored = _key(kind, resolve(entity, cond.field))
    if cond.op == "LIKE":
        raw = resolve(entity, cond.field)
        return raw is not None and bool(like_regex(str(cond.value)).match(str(raw)))
    if stored is None:
        return False
    if cond.op == "IN":
        return any(stored == _key(kind, v) for v in cond.value)  # type: ignore[union-attr]
    wanted = _key(kind, cond.value)
    if wanted is None:
        raise query_error(f"QueryValidationError: value {cond.value!r} is not valid for property {cond.field}")
    try:
        if cond.op == "=":
            return stored == wanted
        if cond.op == "<":
            return stored < wanted  # type: ignore[operator]
        if cond.op == ">":
            return stored > wanted  # type: ignore[operator]
        if cond.op == "<=":
            return stored <= wanted  # type: ignore[operator]
        return stored >= wanted  # type: ignore[operator]
    except TypeError:
        return False


def sort_key(entity: dict, path: str, kind: str) -> tuple:
    value = _key(kind, resolve(entity, path))
    # Missing values first, as SQL Server sorts NULLs.
    return (value is not None, value if value is not None else 0)
