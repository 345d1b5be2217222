"""Run a suite's expectations with Great Expectations over a Postgres table.

GX is imported here, lazily (it takes seconds), and runs in an ephemeral context: the suites
live in `expectations/`, not in a GX project folder, and nothing of GX's state is kept.

Three passes keep the common case cheap (most expectations pass on most nights):
1. `BOOLEAN_ONLY` for every expectation: only pass/fail, no queries for example values;
2. `SUMMARY` for the failures: counts, observed values and a few failing rows with their keys;
3. `COMPLETE` for row-level failures small enough to quarantine: every failing row's keys
   (`unexpected_index_list`, which GX 1.x computes in SQL for SQL sources).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledgerlink import db
from ledgerlink.quality.snapshot import WORK_MEM
from ledgerlink.quality.suites import Rule, Suite

log = logging.getLogger(__name__)

EXAMPLE_ROWS = 5
_MESSAGE_LIMIT = 500


@dataclass
class Evaluation:
    """What GX found for one expectation."""

    rule: Rule
    success: bool
    error: str | None = None  # the expectation could not be evaluated (configuration, not data)
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed: Any = None
    examples: list[dict] = field(default_factory=list)
    failing: list[dict] | None = None  # every failing row (index columns + value), row-level only
    unlisted: str | None = None  # why a row-level failure's rows could not be listed


def plain(value: Any) -> Any:
    """A JSON-safe copy of a value from a GX result."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _error_message(result) -> str | None:
    """The cause of a metric error, or None when the expectation was evaluated."""
    info = result.exception_info or {}
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for entry in entries:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message") or "GX could not evaluate this expectation")[:_MESSAGE_LIMIT]
    return None


@contextmanager
def _quiet():
    """GX warns that a generic SQL datasource could be a Postgres one (see below) and that
    `schema_name` will move to the connection settings; neither is actionable here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*generic SQLDatasource.*")
        warnings.filterwarnings("ignore", message=".*`schema_name` is deprecated.*")
        yield


class _Validator:
    """One GX context and datasource for a database; validates subsets of a suite."""

    def __init__(self, url: str):
        import great_expectations as gx  # noqa: PLC0415 - lazy: importing GX costs seconds
        from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: PLC0415

        self._gx = gx
        self.context = gx.get_context(mode="ephemeral")
        # tqdm bars would flood the Dagster compute logs.
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        # The SQL datasource (not add_postgres): its DSN validation rejects socket-only URLs
        # such as the embedded server's `postgresql://postgres:@/db?host=/path`.
        with _quiet():
            self.datasource = self.context.data_sources.add_sql(
                name="warehouse",
                connection_string=db.sqlalchemy_url(url, "psycopg"),
                # Uniqueness checks sort every key; at the default 4MB a million keys go to disk.
                kwargs={"connect_args": {"options": f"-c work_mem={WORK_MEM}"}},
            )

    def close(self) -> None:
        self.datasource.get_engine().dispose()

    def batch(self, schema: str, table: str):
        asset_name = f"{schema}.{table}"
        if asset_name in self.datasource.get_asset_names():
            asset = self.datasource.get_asset(asset_name)
        else:
            with _quiet():
                asset = self.datasource.add_table_asset(name=asset_name, table_name=table, schema_name=schema)
            asset.add_batch_definition_whole_table("all")
        with _quiet():
            return asset.get_batch_definition("all").get_batch()

    def validate(self, batch, suite: Suite, rules: tuple[Rule, ...], result_format, parameters: dict) -> dict:
        gx_suite = self._gx.ExpectationSuite(**suite.gx_json(rules))
        with _quiet():
            result = batch.validate(gx_suite, result_format=result_format, expectation_parameters=parameters)
        # Results come back regrouped by column, so pair them by the name we put in meta.
        return {r.expectation_config.meta["name"]: r for r in result.results}


def evaluate(
    url: str,
    schema: str,
    table: str,
    suite: Suite,
    parameters: dict,
    examples: int = EXAMPLE_ROWS,
    timings: dict | None = None,
) -> list[Evaluation]:
    """Evaluate every expectation of `suite` against `schema.table` (seconds per pass into `timings`)."""
    timings = {} if timings is None else timings
    start = time.perf_counter()
    validator = _Validator(url)
    try:
        batch = validator.batch(schema, table)
        first = validator.validate(batch, suite, suite.rules, "BOOLEAN_ONLY", parameters)
        timings["pass_1"] = time.perf_counter() - start
        evaluations = {}
        for rule in suite.rules:
            result = first[rule.name]
            evaluations[rule.name] = Evaluation(rule, bool(result.success), error=_error_message(result))

        failed = tuple(r for r in suite.rules if not evaluations[r.name].success and not evaluations[r.name].error)
        if failed:
            # The checked columns too: some expectations (value lengths) report only the index.
            start = time.perf_counter()
            summary = validator.validate(
                batch,
                suite,
                failed,
                {
                    "result_format": "SUMMARY",
                    "unexpected_index_column_names": _index_columns(suite, failed),
                    "partial_unexpected_count": examples,
                    "return_unexpected_index_query": False,
                },
                parameters,
            )
            for rule in failed:
                _read_summary(evaluations[rule.name], summary[rule.name], examples)
            timings["pass_2"] = time.perf_counter() - start

        for rule in failed:
            if rule.quarantine and not evaluations[rule.name].unexpected_count:
                evaluations[rule.name].unlisted = "GX reported the failure without failing rows"
        to_list = tuple(
            r for r in failed
            if r.quarantine and 0 < (evaluations[r.name].unexpected_count or 0) <= r.quarantine.max_rows
        )
        if to_list:
            start = time.perf_counter()
            complete = validator.validate(
                batch,
                suite,
                to_list,
                {
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": _index_columns(suite, to_list),
                    "return_unexpected_index_query": False,
                },
                parameters,
            )
            for rule in to_list:
                rows = complete[rule.name].result.get("unexpected_index_list")
                if rows is None:  # e.g. multicolumn expectations on SQL: GX cannot name the rows
                    evaluations[rule.name].unlisted = "GX does not list the failing rows of this expectation"
                else:
                    evaluations[rule.name].failing = [plain(row) for row in rows]
            timings["pass_3"] = time.perf_counter() - start
        return [evaluations[r.name] for r in suite.rules]
    finally:
        validator.close()


def _index_columns(suite: Suite, rules: tuple[Rule, ...]) -> list[str]:
    columns = list(suite.index_columns)
    for rule in rules:
        columns += [c for c in rule.columns if c not in columns]
    return columns


def _read_summary(evaluation: Evaluation, result, examples: int) -> None:
    evaluation.error = _error_message(result)
    data = result.result or {}
    evaluation.element_count = data.get("element_count")
    evaluation.unexpected_count = data.get("unexpected_count")
    evaluation.unexpected_percent = data.get("unexpected_percent")
    evaluation.observed = plain(data.get("observed_value"))
    rows = data.get("partial_unexpected_index_list")
    if rows:
        evaluation.examples = [plain(row) for row in rows[:examples]]
    elif data.get("partial_unexpected_list"):
        column = evaluation.rule.column or "value"
        evaluation.examples = [{column: plain(v)} for v in data["partial_unexpected_list"][:examples]]
