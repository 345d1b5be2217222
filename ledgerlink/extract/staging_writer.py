"""Bulk-load pages into `staging.*`: COPY into a temporary table, then one upsert per page.

Each page is its own transaction, so a crash loses at most the page in flight, and the
watermark (stored separately, after the last page) never runs ahead of the data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from ledgerlink.db import read_sql
from ledgerlink.extract.specs import staging_ddl


@dataclass
class LoadCounts:
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    pages: int = 0
    children: dict[str, int] = field(default_factory=dict)

    def add(self, other: LoadCounts) -> None:
        self.rows_read += other.rows_read
        self.inserted += other.inserted
        self.updated += other.updated
        self.deleted += other.deleted
        self.pages += other.pages
        for key, value in other.children.items():
            self.children[key] = self.children.get(key, 0) + value


def _tally(rows: list[tuple[bool, bool]], read: int) -> LoadCounts:
    counts = LoadCounts(rows_read=read, pages=1)
    for inserted, deleted in rows:
        if deleted:
            counts.deleted += 1
        elif inserted:
            counts.inserted += 1
        else:
            counts.updated += 1
    return counts


def ensure_staging_table(conn, spec) -> list[str]:
    """Create or extend a spec's staging table(s); returns the columns this added to an existing
    main table (a field added to the spec since the last extract)."""
    def columns() -> set[str]:
        return {r[0] for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'staging' and table_name = %s",
            (spec.table,))}

    before = columns()
    for statement in staging_ddl(spec):
        conn.execute(statement)
    return sorted(columns() - before) if before else []


def upsert_statement(table: str, tmp: str, columns: list[str], select_list: list[sql.Composable],
                     raw_expr: sql.Composable, deleted_expr: sql.Composable) -> sql.Composed:
    template = read_sql("extract/upsert.sql")
    return sql.SQL(template).format(
        table=sql.Identifier(table),
        tmp=sql.Identifier(tmp),
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        select_list=sql.SQL(", ").join(select_list),
        raw_expr=raw_expr,
        deleted_expr=deleted_expr,
        assignments=sql.SQL(", ").join(
            sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in columns
        ),
    )


class SeenIds:
    """Ids read during a full load, to mark everything else deleted at the end."""

    def __init__(self, conn: psycopg.Connection, name: str):
        self.conn = conn
        self.name = name
        conn.execute(
            sql.SQL("create temporary table if not exists {} (id text primary key) on commit preserve rows").format(
                sql.Identifier(name)
            )
        )
        conn.execute(sql.SQL("truncate {}").format(sql.Identifier(name)))

    def add_from(self, tmp: str, id_column: str) -> None:
        self.conn.execute(
            sql.SQL("insert into {seen} (id) select {idc} from {tmp} on conflict do nothing").format(
                seen=sql.Identifier(self.name), idc=sql.Identifier(id_column), tmp=sql.Identifier(tmp)
            )
        )

    def add_csv(self, page: bytes) -> None:
        """Add the ids of a one-column CSV page with a header (a Bulk API `SELECT Id` result)."""
        with self.conn.cursor().copy(
            sql.SQL("copy {} (id) from stdin (format csv, header true)").format(sql.Identifier(self.name))
        ) as cp:
            cp.write(page)

    def add(self, ids: Iterable[str]) -> None:
        with self.conn.cursor().copy(sql.SQL("copy {} (id) from stdin").format(sql.Identifier(self.name))) as cp:
            for i in ids:
                cp.write_row((i,))

    def mark_missing_deleted(self, table: str, run_id: str | None) -> int:
        statement = sql.SQL(read_sql("extract/mark_missing_deleted.sql")).format(
            table=sql.Identifier(table), seen=sql.Identifier(self.name)
        )
        return self.conn.execute(statement, {"run_id": run_id}).rowcount
