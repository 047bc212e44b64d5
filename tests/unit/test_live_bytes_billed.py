"""Live mode's bytes billed: summed from dbt's run_results.json, kept in the live state,
shown by ``oaken status --json`` and ``/metrics`` (None/NaN on DuckDB)."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

from oaken.analytics.live import (
    LiveState,
    _write_state,
    bytes_billed,
    last_bytes_billed,
    read_state,
    run_bytes_billed,
    summary,
)
from oaken.settings import Settings


def node(unique_id: str, **response: object) -> dict:
    return {"unique_id": unique_id, "status": "success", "adapter_response": response}


#: the shape of dbt-bigquery's adapter responses (BigQueryAdapterResponse) and dbt-duckdb's
BIGQUERY_RUN = {"results": [
    node("model.oaken.stg_sales", _message="CREATE VIEW (0 processed)", code="CREATE VIEW",
         bytes_processed=0, bytes_billed=0, job_id="a"),
    node("model.oaken.fct_sales", _message="MERGE (40.0 rows, 12.5 MiB processed)",
         code="MERGE", rows_affected=40, bytes_processed=13_107_200,
         bytes_billed=13_631_488, job_id="b"),
    node("test.oaken.not_null_fct_sales_invoice_line_id", _message="SELECT",
         bytes_processed=1_000, bytes_billed=10_485_760, job_id="c"),
    node("model.oaken.skipped"),  # a skipped node has an empty response
]}
DUCKDB_RUN = {"results": [node("model.oaken.fct_sales", _message="OK", code="OK",
                               rows_affected=40)]}


def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'oaken.db'}",
                    warehouse=f"duckdb:///{tmp_path / 'warehouse.duckdb'}")


def test_bytes_billed_sums_every_job_and_is_none_without_bigquery_jobs() -> None:
    assert bytes_billed(BIGQUERY_RUN) == 13_631_488 + 10_485_760
    assert bytes_billed(DUCKDB_RUN) is None
    assert bytes_billed({"results": []}) is None


def test_run_bytes_billed_reads_this_runs_results_only(tmp_path: Path) -> None:
    config = settings(tmp_path)
    live = tmp_path / "dbt" / "target" / "live" / "run_results.json"
    full = tmp_path / "dbt" / "last_run_results.json"
    started = time.time()
    assert run_bytes_billed(config, heavy=False, since=started) is None  # no results yet
    live.parent.mkdir(parents=True)
    live.write_text(json.dumps(BIGQUERY_RUN))
    full.write_text(json.dumps({"results": [node("model.oaken.x", bytes_billed=7)]}))
    assert run_bytes_billed(config, heavy=False, since=started - 1) == 24_117_248
    assert run_bytes_billed(config, heavy=True, since=started - 1) == 7
    os.utime(live, (started - 60, started - 60))  # an earlier micro-batch's results
    assert run_bytes_billed(config, heavy=False, since=started) is None


def test_last_bytes_billed_in_the_state_status_and_metrics(tmp_path: Path) -> None:
    config = settings(tmp_path)
    assert math.isnan(last_bytes_billed(config))  # no live run yet
    _write_state(config, LiveState(runs=1, last_kind="micro-batch",
                                   last_bytes_billed=24_117_248))
    assert summary(config)["last_run"]["bytes_billed"] == 24_117_248
    assert last_bytes_billed(config) == 24_117_248.0
    _write_state(config, LiveState(runs=2, last_kind="micro-batch"))  # DuckDB
    assert summary(config)["last_run"]["bytes_billed"] is None
    assert math.isnan(last_bytes_billed(config))
    # a state file written before the field existed reads as None
    path = tmp_path / "analytics_live.json"
    data = json.loads(path.read_text())
    del data["last_bytes_billed"]
    path.write_text(json.dumps(data))
    assert read_state(config).last_bytes_billed is None
