"""Put hand-made or generated records into the staging tables, column for column as the extract does."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from psycopg import sql

from ledgerlink.extract.qbo import pluck
from ledgerlink.extract.specs import SPECS_BY_KEY, child_table


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _upsert(conn, table: str, columns: list[str], values: list, key: list[str]) -> None:
    conn.execute(
        sql.SQL("insert into staging.{t} ({c}) values ({v}) on conflict ({k}) do update set {u}").format(
            t=sql.Identifier(table),
            c=sql.SQL(", ").join(map(sql.Identifier, columns)),
            v=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            k=sql.SQL(", ").join(map(sql.Identifier, key)),
            u=sql.SQL(", ").join(sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in columns),
        ),
        values,
    )


def put_sf(conn, obj: str, records: list[dict]) -> None:
    spec = SPECS_BY_KEY[("salesforce", obj)]
    for record in records:
        cols = [c.name for c in spec.columns] + ["raw", "_deleted"]
        vals = [record.get(c.source) for c in spec.columns]
        vals += [json.dumps(record, default=_plain), bool(record.get("IsDeleted", False))]
        _upsert(conn, spec.table, cols, vals, ["id"])


def put_qbo(conn, entity: str, entities: list[dict], deleted: bool = False) -> None:
    spec = SPECS_BY_KEY[("qbo", entity)]
    for record in entities:
        cols = [c.name for c in spec.all_columns] + ["raw", "_deleted"]
        vals = [pluck(record, c.source) for c in spec.all_columns] + [json.dumps(record, default=_plain), deleted]
        _upsert(conn, spec.table, cols, vals, ["id"])
        for child in spec.children:
            table = child_table(spec, child)
            conn.execute(sql.SQL("delete from staging.{} where parent_id = %s").format(sql.Identifier(table)),
                         [record["Id"]])
            rows = [r for r in record.get(child.path) or [] if r.get("DetailType") not in child.skip_detail_types]
            for number, line in enumerate(rows, start=1):
                ccols = ["parent_id", "line_no"] + [c.name for c in child.columns]
                cvals = [record["Id"], number] + [pluck(line, c.source) for c in child.columns]
                _upsert(conn, table, ccols, cvals, ["parent_id", "line_no"])
