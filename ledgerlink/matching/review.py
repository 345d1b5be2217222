"""The review workflow: export the pending queue to a spreadsheet, import people's decisions.

A finance user fills the `decision` column with `link`, `not a match`, or leaves it blank.
A file is checked in full before anything is stored; one bad row means nothing is applied,
and every problem is reported with its line, column and value.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ledgerlink.db import read_sql
from ledgerlink.matching.scoring import FIELDS

KINDS = {
    # kind -> (system of left_id, system of right_id, table for duplicates or None)
    "account_customer": ("salesforce", "qbo"),
    "salesforce_duplicate": ("salesforce", "salesforce"),
    "qbo_duplicate": ("qbo", "qbo"),
}
SYSTEM_LABEL = {"salesforce": "Salesforce account", "qbo": "QBO customer"}
EXPORT_COLUMNS = (
    "kind", "left_id", "left_name", "right_id", "right_name", "score", "reason", "why",
    "left_details", "right_details", "decision", "note",
)
REQUIRED_COLUMNS = ("kind", "left_id", "right_id", "decision")
DECISION_WORDS = {"link": "link", "not a match": "not_a_match", "not_a_match": "not_a_match", "not-a-match": "not_a_match"}
MAX_ERRORS_SHOWN = 50


class DecisionFileError(ValueError):
    """The decisions file has problems; nothing from it was applied."""

    def __init__(self, path: Path, errors: list[str]):
        self.errors = errors
        shown = errors[:MAX_ERRORS_SHOWN]
        more = f"\n... and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        super().__init__(
            f"{path}: {len(errors)} problem(s), nothing was applied:\n" + "\n".join(f"  {e}" for e in shown) + more
        )


def explain(contributions: dict | None) -> str:
    """`name 0.93 (+0.41); street 1.00 (+0.15); phone missing` from a stored contributions object."""
    if not contributions:
        return ""
    parts = []
    for name in FIELDS:
        item = contributions.get(name)
        if item is None:
            continue
        if item.get("similarity") is None:
            parts.append(f"{name} missing")
        else:
            parts.append(f"{name} {item['similarity']:.2f} (+{item.get('contribution') or 0:.2f})")
    return "; ".join(parts)


def export_review(conn, path: Path) -> int:
    """Write the pending review queue as CSV; returns the number of rows."""
    rows = conn.execute(read_sql("matching/export_review.sql")).fetchall()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for kind, lid, lname, rid, rname, score, reason, contributions, ldet, rdet, _order, _rank in rows:
            writer.writerow([
                kind, lid, lname, rid, rname, "" if score is None else f"{float(score):.4f}", reason,
                explain(contributions), ldet, rdet, "", "",
            ])
    return len(rows)


@dataclass
class Decision:
    line: int
    kind: str
    left_id: str
    right_id: str
    decision: str
    note: str | None


@dataclass
class ImportResult:
    links: int = 0
    not_a_match: int = 0
    blank: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def _normalise_decision(value: str) -> str | None:
    words = " ".join(value.replace("_", " ").replace("-", " ").split()).lower()
    if not words:
        return ""
    return DECISION_WORDS.get(words)


def parse_decisions(path: Path) -> tuple[list[Decision], int, list[str]]:
    """(decisions, blank rows, errors) from a CSV; checks the file alone, not the database."""
    errors: list[str] = []
    decisions: list[Decision] = []
    blank = 0
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise DecisionFileError(path, ["no such file"]) from None
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise DecisionFileError(path, [
                f"line 1: missing column(s) {', '.join(repr(c) for c in missing)}; "
                f"the file has: {', '.join(repr(h) for h in header) or 'no header'}. "
                "Start from `ledgerlink matches export-review`."
            ])
        for row in reader:
            line = reader.line_num
            raw_decision = (row.get("decision") or "").strip()
            decision = _normalise_decision(raw_decision)
            if decision is None:
                errors.append(
                    f"line {line}, column 'decision': {raw_decision!r} is not a decision; "
                    "use 'link', 'not a match' or leave it blank"
                )
                continue
            if decision == "":
                blank += 1
                continue
            kind = (row.get("kind") or "").strip()
            if kind not in KINDS:
                errors.append(f"line {line}, column 'kind': {kind!r} is not one of {', '.join(KINDS)}")
                continue
            left_id, right_id = (row.get("left_id") or "").strip(), (row.get("right_id") or "").strip()
            for column, value in (("left_id", left_id), ("right_id", right_id)):
                if not value:
                    errors.append(f"line {line}, column {column!r}: empty; a decision needs both ids")
            if not left_id or not right_id:
                continue
            if KINDS[kind][0] == KINDS[kind][1] and left_id == right_id:
                errors.append(f"line {line}, column 'right_id': {right_id!r} is the same record as left_id")
                continue
            note = (row.get("note") or "").strip() or None
            decisions.append(Decision(line, kind, left_id, right_id, decision, note))
    errors += _conflicts(decisions)
    return decisions, blank, errors


def _pair_key(d: Decision) -> tuple[str, str, str]:
    if KINDS[d.kind][0] == KINDS[d.kind][1]:
        return (d.kind, *sorted((d.left_id, d.right_id)))
    return (d.kind, d.left_id, d.right_id)


def _conflicts(decisions: list[Decision]) -> list[str]:
    """Rows of one file that contradict each other."""
    errors = []
    seen: dict[tuple, Decision] = {}
    for d in decisions:
        key = _pair_key(d)
        first = seen.setdefault(key, d)
        if first is not d and first.decision != d.decision:
            errors.append(
                f"line {d.line}, column 'decision': {d.decision!r} contradicts line {first.line} "
                f"({first.decision!r}) for the same pair {d.left_id} / {d.right_id}"
            )
    linked: dict[str, Decision] = {}
    for d in decisions:
        if d.kind != "account_customer" or d.decision != "link":
            continue
        first = linked.setdefault(d.left_id, d)
        if first.right_id != d.right_id:
            errors.append(
                f"line {d.line}, column 'right_id': account {d.left_id} is linked to {first.right_id!r} on line "
                f"{first.line} and to {d.right_id!r} here; an account links to one QBO customer"
            )
    return errors


def _unknown_ids(conn, decisions: list[Decision]) -> list[str]:
    wanted: dict[str, set[str]] = defaultdict(set)
    for d in decisions:
        left_system, right_system = KINDS[d.kind]
        wanted[left_system].add(d.left_id)
        wanted[right_system].add(d.right_id)
    known: dict[str, set[str]] = {}
    for system, ids in wanted.items():
        rows = conn.execute(read_sql("matching/known_ids.sql"), {"system": system, "ids": sorted(ids)}).fetchall()
        known[system] = {r[0] for r in rows}
    errors = []
    for d in decisions:
        left_system, right_system = KINDS[d.kind]
        for column, value, system in (("left_id", d.left_id, left_system), ("right_id", d.right_id, right_system)):
            if value not in known[system]:
                errors.append(f"line {d.line}, column {column!r}: no {SYSTEM_LABEL[system]} with id {value!r}")
    return errors


def import_decisions(conn, path: Path, decided_by: str) -> ImportResult:
    """Validate the whole file, then store every decision in one transaction.

    `link` between an account and a customer takes effect in `sync.customer_xref` at once, and
    `not a match` removes that link at once; every later matching run applies them again, over
    any score. Duplicate decisions shape the clusters from the next run on.
    """
    decisions, blank, errors = parse_decisions(path)
    errors += _unknown_ids(conn, decisions) if decisions else []
    if errors:
        raise DecisionFileError(path, sorted(errors, key=_line_of))
    result = ImportResult(blank=blank)
    with conn.transaction():
        for d in decisions:
            params = {"by": decided_by, "note": d.note, "source": path.name, "decision": d.decision}
            if d.kind == "account_customer":
                params |= {"sf": d.left_id, "qb": d.right_id}
                conn.execute(read_sql("matching/insert_match_decision.sql"), params)
                conn.execute(read_sql(f"matching/apply_{d.decision}_decision.sql"), params)
            else:
                left, right = sorted((d.left_id, d.right_id))
                params |= {"system": KINDS[d.kind][0], "left": left, "right": right}
                conn.execute(read_sql("matching/insert_duplicate_decision.sql"), params)
            result.by_kind[d.kind] = result.by_kind.get(d.kind, 0) + 1
            if d.decision == "link":
                result.links += 1
            else:
                result.not_a_match += 1
    return result


def _line_of(error: str) -> int:
    head = error.split(",", 1)[0].split(":", 1)[0]
    digits = "".join(ch for ch in head if ch.isdigit())
    return int(digits) if digits else 0
