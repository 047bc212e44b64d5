"""dlt extract/load on its own: incremental by updated_at, merge on keys, schema evolution."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pytest
from sqlalchemy import func, select, text, update

from oaken.db import models
from oaken.db.engine import make_engine
from oaken.el.pipeline import run_el, source_for_run
from oaken.el.snapshot import Snapshot
from oaken.ingest import import_records
from oaken.settings import Settings, get_settings


@pytest.fixture
def settings(sqlite_url, tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("OAKEN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OAKEN_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("OAKEN_WAREHOUSE", raising=False)
    # no re-read window: "nothing new moves nothing" (the lag has its own test)
    monkeypatch.setenv("OAKEN_ANALYTICS_CURSOR_LAG_SECONDS", "0")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def raw(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.home / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _dispositions(source) -> set[str]:
    return {resource.write_disposition for resource in source.resources.values()}


def test_el_moves_only_new_or_changed_rows_and_evolves_schema(settings: Settings) -> None:
    from oaken.sources.generator import iter_sales

    engine = make_engine(settings.database_url)
    assert import_records(engine, iter_sales(500, seed=3, style="compact")).imported == 500

    # nothing in the warehouse yet: every table is a plain append (nothing to merge with)
    assert _dispositions(source_for_run(settings, Snapshot(settings.database_url))) == {"append"}
    first = run_el(settings)
    # from now on every table merges on its key, and a full refresh appends again
    assert _dispositions(source_for_run(settings, Snapshot(settings.database_url))) == {"merge"}
    assert _dispositions(source_for_run(
        settings, Snapshot(settings.database_url), full_refresh=True)) == {"append"}
    assert first.rows["sales"] == 500 and first.rows["shipments"] == 500
    assert first.rows["journal_lines"] > 1000
    with engine.connect() as connection:
        dollars = connection.execute(select(func.sum(models.sales.c.sale_dollars))).scalar_one()
    # SQLite's integer hundredths arrive as the same exact DECIMAL sum
    assert raw(settings, "select count(*), sum(sale_dollars) from raw.sales") == [(500, dollars)]
    # money is exact DECIMAL in the warehouse, even from SQLite
    assert raw(settings, "select data_type from information_schema.columns where "
               "table_schema = 'raw' and table_name = 'sales' and column_name = 'sale_dollars'"
               ) == [("DECIMAL(12,2)",)]
    assert "published" not in {r[0] for r in raw(
        settings, "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'sales'")}

    assert run_el(settings).total == 0  # nothing new: nothing moves

    # a changed product row moves alone and replaces its old version
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        item = connection.execute(text("select min(item_id) from products")).scalar_one()
        connection.execute(update(models.products).where(models.products.c.item_id == item)
                           .values(bottle_cost=Decimal("99.99"), updated_at=now))
    changed = run_el(settings)
    assert changed.total == 1 and changed.rows["products"] == 1
    assert raw(settings, f"select bottle_cost from raw.products where item_id = {item}") == [
        (Decimal("99.99"),)]
    assert raw(settings, "select count(*) from raw.products where item_id = "
               f"{item}") == [(1,)]

    # schema evolution: a new column in the database appears in the warehouse
    with engine.begin() as connection:
        connection.execute(text("alter table stores add column region varchar(40)"))
        store = connection.execute(text("select min(store_id) from stores")).scalar_one()
        connection.execute(text(
            "update stores set region = 'Central', updated_at = :now where store_id = :store"
        ), {"now": now, "store": store})
    evolved = run_el(settings)
    assert evolved.rows["stores"] == 1
    assert raw(settings, f"select region from raw.stores where store_id = {store}") == [
        ("Central",)]

    # full refresh reloads everything
    assert run_el(settings, full_refresh=True).rows["sales"] == 500
    assert raw(settings, "select count(*) from raw.sales") == [(500,)]
    engine.dispose()
