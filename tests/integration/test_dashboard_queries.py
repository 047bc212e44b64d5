"""The dashboard's query functions: pure parts (formatting, filters, SQL rendering for
both warehouses) without a warehouse, then every query against a real warehouse built
by ``oaken analytics`` from synthetic sales, compared with SQL over ``fct_sales``.

The warehouse is built once per pytest session (``shared_sample_warehouse`` under the
session's base temp directory) and reused by the AppTest and browser tests.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import duckdb
import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from oaken.dashboard import export, filters, finance, live, sales, senders, shipping
from oaken.dashboard.filters import Filters, Meta, where
from oaken.dashboard.formatting import change, compact, exact, percent
from oaken.dashboard.sales import forecast_series
from oaken.errors import WarehouseEmpty, WarehouseError, WarehouseMissing
from oaken.warehouse import bigquery
from oaken.warehouse.adapter import Warehouse, open_warehouse
from oaken.warehouse.bigquery_adapter import BigQueryWarehouse
from oaken.warehouse.config import parse_warehouse
from oaken.warehouse.duckdb_adapter import DuckDBWarehouse
from tests.support.dashboard import (
    CENT,
    empty_warehouse,
    oracle,
    oracle_scorecards,
    sample_warehouse,
)
from tests.support.sample_warehouse import SENDER, SampleWarehouse

# --- pure parts -----------------------------------------------------------------------


@pytest.mark.parametrize(("value", "money", "expected"), [
    (0, False, "0"), (7, False, "7"), (999, False, "999"), (1000, False, "1K"),
    (1234, False, "1.23K"), (12_345, False, "12.3K"), (123_456, False, "123K"),
    (999_999, False, "1M"), (1_234_567, False, "1.23M"), (2_500_000_000, False, "2.5B"),
    (Decimal("812.4"), True, "$812.40"), (Decimal("1234567.89"), True, "$1.23M"),
    (Decimal("-45600"), True, "-$45.6K"), (None, False, "—"),
])
def test_compact_numbers(value, money, expected) -> None:
    assert compact(value, money=money) == expected


def test_exact_change_and_percent() -> None:
    assert exact(Decimal("1234567.8"), money=True) == "$1,234,567.80"
    assert exact(-5, money=True) == "-$5.00"
    assert exact(1234567) == "1,234,567"
    assert change(110, 100) == pytest.approx(0.10)
    assert change(Decimal("90"), Decimal("100")) == pytest.approx(-0.10)
    assert change(5, 0) is None and change(5, None) is None
    assert percent(0.1234, signed=True) == "+12.3%"
    assert percent(-0.05, signed=True) == "-5.0%"
    assert percent(None) is None


def test_filters_are_normalised_and_know_their_previous_period() -> None:
    f = Filters(start=date(2026, 3, 1), end=date(2026, 3, 31), stores=[3, 1, 3],
                counties=("POLK", "ADAIR"), items=(5,))
    assert f.stores == (1, 3) and f.counties == ("ADAIR", "POLK")
    assert f == Filters(start=date(2026, 3, 1), end=date(2026, 3, 31), stores=(1, 3),
                        counties=("POLK", "ADAIR"), items=(5,))
    assert f.days == 31 and f.has_product_filter and f.has_filters_besides_dates
    before = f.previous()
    assert (before.start, before.end) == (date(2026, 1, 29), date(2026, 2, 28))
    assert before.days == f.days and before.stores == f.stores
    with pytest.raises(ValueError, match="before start"):
        Filters(start=date(2026, 3, 2), end=date(2026, 3, 1))


def test_where_binds_every_user_value_on_duckdb_and_bigquery() -> None:
    f = Filters(start=date(2026, 1, 1), end=date(2026, 1, 31), stores=(2,),
                counties=("POLK'; drop table x; --",), categories=(10,))
    duck = open_warehouse("duckdb:////nowhere.duckdb")
    sql, params = where(duck, f)
    assert sql == ("sale_date between $start and $end and list_contains($stores, store_id) "
                   "and list_contains($counties, county) "
                   "and list_contains($categories, category_id)")
    assert params == {"start": f.start, "end": f.end, "stores": [2],
                      "counties": ["POLK'; drop table x; --"], "categories": [10]}
    assert "drop table" not in sql
    bq = BigQueryWarehouse(parse_warehouse("bigquery://proj/analytics"), client=object())
    sql, _ = where(bq, f)
    assert "store_id in unnest($stores)" in sql
    assert BigQueryWarehouse.render(sql).startswith("sale_date between @start and @end")
    assert bq.table("mart_dashboard_sales") == "`proj.analytics.mart_dashboard_sales`"
    with pytest.raises(ValueError, match="categories"):
        where(duck, f, products=False)


def test_bigquery_parameters_are_typed() -> None:
    pytest.importorskip("google.cloud.bigquery")
    param = bigquery.query_parameter
    assert param("start", date(2026, 1, 1)).type_ == "DATE"
    assert param("stores", [1, 2]).array_type == "INT64"
    assert param("counties", ["POLK"]).array_type == "STRING"
    assert param("series_id", "all").type_ == "STRING"


def test_forecast_series_matches_only_forecast_filters() -> None:
    dates = {"start": date(2026, 1, 1), "end": date(2026, 1, 31)}
    assert forecast_series(Filters(**dates)) == ("total", "all")
    assert forecast_series(Filters(**dates, categories=(7,))) == ("category", "7")
    assert forecast_series(Filters(**dates, items=(9,))) == ("item", "9")
    assert forecast_series(Filters(**dates, categories=(7, 8))) is None
    assert forecast_series(Filters(**dates, categories=(7,), stores=(1,))) is None
    assert forecast_series(Filters(**dates, vendors=(3,))) is None


def test_open_warehouse_parses_the_setting() -> None:
    assert isinstance(open_warehouse("duckdb:////tmp/x.duckdb"), DuckDBWarehouse)
    bq = open_warehouse("bigquery://my-project/sales")
    assert isinstance(bq, BigQueryWarehouse) and bq.url == "bigquery://my-project/sales"
    with pytest.raises(WarehouseError, match="OAKEN_WAREHOUSE"):
        open_warehouse("postgres://nope")


def test_missing_and_unbuilt_warehouses_say_run_analytics(tmp_path) -> None:
    missing = open_warehouse(f"duckdb:///{tmp_path / 'absent.duckdb'}")
    with pytest.raises(WarehouseMissing, match="run `oaken analytics` first"):
        filters.load_meta(missing)
    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    with pytest.raises(WarehouseMissing, match="run `oaken analytics` first"):
        filters.load_meta(open_warehouse(f"duckdb:///{bare}"))
    assert not (tmp_path / "absent.duckdb").exists()  # read-only: nothing created


def test_empty_marts_are_reported_as_empty(tmp_path) -> None:
    path = tmp_path / "empty.duckdb"
    empty_warehouse(path)
    meta = filters.load_meta(open_warehouse(f"duckdb:///{path}"))
    assert meta.empty
    with pytest.raises(WarehouseEmpty, match="run `oaken analytics` first"):
        meta.default_filters()


# --- against a warehouse built by `oaken analytics` -----------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> SampleWarehouse:
    return sample_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def wh(sample) -> Warehouse:
    return open_warehouse(sample.warehouse_url)


@pytest.fixture(scope="module")
def meta(wh) -> Meta:
    return filters.load_meta(wh)


@pytest.fixture(scope="module")
def picks(sample) -> dict[str, object]:
    """Real values to filter on: the busiest county, store, category, vendor and item."""
    def top(column: str) -> object:
        return oracle(sample.path, f"{column}, sum(f.sale_dollars) as d",
                      Filters(start=date(2000, 1, 1), end=date(2100, 1, 1)),
                      "group by 1 order by d desc, 1 limit 1")[0][0]
    return {"county": top("coalesce(s.county, 'Unknown')"), "store": top("f.store_id"),
            "category": top("coalesce(f.category_id, -1)"),
            "vendor": top("coalesce(f.vendor_id, -1)"), "item": top("f.item_id")}


def cases(meta: Meta, picks: dict) -> dict[str, Filters]:
    default = meta.default_filters()
    narrow = Filters(start=date(2026, 2, 1), end=date(2026, 3, 15))
    return {
        "default": default,
        "all time": Filters(start=meta.first_sale_date, end=meta.last_sale_date),
        "narrow dates": narrow,
        "county": Filters(start=default.start, end=default.end, counties=(picks["county"],)),
        "store": Filters(start=default.start, end=default.end, stores=(picks["store"],)),
        "category": Filters(start=default.start, end=default.end,
                            categories=(picks["category"],)),
        "vendor": Filters(start=default.start, end=default.end, vendors=(picks["vendor"],)),
        "item": Filters(start=default.start, end=default.end, items=(picks["item"],)),
        "county and category": Filters(start=narrow.start, end=narrow.end,
                                       counties=(picks["county"],),
                                       categories=(picks["category"],)),
        "nothing matches": Filters(start=default.start, end=default.end, stores=(-42,)),
    }


def test_meta_describes_the_warehouse(sample, meta) -> None:
    first, last, lines, invoices = oracle(
        sample.path, "min(f.sale_date), max(f.sale_date), count(*), count(distinct invoice_id)",
        Filters(start=date(2000, 1, 1), end=date(2100, 1, 1)))[0]
    assert (meta.first_sale_date, meta.last_sale_date) == (first, last)
    assert meta.sale_lines == lines == sample.rows
    assert meta.invoices == invoices
    assert meta.split_invoices == 0 and not meta.empty
    default = meta.default_filters()
    assert default.end == last and default.start == date(2025, 7, 1)


def test_scorecards_equal_sql_for_every_filter(sample, wh, meta, picks) -> None:
    for name, f in cases(meta, picks).items():
        expected = oracle_scorecards(sample.path, f)
        for fast in ((True, False) if not f.has_product_filter else (False,)):
            got = sales.scorecards(wh, f, store_daily=fast)
            assert got.__dict__ == expected, (name, fast)
        assert filters.use_store_daily(f, meta) == (not f.has_product_filter)
    counts = {name: sales.scorecards(wh, f, store_daily=False).invoices
              for name, f in cases(meta, picks).items()}
    assert counts["default"] > counts["county"] > 0 and counts["nothing matches"] == 0


def test_split_invoices_turn_the_fast_path_off(meta) -> None:
    split = Meta(meta.first_sale_date, meta.last_sale_date, meta.sale_lines,
                         meta.sale_dollars, meta.invoices, split_invoices=1)
    assert not filters.use_store_daily(meta.default_filters(), split)


def test_monthly_bars_equal_sql_and_cover_twelve_months(sample, wh, meta, picks) -> None:
    for name, f in cases(meta, picks).items():
        frame = sales.monthly(wh, f, store_daily=not f.has_product_filter)
        assert len(frame) >= 12, name
        assert frame["month_start_date"].iloc[-1] == pd.Timestamp(f.end.replace(day=1))
        wide = Filters(**{**f.__dict__, "start": frame["month_start_date"].iloc[0].date()})
        expected = {
            pd.Timestamp(month): (invoices, bottles)
            for month, invoices, bottles in oracle(
                sample.path, "date_trunc('month', f.sale_date), count(distinct f.invoice_id), "
                "sum(f.bottles_sold)", wide, "group by 1")}
        got = {row.month_start_date: (row.invoices, row.bottles_sold)
               for row in frame.itertuples() if row.invoices or row.bottles_sold}
        assert got == expected, name


def test_daily_sales_add_up_to_the_scorecard(wh, meta, picks) -> None:
    for name, f in cases(meta, picks).items():
        fast = not f.has_product_filter
        frame = sales.daily_sales(wh, f, store_daily=fast)
        assert len(frame) == f.days, name
        total = sales.scorecards(wh, f, store_daily=fast).sale_dollars
        assert round(frame["sale_dollars"].sum(), 2) == pytest.approx(float(total)), name


def test_top_categories_and_items_equal_sql(sample, wh, meta, picks) -> None:
    for name, f in cases(meta, picks).items():
        categories = sales.top_categories(wh, f, n=5)
        expected = oracle(sample.path, "coalesce(f.category_id, -1) as c, sum(f.sale_dollars) d",
                          f, "group by 1 order by d desc, c limit 5")
        assert [(r.category_id, round(r.sale_dollars, 2)) for r in categories.itertuples()] \
            == [(c, float(d)) for c, d in expected], name
        items = sales.top_items(wh, f, n=5)
        expected = oracle(sample.path, "f.item_id as i, sum(f.sale_dollars) d", f,
                          "group by 1 order by d desc, i limit 5")
        assert [(r.item_id, round(r.sale_dollars, 2)) for r in items.itertuples()] \
            == [(i, float(d)) for i, d in expected], name
        if len(items):
            assert items["share"].max() <= 1 and items["item_label"].is_unique


def test_shipping_performance_equals_sql(sample, wh, meta, picks) -> None:
    for name, f in cases(meta, picks).items():
        lines, shipped, days, cost, dollars = oracle(
            sample.path, "count(*), count(f.ship_date), sum(f.days_to_ship), "
            "coalesce(sum(f.shipping_cost), 0), "
            "coalesce(sum(case when f.is_shipped then f.sale_dollars end), 0)", f)[0]
        for fast in ((True, False) if not f.has_product_filter else (False,)):
            got = shipping.shipping_summary(wh, f, store_daily=fast)
            assert (got.sale_lines, got.shipped_lines) == (lines, shipped), name
            assert got.shipping_cost == Decimal(cost).quantize(CENT)
            assert got.shipped_sale_dollars == Decimal(dollars).quantize(CENT)
            if shipped:
                assert got.avg_days_to_ship == pytest.approx(days / shipped)
                assert got.shipping_cost_share == pytest.approx(float(cost / dollars))
            monthly = shipping.shipping_monthly(wh, f, store_daily=fast)
            assert monthly["shipped_lines"].sum() == shipped
        spread = shipping.days_to_ship(wh, f)
        assert spread["lines"].sum() == shipped


def test_shipments_per_day_equal_sql(sample, wh, meta, picks) -> None:
    f = cases(meta, picks)["county"]
    frame = shipping.shipments_per_day(wh, f)
    expected = oracle(sample.path, "f.ship_date, count(*), sum(f.shipping_cost)", f,
                      "and f.is_shipped group by 1 order by 1")
    assert [(r.ship_date.date(), r.shipments, round(r.shipping_cost, 2))
            for r in frame.itertuples()] == [(d, n, float(c)) for d, n, c in expected]


def test_sales_per_sender_day_equal_the_database(sample, wh) -> None:
    """The Operations tab's senders, against the source of truth the warehouse came from."""
    frame = senders.sales_per_sender_day(wh)
    engine = create_engine(sample.database_url)
    with engine.connect() as connection:  # SQLite: money as integer hundredths
        expected = connection.execute(text(
            "SELECT date(updated_at), coalesce(sent_by, '(not recorded)'), count(*), "
            "sum(sale_dollars) FROM sales GROUP BY 1, 2 ORDER BY 1, 2")).all()
    engine.dispose()
    assert [(r.recorded_date.date().isoformat(), r.sent_by, int(r.sale_lines),
             round(r.sale_dollars, 2)) for r in frame.itertuples()] == [
        (day, sender, lines, cents / 100) for day, sender, lines, cents in expected]
    assert set(frame["sent_by"]) == {SENDER}
    assert int(frame["sale_lines"].sum()) == sample.rows


