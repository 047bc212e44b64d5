"""Readers and the writer never block each other: the dashboard reads the copy each run
publishes, while another process holds the warehouse for writing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from oaken.errors import WarehouseBusy
from oaken.warehouse.config import WarehouseConfig, parse_warehouse
from oaken.warehouse.duckdb_adapter import DuckDBWarehouse
from oaken.warehouse.publish import publish, published_path

WRITER = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1])
connection.execute("insert into t values (3)")
print("writing", flush=True)
time.sleep(120)
"""


@pytest.fixture
def writer_holding(tmp_path: Path):
    """A DuckDB warehouse with rows 1, 2, published, then held by a writer process."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create table t (n integer)")
        connection.execute("insert into t values (1), (2)")
    config = parse_warehouse(f"duckdb:///{path}")
    assert publish(config) == published_path(path)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == b"writing", writer.stderr
        yield config, path
    finally:
        writer.kill()
        writer.wait()


def _published_with_one_row(tmp_path: Path) -> tuple[WarehouseConfig, Path]:
    """A DuckDB warehouse whose table ``t`` holds 1, published."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create table t (n integer)")
        connection.execute("insert into t values (1)")
    config = parse_warehouse(f"duckdb:///{path}")
    publish(config)
    return config, path


def test_the_dashboard_reads_the_published_copy_while_the_warehouse_is_written(
    writer_holding,
) -> None:
    config, _path = writer_holding
    plain = DuckDBWarehouse(config)
    with pytest.raises(WarehouseBusy):  # what the page used to show
        plain.rows("select count(*) from t")
    reader = DuckDBWarehouse(config)
    reader.readers_copy = True
    assert reader.rows("select count(*) from t") == [(2,)]  # the last published state


def test_a_reader_on_the_copy_does_not_keep_the_writer_from_publishing(tmp_path: Path) -> None:
    config, path = _published_with_one_row(tmp_path)
    reader = DuckDBWarehouse(config)
    reader.readers_copy = True
    with reader.session():
        assert reader.rows("select count(*) from t") == [(1,)]  # holds the copy open
        with duckdb.connect(str(path)) as connection:  # the writer writes and publishes
            connection.execute("insert into t values (2)")
        publish(config)
        assert reader.rows("select count(*) from t") == [(1,)]  # its snapshot, unchanged
    assert reader.rows("select count(*) from t") == [(2,)]  # the next page: the new copy


WRITE_ONCE = """
import sys, duckdb
with duckdb.connect(sys.argv[1]) as connection:
    connection.execute("insert into t values (9)")
print("wrote", flush=True)
"""


def test_a_page_between_two_steps_of_a_run_leaves_the_warehouse_to_the_writer(
    tmp_path: Path,
) -> None:
    """After extract/load and before dbt, the warehouse is newer than its copy and free.
    A page opened then used to read it (and hold its lock), so dbt could not take it
    and the micro-batch failed (bench/live.py saw it); a page reads the copy instead."""
    config, path = _published_with_one_row(tmp_path)
    with duckdb.connect(str(path)) as connection:  # the run's first step, unpublished
        connection.execute("insert into t values (2)")
    reader = DuckDBWarehouse(config)
    reader.readers_copy = True
    with reader.session():  # a page run holding its connection
        assert reader.rows("select count(*) from t") == [(1,)]  # the last published state
        writer = subprocess.run([sys.executable, "-c", WRITE_ONCE, str(path)],
                                capture_output=True, text=True, timeout=60, check=False)
        assert writer.returncode == 0 and writer.stdout.strip() == "wrote", writer.stderr
