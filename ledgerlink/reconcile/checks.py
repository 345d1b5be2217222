"""Invariants a month's stored report must satisfy, checked against the staging tables.

Used by the Dagster asset check after each build: a failure means the report itself is wrong
(not the data), so it names what does not add up.
"""

from __future__ import annotations

import psycopg

from ledgerlink.reconcile.build import Month


def bridge_problems(conn: psycopg.Connection, month: Month | str) -> list[str]:
    month = Month.parse(month) if not isinstance(month, Month) else month
    problems: list[str] = []
    lines = conn.execute(
        "select line, rows, amount_home from report.bridge where month = %s order by position", (month.key,)
    ).fetchall()
    if not lines:
        return [f"no bridge stored for {month}"]
    closed_won, *categories, invoiced = lines
    total = closed_won[2] + sum(c[2] for c in categories)
    if total != invoiced[2]:
        problems.append(
            f"Closed Won {closed_won[2]} + category effects {total - closed_won[2]} = {total}, "
            f"not the Invoiced total {invoiced[2]}"
        )
    expected_opportunities = conn.execute(
        "select count(*) from staging.sf_opportunity where coalesce(is_won, false) and not _deleted "
        "and not coalesce(is_deleted, false) and close_date >= %s and close_date < %s",
        (month.start, month.next),
    ).fetchone()[0]
    if closed_won[1] != expected_opportunities:
        problems.append(
            f"{closed_won[1]} opportunity rows, but staging has {expected_opportunities} Closed Won "
            f"opportunities closed in {month}"
        )
    missing = conn.execute(
        """
        select count(*) from staging.qb_invoice i
        where i.txn_date >= %s and i.txn_date < %s
          and not exists (select 1 from report.reconciliation r where r.month = %s and r.qbo_invoice_id = i.id)
        """,
        (month.start, month.next, month.key),
    ).fetchone()[0]
    if missing:
        problems.append(f"{missing} invoice(s) dated in {month} are on no reconciliation row")
    twice = conn.execute(
        "select count(*) from (select qbo_invoice_id from report.reconciliation where month = %s "
        "and qbo_invoice_id is not null and invoiced_home <> 0 group by 1 having count(*) > 1) d",
        (month.key,),
    ).fetchone()[0]
    if twice:
        problems.append(f"{twice} invoice(s) counted in the Invoiced total more than once")
    return problems
