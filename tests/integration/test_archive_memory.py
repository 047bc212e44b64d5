"""``oaken archive`` reads the warehouse and the database in bounded chunks: its memory
does not grow with the number of old sales."""

from __future__ import annotations

import tracemalloc
from datetime import date

import duckdb
import pandas as pd
from sqlalchemy import func, select

from oaken.analytics.archive import archive_sales
from oaken.db import models
from oaken.db.engine import make_engine
from oaken.ingest import import_records
from oaken.settings import Settings
from oaken.warehouse.config import warehouse_config
from tests.support.analytics import generated

OLD_SALES = 20_000
CHUNK = 500
#: reading every old sale at once peaked at 14.8 MB of Python objects here for 20,000
#: sales; chunks of 500 peak at about 0.4 MB
PEAK_LIMIT = 2 * 2**20


def build(database_url: str, tmp_path) -> Settings:
    """``OLD_SALES`` sales from 2020-21 in the database and, the same, in fct_sales."""
    engine = make_engine(database_url)
    records = generated(OLD_SALES, seed=5, start=date(2020, 1, 1), end=date(2021, 12, 31))
    assert import_records(engine, records, batch_size=5000).imported == OLD_SALES
    s = models.sales
    with engine.connect() as connection:
        rows = connection.execute(
            select(s.c.invoice_line_id, s.c.sale_dollars, s.c.sale_date)
        ).all()
    engine.dispose()
    settings = Settings(home=tmp_path / "home", database_url=database_url)
    config = warehouse_config(settings)
    settings.home.mkdir(parents=True)
    frame = pd.DataFrame(rows, columns=["invoice_line_id", "sale_dollars", "sale_date"])
    frame["sale_dollars"] = frame["sale_dollars"].astype(str)
    with duckdb.connect(str(settings.home / "warehouse.duckdb")) as warehouse:
        warehouse.execute(f"create schema {config.marts_schema}")
        warehouse.execute(
            f"create table {config.table('fct_sales')} as select invoice_line_id, "
            "cast(sale_dollars as decimal(18, 2)) as sale_dollars, "
            "cast(sale_date as date) as sale_date from frame"
        )
    return settings


def test_archive_memory_is_bounded_by_its_chunk(database_url: str, tmp_path) -> None:
    settings = build(database_url, tmp_path)
    tracemalloc.start()
    try:
        dry = archive_sales(settings, "2y", today=date(2026, 1, 1), batch_size=CHUNK)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (dry.candidates, dry.verified, dry.unverified) == (OLD_SALES, OLD_SALES, 0)
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.1f} MB"
    applied = archive_sales(settings, "2y", apply=True, today=date(2026, 1, 1), batch_size=CHUNK)
    assert applied.deleted_sales == applied.deleted_shipments == OLD_SALES
    assert applied.verified_dollars == dry.verified_dollars
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(models.sales)).scalar_one() == 0
        assert (
            connection.execute(
                select(func.count()).select_from(models.journal_entries)
            ).scalar_one()
            == 2 * OLD_SALES
        )  # the ledger stays
    engine.dispose()
