"""Quality gates: one Dagster asset check per suite file in `expectations/`.

Each suite becomes `gx_<suite>` on the asset it names (`meta.asset`), blocking when the suite
says so. A blocking check that ends with ERROR severity stops every asset downstream of the
checked asset in the same run: matching and the loads, which is why they share the nightly job.
Row-level failures only quarantine their records (WARN) and the run goes on; the loads skip
the quarantined records (`ledgerlink.quality.quarantine.open_quarantine_ids`).

Checks are not partitioned (partitioned checks are a preview feature): a staging table is the
current copy of its source, so each run validates all of it, whichever partition it loads.
dagster-ge is not used: it pins great-expectations below 1.0. GX itself is imported only when a
check runs, never when Dagster loads this module.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from ledgerlink.config import settings
from ledgerlink.quality.gate import ERROR, run_suite
from ledgerlink.quality.quarantine import release_removed_suites
from ledgerlink.quality.report import check_metadata
from ledgerlink.quality.suites import Suite, default_suites
from pipelines.resources import PostgresResource


def _today() -> dt.date:
    """The run's date where the business is: a close date is 'in the future' after that."""
    return dt.datetime.now(ZoneInfo(settings().schedule.timezone)).date()


def suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    """The asset check that runs one suite."""

    @dg.asset_check(
        asset=dg.AssetKey(list(suite.asset_key)),
        name=suite.check_name,
        blocking=suite.blocking,
        additional_deps=[dg.AssetKey(list(k)) for k in suite.additional_deps] or None,
        description=f"{suite.description} (expectations/{suite.path.name})",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: PostgresResource) -> dg.AssetCheckResult:
        run = run_suite(warehouse.database_url, suite, run_id=context.run.run_id, run_date=_today())
        with warehouse.connect() as conn:
            release_removed_suites(conn, suites=[s.name for s in default_suites()], run_id=context.run.run_id)
        plain, markdown = check_metadata(run)
        for outcome in run.outcomes:
            if outcome.level:
                context.log.warning(
                    f"{suite.name}.{outcome.rule.name}: {outcome.outcome} "
                    f"({outcome.evaluation.unexpected_count or 0} rows; {outcome.message or outcome.rule.description})"
                )
        return dg.AssetCheckResult(
            passed=run.passed,
            severity=dg.AssetCheckSeverity.ERROR if run.severity == ERROR else dg.AssetCheckSeverity.WARN,
            metadata={**plain, **{k: dg.MetadataValue.md(v) for k, v in markdown.items()}},
        )

    return _check


quality_checks = [suite_check(s) for s in default_suites()]

defs = dg.Definitions(assets=[], asset_checks=quality_checks)
