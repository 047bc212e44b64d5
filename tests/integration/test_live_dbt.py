"""The micro-batch's dbt build in the live loop's own process (``oaken.analytics.live_dbt``):
the project is parsed once, no DuckDB instance is left open between micro-batches (the
next extract/load and the publish step open the warehouse with other settings), and
the warehouse equals the database after each micro-batch."""

from __future__ import annotations

from pathlib import Path

import duckdb
from sqlalchemy import text

from oaken.analytics import live_dbt
from oaken.analytics.live import micro_batch
from oaken.db.engine import make_engine
from oaken.ingest import import_records
from oaken.settings import Settings
from oaken.sources.generator import DEFAULT_END, iter_sales
from tests.support.sample_warehouse import build_sample_warehouse


def _counts(database_url: str, warehouse: Path) -> tuple[int, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            held = connection.execute(text("select count(*) from sales")).scalar_one()
    finally:
        engine.dispose()
    # another configuration than dbt-duckdb's: refused in this process if dbt kept its
    # instance of the file open
    with duckdb.connect(str(warehouse), config={"threads": 1}) as connection:
        built = connection.execute("select count(*) from analytics.fct_sales").fetchone()
    assert built is not None
    return held, int(built[0])


def test_micro_batches_in_process_parse_once_and_hold_no_lock(tmp_path: Path) -> None:
    sample = build_sample_warehouse(tmp_path / "home", rows=600)
    settings = Settings(home=sample.home, database_url=sample.database_url,
                        warehouse=sample.warehouse_url)
    live_dbt.forget_manifests()
    try:
        for round_ in range(2):
            engine = make_engine(sample.database_url)
            try:
                added = import_records(engine, iter_sales(
                    120, seed=40 + round_, start=DEFAULT_END, end=DEFAULT_END,
                    style="compact", first_invoice=90_000_000 + round_ * 10_000)).imported
            finally:
                engine.dispose()
            assert added == 120
            timings = micro_batch(settings)
            assert set(timings) == {"extract_load", "dbt_build", "publish"}
            held, built = _counts(sample.database_url, sample.path)
            assert built == held == 600 + 120 * (round_ + 1)
            assert len(live_dbt._MANIFESTS) == 1  # parsed by the first, reused by the second
    finally:
        live_dbt.forget_manifests()