def test_receivables_and_ledger_check(sample, wh, meta, picks) -> None:
    everything = finance.receivables(wh, meta.default_filters())
    with duckdb.connect(str(sample.path), read_only=True) as connection:
        billed = connection.execute(
            "select sum(debit) from raw.journal_lines where account_code = '1100'").fetchone()[0]
        debits, credits = connection.execute(
            "select sum(debit), sum(credit) from raw.journal_lines").fetchone()
    assert round(everything["balance"].sum(), 2) == pytest.approx(float(billed))
    county = finance.receivables(
        wh, Filters(start=date(2026, 1, 1), end=date(2026, 1, 2), counties=(picks["county"],)))
    assert set(county["county"]) == {picks["county"]} and 0 < len(county) < len(everything)
    assert county["balance"].is_monotonic_decreasing
    ledger = finance.ledger_check(wh)
    assert ledger.balanced and ledger.debits == Decimal(debits).quantize(CENT) \
        == Decimal(credits).quantize(CENT)
    assert set(ledger.accounts["account_code"]) >= {"1100", "4000", "5100", "2100"}


def test_forecast_has_thirty_days_and_nested_bands(wh, meta, picks) -> None:
    total = sales.forecast(wh, meta.default_filters())
    assert total is not None and total.series_type == "total" and len(total.frame) == 30
    band = total.frame
    assert band["forecast_date"].min().date() > meta.last_sale_date
    assert (band["yhat_lo_95"] <= band["yhat_lo_80"] + 1e-9).all()
    assert (band["yhat_lo_80"] <= band["yhat"] + 1e-9).all()
    assert (band["yhat"] <= band["yhat_hi_80"] + 1e-9).all()
    assert (band["yhat_hi_80"] <= band["yhat_hi_95"] + 1e-9).all()
    category = sales.forecast(wh, cases(meta, picks)["category"])
    assert category is not None and category.series_type == "category"
    assert sales.forecast(wh, cases(meta, picks)["county"]) is None


