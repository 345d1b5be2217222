"""Readable results: the `ledgerlink quality report` text and the Dagster check metadata.

Both read result rows (the dicts stored in `sync.quality_result`), so a report printed the next
morning says the same as the check did during the night.
"""

from __future__ import annotations

import json
from collections import defaultdict

from ledgerlink.quality.gate import ERROR, INFO, WARN, SuiteRun, grade

_LABEL = {ERROR: "ERROR", WARN: "WARN", INFO: "INFO", None: "ok"}
MAX_EXAMPLES = 5


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def row_grade(row: dict) -> str | None:
    return grade(row["outcome"], row["severity"], row["level"] == "row", bool(row["escalated"]))


def _examples(row: dict, limit: int = MAX_EXAMPLES) -> str:
    examples = row.get("examples") or []
    if isinstance(examples, str):
        examples = json.loads(examples)
    parts = [", ".join(f"{k}={v!s}" if v is not None else f"{k}=null" for k, v in ex.items()) for ex in examples[:limit]]
    return "; ".join(parts)


def _what_failed(row: dict) -> str:
    if row["outcome"] == "error":
        return row.get("message") or "could not be evaluated"
    count, pct = row.get("unexpected_count"), row.get("unexpected_percent")
    if count is None:
        observed = row.get("observed")
        return f"observed {json.dumps(observed, default=str)}" if observed is not None else "failed"
    text = f"{_n(count, 'row')} failed"
    if pct is not None:
        text += f" ({pct:.1f}%)"
    return text


def _suite_grade(rows: list[dict]) -> str | None:
    grades = {row_grade(r) for r in rows}
    return ERROR if ERROR in grades else WARN if WARN in grades else None


def render_text(rows: list[dict], run_id: str) -> str:
    """The report for people: what failed, how many rows, example values, what was held back."""
    if not rows:
        return f"No quality results for run {run_id}."
    by_suite: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_suite[row["suite"]].append(row)
    checked = max(r["checked_at"] for r in rows)
    failed = [r for r in rows if r["outcome"] == "failed"]
    errors = [r for r in rows if r["outcome"] == "error"]
    blocked = sorted(s for s, rs in by_suite.items() if rs[0]["blocking"] and _suite_grade(rs) == ERROR)
    held = sum(r["quarantined"] for r in rows if r["level"] == "row")
    new = sum(r["newly_quarantined"] for r in rows)
    released = sum(r["released"] for r in rows)

    lines = [
        f"Quality report for run {run_id} (checked {checked:%Y-%m-%d %H:%M %Z})",
        f"{_n(len(by_suite), 'suite')}, {_n(len(rows), 'expectation')}: {len(rows) - len(failed) - len(errors)} passed, "
        f"{len(failed)} failed, {len(errors)} could not run.",
        f"Loads stopped by: {', '.join(blocked)}." if blocked else "No blocking failure: the loads may run.",
        f"Quarantine: {_n(held, 'record hold')} open ({new} new this run), {released} released.",
        "",
    ]
    for suite, suite_rows in sorted(by_suite.items(), key=lambda kv: (_order(_suite_grade(kv[1])), kv[0])):
        verdict = _suite_grade(suite_rows)
        first = suite_rows[0]
        bad = [r for r in suite_rows if r["outcome"] != "passed"]
        blocking = "; blocks the loads" if first["blocking"] and verdict == ERROR else ""
        lines.append(
            f"[{_LABEL[verdict]}] {suite} ({first['asset_key']}, {first.get('suite_rows') or 0} rows): "
            f"{len(suite_rows) - len(bad)}/{len(suite_rows)} passed{blocking}"
        )
        for row in bad:
            column = f" [{row['column_name']}]" if row.get("column_name") else ""
            lines.append(f"    {_LABEL[row_grade(row)]:5} {row['expectation']}{column}: {row.get('description') or ''}")
            detail = f"{row['level']}-level, {row['severity']}: {_what_failed(row)}"
            if row["level"] == "row":
                detail += f"; {row['quarantined']} held ({row['newly_quarantined']} new), {row['released']} released"
            if row.get("escalated") and row.get("message"):
                detail += f"; treated as table-level: {row['message']}"
            lines.append(f"          {detail}")
            examples = _examples(row)
            if examples:
                lines.append(f"          e.g. {examples}")
        released_only = [r for r in suite_rows if r["outcome"] == "passed" and r["released"]]
        for row in released_only:
            lines.append(f"    ok    {row['expectation']}: {row['released']} released")
    return "\n".join(lines)


def _order(verdict: str | None) -> int:
    return {ERROR: 0, WARN: 1, INFO: 2, None: 3}[verdict]


def _md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def failures_markdown(rows: list[dict]) -> str:
    bad = [r for r in rows if r["outcome"] != "passed"]
    if not bad:
        return "All expectations passed."
    lines = [
        "| grade | expectation | column | severity | level | what failed | quarantined | examples |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in bad:
        held = f"{r['quarantined']} ({r['newly_quarantined']} new)" if r["level"] == "row" else ""
        lines.append(
            "| " + " | ".join(
                _md_cell(x)
                for x in (
                    _LABEL[row_grade(r)], r["expectation"], r.get("column_name") or "", r["severity"],
                    r["level"] + (" (escalated)" if r.get("escalated") else ""), _what_failed(r), held,
                    _examples(r, 3),
                )
            ) + " |"
        )
    return "\n".join(lines)


def failing_rows_markdown(rows: list[dict]) -> str:
    """One line per example failing row, across the suite's failed expectations."""
    lines = ["| expectation | row |", "|---|---|"]
    for r in rows:
        for ex in r.get("examples") or []:
            lines.append(f"| {_md_cell(r['expectation'])} | {_md_cell(json.dumps(ex, default=str))} |")
    return "\n".join(lines) if len(lines) > 2 else "No failing rows."


def check_metadata(run: SuiteRun) -> tuple[dict, dict]:
    """(plain values, markdown texts) for the Dagster check result."""
    rows = run.result_rows()
    plain = {
        "suite_file": f"expectations/{run.suite.path.name}",
        "source": run.suite.source.describe(),
        "rows_validated": run.row_count,
        "expectations": len(rows),
        "failed": sum(r["outcome"] == "failed" for r in rows),
        "could_not_run": sum(r["outcome"] == "error" for r in rows),
        "blocking_failures": len(run.failures(ERROR)),
        "quarantined_records": run.quarantined,
        "newly_quarantined": sum(r["newly_quarantined"] for r in rows),
        "released": run.released,
        "seconds": round(sum(run.timings.values()), 2),
    }
    markdown = {"failures": failures_markdown(rows), "failing_rows_preview": failing_rows_markdown(rows)}
    return plain, markdown
