"""QuickBooks Online entities into `staging.qb_*`: `query` paging for full loads, `cdc` for increments.

CDC reports deletions (`status: Deleted`) that a query can never show, but it only reaches 30
days back and returns at most 1,000 objects. Past either limit the entity is reloaded in full
(query paging), and whatever the full load no longer sees is marked deleted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from psycopg import sql

from ledgerlink.extract import watermark
from ledgerlink.extract.specs import Column, QboEntity, child_table
from ledgerlink.extract.staging_writer import (
    LoadCounts,
    SeenIds,
    _tally,
    ensure_staging_table,
    upsert_statement,
)

log = logging.getLogger(__name__)
SOURCE = "qbo"
CDC_MAX_AGE = timedelta(days=30)
CDC_MAX_OBJECTS = 1000


def pluck(record: dict, path: str):
    """The value at a dotted path (`CustomerRef.value`, `LinkedTxn.0.TxnId`), or None."""
    value = record
    for part in path.split("."):
        if isinstance(value, list):
            index = int(part) if part.isdigit() else None
            value = value[index] if index is not None and index < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
        if value is None:
            return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    text = str(value)
    return text if text != "" else None


def parse_qbo_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


class _EntityLoader:
    def __init__(self, conn, spec: QboEntity, run_id: str | None):
        self.conn = conn
        self.spec = spec
        self.run_id = run_id
        self.columns = spec.all_columns
        self.tmp = f"tmp_{spec.table}"
        self._temp_table(self.tmp, [c.name for c in self.columns] + ["raw"])
        self.upsert = upsert_statement(
            spec.table,
            self.tmp,
            [c.name for c in self.columns],
            [sql.SQL("src.{}::{}").format(sql.Identifier(c.name), sql.SQL(c.type)) for c in self.columns],
            raw_expr=sql.SQL("src.raw::jsonb"),
            deleted_expr=sql.SQL("false"),
        )
        self.children = []
        for child in spec.children:
            table = child_table(spec, child)
            tmp = f"tmp_{table}"
            self._temp_table(tmp, ["parent_id", "line_no"] + [c.name for c in child.columns] + ["raw"])
            self.children.append((child, table, tmp))

    def _temp_table(self, name: str, columns: list[str]) -> None:
        # Recreated: the spec may have gained fields since this session last made it.
        self.conn.execute(sql.SQL("drop table if exists pg_temp.{}").format(sql.Identifier(name)))
        self.conn.execute(
            sql.SQL("create temporary table {} ({}) on commit preserve rows").format(
                sql.Identifier(name), sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)
            )
        )

    def _copy(self, table: str, columns: list[str], rows: Iterable[tuple]) -> None:
        self.conn.execute(sql.SQL("truncate {}").format(sql.Identifier(table)))
        statement = sql.SQL("copy {} ({}) from stdin").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        with self.conn.cursor().copy(statement) as cp:
            for row in rows:
                cp.write_row(row)

    def load(self, entities: list[dict]) -> LoadCounts:
        """Upsert live entities; replace the lines of those that changed."""
        self._copy(
            self.tmp,
            [c.name for c in self.columns] + ["raw"],
            (tuple(pluck(e, c.source) for c in self.columns) + (json.dumps(e),) for e in entities),
        )
        rows = self.conn.execute(self.upsert, {"run_id": self.run_id}).fetchall()
        changed = [row[0] for row in rows]
        counts = _tally([(ins, dele) for _id, ins, dele in rows], len(entities))
        if changed:
            by_id = {e["Id"]: e for e in entities}
            for child, table, tmp in self.children:
                counts.children[table] = self._replace_children(child, table, tmp, [by_id[i] for i in changed])
        return counts

    def _replace_children(self, child, table: str, tmp: str, parents: list[dict]) -> int:
        cols: list[Column] = list(child.columns)

        def rows():
            for parent in parents:
                for line_no, line in enumerate(parent.get(child.path) or []):
                    if line.get("DetailType") in child.skip_detail_types:
                        continue
                    yield (parent["Id"], str(line_no), *(pluck(line, c.source) for c in cols), json.dumps(line))

        self._copy(tmp, ["parent_id", "line_no"] + [c.name for c in cols] + ["raw"], rows())
        parent_ids = [p["Id"] for p in parents]
        self.conn.execute(
            sql.SQL("delete from staging.{} where parent_id = any(%s)").format(sql.Identifier(table)), (parent_ids,)
        )
        names = ["parent_id", "line_no"] + [c.name for c in cols]
        types = ["text", "integer"] + [c.type for c in cols]
        return self.conn.execute(
            sql.SQL("insert into staging.{t} ({cols}, raw, _run_id) select {sel}, src.raw::jsonb, %s from {tmp} src").format(
                t=sql.Identifier(table),
                cols=sql.SQL(", ").join(sql.Identifier(n) for n in names),
                sel=sql.SQL(", ").join(
                    sql.SQL("src.{}::{}").format(sql.Identifier(n), sql.SQL(t)) for n, t in zip(names, types, strict=True)
                ),
                tmp=sql.Identifier(tmp),
            ),
            (self.run_id,),
        ).rowcount

    def mark_deleted(self, ids: list[str]) -> int:
        """CDC deletions carry only an Id: keep the last known row, flag it deleted."""
        if not ids:
            return 0
        return self.conn.execute(
            sql.SQL(
                "update staging.{} set _deleted = true, _run_id = %s, _extracted_at = now() "
                "where id = any(%s) and not _deleted"
            ).format(sql.Identifier(self.spec.table)),
            (self.run_id, ids),
        ).rowcount


def _newest(entities: Iterable[dict], current: datetime | None) -> datetime | None:
    for entity in entities:
        stamp = (entity.get("MetaData") or {}).get("LastUpdatedTime")
        if stamp:
            when = parse_qbo_time(stamp)
            if current is None or when > current:
                current = when
    return current


def extract_entity(
    client,
    conn,
    spec: QboEntity,
    *,
    run_id: str | None,
    full_refresh: bool = False,
    safety_window: timedelta = timedelta(minutes=10),
    now: datetime | None = None,
    progress=log.info,
) -> dict:
    """Extract one QBO entity; `conn` must be autocommit (each page commits on its own)."""
    added = ensure_staging_table(conn, spec)
    now = now or datetime.now(UTC)
    previous = watermark.get(conn, SOURCE, spec.name)
    loader = _EntityLoader(conn, spec, run_id)
    counts = LoadCounts()
    newest = previous
    mode = "full" if full_refresh or previous is None or added else "incremental"
    reason = f"new field(s) {', '.join(added)} since the last extract" if added and previous is not None else ""
    changes: list[dict] = []
    if mode == "incremental":
        since = previous - safety_window
        if now - since >= CDC_MAX_AGE - timedelta(hours=1):
            mode, reason = "full", "watermark older than the 30-day CDC window"
        else:
            changes = client.cdc([spec.name], since).get(spec.name, [])
            if len(changes) >= CDC_MAX_OBJECTS:
                mode, reason = "full", f"CDC returned its cap of {CDC_MAX_OBJECTS} objects"
    progress(f"QBO {spec.name}: {mode} extract" + (f" ({reason})" if reason else ""))

    if mode == "incremental":
        live = [e for e in changes if e.get("status") != "Deleted"]
        deleted_ids = [e["Id"] for e in changes if e.get("status") == "Deleted"]
        with conn.transaction():
            counts.add(loader.load(live))
            counts.deleted += loader.mark_deleted(deleted_ids)
        counts.rows_read = len(changes)
        newest = _newest(changes, newest)
    else:
        seen = SeenIds(conn, f"seen_{spec.table}")
        for page in client.query_pages(spec.name, page_size=1000):
            with conn.transaction():
                counts.add(loader.load(page))
                seen.add(e["Id"] for e in page)
            newest = _newest(page, newest)
            progress(f"QBO {spec.name}: page {counts.pages}, {counts.rows_read:,} read")
        with conn.transaction():
            counts.deleted += seen.mark_missing_deleted(spec.table, run_id)
    # CDC asks "what changed since T", so the cursor is the time this read started (the safety
    # window absorbs clock skew), not the newest LastUpdatedTime: with a quiet entity that
    # would age past the 30-day CDC window and force a full reload every night.
    newest = max(filter(None, (newest, now)))
    watermark.advance(conn, SOURCE, spec.name, newest, run_id)
    return {"source": SOURCE, "object": spec.name, "table": f"staging.{spec.table}", "mode": mode,
            "counts": counts, "watermark": newest}
