"""The rows a suite validates, copied once into `quality.<suite>`.

Why a copy: GX runs several queries per expectation, and against a staging table each one
would scan the whole wide row (the `raw` JSON of the record included) and re-apply the
`_deleted` filter; a query asset is worse, as GX executes the whole query just to learn its
column names. An unlogged copy of only the columns the suite names is one scan, and every
expectation of the suite then sees exactly the same rows, even while an extract is writing.
(So an expectation about the table's column set would see only those columns.) The copy is dropped when the validation is over. A session advisory lock per suite
keeps two validations of the same suite (the nightly run and a manual one) from sharing it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import sql

from ledgerlink import db
from ledgerlink.db import ConfigurationError
from ledgerlink.quality.suites import Suite

SCHEMA = "quality"
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
    wanted = suite.columns
    selected = sql.SQL(", ").join(sql.Identifier(c) for c in columns if c in wanted and c not in _SKIPPED_COLUMNS)
    query = sql.SQL("select {} from {}.{}").format(selected, sql.Identifier(schema), sql.Identifier(name))
    if "_deleted" in columns:
        query = sql.SQL("{} where not _deleted").format(query)
    return query


@contextmanager
def snapshot(url: str, suite: Suite, table: str | None = None) -> Iterator[tuple[str, str]]:
    """Build `quality.<suite>`; yield (schema, table name). Dropped on exit."""
    with db.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(hashtext(%s))", (f"ledgerlink.quality.{suite.name}",))
        target = sql.Identifier(SCHEMA, suite.name)
        try:
            with conn.transaction():
                conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(SCHEMA)))
                conn.execute(sql.SQL("drop table if exists {}").format(target))
                conn.execute(
                    sql.SQL("create unlogged table {} as {}").format(target, source_query(conn, suite, table))
                )
            # Fresh statistics: the GROUP BY and window plans of uniqueness checks depend on them.
            conn.execute(sql.SQL("analyze {}").format(target))
            yield SCHEMA, suite.name
        finally:
            conn.execute(sql.SQL("drop table if exists {}").format(target))
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (f"ledgerlink.quality.{suite.name}",))
