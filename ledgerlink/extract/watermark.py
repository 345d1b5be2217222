"""Incremental positions in `sync.watermark`, advanced only after the data commits."""

from __future__ import annotations

from datetime import datetime


def get(conn, source: str, obj: str) -> datetime | None:
    row = conn.execute(
        "select watermark from sync.watermark where source = %s and object = %s", (source, obj)
    ).fetchone()
    return row[0] if row else None


def advance(conn, source: str, obj: str, watermark: datetime | None, run_id: str | None) -> None:
    """Store the new watermark; never moves backwards (an overlapping re-read can't rewind it)."""
    if watermark is None:
        return
    conn.execute(
        """
        insert into sync.watermark (source, object, watermark, run_id, updated_at)
        values (%s, %s, %s, %s, now())
        on conflict (source, object) do update
        set watermark = greatest(sync.watermark.watermark, excluded.watermark),
            run_id = excluded.run_id, updated_at = now()
        """,
        (source, obj, watermark, run_id),
    )


def reset(conn, source: str, obj: str) -> None:
    conn.execute("delete from sync.watermark where source = %s and object = %s", (source, obj))
