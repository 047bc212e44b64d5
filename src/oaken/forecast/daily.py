"""30-day daily sales forecasts with statsforecast, and a rolling-origin backtest.

Series: total sale dollars per day (from ``mart_sales_daily``), and per day for each
top-N category and top-N item (ranked in ``mart_top_categories`` / ``mart_top_items``,
summed from ``mart_sales_daily_detail``), zero-filled so every series is gap-free.

Model: ``AutoETS`` with a weekly season (additive season, trend chosen by AICc, no
damping), fitted on the last ``history_days`` (default 365) of each series (a series of
under three weeks gets the ``SeasonalNaive`` baseline instead, named so); 80 % and
95 % prediction intervals. Lower bounds are floored at 0 (sales are never negative).
The backtest re-fits the model and a ``SeasonalNaive`` (weekly) baseline at
``windows`` rolling origins ``horizon`` days apart and stores sMAPE and MAE of both,
so a reader can see whether the model beats "same weekday last week".

Written to the warehouse beside the marts: ``forecast_sales_daily`` and
``forecast_backtest`` (replaced on every run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from oaken.warehouse.adapter import Warehouse
from oaken.warehouse.config import WarehouseConfig

HORIZON = 30
LEVELS = (80, 95)
SEASON = 7
MODEL_NAME = "AutoETS"
BASELINE_NAME = "SeasonalNaive"

FORECAST_COLUMNS = [
    "series_type", "series_id", "series_name", "forecast_date", "yhat",
    "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95", "model", "generated_at",
]
BACKTEST_COLUMNS = [
    "series_type", "series_id", "series_name", "model", "metric", "value",
    "baseline_model", "baseline_value", "windows", "horizon_days", "generated_at",
]


@dataclass
class ForecastReport:
    series: int = 0
    forecast_rows: int = 0
    backtest_rows: int = 0
    smape: dict[str, float] = field(default_factory=dict)  # total series: model, baseline


def load_series(warehouse: Warehouse, *, top_n: int = 10) -> tuple[pd.DataFrame, dict[str, tuple]]:
    """``(frame[unique_id, ds, y], {unique_id: (series_type, series_id, series_name)})``."""
    cfg = warehouse.config
    daily = cfg.table("mart_sales_daily")
    detail = cfg.table("mart_sales_daily_detail")
    top_items = cfg.table("mart_top_items")
    top_categories = cfg.table("mart_top_categories")
    total = warehouse.frame(
        f"select sale_date as ds, cast(sale_dollars as double) as y from {daily}"
    ).assign(unique_id="total:all")
    by_category = warehouse.frame(f"""
        select {detail}.sale_date as ds,
               'category:' || cast(top.category_id as varchar) as unique_id,
               cast(sum({detail}.sale_dollars) as double) as y
        from {detail}
        inner join {top_categories} as top
            on coalesce({detail}.category_id, -1) = top.category_id
        where top.sales_rank <= {int(top_n)}
        group by 1, 2
    """.replace("varchar", "string" if cfg.kind == "bigquery" else "varchar"))
    by_item = warehouse.frame(f"""
        select {detail}.sale_date as ds,
               'item:' || cast(top.item_id as varchar) as unique_id,
               cast(sum({detail}.sale_dollars) as double) as y
        from {detail}
        inner join {top_items} as top on {detail}.item_id = top.item_id
        where top.sales_rank <= {int(top_n)}
        group by 1, 2
    """.replace("varchar", "string" if cfg.kind == "bigquery" else "varchar"))
    names: dict[str, tuple] = {"total:all": ("total", "all", "All sales")}
    for row in warehouse.rows(
        f"select category_id, category_name from {top_categories} where sales_rank <= {int(top_n)}"
    ):
        names[f"category:{row[0]}"] = ("category", str(row[0]), row[1])
    for row in warehouse.rows(
        f"select item_id, item_description from {top_items} where sales_rank <= {int(top_n)}"
    ):
        names[f"item:{row[0]}"] = ("item", str(row[0]), row[1])
    frame = pd.concat([total, by_category, by_item], ignore_index=True)
    if frame.empty:
        return frame, names
    frame["ds"] = pd.to_datetime(frame["ds"])
    return _zero_fill(frame), names


def _zero_fill(frame: pd.DataFrame) -> pd.DataFrame:
    """Every series on every day from the first to the last day of the data."""
    days = pd.date_range(frame["ds"].min(), frame["ds"].max(), freq="D")
    ids = frame["unique_id"].unique()
    grid = pd.MultiIndex.from_product([ids, days], names=["unique_id", "ds"])
    filled = (
        frame.groupby(["unique_id", "ds"])["y"].sum().reindex(grid, fill_value=0.0).reset_index()
    )
    return filled[["unique_id", "ds", "y"]]


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric MAPE in percent (0–200); days where both are 0 count as exact."""
    denominator = np.abs(actual) + np.abs(predicted)
    ratio = np.divide(2 * np.abs(actual - predicted), denominator,
                      out=np.zeros_like(denominator, dtype=float), where=denominator != 0)
    return float(100 * ratio.mean()) if len(ratio) else float("nan")


