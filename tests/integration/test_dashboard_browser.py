"""End to end in a real browser: ``oaken dashboard`` served over a warehouse built by
``oaken analytics``, driven by Playwright in headless Debian Chromium.

The page loads, the scorecards show what SQL over ``fct_sales`` gives, a county picked
in the sidebar changes them to the county's numbers, the Operations tab and the CSV
download work, and no error element appears. Screenshots go to the test's ``tmp_path``;
with ``OAKEN_README_SCREENSHOT=1`` the full report is also copied to
``docs/img/dashboard.png`` for the README (not by default: a test run should not leave
the working tree modified).

Chromium: ``/usr/bin/chromium`` from Debian's ``chromium`` package (``make chromium``);
the ``chromium`` and ``browser`` fixtures are in :mod:`tests.support.browser`.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from oaken.dashboard.filters import Filters
from tests.support.dashboard import (
    assert_no_errors,
    busiest,
    cards,
    default_filters,
    expected_cards,
    oracle_scorecards,
    sample_warehouse,
    wait_for_cards,
    wait_until_idle,
)
from tests.support.sample_warehouse import SampleWarehouse

REPOSITORY = Path(__file__).resolve().parents[2]
README_SHOT = REPOSITORY / "docs" / "img" / "dashboard.png"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> SampleWarehouse:
    return sample_warehouse(tmp_path_factory)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(sample, tmp_path_factory) -> Iterator[str]:
    """``oaken dashboard`` (as ``python -m oaken dashboard``) on a free port."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("dashboard-server") / "streamlit.log"
    env = {**os.environ, **sample.environment(), "OAKEN_DASHBOARD_PORT": str(port)}
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "oaken", "dashboard"], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"oaken dashboard exited {process.returncode}:\n"
                            f"{log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"oaken dashboard did not start:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.25)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def full_page_shot(page, path: Path, charts: int) -> None:
    """The whole report: the main area scrolls by itself, so grow the viewport to it."""
    page.locator('[data-testid="stPlotlyChart"]:visible').nth(charts - 1).wait_for(
        timeout=30_000)
    height = page.evaluate(
        "Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 40, 6000)})
    page.wait_for_timeout(1200)  # plotly re-lays out for the new size
    page.screenshot(path=str(path), full_page=True)


# --- the test -------------------------------------------------------------------------


def test_report_in_chromium_matches_sql_and_filters(server, browser, sample, tmp_path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(server)
        page.wait_for_selector('[data-testid="stMetricValue"]:visible', timeout=60_000)
        first_paint = time.perf_counter() - started
        wait_until_idle(page)
        assert page.locator("h1").first.inner_text().strip() == "Oaken Spirits — Sales Report"
        default = default_filters(sample.path)
        assert cards(page) == expected_cards(sample.path, default)
        assert_no_errors(page)
        full_page_shot(page, tmp_path / "dashboard.png", charts=7)
        if os.environ.get("OAKEN_README_SCREENSHOT") == "1":
            README_SHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tmp_path / "dashboard.png", README_SHOT)

        # pick the busiest county in the sidebar
        page.set_viewport_size({"width": 1400, "height": 1000})
        county = str(busiest(sample.path, "coalesce(s.county, 'Unknown')"))
        box = page.get_by_test_id("stMultiSelect").filter(has_text="County")
        box.locator("input").click()
        box.locator("input").fill(county)
        page.get_by_role("option", name=county, exact=True).click()
        page.keyboard.press("Escape")
        filtered = Filters(start=default.start, end=default.end, counties=(county,))
        want = expected_cards(sample.path, filtered)
        assert want != expected_cards(sample.path, default)
        assert wait_for_cards(page, want) == want
        wait_until_idle(page)
        assert_no_errors(page)
        page.screenshot(path=str(tmp_path / "dashboard-county.png"), full_page=True)

        # the CSV download holds the filtered rows, to the cent
        with page.expect_download(timeout=30_000) as download:
            page.get_by_role("button", name="Download filtered rows (CSV)").click()
        text = Path(download.value.path()).read_text()
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows and {row["county"] for row in rows} == {county}
        assert sum(Decimal(row["sale_dollars"]) for row in rows) \
            == oracle_scorecards(sample.path, filtered)["sale_dollars"]

        # the Operations tab, still filtered on the county
        page.get_by_role("tab", name="Operations").click()
        page.get_by_text("Ledger balance check").wait_for(timeout=30_000)
        page.get_by_text("The warehouse ledger balances").wait_for(timeout=30_000)
        wait_until_idle(page)
        assert_no_errors(page)
        full_page_shot(page, tmp_path / "dashboard-operations.png", charts=2)
    finally:
        context.close()
    for name in ("dashboard.png", "dashboard-county.png", "dashboard-operations.png"):
        assert (tmp_path / name).stat().st_size > 20_000, name
    print(f"first paint (metrics visible) {first_paint:.2f}s; screenshots in {tmp_path}")


def test_missing_warehouse_page_says_run_analytics(browser, tmp_path) -> None:
    """A fresh install: no warehouse yet. The page says what to do, no traceback."""
    port = _free_port()
    env = {**os.environ, "OAKEN_HOME": str(tmp_path), "OAKEN_DASHBOARD_PORT": str(port),
           "OAKEN_WAREHOUSE": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
           "OAKEN_DATABASE_URL": f"sqlite:///{tmp_path / 'oaken.db'}"}
    process = subprocess.Popen([sys.executable, "-m", "oaken", "dashboard"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    page = browser.new_page()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "did not start"
            time.sleep(0.25)
        page.goto(f"http://127.0.0.1:{port}")
        alert = page.get_by_test_id("stAlert")
        alert.wait_for(timeout=60_000)
        assert "run `oaken analytics` first" in alert.inner_text().replace("\n", " ") \
            or "run oaken analytics first" in alert.inner_text().replace("\n", " ")
        assert_no_errors(page)
        page.screenshot(path=str(tmp_path / "dashboard-missing.png"))
    finally:
        page.close()
        process.terminate()
        process.wait(timeout=15)
    assert not (tmp_path / "warehouse.duckdb").exists()
