"""End to end on every engine: sales into the database, `oaken analytics`, then every
mart checked against SQL on the source database, exact to the cent; an incremental
run after new sales and a price change; retention on top.

One warehouse is built per engine (module-scoped fixture) and the tests run in order
against it: the incremental and archive tests build on the first run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from oaken.analytics.runner import reconcile, run_analytics
from oaken.db import models
from oaken.db.engine import make_engine
from oaken.db.migrate import migrate
from oaken.ingest import import_records
from oaken.settings import Settings, get_settings
from tests.support.analytics import cli_app, database_rows, generated, money, totals_by
from tests.support.databases import ENGINES, fresh_database

SALES = 3000
NEW_SALES = 200
CENT = Decimal("0.01")


@dataclass
class Built:
    kind: str
    url: str
    home: Path
    settings: Settings
    first_output: str

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    def wh(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(sql).fetchall()


@pytest.fixture(scope="module", params=[e for e in ("sqlite", "mariadb", "postgresql")
                                        if e in ENGINES])
def built(request, tmp_path_factory, server_status) -> Iterator[Built]:
    kind = request.param
    base = tmp_path_factory.mktemp(f"analytics_{kind}")
    for url in fresh_database(kind, base, server_status):
        migrate(url)
        home = base / "home"
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("OAKEN_HOME", str(home))
            patch.setenv("OAKEN_DATABASE_URL", url)
            patch.delenv("OAKEN_WAREHOUSE", raising=False)
            patch.delenv("OAKEN_AIRBYTE_URL", raising=False)
            # exact counts of rows moved: no re-read window (the cursor lag is tested in
            # test_el_snapshot.py and test_live_analytics.py)
            patch.setenv("OAKEN_ANALYTICS_CURSOR_LAG_SECONDS", "0")
            get_settings.cache_clear()
            engine = make_engine(url)
            report = import_records(engine, generated(SALES, seed=11))
            engine.dispose()
            assert report.imported == SALES
            result = CliRunner().invoke(cli_app(), ["analytics"])
            assert result.exit_code == 0, result.output
            yield Built(kind, url, home, get_settings(), result.output)
        get_settings.cache_clear()


# --- tests -----------------------------------------------------------------------------


def test_analytics_cli_prints_report_and_reconciles(built: Built) -> None:
    assert "reconciled" in built.first_output
    assert "sales" in built.first_output and "dbt build" in built.first_output
    check = reconcile(built.settings)
    assert check["matches"], check["differences"]
    assert check["database"]["sales"] == SALES
    assert check["warehouse"]["forecast_rows"] > 0


def test_analytics_marts_reconcile_with_database_to_the_cent(built: Built) -> None:
    rows = database_rows(built.url)
    assert len(rows) == SALES

    # fct_sales: every line, same dollars, cost and margin
    fct = {r[0]: (money(r[1]), r[2], r[3], r[4]) for r in built.wh(
        "select invoice_line_id, sale_dollars, cost_dollars, gross_margin, shipping_cost "
        "from analytics.fct_sales")}
    assert len(fct) == SALES
    for row in rows:
        cost = money(row.bottles_sold * money(row.bottle_cost)) if row.bottle_cost is not None \
            else None
        assert fct[row.invoice_line_id][0] == money(row.sale_dollars)
        assert fct[row.invoice_line_id][1] == cost
        assert fct[row.invoice_line_id][3] == money(row.shipping_cost)

    daily_db = totals_by(rows, lambda r: r.sale_date, lambda r: r.sale_dollars)
    daily_wh = {r[0]: r[1] for r in built.wh(
        "select sale_date, sale_dollars from analytics.mart_sales_daily where sale_lines > 0")}
    assert daily_wh == daily_db

    monthly_db = totals_by(rows, lambda r: r.sale_date.replace(day=1), lambda r: r.sale_dollars)
    monthly_wh = dict(built.wh(
        "select month_start_date, sale_dollars from analytics.mart_sales_monthly"))
    assert monthly_wh == monthly_db

    items_db = totals_by(rows, lambda r: r.item_id, lambda r: r.sale_dollars)
    items_wh = {r[0]: r[1] for r in built.wh(
        "select item_id, sale_dollars from analytics.mart_top_items")}
    assert items_wh == items_db
    top10 = [r[0] for r in built.wh(
        "select item_id from analytics.mart_top_items where is_top_n order by sales_rank")]
    assert top10 == sorted(items_db, key=lambda i: (-items_db[i], i))[:10]

    categories_db = totals_by(rows, lambda r: r.category_id if r.category_id is not None else -1,
                              lambda r: r.sale_dollars)
    assert dict(built.wh(
        "select category_id, sale_dollars from analytics.mart_top_categories")) == categories_db

    detail_wh = {(r[0], r[1], r[2]): r[3] for r in built.wh(
        "select sale_date, store_id, item_id, sale_dollars "
        "from analytics.mart_sales_daily_detail")}
    assert detail_wh == totals_by(rows, lambda r: (r.sale_date, r.store_id, r.item_id),
                                  lambda r: r.sale_dollars)

    shipping_db = totals_by(rows, lambda r: r.sale_date.replace(day=1), lambda r: r.shipping_cost)
    shipping_wh = {r[0]: r[1] for r in built.wh(
        "select month_start_date, shipping_cost from analytics.mart_shipping_performance")}
    assert shipping_wh == shipping_db
    days = [(r.ship_date - r.sale_date).days for r in rows]
    [(avg_days, max_days)] = built.wh(
        "select sum(avg_days_to_ship * shipped_lines) / sum(shipped_lines), "
        "max(max_days_to_ship) from analytics.mart_shipping_performance")
    assert max_days == max(days)
    assert abs(avg_days - sum(days) / len(days)) < 0.01

    margin_db = totals_by(
        rows, lambda r: (r.sale_date.replace(day=1), r.category_id),
        lambda r: None if r.bottle_cost is None
        else money(r.sale_dollars) - r.bottles_sold * money(r.bottle_cost))
    margin_wh = {(r[0], r[1]): r[2] for r in built.wh(
        "select month_start_date, category_id, gross_margin from analytics.mart_gross_margin")}
    assert margin_wh == margin_db


def test_analytics_receivables_reconcile_with_ledger(built: Built) -> None:
    engine = make_engine(built.url)
    lines, entries, sales = models.journal_lines, models.journal_entries, models.sales
    with engine.connect() as connection:
        rows = connection.execute(
            select(sales.c.store_id, lines.c.debit, lines.c.credit)
            .select_from(lines.join(entries, lines.c.entry_id == entries.c.entry_id)
                         .join(sales, entries.c.invoice_line_id == sales.c.invoice_line_id))
            .where(lines.c.account_code == "1100")
        ).all()
        entry_count = connection.execute(select(func.count()).select_from(entries)).scalar_one()
    engine.dispose()
    per_store = totals_by(rows, lambda r: r.store_id, lambda r: money(r.debit) - money(r.credit))
    assert dict(built.wh("select store_id, balance from analytics.mart_receivables")) == per_store
    assert entry_count == 2 * SALES


def test_analytics_dbt_build_passed_and_forecasts_written(built: Built) -> None:
    results = built.home / "dbt" / "last_run_results.json"
    import json

    nodes = json.loads(results.read_text())["results"]
    statuses = {r["status"] for r in nodes}
    assert statuses <= {"success", "pass"}, statuses
    # dbt's unit tests run in tests/integration/test_dbt_project.py, not in production
    assert not [r for r in nodes if r["unique_id"].startswith("unit_test.")]
    series = built.wh("select series_type, count(distinct series_id), count(*) "
                      "from analytics.forecast_sales_daily group by 1 order by 1")
    categories = built.wh("select count(*) from analytics.mart_top_categories")[0][0]
    assert series == [("category", min(10, categories), 30 * min(10, categories)),
                      ("item", 10, 300), ("total", 1, 30)]
    [(bad,)] = built.wh(
        "select count(*) from analytics.forecast_sales_daily where not "
        "(yhat_lo_95 <= yhat_lo_80 and yhat_lo_80 <= yhat and yhat <= yhat_hi_80 "
        "and yhat_hi_80 <= yhat_hi_95 and yhat_lo_95 >= 0)")
    assert bad == 0
    [(first_day,)] = built.wh("select min(forecast_date) from analytics.forecast_sales_daily")
    [(last_sale,)] = built.wh("select max(sale_date) from analytics.fct_sales")
    assert (first_day - last_sale).days == 1
    backtest = built.wh("select model, metric, value, baseline_model, baseline_value "
                        "from analytics.forecast_backtest where series_type = 'total' "
                        "order by metric")
    assert [(r[0], r[1], r[3]) for r in backtest] == [
        ("AutoETS", "mae", "SeasonalNaive"), ("AutoETS", "smape", "SeasonalNaive")]
    assert all(r[2] >= 0 and r[4] >= 0 for r in backtest)


def test_analytics_incremental_moves_only_new_and_changed_rows(built: Built) -> None:
    [(fct_before,)] = built.wh("select count(*) from analytics.fct_sales")
    # new sales after the first batch, with their own invoice numbers
    new = generated(NEW_SALES, seed=12, start=date(2026, 11, 2), end=date(2026, 11, 12),
                    prefix="N")
    # a price change: an existing item sold later at a higher cost and retail
    [(item, cost, retail)] = built.wh(
        "select item_id, bottle_cost, bottle_retail from analytics.dim_product "
        "where bottle_cost is not null order by item_id limit 1")
    template = next(r for r in generated(SALES, seed=11) if int(r["ItemNumber"]) == item)
    price_change = {**template, "Invoice": "PRICE-1", "Date": "2026-11-15",
                    "BottleCost": str(cost + 1), "BottleRetail": str(retail + Decimal("1.50")),
                    "BottlesSold": 1, "SaleDollars": str(retail + Decimal("1.50"))}
    # a store that changed county and an item renamed: the marts that denormalise them
    # must rebuild the old rows too, not only the new sale
    moved_store = template["StoreNumber"]
    renamed = {**price_change, "Invoice": "RENAME-1", "Date": "2026-11-16",
               "County": "OAKEN TEST COUNTY", "StoreName": "Oaken Test Store",
               "ItemDescription": "OAKEN TEST ITEM"}
    engine = make_engine(built.url)
    report = import_records(engine, [*new, price_change, renamed])
    engine.dispose()
    assert report.imported == NEW_SALES + 2

    result = run_analytics(built.settings)
    moved = result.rows_moved
    assert moved["sales"] == NEW_SALES + 2
    assert moved["shipments"] == NEW_SALES + 2
    assert moved["journal_entries"] == 2 * (NEW_SALES + 2)
    assert moved["positions"] == 0 and moved["accounts"] == 0
    touched_items = {int(r["ItemNumber"]) for r in [*new, price_change]}
    assert 1 <= moved["products"] <= len(touched_items)
    assert 1 <= moved["stores"] <= len({int(r["StoreNumber"]) for r in [*new, renamed]})
    assert set(result.dbt) <= {"success", "pass"}

    [(fct_after,)] = built.wh("select count(*) from analytics.fct_sales")
    assert fct_after == fct_before + NEW_SALES + 2

    # the incremental marts hold every line, to the cent, with the current names
    rows = database_rows(built.url)
    detail_wh = {(r[0], r[1], r[2]): r[3] for r in built.wh(
        "select sale_date, store_id, item_id, sale_dollars "
        "from analytics.mart_sales_daily_detail")}
    assert detail_wh == totals_by(rows, lambda r: (r.sale_date, r.store_id, r.item_id),
                                  lambda r: r.sale_dollars)
    lines_wh = {r[0]: (money(r[1]), r[2]) for r in built.wh(
        "select invoice_line_id, sale_dollars, is_shipped from analytics.mart_dashboard_sales")}
    assert lines_wh == {r.invoice_line_id: (money(r.sale_dollars), r.ship_date is not None)
                        for r in rows}
    assert built.wh(
        "select distinct store_name, county from analytics.mart_sales_daily_detail "
        f"where store_id = {moved_store}") == [("Oaken Test Store", "OAKEN TEST COUNTY")]
    assert built.wh("select distinct county from analytics.mart_dashboard_sales "
                    f"where store_id = {moved_store}") == [("OAKEN TEST COUNTY",)]
    assert built.wh("select distinct item_description from analytics.mart_sales_daily_detail "
                    f"where item_id = {item}") == [("OAKEN TEST ITEM",)]
    assert built.wh(f"select bottle_cost, bottle_retail from analytics.dim_product "
                    f"where item_id = {item}") == [(cost + 1, retail + Decimal("1.50"))]
    history = built.wh(f"select bottle_cost, is_current from analytics.dim_product_price_history "
                       f"where item_id = {item} order by valid_from")
    assert history == [(cost, False), (cost + 1, True)]
    check = reconcile(built.settings)
    assert check["matches"], check["differences"]

    # nothing new: nothing moves
    from oaken.el.pipeline import run_el

    assert run_el(built.settings).total == 0


def test_dbt_runs_keep_their_artifacts_under_oaken_home(built: Built) -> None:
    """Every dbt run of the job writes into $OAKEN_HOME/dbt/target, never the project."""
    runs = list((built.home / "dbt" / "target").glob("oaken_dbt-*/run_results.json"))
    assert runs


def test_ledger_key_tests_check_rows_newer_than_the_last_build(built: Built) -> None:
    """The scoped key tests (unique_changed, relationships_changed) catch a new raw row
    that repeats an old key or has no parent, while skipping rows already tested."""
    import json
    import subprocess

    from oaken.orchestration.resources import (
        dbt_arguments,
        dbt_environment,
        dbt_executable,
        find_dbt_project,
    )

    marks = dict(built.wh("select source_table, built_through "
                          "from analytics.oaken_build_watermark"))
    assert set(marks) == {"sales", "shipments", "journal_entries", "journal_lines"}
    assert marks["journal_lines"] == built.wh(
        "select max(updated_at) from raw.journal_lines")[0][0]

    later = "updated_at + interval 1 day as updated_at"
    with duckdb.connect(str(built.warehouse)) as warehouse:
        warehouse.execute(  # an old key again, newer than the watermark
            f"insert into raw.journal_lines select * replace ({later}) "
            "from raw.journal_lines order by updated_at limit 1")
        warehouse.execute(  # a line whose entry does not exist
            f"insert into raw.journal_lines select * replace ('sale:NO-SUCH-LINE' as entry_id, "
            f"{later}) from raw.journal_lines order by updated_at limit 1")
    target = built.home / "dbt" / "target-scoped-test"
    try:
        done = subprocess.run(
            [dbt_executable(), "test", "--select", "stg_journal_lines", "--target-path",
             str(target), *dbt_arguments(built.settings)], cwd=find_dbt_project(),
            env=dbt_environment(built.settings), capture_output=True, text=True, check=False)
        results = json.loads((target / "run_results.json").read_text())["results"]
    finally:
        with duckdb.connect(str(built.warehouse)) as warehouse:
            warehouse.execute("delete from raw.journal_lines where updated_at > ?",
                              [marks["journal_lines"]])
    failed = {r["unique_id"].split(".")[2].split("_stg_")[0] for r in results
              if r["status"] == "fail"}
    assert done.returncode != 0
    assert failed == {"unique_changed", "relationships_changed"}, failed


def test_archive_dry_run_then_apply_keeps_the_ledger(built: Built) -> None:
    app = cli_app()
    before = reconcile(built.settings)["database"]
    dry = CliRunner().invoke(app, ["archive", "--older-than", "2y"])
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output
    assert reconcile(built.settings)["database"] == before

    rows = database_rows(built.url)
    from oaken.analytics.archive import cutoff_date

    cutoff = cutoff_date("2y")
    old = [r for r in rows if r.sale_date < cutoff]
    assert old, "the generated data should reach back more than two years"
    applied = CliRunner().invoke(app, ["archive", "--older-than", "2y", "--apply"])
    assert applied.exit_code == 0, applied.output
    assert f"removed {len(old):,} sales and {len(old):,} shipments" in applied.output
    after = reconcile(built.settings)
    assert after["database"]["sales"] == before["sales"] - len(old)
    assert after["database"]["shipments"] == before["shipments"] - len(old)
    # the ledger is untouched and the warehouse still holds every sale
    for name in ("ledger_debits", "ledger_credits", "receivable_debits"):
        assert after["database"][name] == before[name]
    assert after["warehouse"]["sales"] == before["sales"]
    assert after["database"]["sale_dollars"] == before["sale_dollars"] - sum(
        money(r.sale_dollars) for r in old)