def _model(history: int) -> tuple[Any, str]:
    """The model to fit on ``history`` days, and the name its forecasts carry."""
    from statsforecast.models import AutoETS, SeasonalNaive

    if history < 3 * SEASON:  # too short for a seasonal fit: the baseline is all there is
        return SeasonalNaive(season_length=SEASON, alias=BASELINE_NAME), BASELINE_NAME
    return AutoETS(season_length=SEASON, model="ZZA", damped=False, alias=MODEL_NAME), MODEL_NAME


def forecast(
    frame: pd.DataFrame,
    names: dict[str, tuple],
    *,
    horizon: int = HORIZON,
    windows: int = 3,
    history_days: int = 365,
    generated_at: datetime | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast every series of ``frame`` and backtest the model against the baseline."""
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    generated_at = generated_at or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    if frame.empty:
        return pd.DataFrame(columns=FORECAST_COLUMNS), pd.DataFrame(columns=BACKTEST_COLUMNS)
    cutoff = frame["ds"].max() - pd.Timedelta(days=history_days - 1)
    recent = frame[frame["ds"] >= cutoff].sort_values(["unique_id", "ds"])
    history = recent["ds"].nunique()
    jobs = 1  # a fork pool inside a Dagster step dies noisily on shutdown; 1 is fast enough

    model, name = _model(history)
    engine = StatsForecast(models=[model], freq="D", n_jobs=jobs)
    predicted = engine.forecast(df=recent, h=horizon, level=list(LEVELS))
    out = pd.DataFrame({
        "unique_id": predicted["unique_id"],
        "forecast_date": pd.to_datetime(predicted["ds"]).dt.date,
        "yhat": predicted[name].clip(lower=0),
    })
    for level in LEVELS:
        out[f"yhat_lo_{level}"] = predicted[f"{name}-lo-{level}"].clip(lower=0)
        out[f"yhat_hi_{level}"] = predicted[f"{name}-hi-{level}"].clip(lower=0)
    for column in ("yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"):
        out[column] = out[column].astype(float).round(2)
    out["model"] = name
    out["generated_at"] = generated_at
    _add_names(out, names)
    forecasts = out[FORECAST_COLUMNS].sort_values(["series_type", "series_id", "forecast_date"])

    backtest = pd.DataFrame(columns=BACKTEST_COLUMNS)
    windows = min(windows, max(0, (history - 2 * SEASON) // horizon))
    if windows >= 1 and name != BASELINE_NAME:  # a baseline is not backtested against itself
        engine = StatsForecast(
            models=[model, SeasonalNaive(season_length=SEASON, alias=BASELINE_NAME)],
            freq="D", n_jobs=jobs,
        )
        folds = engine.cross_validation(df=recent, h=horizon, n_windows=windows, step_size=horizon)
        rows = []
        for unique_id, fold in folds.groupby("unique_id"):
            actual = fold["y"].to_numpy(dtype=float)
            fitted = fold[name].to_numpy(dtype=float)
            base = fold[BASELINE_NAME].to_numpy(dtype=float)
            for metric, fn in (("smape", smape), ("mae", _mae)):
                rows.append({
                    "unique_id": unique_id, "model": name, "metric": metric,
                    "value": round(fn(actual, fitted), 4), "baseline_model": BASELINE_NAME,
                    "baseline_value": round(fn(actual, base), 4), "windows": windows,
                    "horizon_days": horizon, "generated_at": generated_at,
                })
        backtest = pd.DataFrame(rows)
        _add_names(backtest, names)
        backtest = backtest[BACKTEST_COLUMNS].sort_values(["series_type", "series_id", "metric"])
    return forecasts.reset_index(drop=True), backtest.reset_index(drop=True)


def _mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.abs(actual - predicted).mean()) if len(actual) else float("nan")


def _add_names(frame: pd.DataFrame, names: dict[str, tuple]) -> None:
    def part(unique_id: str, index: int) -> str:
        if unique_id in names:
            return names[unique_id][index]
        kind, _, ident = unique_id.partition(":")
        return (kind, ident, ident)[index]

    frame["series_type"] = [part(u, 0) for u in frame["unique_id"]]
    frame["series_id"] = [part(u, 1) for u in frame["unique_id"]]
    frame["series_name"] = [part(u, 2) for u in frame["unique_id"]]


def run_forecasts(config: WarehouseConfig, *, top_n: int = 10) -> ForecastReport:
    """Load the series from the marts, forecast, backtest, write both tables."""
    warehouse = Warehouse(config)
    frame, names = load_series(warehouse, top_n=top_n)
    forecasts, backtest = forecast(frame, names)
    report = ForecastReport(series=frame["unique_id"].nunique() if not frame.empty else 0)
    report.forecast_rows = warehouse.replace_table("forecast_sales_daily", forecasts)
    report.backtest_rows = warehouse.replace_table("forecast_backtest", backtest)
    total = backtest[(backtest["series_type"] == "total") & (backtest["metric"] == "smape")]
    if not total.empty:
        report.smape = {MODEL_NAME: float(total["value"].iloc[0]),
                        BASELINE_NAME: float(total["baseline_value"].iloc[0])}
    return report
