"""`ledgerlink reports serve`: the read-only download page, over HTTP and in a real headless browser."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from datetime import date

import pytest
import requests
import uvicorn

from ledgerlink.reconcile.report import write_month
from ledgerlink.reconcile.web import create_app
from tests.reports.browser import INSTALL_HINT, Chromium, find_chromium
from tests.reports.scenarios import Scenario


@contextmanager
def serving(app):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the report server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def two_months(load, report_settings, db_url):
    s = Scenario()
    acme = s.account("Acme & Söhne")
    opp = s.opportunity(acme, "1000.00", date(2026, 10, 5))
    s.invoice(acme, "900.00", date(2026, 10, 6), opp=opp)
    s.opportunity(acme, "40.00", date(2026, 9, 8))
    conn = load(s.finish())
    september = write_month(conn, "2026-09", report_settings)
    october = write_month(conn, "2026-10", report_settings)
    return db_url, september, october


def test_page_lists_months_and_serves_the_files(two_months):
    db_url, september, october = two_months
    with serving(create_app(db_url)) as base:
        index = requests.get(base + "/", timeout=10)
        assert index.status_code == 200
        page = index.text
        assert page.index("2026-10") < page.index("2026-09")  # newest first
        assert "Closed Won total" in page and "AMOUNT_MISMATCH" in page and "-100.00" in page
        assert "/months/2026-09/aging_summary.csv" in page

        got = requests.get(base + "/months/2026-09/reconciliation.csv", timeout=10)
        assert got.status_code == 200
        assert got.headers["content-type"] == "text/csv; charset=utf-8"
        assert got.headers["content-disposition"] == 'attachment; filename="reconciliation_2026-09.csv"'
        assert got.content == september.files["reconciliation"].read_bytes()

        month = requests.get(base + "/months/2026-09", timeout=10)
        assert month.status_code == 200 and "NOT_INVOICED" in month.text and "-40.00" in month.text

        assert requests.get(base + "/months/2025-01/bridge.csv", timeout=10).status_code == 404
        assert requests.get(base + "/months/2026-10/passwords.csv", timeout=10).status_code == 404
        assert requests.get(base + "/months/2026-13", timeout=10).status_code == 404
        assert requests.post(base + "/months/2026-10/bridge.csv", timeout=10).status_code == 405


def test_the_page_says_when_nothing_was_built(db_url):
    with serving(create_app(db_url)) as base:
        page = requests.get(base + "/", timeout=10)
    assert page.status_code == 200 and "No month has been built yet" in page.text


def test_finance_downloads_a_csv_in_a_real_browser(two_months, tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(f"Chromium not found; install it with: {INSTALL_HINT}")
    db_url, _, october = two_months
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with serving(create_app(db_url)) as base:
        browser = Chromium(chromium, tmp_path / "chromium-profile")
        try:
            browser.allow_downloads(downloads)
            page = browser.open_page()
            browser.navigate(page, base + "/")
            text = browser.evaluate(page, "document.body.innerText")
            assert "Month-end reports" in text and "Acme" not in text  # customers are in the files
            assert "Closed Won total" in text and "1,000.00" in text and "Invoiced total" in text

            # Click the link a person would click: the one named after the file.
            clicked = browser.evaluate(
                page,
                "(() => { const a = [...document.querySelectorAll('a')]"
                ".find(l => l.textContent.trim() === 'bridge_by_customer_2026-10.csv');"
                " if (!a) return false; a.click(); return true; })()",
            )
            assert clicked, "no link named bridge_by_customer_2026-10.csv on the page"
            started = browser.wait_for("Browser.downloadWillBegin")
            assert started["suggestedFilename"] == "bridge_by_customer_2026-10.csv"
            browser.wait_for(
                "Browser.downloadProgress", lambda p: p.get("guid") == started["guid"] and p["state"] == "completed"
            )
        finally:
            browser.close()

    saved = downloads / "bridge_by_customer_2026-10.csv"
    assert saved.read_bytes() == october.files["bridge_by_customer"].read_bytes()
    text = saved.read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].split(",")[3:] == ["Acme & Söhne", "1", "1000.00", "900.00", "-100.00"]
