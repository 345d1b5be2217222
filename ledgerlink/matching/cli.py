"""Command line: the review workflow (`ledgerlink matches ...`) and `ledgerlink match` on any CSV.

The lead's `ledgerlink/cli.py` mounts these:
    app.add_typer(matches_app, name="matches")
    app.command("match")(match_command)
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from ledgerlink import db
from ledgerlink.matching import review
from ledgerlink.matching.config import MatchConfig
from ledgerlink.matching.csv_match import CsvMatchError, match_files
from ledgerlink.matching.records import RecordError

matches_app = typer.Typer(
    help="Review Salesforce account <-> QBO customer matches and possible duplicates.",
    no_args_is_help=True,
)


def _fail(message: str) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code=1)


def _connect():
    try:
        return db.connect()
    except db.ConfigurationError as exc:
        _fail(str(exc))


def _missing_tables(exc: psycopg.errors.UndefinedTable) -> None:
    _fail(f"{str(exc).splitlines()[0]}. Run `ledgerlink migrate` (and an extract) first.")


@matches_app.command("export-review")
def export_review_command(
    file: Annotated[Path, typer.Argument(help="CSV file to write, e.g. review.csv")],
) -> None:
    """Write the pending review queue to FILE. Fill its `decision` column with `link`,
    `not a match` or leave it blank, then run `ledgerlink matches import-decisions FILE`."""
    with _connect() as conn:
        try:
            rows = review.export_review(conn, file)
        except psycopg.errors.UndefinedTable as exc:
            _missing_tables(exc)
    typer.echo(f"Wrote {rows} pair(s) awaiting review to {file}.")


@matches_app.command("import-decisions")
def import_decisions_command(
    file: Annotated[Path, typer.Argument(help="The reviewed CSV (from export-review)")],
    by: Annotated[str | None, typer.Option("--by", help="Who decided (default: the current user)")] = None,
) -> None:
    """Store the decisions in FILE. The whole file is checked first; if any row is wrong,
    nothing is applied and every problem is listed with its line, column and value."""
    decided_by = by or os.environ.get("LEDGERLINK_USER") or _current_user()
    with _connect() as conn:
        try:
            result = review.import_decisions(conn, file, decided_by)
        except review.DecisionFileError as exc:
            _fail(str(exc))
        except psycopg.errors.UndefinedTable as exc:
            _missing_tables(exc)
    kinds = ", ".join(f"{k}: {n}" for k, n in sorted(result.by_kind.items())) or "none"
    typer.echo(
        f"Stored {result.links} link and {result.not_a_match} not-a-match decision(s) by {decided_by} "
        f"({kinds}); {result.blank} row(s) left blank. They win over scores on every later run."
    )


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


def _thresholds(auto_link: float | None, review_at: float | None) -> MatchConfig:
    from ledgerlink.config import Settings

    try:
        settings = Settings.load()
    except db.ConfigurationError as exc:
        _fail(str(exc))
    try:
        return MatchConfig(
            auto_link_threshold=settings.matching.auto_link_threshold if auto_link is None else auto_link,
            review_threshold=settings.matching.review_threshold if review_at is None else review_at,
        )
    except db.ConfigurationError as exc:
        _fail(f"{exc} (--auto-link / --review)")


def match_command(
    left: Annotated[Path, typer.Argument(help="CSV of records; alone, it is searched for duplicates")],
    right: Annotated[Path | None, typer.Argument(help="Second CSV: link LEFT's records to these")] = None,
    id: Annotated[str, typer.Option("--id", help="Column with each record's unique id")] = ...,
    name: Annotated[str, typer.Option("--name", help="Column with the company name")] = ...,
    address: Annotated[str | None, typer.Option("--address", help="Street address column")] = None,
    city: Annotated[str | None, typer.Option("--city", help="City column")] = None,
    postal_code: Annotated[str | None, typer.Option("--postal-code", help="Postal / ZIP code column")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Phone column")] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail column")] = None,
    website: Annotated[str | None, typer.Option("--website", help="Website column")] = None,
    auto_link: Annotated[float | None, typer.Option("--auto-link", help="Auto-link at or above this score (0-1)")] = None,
    review_at: Annotated[float | None, typer.Option("--review", help="Review at or above this score (0-1)")] = None,
    out: Annotated[Path, typer.Option("--out", help="CSV of pairs to write")] = ...,
    all_pairs: Annotated[bool, typer.Option("--all-pairs", help="Also list compared pairs judged different")] = False,
) -> None:
    """Match company records in any CSV: one file finds duplicates, two files link records.

    The output has both ids, the score, the decision (auto_link / review / different), a
    cluster id shared by records judged the same company, and each field's similarity and
    contribution to the score. Thresholds default to `matching:` in ledgerlink.yaml.
    """
    columns = {"id": id, "name": name}
    for key, value in (("address", address), ("city", city), ("postal_code", postal_code), ("phone", phone),
                       ("email", email), ("website", website)):
        if value:
            columns[key] = value
    config = _thresholds(auto_link, review_at)
    try:
        pairs = match_files(left, right, columns, config, all_pairs)
    except (CsvMatchError, RecordError) as exc:
        _fail(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    pairs.write_csv(out)
    counts = dict(pairs.group_by("decision").len().iter_rows())
    mode = "links" if right else "duplicates"
    typer.echo(
        f"{mode}: {counts.get('auto_link', 0)} auto-linked, {counts.get('review', 0)} to review"
        + (f", {counts.get('different', 0)} different" if all_pairs else "")
        + f"; wrote {pairs.height} pair(s) to {out}"
    )


def main() -> None:  # pragma: no cover - convenience entry for `python -m ledgerlink.matching.cli`
    app = typer.Typer()
    app.add_typer(matches_app, name="matches")
    app.command("match")(match_command)
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
