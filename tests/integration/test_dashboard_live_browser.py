"""The dashboard open in headless Chromium during a live micro-batch: its scorecards
update without a reload, it says "data through", and it never says the warehouse is
being rebuilt (it reads the published copy, not the file being written)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from oaken.settings import Settings
from tests.support.dashboard import assert_no_errors, cards, wait_until_idle
from tests.support.sample_warehouse import build_sample_warehouse

BUSY = "being rebuilt"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_an_open_page_follows_a_micro_batch_without_a_reload(browser, tmp_path: Path) -> None:
    from oaken.analytics.live import micro_batch
    from oaken.db.engine import make_engine
    from oaken.ingest import import_records
    from oaken.sources.generator import DEFAULT_END, iter_sales

    sample = build_sample_warehouse(tmp_path / "home", rows=2000)
    settings = Settings(home=sample.home, database_url=sample.database_url,
                        warehouse=sample.warehouse_url)
    port = _free_port()
    env = {**os.environ, **sample.environment(), "OAKEN_DASHBOARD_PORT": str(port),
           "OAKEN_DASHBOARD_REFRESH_SECONDS": "2"}
    log_path = tmp_path / "streamlit.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "oaken", "dashboard"], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, log_path.read_text()[-2000:]
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()[-2000:]
            time.sleep(0.25)
        page = context.new_page()
        page.goto(url)
        wait_until_idle(page)
        before = cards(page)
        assert before and "data through" in page.content()

        # new sales within the default date range (invoices beyond the sample's: the same
        # numbers would be the sample's own line ids, taken once), then a real
        # micro-batch while the page stays open and redraws itself every 2 s
        engine = make_engine(sample.database_url)
        try:
            report = import_records(engine, iter_sales(
                300, seed=99, start=DEFAULT_END, end=DEFAULT_END, style="compact",
                first_invoice=90_000_000))
        finally:
            engine.dispose()
        assert report.imported == 300, report
        failure: list[BaseException] = []

        def run() -> None:
            try:
                micro_batch(settings)
            except BaseException as problem:  # reported below
                failure.append(problem)

        batch = threading.Thread(target=run)
        batch.start()
        busy_seen = 0
        while batch.is_alive():
            busy_seen += BUSY in page.content()
            page.wait_for_timeout(500)
        batch.join()
        assert not failure, failure
        deadline = time.monotonic() + 60
        while (after := cards(page)) == before:  # no reload: the fragment redraws
            busy_seen += BUSY in page.content()
            assert time.monotonic() < deadline, (before, after)
            page.wait_for_timeout(500)
        assert busy_seen == 0
        assert "data through" in page.content()
        assert_no_errors(page)
    finally:
        context.close()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
