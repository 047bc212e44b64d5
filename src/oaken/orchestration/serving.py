"""The dashboard's read copy as the last asset of every analytics job.

Readers never open the warehouse being written (:mod:`oaken.warehouse.publish`): the
dashboard reads the copy each run publishes. So every job that writes the warehouse
publishes as its last step, also when the orchestrator's daemon runs it (its schedule
and sensors), not only ``oaken analytics`` and live mode: the asset depends on the
forecasts (the whole job's last step) and on ``mart_dashboard_meta`` (built by every
micro-batch), so it runs after whichever of them the job selects, and not at all when
a step before it failed (the copy keeps the last good run).
"""


import dagster as dg

from oaken.orchestration.forecast import BACKTEST_KEY, FORECAST_KEY
from oaken.settings import Settings
from oaken.warehouse.config import warehouse_config

READ_COPY_KEY = dg.AssetKey("warehouse_read_copy")
GROUP = "serving"


def build_serving_definitions(settings: Settings) -> dg.Definitions:
    @dg.asset(key=READ_COPY_KEY, group_name=GROUP, kinds={"duckdb"},
              deps=[FORECAST_KEY, BACKTEST_KEY, dg.AssetKey("mart_dashboard_meta")],
              description="The read-only copy of the DuckDB warehouse the dashboard reads "
              "(warehouse.read.duckdb), published after the run's last write; nothing on "
              "BigQuery.")
    def warehouse_read_copy() -> dg.MaterializeResult:
        from oaken.warehouse.publish import publish

        copy = publish(warehouse_config(settings))
        if copy is None:
            return dg.MaterializeResult(metadata={"published": False})
        return dg.MaterializeResult(metadata={
            "published": True, "path": str(copy),
            "bytes": dg.MetadataValue.int(copy.stat().st_size)})

    return dg.Definitions(assets=[warehouse_read_copy])
