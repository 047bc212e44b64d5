"""The forecast asset: 30-day forecasts and their backtest, written beside the marts."""


import dagster as dg

from oaken.settings import Settings
from oaken.warehouse.config import warehouse_config

FORECAST_OP = "oaken_forecast"
GROUP = "forecasts"
UPSTREAM = [
    dg.AssetKey("mart_sales_daily"),
    dg.AssetKey("mart_sales_daily_detail"),
    dg.AssetKey("mart_top_items"),
    dg.AssetKey("mart_top_categories"),
]
FORECAST_KEY = dg.AssetKey("forecast_sales_daily")
BACKTEST_KEY = dg.AssetKey("forecast_backtest")


def build_forecast_definitions(settings: Settings) -> dg.Definitions:
    @dg.multi_asset(
        name=FORECAST_OP,
        group_name=GROUP,
        specs=[
            dg.AssetSpec(
                FORECAST_KEY, deps=UPSTREAM, kinds={"statsforecast"},
                description="30-day daily sales forecasts (80 % and 95 % intervals) for "
                "total sales and each top-10 category and item.",
            ),
            dg.AssetSpec(
                BACKTEST_KEY, deps=UPSTREAM, kinds={"statsforecast"},
                description="Rolling-origin backtest (sMAPE, MAE) of the forecast model "
                "against a weekly seasonal-naive baseline.",
            ),
        ],
    )
    def forecasts(context: dg.AssetExecutionContext):
        from oaken.forecast import run_forecasts

        report = run_forecasts(warehouse_config(settings))
        context.log.info(f"forecast {report.series} series: {report.forecast_rows} rows")
        yield dg.MaterializeResult(
            asset_key=FORECAST_KEY,
            metadata={"series": report.series, "dagster/row_count": report.forecast_rows},
        )
        yield dg.MaterializeResult(
            asset_key=BACKTEST_KEY,
            metadata={
                "dagster/row_count": report.backtest_rows,
                **{f"smape_total_{k}": v for k, v in report.smape.items()},
            },
        )

    return dg.Definitions(assets=[forecasts])
