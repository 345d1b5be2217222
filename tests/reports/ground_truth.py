"""Compare the stored report with the sandbox generator's ground truth, row by row."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from ledgerlink.config import ReportSettings
from ledgerlink.reconcile.build import build_reconciliation


def truth_rows(dataset) -> dict[str, dict[tuple, tuple]]:
    """month -> {(opportunity id, invoice id): (category, closed_won_home, invoiced_home)}."""
    by_month: dict[str, dict[tuple, tuple]] = defaultdict(dict)
    for row in dataset.truth.reconciliation:
        key = (row["sf_opportunity_id"], row["qb_invoice_id"])
        assert key not in by_month[row["month"]], f"ground truth has two rows for {key} in {row['month']}"
        by_month[row["month"]][key] = (row["category"], Decimal(row["closed_won_home"]), Decimal(row["invoiced_home"]))
    return by_month


def report_rows(conn, month: str) -> dict[tuple, tuple]:
    return {
        (opp, inv): (category, closed, invoiced)
        for opp, inv, category, closed, invoiced in conn.execute(
            "select sf_opportunity_id, qbo_invoice_id, category, closed_won_home, invoiced_home "
            "from report.reconciliation where month = %s",
            (month,),
        )
    }


def differences(conn, dataset, settings: ReportSettings, months=None, build=True) -> list[str]:
    """Build each month (default: every month in the truth); describe every row or total that differs."""
    expected = truth_rows(dataset)
    problems: list[str] = []
    for month in sorted(months or expected):
        if build:
            build_reconciliation(conn, month, settings)
        got = report_rows(conn, month)
        want = expected.get(month, {})
        for key in sorted(set(got) | set(want), key=str):
            if got.get(key) != want.get(key):
                problems.append(f"{month} {key}: report {got.get(key)} != truth {want.get(key)}")
        totals = dict(
            conn.execute("select line, amount_home from report.bridge where month = %s", (month,)).fetchall()
        )
        closed = sum((v[1] for v in want.values()), Decimal(0))
        invoiced = sum((v[2] for v in want.values()), Decimal(0))
        if (totals.get("Closed Won total"), totals.get("Invoiced total")) != (closed, invoiced):
            problems.append(
                f"{month} bridge totals {totals.get('Closed Won total')} / {totals.get('Invoiced total')} "
                f"!= truth {closed} / {invoiced}"
            )
        for category in {v[0] for v in want.values()}:
            effect = sum((v[2] - v[1] for v in want.values() if v[0] == category), Decimal(0))
            if totals.get(category) != effect:
                problems.append(f"{month} bridge {category}: {totals.get(category)} != truth {effect}")
    return problems
