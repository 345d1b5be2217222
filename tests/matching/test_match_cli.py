"""`ledgerlink match LEFT.csv [RIGHT.csv]`: the matcher on any files."""

from __future__ import annotations

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from ledgerlink.matching.cli import match_command

runner = CliRunner()
app = typer.Typer()
app.command("match")(match_command)
app.command("unused")(lambda: None)  # two commands, so `match` is addressed by name as in the real CLI

CRM = [
    {"Key": "c1", "Company": "ACME Robotics, Inc.", "Street": "100 Main Street, Suite 200", "Zip": "12345", "Tel": "(415) 555-0100"},
    {"Key": "c2", "Company": "Acme Robotics Incorporated", "Street": "100 Main St", "Zip": "12345", "Tel": "415.555.0100"},
    {"Key": "c3", "Company": "Hansen Foods", "Street": "9 Dock Road", "Zip": "99501", "Tel": "907 555 0111"},
]
LEDGER = [
    {"Ref": "b1", "Company": "Acme Robotics", "Street": "100 Main St.", "Zip": "12345-6789", "Tel": "+1 415 555 0101"},
    {"Ref": "b2", "Company": "Initech", "Street": "4120 Freidrich Ln", "Zip": "78744", "Tel": "512 555 0199"},
]
COLUMNS = ["--name", "Company", "--address", "Street", "--postal-code", "Zip", "--phone", "Tel"]


@pytest.fixture
def files(tmp_path):
    crm, ledger = tmp_path / "crm.csv", tmp_path / "ledger.csv"
    pl.DataFrame(CRM).write_csv(crm)
    pl.DataFrame(LEDGER).rename({"Ref": "Key"}).write_csv(ledger)
    return crm, ledger


def test_one_file_finds_duplicates(files, tmp_path):
    out = tmp_path / "pairs.csv"
    result = runner.invoke(app, ["match", str(files[0]), "--id", "Key", *COLUMNS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    pairs = pl.read_csv(out)
    assert pairs.select("left_id", "right_id", "decision").rows() == [("c1", "c2", "auto_link")]
    assert pairs["cluster_id"].item() == "C1"
    assert {"sim_name", "contrib_name", "contrib_phone", "score"} <= set(pairs.columns)


def test_two_files_link_with_scores_decisions_and_clusters(files, tmp_path):
    out = tmp_path / "links.csv"
    result = runner.invoke(app, ["match", *map(str, files), "--id", "Key", *COLUMNS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    pairs = pl.read_csv(out)
    linked = pairs.filter(pl.col("decision") == "auto_link")
    assert sorted(linked.select("left_id", "right_id").rows()) == [("c1", "b1"), ("c2", "b1")]
    # Both duplicates of Acme and the ledger's Acme share one cluster id.
    assert linked["cluster_id"].n_unique() == 1 and linked["cluster_id"][0] is not None
    assert "2 auto-linked" in result.output


def test_threshold_options_move_pairs_between_decisions(files, tmp_path):
    out = tmp_path / "strict.csv"
    result = runner.invoke(app, ["match", *map(str, files), "--id", "Key", *COLUMNS, "--out", str(out)])
    scores = pl.read_csv(out).filter(pl.col("decision") == "auto_link")["score"]
    assert scores.len() == 2 and scores.max() < 0.99  # the ledger's phone has a typo
    result = runner.invoke(
        app, ["match", *map(str, files), "--id", "Key", *COLUMNS, "--auto-link", "0.99", "--review", "0.5", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    pairs = pl.read_csv(out)
    assert set(pairs["decision"]) == {"review"} and pairs.height == 2


def test_a_missing_column_lists_the_available_ones(files, tmp_path):
    result = runner.invoke(app, ["match", str(files[0]), "--id", "Key", "--name", "Company", "--city", "Town",
                                 "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 1
    assert "no column named --city 'Town'" in result.output
    assert "Available columns: Key, Company, Street, Zip, Tel" in result.output


def test_bad_ids_and_thresholds_are_clear_errors(tmp_path):
    path = tmp_path / "dupes.csv"
    path.write_text("Key,Company\n1,Acme\n1,Acme Inc\n,Initech\n")
    result = runner.invoke(app, ["match", str(path), "--id", "Key", "--name", "Company", "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 1 and "line 4: column 'Key' (the id) is empty" in result.output
    ok = tmp_path / "ok.csv"
    ok.write_text("Key,Company\n1,Acme\n")
    result = runner.invoke(app, ["match", str(ok), "--id", "Key", "--name", "Company", "--auto-link", "0.5",
                                 "--review", "0.8", "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 1 and "review_threshold (0.8) must not exceed" in result.output
    result = runner.invoke(app, ["match", str(tmp_path / "nope.csv"), "--id", "Key", "--name", "Company",
                                 "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 1 and "no such file" in result.output
