"""The spine: migrations, configuration errors, the code location, schedules and partitions."""

from __future__ import annotations

from datetime import datetime

import dagster as dg
import pytest

from ledgerlink import db
from ledgerlink.config import Settings


def test_migrations_apply_once_in_order_and_are_recorded(db_url, tmp_path):
    (tmp_path / "001_a.sql").write_text("create table public.mig_probe (n int);")
    (tmp_path / "002_b.sql").write_text("insert into public.mig_probe values (2);")
    with db.connect(db_url) as conn:
        conn.execute("delete from public.schema_migration")
    assert db.migrate(db_url, tmp_path) == ["001_a.sql", "002_b.sql"]
    assert db.migrate(db_url, tmp_path) == []  # a second start applies nothing
    with db.connect(db_url) as conn:
        assert conn.execute("select count(*) from public.mig_probe").fetchone()[0] == 1


def test_duplicate_migration_numbers_are_refused(tmp_path):
    (tmp_path / "001_a.sql").write_text("select 1;")
    (tmp_path / "001_b.sql").write_text("select 1;")
    with pytest.raises(db.ConfigurationError, match="001"):
        db.migration_files(tmp_path)


def test_schemas_exist_after_migration(conn):
    schemas = {r[0] for r in conn.execute("select schema_name from information_schema.schemata")}
    assert {"staging", "sync", "report"} <= schemas


def test_unreachable_database_names_the_problem_without_the_password():
    url = "postgresql://ledger:s3cret-pw@127.0.0.1:1/warehouse"
    with pytest.raises(db.ConfigurationError) as err:
        db.connect(url)
    message = str(err.value)
    assert "127.0.0.1:1" in message and "LEDGERLINK_DATABASE_URL" in message
    assert "s3cret-pw" not in message


def test_embedded_server_keeps_data_between_starts(tmp_path):
    data_dir = tmp_path / "pg"
    first = db.embedded_server(data_dir)
    with db.connect(first.get_uri(), autocommit=True) as conn:
        conn.execute("create table kept (n int)")
        conn.execute("insert into kept values (42)")
    second = db.embedded_server(data_dir)  # a second start attaches to the same data
    with db.connect(second.get_uri()) as conn:
        assert conn.execute("select n from kept").fetchone()[0] == 42
    first.cleanup()


def test_config_errors_name_the_bad_key(tmp_path):
    path = tmp_path / "ledgerlink.yaml"
    path.write_text("matching:\n  auto_link_treshold: 0.9\n")
    with pytest.raises(db.ConfigurationError, match=r"matching\.auto_link_treshold"):
        Settings.load(path)
    path.write_text("schedule:\n  timezone: Mars/Olympus\n")
    with pytest.raises(db.ConfigurationError, match="schedule.timezone"):
        Settings.load(path)
    path.write_text("matching:\n  auto_link_threshold: 0.5\n  review_threshold: 0.8\n")
    with pytest.raises(db.ConfigurationError, match="review_threshold"):
        Settings.load(path)


def test_preflight_rejects_unknown_objects_and_missing_credentials(monkeypatch):
    from ledgerlink.orchestrate import preflight

    settings = Settings.model_validate({"extract": {"full_refresh": ["salesforce.Acount"]}})
    with pytest.raises(db.ConfigurationError, match="salesforce.Acount"):
        preflight(settings)
    for name in ("LEDGERLINK_SF_LOGIN_URL", "LEDGERLINK_QBO_REALM_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(db.ConfigurationError, match="LEDGERLINK_SF_LOGIN_URL.*LEDGERLINK_QBO_REALM_ID"):
        preflight(Settings())


def test_code_location_loads_with_jobs_schedules_and_partitions(monkeypatch):
    monkeypatch.setenv(db.DATABASE_URL_ENV, "postgresql://unused")
    from pipelines.definitions import defs

    nightly = defs.resolve_job_def("nightly")
    assert nightly.partitions_def.get_partition_keys()[0] == "2025-01-01"
    staged = {key.path[-1] for key in defs.resolve_asset_graph().get_all_asset_keys() if key.path[0] == "staging"}
    assert {"sf_account", "sf_opportunity", "qb_invoice", "qb_customer", "qb_payment"} <= staged

    schedule = defs.resolve_schedule_def("nightly_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 22, 2, 0))
    request = schedule(context)
    assert request.partition_key == "2026-11-22"

    # The month-end close follows the nightly run (tests/test_schedules.py), not a clock.
    assert defs.resolve_sensor_def("month_end_after_nightly").job_name == "month_end"
