"""`sync.quality_result`: one row per expectation per suite run, read back by the report."""

from __future__ import annotations

from psycopg.types.json import Jsonb

_COLUMNS = (
    "run_id", "suite", "asset_key", "expectation", "expectation_type", "column_name", "severity", "level",
    "blocking", "outcome", "escalated", "suite_rows", "element_count", "unexpected_count", "unexpected_percent",
    "quarantined", "newly_quarantined", "released", "examples", "observed", "message", "description",
)


def store(conn, rows: list[dict]) -> None:
    if not rows:
        return
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    conn.cursor().executemany(
        f"insert into sync.quality_result ({', '.join(_COLUMNS)}) values ({placeholders})",
        [
            tuple(
                Jsonb(row[c]) if c in ("examples", "observed") and row.get(c) is not None else row.get(c)
                for c in _COLUMNS
            )
            for row in rows
        ],
    )


def latest_run_id(conn) -> str | None:
    row = conn.execute(
        "select run_id from sync.quality_result order by checked_at desc, id desc limit 1"
    ).fetchone()
    return row[0] if row else None


def load(conn, run_id: str) -> list[dict]:
    """The results of one run: for each suite its latest validation in that run."""
    cur = conn.execute(
        """with latest as (
               select suite, max(checked_at) as checked_at
               from sync.quality_result where run_id = %(run)s group by suite)
           select r.* from sync.quality_result r
           join latest l on l.suite = r.suite and l.checked_at = r.checked_at
           where r.run_id = %(run)s
           order by r.suite, r.id""",
        {"run": run_id},
    )
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
