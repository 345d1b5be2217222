"""The relation a suite validates: `quality.<suite>`, built before and dropped after.

* A table source becomes a view: the live rows (`_deleted` false) and only the columns the
  suite names. GX validates a table asset, so it learns the columns from the catalog; a GX
  query asset would instead execute the whole query just to read its column names. (So an
  expectation about a table's column set sees only those columns.)
* A SQL source (`sql/quality/*.sql`, joins and GROUP BYs over a million lines) is computed once
  into an unlogged table, instead of once per GX query.

Measured on the large profile (bench/bench_quality.py): copying the staging tables instead of
viewing them cost more than it saved, because the copy is one more full pass plus a write, and
GX's passes over a view read only what they need. A session advisory lock per suite keeps two
validations of the same suite (the nightly run and a manual one) from sharing the relation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import sql

from ledgerlink import db
from ledgerlink.db import ConfigurationError
from ledgerlink.quality.suites import Suite

SCHEMA = "quality"
WORK_MEM = "64MB"
# The record as the API sent it: bulky, and no expectation reads it.
_SKIPPED_COLUMNS = {"raw"}


def source_query(conn, suite: Suite, table: str | None = None) -> sql.Composable:
    """The SELECT producing the suite's rows; `table` replaces the suite's own source table."""
    table = table or suite.source.table
    if table is None:
        return sql.SQL(db.read_sql(suite.source.sql).strip().rstrip(";"))
    schema, name = table.split(".", 1)
    columns = [
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns"
            " where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, name),
        )
    ]
    if not columns:
        raise ConfigurationError(
            f"Suite {suite.name} ({suite.path.name}) validates {table}, which does not exist in this database."
        )
    # Columns the suite names but the table lacks are left out: GX then reports that
    # expectation as unable to run, and the others still run.
    kept = [c for c in columns if c in suite.columns and c not in _SKIPPED_COLUMNS]
    if not kept:
        raise ConfigurationError(
            f"Suite {suite.name} ({suite.path.name}) names none of the columns of {table}: {', '.join(columns)}."
        )
    selected = sql.SQL(", ").join(sql.Identifier(c) for c in kept)
    query = sql.SQL("select {} from {}.{}").format(selected, sql.Identifier(schema), sql.Identifier(name))
    if "_deleted" in columns:
        query = sql.SQL("{} where not _deleted").format(query)
    return query


def _drop(conn, target: sql.Identifier) -> None:
    kind = conn.execute("select relkind from pg_class where oid = to_regclass(%s)", (target.as_string(conn),)).fetchone()
    if kind:
        what = "view" if kind[0] == "v" else "table"
        conn.execute(sql.SQL(f"drop {what} {{}}").format(target))


@contextmanager
def snapshot(url: str, suite: Suite, table: str | None = None) -> Iterator[tuple[str, str]]:
    """Build `quality.<suite>`; yield (schema, relation name). Dropped on exit."""
    materialize = (table or suite.source.table) is None
    with db.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(hashtext(%s))", (f"ledgerlink.quality.{suite.name}",))
        target = sql.Identifier(SCHEMA, suite.name)
        try:
            with conn.transaction():
                # Joins and GROUP BYs over a million lines spill to disk at the default 4MB.
                conn.execute(f"set local work_mem = '{WORK_MEM}'")
                conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(SCHEMA)))
                _drop(conn, target)
                query = source_query(conn, suite, table)
                if materialize:
                    conn.execute(sql.SQL("create unlogged table {} as {}").format(target, query))
                else:
                    conn.execute(sql.SQL("create view {} as {}").format(target, query))
            if materialize:
                # Fresh statistics: the GROUP BY and window plans of uniqueness checks depend on them.
                conn.execute(sql.SQL("analyze {}").format(target))
            yield SCHEMA, suite.name
        finally:
            _drop(conn, target)
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (f"ledgerlink.quality.{suite.name}",))
