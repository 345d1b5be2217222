"""One suite run end to end: snapshot, validate, quarantine, store, and the verdict.

Severity, from the suite file to Dagster:
* table-level expectation fails (or cannot be evaluated): its GX severity decides:
  critical -> ERROR (blocks downstream when the suite is `blocking`), warning -> WARN, info ->
  reported only;
* row-level expectation fails: the rows are quarantined and the rest goes on -> WARN (info
  stays info). It is escalated to table-level, with its own severity, when the failure is not
  about single rows: more than `max_percent` of the rows fail, more than `max_rows` fail (then
  nothing new is quarantined), or failing rows carry no key to quarantine them by.
A metric error (a typo in a column name) never releases quarantined rows: it judged nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field

from ledgerlink import db
from ledgerlink.quality import quarantine, results, runner
from ledgerlink.quality.runner import Evaluation
from ledgerlink.quality.snapshot import snapshot
from ledgerlink.quality.suites import Rule, Suite, load_parameters

ERROR, WARN, INFO = "error", "warn", "info"
_SEVERITY_LEVEL = {"critical": ERROR, "warning": WARN, "info": INFO}


def grade(outcome: str, severity: str, row_level: bool, escalated: bool) -> str | None:
    """ERROR / WARN / INFO for a failed expectation, None when it passed (see module doc)."""
    if outcome == "passed":
        return None
    graded = _SEVERITY_LEVEL[severity]
    if row_level and not escalated and outcome == "failed":
        return INFO if graded == INFO else WARN
    return graded


@dataclass
class RuleOutcome:
    rule: Rule
    evaluation: Evaluation
    escalated: str | None = None  # why a row-level failure counts as table-level
    quarantined: int = 0
    newly_quarantined: int = 0
    released: int = 0

    @property
    def outcome(self) -> str:
        if self.evaluation.error:
            return "error"
        return "passed" if self.evaluation.success else "failed"

    @property
    def level(self) -> str | None:
        """ERROR / WARN / INFO for a failure, None when the expectation passed."""
        return grade(self.outcome, self.rule.severity, bool(self.rule.quarantine), bool(self.escalated))

    @property
    def message(self) -> str | None:
        if self.evaluation.error:
            return f"could not be evaluated: {self.evaluation.error}"
        return self.escalated


@dataclass
class SuiteRun:
    suite: Suite
    run_id: str
    row_count: int
    outcomes: list[RuleOutcome] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds: snapshot, pass_1..3, settle

    def failures(self, level: str) -> list[RuleOutcome]:
        return [o for o in self.outcomes if o.level == level]

    @property
    def severity(self) -> str | None:
        """The check's severity: ERROR if any blocking-grade failure, else WARN, else None."""
        if self.failures(ERROR):
            return ERROR
        if self.failures(WARN):
            return WARN
        return None

    @property
    def passed(self) -> bool:
        return self.severity is None

    @property
    def blocks(self) -> bool:
        return self.suite.blocking and self.severity == ERROR

    @property
    def quarantined(self) -> int:
        return sum(o.quarantined for o in self.outcomes)

    @property
    def released(self) -> int:
        return sum(o.released for o in self.outcomes)

    def result_rows(self) -> list[dict]:
        return [_result_row(self, o) for o in self.outcomes]


def _value_of(rule: Rule, row: dict, index_columns: tuple[str, ...]) -> str | None:
    checked = [c for c in rule.columns if c in row] or [c for c in row if c not in index_columns]
    if len(checked) == 1:
        value = row.get(checked[0])
        return None if value is None else str(value)
    return json.dumps({c: row.get(c) for c in checked}, default=str)


def _failing_records(rule: Rule, rows: list[dict], index_columns: tuple[str, ...]) -> tuple[dict, int]:
    """record id -> offending value (first one seen); and how many rows had no record id."""
    key = rule.quarantine.key
    records: dict[str, str | None] = {}
    keyless = 0
    for row in rows:
        record_id = row.get(key)
        if record_id is None:
            keyless += 1
            continue
        records.setdefault(str(record_id), _value_of(rule, row, index_columns))
    return records, keyless


