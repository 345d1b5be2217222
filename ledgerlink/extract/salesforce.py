"""Salesforce objects into `staging.sf_*` through Bulk API 2.0 `queryAll` jobs.

Each result page (CSV, as Salesforce writes it) is streamed straight into Postgres with
`COPY`: no per-row Python work, never the whole result in memory. `queryAll` returns
soft-deleted rows with `IsDeleted = true`, which is how deletions arrive.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime, timedelta

from psycopg import sql

from ledgerlink.extract import watermark
from ledgerlink.extract.prefetch import prefetch
from ledgerlink.extract.specs import SalesforceObject
from ledgerlink.extract.staging_writer import LoadCounts, SeenIds, ensure_staging_table, upsert_statement

log = logging.getLogger(__name__)
SOURCE = "salesforce"


def soql_datetime(value: datetime) -> str:
    """A SOQL datetime literal (UTC, no quotes, as SOQL wants it)."""
    return value.astimezone(_utc()).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _utc():
    from datetime import UTC

    return UTC


def build_soql(spec: SalesforceObject, since: datetime | None) -> str:
    soql = f"SELECT {', '.join(spec.soql_fields)} FROM {spec.name}"
    if since is not None:
        # >= rather than >: a record stamped exactly at the boundary must not be lost; the
        # upsert makes the re-read harmless.
        soql += f" WHERE {spec.watermark_field} >= {soql_datetime(since)}"
    return soql


class _PageLoader:
    """Loads CSV pages of one object through a temporary table of text columns."""

    def __init__(self, conn, spec: SalesforceObject, run_id: str | None):
        self.conn = conn
        self.spec = spec
        self.run_id = run_id
        self.tmp = f"tmp_{spec.table}"
        self.fields = spec.soql_fields
        # Recreated: the spec may have gained fields since this session last made it.
        conn.execute(sql.SQL("drop table if exists pg_temp.{}").format(sql.Identifier(self.tmp)))
        conn.execute(
            sql.SQL("create temporary table {} ({}) on commit preserve rows").format(
                sql.Identifier(self.tmp),
                sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f)) for f in self.fields),
            )
        )
        columns = [c.name for c in spec.columns]
        select_list = [
            sql.SQL("src.{}::{}").format(sql.Identifier(c.source), sql.SQL(c.type)) for c in spec.columns
        ]
        self.upsert = upsert_statement(
            spec.table,
            self.tmp,
            columns,
            select_list,
            raw_expr=sql.SQL("jsonb_strip_nulls(to_jsonb(src))"),
            deleted_expr=sql.SQL("coalesce(src.{}::boolean, false)").format(sql.Identifier("IsDeleted")),
        )
        # Counted in Postgres: returning 50,000 ids a page to Python only to count them costs ~10%.
        self.upsert_counts = sql.SQL(
            "with up as ({}) select count(*) filter (where inserted and not deleted), "
            "count(*) filter (where not inserted and not deleted), count(*) filter (where deleted) from up"
        ).format(self.upsert)
        self.newest = sql.SQL("select count(*), max({}::timestamptz) from {}").format(
            sql.Identifier(spec.watermark_field), sql.Identifier(self.tmp)
        )

    def load(self, page: bytes) -> tuple[LoadCounts, datetime | None]:
        """Load one CSV page, UTF-8 bytes as the Bulk API sent them."""
        first_line = page[: page.find(b"\n") + 1 or len(page)].decode("utf-8")
        header = next(csv.reader(io.StringIO(first_line)), None)
        if not header:
            return LoadCounts(), None
        unknown = set(header) - set(self.fields)
        if unknown:
            raise ValueError(f"Salesforce {self.spec.name}: unexpected result columns {sorted(unknown)}")
        self.conn.execute(sql.SQL("truncate {}").format(sql.Identifier(self.tmp)))
        copy = sql.SQL("copy {} ({}) from stdin (format csv, header true, force_null ({}))").format(
            sql.Identifier(self.tmp),
            sql.SQL(", ").join(sql.Identifier(h) for h in header),
            sql.SQL(", ").join(sql.Identifier(h) for h in header),
        )
        with self.conn.cursor().copy(copy) as cp:
            cp.write(page)
        read, newest = self.conn.execute(self.newest).fetchone()
        inserted, updated, deleted = self.conn.execute(self.upsert_counts, {"run_id": self.run_id}).fetchone()
        counts = LoadCounts(rows_read=read, inserted=inserted, updated=updated, deleted=deleted, pages=1)
        return counts, newest


def extract_object(
    client,
    conn,
    spec: SalesforceObject,
    *,
    run_id: str | None,
    full_refresh: bool = False,
    safety_window: timedelta = timedelta(minutes=10),
    page_size: int = 50_000,
    progress=log.info,
) -> dict:
    """Extract one object incrementally (or in full) and return what happened.

    `conn` must be an autocommit connection: each page commits on its own, and the
    watermark advances only after the last page committed.
    """
    added = ensure_staging_table(conn, spec)
    previous = watermark.get(conn, SOURCE, spec.name)
    mode = "full" if full_refresh or previous is None or added else "incremental"
    if added and previous is not None:
        # Rows already staged never had the new field; only a full read fills it for all of them.
        progress(f"Salesforce {spec.name}: new field(s) {', '.join(added)} since the last extract; "
                 "reading in full so every row has them")
    since = None if mode == "full" else previous - safety_window
    soql = build_soql(spec, since)
    loader = _PageLoader(conn, spec, run_id)
    # A full load marks whatever it did not see as deleted, which needs the ids it saw; on a
    # table with no live rows there is nothing to mark (the initial load: ~15% faster without).
    has_live_rows = conn.execute(
        sql.SQL("select exists (select 1 from staging.{} where not _deleted)").format(sql.Identifier(spec.table))
    ).fetchone()[0]
    seen = SeenIds(conn, f"seen_{spec.table}") if mode == "full" and has_live_rows else None
    counts = LoadCounts()
    newest = previous
    progress(f"Salesforce {spec.name}: {mode} extract" + (f" since {since.isoformat()}" if since else ""))
    for page in prefetch(client.bulk_query_pages(soql, query_all=True, max_records=page_size, decode=False)):
        with conn.transaction():
            page_counts, page_newest = loader.load(page)
            if seen is not None:
                seen.add_from(loader.tmp, "Id")
        counts.add(page_counts)
        if page_newest is not None and (newest is None or page_newest > newest):
            newest = page_newest
        progress(
            f"Salesforce {spec.name}: page {counts.pages}, {counts.rows_read:,} rows read "
            f"({counts.inserted:,} new, {counts.updated:,} changed, {counts.deleted:,} deleted)"
        )
    if seen is not None:
        with conn.transaction():
            counts.deleted += seen.mark_missing_deleted(spec.table, run_id)
    watermark.advance(conn, SOURCE, spec.name, newest, run_id)
    return {"source": SOURCE, "object": spec.name, "table": f"staging.{spec.table}", "mode": mode,
            "counts": counts, "watermark": newest}


def sweep_purged(client, conn, spec: SalesforceObject, *, run_id: str | None, page_size: int = 50_000,
                 progress=log.info) -> int:
    """Mark staging rows deleted whose record Salesforce no longer has at all; returns how many.

    Records purged from the Recycle Bin (emptied, expired after 15 days, or hard-deleted) never
    come back through `queryAll`, so an incremental extract cannot see them go. This asks for
    every Id (a cheap one-column Bulk query, deleted ones included) and marks the rest. Run it
    after the extract: whatever the extract wrote existed when this job took its snapshot.
    """
    seen = SeenIds(conn, f"seen_{spec.table}")
    pages = 0
    for page in client.bulk_query_pages(f"SELECT Id FROM {spec.name}", query_all=True, max_records=page_size,
                                        decode=False):
        seen.add_csv(page)
        pages += 1
    with conn.transaction():
        purged = seen.mark_missing_deleted(spec.table, run_id)
    progress(f"Salesforce {spec.name}: purge sweep read {pages} page(s) of Ids; {purged:,} staged rows no longer "
             "exist in Salesforce and are now marked deleted")
    return purged
