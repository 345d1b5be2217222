"""`ledgerlink report reconciliation` from the command line."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from typer.testing import CliRunner

from ledgerlink.cli import app
from tests.reports.scenarios import Scenario


@pytest.fixture
def cli_env(load, tmp_path, monkeypatch):
    s = Scenario()
    acme = s.account("Acme")
    opp = s.opportunity(acme, "1000.00", date(2026, 10, 5))
    s.invoice(acme, "1000.00", date(2026, 10, 6), opp=opp)
    s.opportunity(acme, "75.50", date(2026, 10, 8))
    load(s.finish())
    out_dir = tmp_path / "finance"
    config = tmp_path / "ledgerlink.yaml"
    config.write_text(yaml.safe_dump({"reports": {"directory": str(out_dir)}}))
    monkeypatch.setenv("LEDGERLINK_CONFIG", str(config))
    return out_dir


def test_writes_the_month_and_prints_the_bridge(cli_env, tmp_path):
    out = tmp_path / "october.csv"
    result = CliRunner().invoke(app, ["report", "reconciliation", "--month", "2026-10", "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "Closed Won total" in result.output and "1,075.50" in result.output
    assert "NOT_INVOICED" in result.output and "-75.50" in result.output
    written = cli_env / "2026-10" / "reconciliation_2026-10.csv"
    assert str(written) in result.output and str(cli_env / "2026-10" / "aging_2026-10.csv") in result.output
    assert out.read_bytes() == written.read_bytes()


def test_out_dash_writes_only_csv_to_stdout(cli_env):
    result = CliRunner().invoke(app, ["report", "reconciliation", "--month", "2026-10", "--out", "-"])

    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("\ufeffmonth,row_no,category,")
    assert len(result.stdout.strip().splitlines()) == 3
    assert "Closed Won total" in result.stderr


@pytest.mark.parametrize("month", ["2026-13", "Oct 2026"])
def test_a_bad_month_is_refused(cli_env, month):
    result = CliRunner().invoke(app, ["report", "reconciliation", "--month", month])
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output