def _settle(conn, suite: Suite, outcome: RuleOutcome, run_id: str) -> None:
    """Quarantine or release for a row-level expectation; decide escalation."""
    rule, ev = outcome.rule, outcome.evaluation
    q = rule.quarantine
    if ev.error:
        outcome.quarantined = quarantine.open_count(conn, suite=suite.name, expectation=rule.name)
        return
    failing: dict[str, str | None] = {}
    if not ev.success:
        if ev.failing is None:  # not listed (too many, or GX cannot): nothing to quarantine by
            outcome.escalated = ev.unlisted or (
                f"{ev.unexpected_count} failing rows exceed max_rows={q.max_rows}: a table-level problem"
            )
            outcome.quarantined = quarantine.open_count(conn, suite=suite.name, expectation=rule.name)
            return
        failing, keyless = _failing_records(rule, ev.failing, suite.index_columns)
        reasons = []
        if q.max_percent is not None and (ev.unexpected_percent or 0) > q.max_percent:
            reasons.append(f"{ev.unexpected_percent:.1f}% of rows fail, above max_percent={q.max_percent}")
        if keyless:
            reasons.append(f"{keyless} failing rows have no {q.key} to quarantine them by")
        outcome.escalated = "; ".join(reasons) or None
    change = quarantine.reconcile(
        conn,
        suite=suite.name,
        expectation=rule.name,
        table_name=q.table,
        column=rule.column,
        severity=rule.severity,
        reason=rule.description,
        failing=failing,
        run_id=run_id,
    )
    outcome.quarantined, outcome.newly_quarantined, outcome.released = change.open, change.added, change.released


def _result_row(run: SuiteRun, o: RuleOutcome) -> dict:
    ev = o.evaluation
    return {
        "run_id": run.run_id,
        "suite": run.suite.name,
        "asset_key": run.suite.asset_path,
        "expectation": o.rule.name,
        "expectation_type": o.rule.type,
        "column_name": o.rule.column,
        "severity": o.rule.severity,
        "level": o.rule.level,
        "blocking": run.suite.blocking,
        "outcome": o.outcome,
        "escalated": bool(o.escalated),
        "suite_rows": run.row_count,
        "element_count": ev.element_count,
        "unexpected_count": ev.unexpected_count,
        "unexpected_percent": ev.unexpected_percent,
        "quarantined": o.quarantined,
        "newly_quarantined": o.newly_quarantined,
        "released": o.released,
        "examples": ev.examples,
        "observed": ev.observed,
        "message": o.message,
        "description": o.rule.description,
    }


def run_suite(
    url: str,
    suite: Suite,
    *,
    run_id: str,
    run_date: dt.date | None = None,
    parameters: dict | None = None,
    source_table: str | None = None,
) -> SuiteRun:
    """Validate `suite` now, quarantine and release its rows, and store the results.

    `source_table` validates another table with the same columns (tests, dry runs).
    """
    params = dict(load_parameters() if parameters is None else parameters)
    params["run_date"] = (run_date or dt.date.today()).isoformat()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with snapshot(url, suite, source_table) as (schema, table):
        with db.connect(url) as conn:
            row_count = conn.execute(f'select count(*) from {schema}."{table}"').fetchone()[0]
        timings["snapshot"] = time.perf_counter() - start
        evaluations = runner.evaluate(url, schema, table, suite, params, timings=timings)
    run = SuiteRun(suite, run_id, row_count, [RuleOutcome(ev.rule, ev) for ev in evaluations], timings)
    start = time.perf_counter()
    with db.connect(url) as conn:  # one transaction: quarantine and results agree
        for outcome in run.outcomes:
            if outcome.rule.quarantine:
                _settle(conn, suite, outcome, run_id)
        row_level = [r.name for r in suite.rules if r.quarantine]
        quarantine.release_retired(conn, suite=suite.name, expectations=row_level, run_id=run_id)
        results.store(conn, run.result_rows())
    timings["settle"] = time.perf_counter() - start
    return run


def run_suites(
    url: str, suites: list[Suite], *, run_id: str, run_date: dt.date | None = None
) -> list[SuiteRun]:
    parameters = load_parameters()
    return [run_suite(url, s, run_id=run_id, run_date=run_date, parameters=parameters) for s in suites]