def test_filter_options_cover_what_was_sold(wh, meta, picks) -> None:
    options = filters.filter_options(wh)
    assert picks["county"] in options.counties
    assert picks["store"] in options.stores and picks["item"] in options.items
    assert next(iter(options.categories)) == picks["category"]  # best seller first
    assert picks["vendor"] in options.vendors


def test_csv_download_has_the_filtered_rows(wh, meta, picks) -> None:
    f = cases(meta, picks)["county and category"]
    rows = export.filtered_rows(wh, f)
    assert set(rows["county"]) == {picks["county"]}
    assert set(rows["category_id"]) == {picks["category"]}
    assert rows["sale_date"].min() >= f.start and rows["sale_date"].max() <= f.end
    cards = sales.scorecards(wh, f, store_daily=False)
    assert sum(rows["sale_dollars"], Decimal(0)) == cards.sale_dollars
    assert int(rows["bottles_sold"].sum()) == cards.bottles_sold
    parsed = pd.read_csv(StringIO(export.filtered_rows_csv(wh, f).decode()))
    assert list(parsed.columns) == list(export.EXPORT_COLUMNS) and len(parsed) == len(rows)


def test_live_status_without_a_broker_still_reads_the_database(sample, monkeypatch) -> None:
    from oaken.settings import Settings

    settings = Settings(home=sample.home, database_url=sample.database_url,
                        warehouse=sample.warehouse_url, broker_port=1)
    status = live.live_status(settings, probe_timeout=0.2)
    assert status.counts["sales"] == sample.rows
    assert status.ledger_imbalance == Decimal("0.00")
    assert status.lag is None
    assert status.dlq == 0  # dead letters are rows of the database: counted all the same
    assert any("not reachable" in problem for problem in status.problems)


