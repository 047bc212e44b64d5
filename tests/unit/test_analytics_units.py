"""Small pure pieces of the analytics half: warehouse URLs, retention ages, metrics."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oaken.analytics.archive import cutoff_date, parse_age
from oaken.errors import ArchiveError, WarehouseError
from oaken.forecast.daily import BASELINE_NAME, MODEL_NAME, forecast, smape
from oaken.orchestration.dbt import failures, summarise
from oaken.warehouse.config import parse_warehouse


def test_analytics_warehouse_urls() -> None:
    absolute = parse_warehouse("duckdb:////srv/oaken/warehouse.duckdb")
    assert (absolute.kind, absolute.path) == ("duckdb", Path("/srv/oaken/warehouse.duckdb"))
    assert absolute.dbt_target == "local" and absolute.marts_schema == "analytics"
    relative = parse_warehouse("duckdb:///.oaken/warehouse.duckdb")
    assert relative.path == Path.cwd() / ".oaken" / "warehouse.duckdb"
    bigquery = parse_warehouse("bigquery://my-project/oaken")
    assert (bigquery.kind, bigquery.project) == ("bigquery", "my-project")
    assert bigquery.dataset == "oaken"
    assert bigquery.dbt_target == "bigquery"
    assert bigquery.table("fct_sales") == "`my-project.oaken.fct_sales`"
    assert bigquery.table("sales", "raw") == "`my-project.raw.sales`"
    for bad in ("s3://bucket/x", "bigquery://project-only", "duckdb:///", "warehouse.duckdb"):
        with pytest.raises(WarehouseError):
            parse_warehouse(bad)


@pytest.mark.parametrize(("age", "today", "expected"), [
    ("2y", date(2026, 11, 25), date(2024, 11, 25)),
    ("2y", date(2026, 2, 28), date(2024, 2, 28)),
    ("1y", date(2024, 2, 29), date(2023, 2, 28)),
    ("18m", date(2026, 8, 31), date(2025, 2, 28)),
    ("6w", date(2026, 11, 25), date(2026, 10, 14)),
    ("90d", date(2026, 11, 25), date(2026, 8, 27)),
    ("3 months", date(2026, 1, 15), date(2025, 10, 15)),
])
def test_archive_cutoff_dates(age: str, today: date, expected: date) -> None:
    assert cutoff_date(age, today=today) == expected


@pytest.mark.parametrize("age", ["", "2", "y", "0y", "-1y", "2 fortnights", "2.5y"])
def test_archive_rejects_bad_ages(age: str) -> None:
    with pytest.raises(ArchiveError, match="--older-than"):
        parse_age(age)


def test_forecast_smape_is_symmetric_and_bounded() -> None:
    actual = np.array([100.0, 0.0, 50.0, 0.0])
    predicted = np.array([100.0, 0.0, 150.0, 10.0])
    # 0, 0 (both zero), 2*100/200 = 1, 2*10/10 = 2 → mean 0.75 → 75 %
    assert smape(actual, predicted) == pytest.approx(75.0)
    assert smape(predicted, actual) == pytest.approx(75.0)
    assert smape(actual, actual) == 0.0


def test_forecast_series_with_intervals_and_backtest() -> None:
    days = pd.date_range("2025-01-01", periods=400, freq="D")
    rng = np.random.default_rng(7)
    weekly = np.array([1.0, 1.1, 1.2, 1.3, 1.6, 0.4, 0.2])
    rows = []
    for unique_id, level in (("total:all", 10_000.0), ("item:42", 300.0)):
        y = level * weekly[days.dayofweek] + rng.normal(0, level * 0.05, len(days))
        rows.append(pd.DataFrame({"unique_id": unique_id, "ds": days, "y": y}))
    frame = pd.concat(rows, ignore_index=True)
    names = {"total:all": ("total", "all", "All sales"), "item:42": ("item", "42", "Rye")}
    forecasts, backtest = forecast(frame, names, windows=2)

    assert len(forecasts) == 60
    assert set(forecasts["series_name"]) == {"All sales", "Rye"}
    assert forecasts["forecast_date"].min() == date(2026, 2, 5)
    assert forecasts["forecast_date"].max() == date(2026, 3, 6)
    ordered = (forecasts["yhat_lo_95"] <= forecasts["yhat_lo_80"]) & (
        forecasts["yhat_lo_80"] <= forecasts["yhat"]) & (
        forecasts["yhat"] <= forecasts["yhat_hi_80"]) & (
        forecasts["yhat_hi_80"] <= forecasts["yhat_hi_95"])
    assert ordered.all()
    total = backtest[(backtest["series_type"] == "total") & (backtest["metric"] == "smape")]
    assert total["model"].tolist() == [MODEL_NAME]
    assert total["baseline_model"].tolist() == [BASELINE_NAME]
    assert total["windows"].tolist() == [2]
    # a clean weekly pattern: the model forecasts it within a few percent
    assert 0 <= total["value"].iloc[0] < 10


def test_dbt_run_results_summary_names_failures() -> None:
    results = {"results": [
        {"unique_id": "model.oaken.fct_sales", "status": "success"},
        {"unique_id": "test.oaken.unique_fct_sales_invoice_line_id.abc", "status": "fail"},
        {"unique_id": "model.oaken.mart_receivables", "status": "error"},
        {"unique_id": "model.oaken.mart_top_items", "status": "skipped"},
    ]}
    assert summarise(results) == {"success": 1, "fail": 1, "error": 1, "skipped": 1}
    assert failures(results) == [
        "test unique_fct_sales_invoice_line_id (fail)", "model mart_receivables (error)",
    ]
