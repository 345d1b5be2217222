"""Month-end report assets: one partition per month, re-runnable and backfillable.

`report/reconciliation` builds the Closed-Won-versus-Invoiced rows, the bridge and the totals
by customer and owner; `report/aging` the receivables aging and DSO. Both write their CSV files
to `Settings.reports.output_dir` and keep the rows in `report.*`. The logic lives in
`ledgerlink.reconcile`; this module is wiring.
"""

import dagster as dg

from ledgerlink.reconcile.build import Month, build_aging, build_reconciliation
from ledgerlink.reconcile.checks import bridge_problems
from ledgerlink.reconcile.exports import write_exports
from ledgerlink.reconcile.report import load_month
from pipelines.partitions import monthly_partitions
from pipelines.resources import PostgresResource, SettingsResource


def _staging(*tables: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(["staging", t]) for t in tables]


RECONCILIATION_DEPS = [
    *_staging(
        "sf_opportunity", "sf_opportunity_line_item", "sf_account", "sf_user",
        "qb_invoice", "qb_credit_memo", "qb_payment", "qb_customer",
    ),
    dg.AssetKey("customer_matches"),
]
AGING_DEPS = _staging("qb_invoice", "qb_payment", "qb_customer", "qb_credit_memo")


def _month(context: dg.AssetExecutionContext) -> Month:
    return Month.parse(context.partition_key)


def _files(files: dict) -> dict:
    return {f"file.{name}": dg.MetadataValue.path(str(path)) for name, path in files.items()}


@dg.asset(
    key=["report", "reconciliation"],
    group_name="reports",
    partitions_def=monthly_partitions,
    deps=RECONCILIATION_DEPS,
    kinds={"postgres", "csv"},
    check_specs=[
        dg.AssetCheckSpec(
            "bridge_adds_up",
            asset=dg.AssetKey(["report", "reconciliation"]),
            description="The stored bridge adds up to the cent and covers every Closed Won opportunity "
            "and every invoice of the month exactly once.",
        )
    ],
    description="Closed Won versus Invoiced for the month: one row per opportunity or invoice with a "
    "category and variance, the bridge from the Closed Won total to the Invoiced total, and totals "
    "by customer and by opportunity owner (CSV files and report.* tables).",
)
def reconciliation(
    context: dg.AssetExecutionContext, warehouse: PostgresResource, settings: SettingsResource
) -> dg.MaterializeResult:
    month = _month(context)
    reports = settings.settings.reports
    with warehouse.connect() as conn:
        build_reconciliation(conn, month, reports)
        files = write_exports(conn, "reconciliation", month.key, reports.output_dir)
        conn.commit()
        report = load_month(conn, month.key)
        problems = bridge_problems(conn, month)
        rows = conn.execute("select count(*) from report.reconciliation where month = %s", (month.key,)).fetchone()[0]
    context.log.info("\n" + report.summary_text())
    bridge = dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {"line": b.line, "rows": b.rows, "amount": f"{b.amount_home:.2f}", "running": f"{b.running_home:.2f}"}
            )
            for b in report.bridge
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("line", "string"),
                dg.TableColumn("rows", "int"),
                dg.TableColumn("amount", "string", description=f"{report.home_currency}, two decimals"),
                dg.TableColumn("running", "string", description="running total from Closed Won to Invoiced"),
            ]
        ),
    )
    return dg.MaterializeResult(
        metadata={
            "month": month.key,
            "bridge": bridge,
            "closed_won_total": float(report.closed_won_total),
            "invoiced_total": float(report.invoiced_total),
            "home_currency": report.home_currency,
            "dagster/row_count": rows,
            **_files(files),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="bridge_adds_up",
                passed=not problems,
                metadata={"month": month.key, "problems": "; ".join(problems) or "none"},
            )
        ],
    )


@dg.asset(
    key=["report", "aging"],
    group_name="reports",
    partitions_def=monthly_partitions,
    deps=AGING_DEPS,
    kinds={"postgres", "csv"},
    description="Open invoices at the month's last day by bucket (Current, 1-30, 31-60, 61-90, 91+ days "
    "past the due date), per customer, and days sales outstanding (CSV files and report.* tables).",
)
def aging(
    context: dg.AssetExecutionContext, warehouse: PostgresResource, settings: SettingsResource
) -> dg.MaterializeResult:
    month = _month(context)
    reports = settings.settings.reports
    with warehouse.connect() as conn:
        build_aging(conn, month, reports)
        files = write_exports(conn, "aging", month.key, reports.output_dir)
        conn.commit()
        summary = conn.execute(
            "select as_of_date, open_invoices, current_home, days_1_30_home, days_31_60_home, days_61_90_home, "
            "days_91_plus_home, receivables_home, credit_sales_home, dso_days, home_currency "
            "from report.aging_summary where month = %s",
            (month.key,),
        ).fetchone()
    as_of, open_invoices, *buckets, receivables, sales, dso, home = summary
    bucket_table = "\n".join(
        ["| bucket (days past due) | amount |", "|---|---:|"]
        + [f"| {name} | {amount:,.2f} |" for name, amount in zip(
            ("Current", "1-30", "31-60", "61-90", "91+"), buckets, strict=True)]
        + [f"| **Total** | **{receivables:,.2f}** |"]
    )
    return dg.MaterializeResult(
        metadata={
            "month": month.key,
            "as_of_date": as_of.isoformat(),
            "aged_from": "due date",
            "open_invoices": open_invoices,
            "receivables_home": float(receivables),
            "credit_sales_home": float(sales),
            "dso_days": float(dso) if dso is not None else None,
            "home_currency": home,
            "buckets": dg.MetadataValue.md(bucket_table),
            **_files(files),
        }
    )


defs = dg.Definitions(assets=[reconciliation, aging])