# --- the server's warm-up (oaken.dashboard.serve) --------------------------------------


@pytest.fixture
def settings_for(monkeypatch):
    from oaken.settings import get_settings

    def use(warehouse: str) -> None:
        monkeypatch.setenv("OAKEN_WAREHOUSE", warehouse)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_warm_up_reads_the_first_page_and_keeps_no_connection(
    sample, settings_for, monkeypatch
) -> None:
    import duckdb

    from oaken.dashboard import serve

    settings_for(sample.warehouse_url)
    opened: list[str] = []
    real_connect = duckdb.connect

    def counting_connect(*args, **kwargs):
        opened.append(str(args[0]))
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", counting_connect)
    serve.warm_warehouse()
    monkeypatch.undo()
    assert opened == [str(sample.path)]  # one session, every query on it
    # closed again: a writer (the next `oaken analytics`) can take the file's lock
    writer = duckdb.connect(str(sample.path))
    writer.close()


def test_warm_up_of_a_missing_warehouse_is_silent(tmp_path, settings_for) -> None:
    from oaken.dashboard import serve

    missing = tmp_path / "nowhere.duckdb"
    settings_for(f"duckdb:///{missing}")
    serve.warm_warehouse()  # the page explains a missing warehouse, not the server
    assert not missing.exists()
