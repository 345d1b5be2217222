"""Put a sandbox Dataset straight into the staging tables, as the extract would leave them.

Test-only shortcut (the real extract path is tested in tests/extract): Salesforce records map
field -> snake_case column, QBO entities use the extract's own dotted-path `pluck`, `raw` is
the record as JSON, and deleted records (`IsDeleted`, QBO `status: "Deleted"`) land with
`_deleted = true`, which is how the extract marks them.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from psycopg import sql

from ledgerlink.extract.qbo import pluck
from ledgerlink.extract.specs import QBO_ENTITIES, SALESFORCE_OBJECTS, child_table


def _sf_value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _json(record: dict) -> str:
    def default(value):
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(type(value))

    return json.dumps(record, default=default)


def _copy(conn, table: str, columns: list[str], rows) -> None:
    statement = sql.SQL("copy staging.{} ({}) from stdin").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with conn.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def load_dataset(conn, dataset, customer_links=None) -> None:
    """Load every record of `dataset` and the customer links (default: the ground truth's)."""
    for spec in SALESFORCE_OBJECTS:
        records = dataset.salesforce.get(spec.name) or []
        columns = [c.name for c in spec.columns] + ["raw", "_deleted"]
        _copy(
            conn,
            spec.table,
            columns,
            (
                [_sf_value(r.get(c.source)) for c in spec.columns] + [_json(r), bool(r.get("IsDeleted"))]
                for r in records
            ),
        )
    for entity in QBO_ENTITIES:
        records = dataset.qbo.get(entity.name) or []
        columns = [c.name for c in entity.all_columns] + ["raw", "_deleted"]
        _copy(
            conn,
            entity.table,
            columns,
            (
                [pluck(e, c.source) for c in entity.all_columns] + [_json(e), e.get("status") == "Deleted"]
                for e in records
            ),
        )
        for child in entity.children:

            def lines(child=child, records=records):
                for e in records:
                    for line_no, line in enumerate(e.get(child.path) or []):
                        if line.get("DetailType") in child.skip_detail_types:
                            continue
                        yield [e["Id"], line_no] + [pluck(line, c.source) for c in child.columns] + [_json(line)]

            _copy(
                conn,
                child_table(entity, child),
                ["parent_id", "line_no"] + [c.name for c in child.columns] + ["raw"],
                lines(),
            )
    links = dataset.truth.customer_links if customer_links is None else customer_links
    with conn.cursor() as cur:
        cur.executemany(
            # sync.customer_xref (sql/010_matching.sql) holds one QBO customer per account.
            "insert into sync.customer_xref (sf_account_id, qb_customer_id, method) values (%s, %s, 'manual') "
            "on conflict (sf_account_id) do nothing",
            [tuple(link) for link in links],
        )
