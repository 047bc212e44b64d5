"""The Streamlit app under ``streamlit.testing.v1.AppTest`` over a warehouse built by
``oaken analytics``: the scorecards show what SQL over ``fct_sales`` gives, filters
change them, the Operations tab renders, and a missing or empty warehouse is a message,
never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from oaken.dashboard import app as app_module
from oaken.dashboard.filters import Filters
from oaken.dashboard.formatting import change, compact, exact, percent
from oaken.settings import get_settings
from tests.support.dashboard import (
    CARDS,
    busiest,
    default_filters,
    empty_warehouse,
    oracle_scorecards,
    sample_warehouse,
)
from tests.support.sample_warehouse import SampleWarehouse

APP = str(Path(app_module.__file__))
@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> SampleWarehouse:
    return sample_warehouse(tmp_path_factory)


@pytest.fixture
def env(sample, monkeypatch) -> Iterator[SampleWarehouse]:
    for name, value in sample.environment().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield sample
    get_settings.cache_clear()


def run_app(**session: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(at: AppTest) -> dict[str, tuple[str, str, str]]:
    """label → (value, delta, first word of help = the exact value) for the scorecards."""
    return {m.label: (m.value, m.delta, m.help.split(" ")[0]) for m in at.metric
            if m.label in {label for label, _, _ in CARDS}}


def expected(path: Path, f: Filters) -> dict[str, tuple[str, str, str]]:
    now, before = oracle_scorecards(path, f), oracle_scorecards(path, f.previous())
    return {label: (compact(now[name], money=money),
                    percent(change(now[name], before[name]), signed=True) or "",
                    exact(now[name], money=money))
            for label, name, money in CARDS}


def test_first_paint_shows_the_scorecards_sql_gives(env) -> None:
    at = run_app()
    assert at.title[0].value == "Oaken Spirits — Sales Report"
    f = default_filters(env.path)
    assert at.date_input(key="dates").value == (f.start, f.end)
    assert shown(at) == expected(env.path, f)
    assert not at.error and not at.warning and not at.info
    assert [tab.label for tab in at.tabs] == ["Sales", "Operations"]
    assert any("Forecast: All sales" in caption.value for caption in at.caption)


def test_a_county_filter_changes_the_numbers_to_what_sql_gives(env) -> None:
    at = run_app()
    before = shown(at)
    county = busiest(env.path, "coalesce(s.county, 'Unknown')")
    at.multiselect(key="counties").set_value([county]).run()
    assert not at.exception
    f = default_filters(env.path)
    f = Filters(start=f.start, end=f.end, counties=(county,))
    assert shown(at) == expected(env.path, f)
    assert shown(at) != before


def test_product_and_date_filters_use_the_line_mart_and_stay_exact(env) -> None:
    category = busiest(env.path, "coalesce(f.category_id, -1)")
    item = busiest(env.path, "f.item_id")
    at = run_app()
    at.date_input(key="dates").set_value((date(2026, 1, 1), date(2026, 3, 31)))
    at.multiselect(key="categories").set_value([category])
    at.run()
    assert not at.exception
    f = Filters(start=date(2026, 1, 1), end=date(2026, 3, 31), categories=(category,))
    assert shown(at) == expected(env.path, f)
    at.multiselect(key="items").set_value([item]).run()
    f = Filters(start=f.start, end=f.end, categories=(category,), items=(item,))
    assert shown(at) == expected(env.path, f)
    # one category and one item together have no forecast of their own
    assert any("No forecast for this filter" in caption.value for caption in at.caption)


def test_clear_filters_restores_the_default_view(env) -> None:
    store = busiest(env.path, "f.store_id")
    at = run_app(stores=[store], dates=(date(2026, 1, 1), date(2026, 1, 31)))
    filtered = shown(at)
    at.button[0].click().run()
    assert not at.exception and not at.warning
    assert at.multiselect(key="stores").value == []
    f = default_filters(env.path)
    assert at.date_input(key="dates").value == (f.start, f.end)
    assert shown(at) == expected(env.path, f) != filtered


def test_the_default_range_follows_new_data_and_a_picked_range_stays(env) -> None:
    """Live mode moves the newest sale on: a page that kept the default range it was
    drawn with (here: the range of a day before) shows the new default range; a range
    the reader picked is kept."""
    f = default_filters(env.path)
    stale = (f.start - timedelta(days=1), f.end - timedelta(days=1))
    at = run_app(dates=stale, **{app_module.DEFAULT_DATES: stale})
    assert at.date_input(key="dates").value == (f.start, f.end)
    assert shown(at) == expected(env.path, f)
    picked = (date(2026, 1, 1), date(2026, 1, 31))
    at = run_app(dates=picked, **{app_module.DEFAULT_DATES: stale})
    assert at.date_input(key="dates").value == picked
    assert shown(at) == expected(env.path, Filters(start=picked[0], end=picked[1]))


def test_operations_tab_shows_shipping_receivables_ledger_and_live_status(env) -> None:
    at = run_app(tab="Operations")
    metrics = {m.label: m for m in at.metric}
    with duckdb.connect(str(env.path), read_only=True) as connection:
        balance = connection.execute(
            "select sum(balance) from analytics.mart_receivables").fetchone()[0]
        debits = connection.execute("select sum(debit) from raw.journal_lines").fetchone()[0]
    assert metrics["Receivable balance"].value == compact(balance, money=True)
    assert metrics["Debits (warehouse)"].help == exact(debits, money=True)
    assert metrics["Debits − credits"].value == "$0.00"
    assert metrics["Ledger imbalance (database)"].value == "$0.00"
    assert any("ledger balances" in s.value for s in at.success)
    # no broker runs in this test: said once, as a warning, not an error
    assert [w.value for w in at.warning if "not reachable" in w.value]
    assert not at.error
    for subheader in ("Shipments scheduled per day", "Sales per sender per day",
                      "Receivables by store", "Ledger balance check", "Live pipeline status"):
        assert subheader in [s.value for s in at.subheader]
    assert not at.info  # the senders' mart is there: no "built before senders" note


def test_missing_warehouse_is_a_message_not_a_traceback(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OAKEN_HOME", str(tmp_path))
    monkeypatch.setenv("OAKEN_WAREHOUSE", f"duckdb:///{tmp_path / 'nothing.duckdb'}")
    get_settings.cache_clear()
    try:
        at = run_app()
    finally:
        get_settings.cache_clear()
    assert "run `oaken analytics` first" in at.info[0].value
    assert not at.metric and not at.error
    assert not (tmp_path / "nothing.duckdb").exists()


def test_empty_warehouse_is_a_message_not_a_traceback(tmp_path, monkeypatch) -> None:
    path = tmp_path / "empty.duckdb"
    empty_warehouse(path)
    monkeypatch.setenv("OAKEN_HOME", str(tmp_path))
    monkeypatch.setenv("OAKEN_WAREHOUSE", f"duckdb:///{path}")
    get_settings.cache_clear()
    try:
        at = run_app()
    finally:
        get_settings.cache_clear()
    assert "no sales yet" in at.info[0].value
    assert "run `oaken analytics` first" in at.info[0].value
    assert not at.metric and not at.error
