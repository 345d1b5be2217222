"""Fixtures for the month-end report tests: a staging database loaded from a Dataset."""

from __future__ import annotations

import pytest

from ledgerlink.config import ReportSettings
from tests.reports.staging_loader import load_dataset


@pytest.fixture
def report_settings(tmp_path) -> ReportSettings:
    return ReportSettings(directory=tmp_path / "reports")


@pytest.fixture
def load(conn):
    """load(dataset) -> the connection, with the dataset in the staging tables."""

    def _load(dataset, customer_links=None):
        load_dataset(conn, dataset, customer_links)
        return conn

    return _load
