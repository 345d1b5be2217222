"""`sync.quarantine`: records held back from the loads because a row-level expectation failed.

Keyed by the record (`table_name`, `record_id`) and by what caught it (`suite`, `expectation`).
Each validation of a row-level expectation reconciles its open rows with the failing set:
still failing -> `last_seen_run` moves on; newly failing -> a new open row; no longer failing
(fixed at the source, or deleted there) -> released. The loads call `open_quarantine_ids`.
"""

from __future__ import annotations

from dataclasses import dataclass

_TEMP = "_quality_failing"


@dataclass(frozen=True)
class QuarantineChange:
    added: int
    released: int
    open: int


def _load_failing(conn, failing: dict[str, str | None]) -> None:
    conn.execute(f"create temp table if not exists {_TEMP} (record_id text primary key, value text)")
    conn.execute(f"truncate {_TEMP}")
    if failing:
        with conn.cursor().copy(f"copy {_TEMP} (record_id, value) from stdin") as copy:
            for record_id, value in failing.items():
                copy.write_row((record_id, value))


def reconcile(
    conn,
    *,
    suite: str,
    expectation: str,
    table_name: str,
    column: str | None,
    severity: str,
    reason: str,
    failing: dict[str, str | None],
    run_id: str,
) -> QuarantineChange:
    """Make the open rows of (`suite`, `expectation`) equal to `failing` (record id -> value)."""
    _load_failing(conn, failing)
    scope = {"suite": suite, "expectation": expectation, "table_name": table_name, "run_id": run_id}
    conn.execute(
        f"""update sync.quarantine q
            set last_seen_run = %(run_id)s, last_seen_at = now(), value = f.value
            from {_TEMP} f
            where q.released_at is null and q.suite = %(suite)s and q.expectation = %(expectation)s
              and q.table_name = %(table_name)s and q.record_id = f.record_id""",
        scope,
    )
    added = conn.execute(
        f"""insert into sync.quarantine
                (table_name, record_id, suite, expectation, column_name, value, reason, severity,
                 first_seen_run, last_seen_run)
            select %(table_name)s, f.record_id, %(suite)s, %(expectation)s, %(column)s, f.value,
                   %(reason)s, %(severity)s, %(run_id)s, %(run_id)s
            from {_TEMP} f
            where not exists (
                select 1 from sync.quarantine q
                where q.released_at is null and q.suite = %(suite)s and q.expectation = %(expectation)s
                  and q.table_name = %(table_name)s and q.record_id = f.record_id)""",
        {**scope, "column": column, "reason": reason, "severity": severity},
    ).rowcount
    # A row whose table changed in the suite file is released too: it no longer describes a hold.
    released = conn.execute(
        f"""update sync.quarantine q
            set released_at = now(), released_run = %(run_id)s
            where q.released_at is null and q.suite = %(suite)s and q.expectation = %(expectation)s
              and (q.table_name <> %(table_name)s
                   or not exists (select 1 from {_TEMP} f where f.record_id = q.record_id))""",
        scope,
    ).rowcount
    return QuarantineChange(added=added, released=released, open=len(failing))


def release_retired(conn, *, suite: str, expectations: list[str], run_id: str) -> int:
    """Release open rows of expectations no longer in the suite (removed or turned table-level)."""
    return conn.execute(
        """update sync.quarantine
           set released_at = now(), released_run = %s
           where released_at is null and suite = %s and not (expectation = any(%s))""",
        (run_id, suite, expectations),
    ).rowcount


def release_removed_suites(conn, *, suites: list[str], run_id: str) -> int:
    """Release open rows of suites whose file is gone: nothing will ever re-check them."""
    return conn.execute(
        """update sync.quarantine
           set released_at = now(), released_run = %s
           where released_at is null and not (suite = any(%s))""",
        (run_id, suites),
    ).rowcount


def open_count(conn, *, suite: str, expectation: str) -> int:
    return conn.execute(
        "select count(*) from sync.quarantine where released_at is null and suite = %s and expectation = %s",
        (suite, expectation),
    ).fetchone()[0]


def open_quarantine_ids(conn, table_name: str) -> set[str]:
    """Ids of `table_name` (e.g. 'staging.sf_opportunity') that the loads must skip."""
    rows = conn.execute(
        "select distinct record_id from sync.open_quarantine where table_name = %s", (table_name,)
    ).fetchall()
    return {r[0] for r in rows}


def open_rows(conn, table_name: str | None = None, limit: int = 200) -> list[dict]:
    """Open quarantine rows, newest first, for people (CLI)."""
    cur = conn.execute(
        """select table_name, record_id, suite, expectation, column_name, value, reason, severity,
                  first_seen_run, last_seen_run, first_seen_at
           from sync.open_quarantine
           where %(table)s::text is null or table_name = %(table)s
           order by first_seen_at desc, table_name, record_id
           limit %(limit)s""",
        {"table": table_name, "limit": limit},
    )
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
