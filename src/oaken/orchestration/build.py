"""Builds the project's Dagster definitions from settings: the per-domain definitions
(extract/load, dbt, forecasts) merged with one job, a daily schedule and freshness
checks. ``definitions.py`` holds the ``defs`` that ``oaken orchestrator`` serves;
``oaken analytics`` builds the same and runs the job in-process.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import dagster as dg

from oaken.orchestration.dbt import build_dbt_definitions
from oaken.orchestration.el import build_el_definitions, raw_asset_keys
from oaken.orchestration.forecast import FORECAST_KEY, build_forecast_definitions
from oaken.settings import Settings

JOB_NAME = "analytics_job"
SCHEDULE_NAME = "analytics_daily"
FRESHNESS_SENSOR = "analytics_freshness"


def build_definitions(settings: Settings) -> dg.Definitions:
    domains = dg.Definitions.merge(
        build_el_definitions(settings),
        build_dbt_definitions(settings),
        build_forecast_definitions(settings),
    )
    job = dg.define_asset_job(
        JOB_NAME,
        selection=dg.AssetSelection.all(),
        description="Database → raw (dlt) → dbt build → forecasts.",
    )
    schedule = dg.ScheduleDefinition(
        name=SCHEDULE_NAME, job=job, cron_schedule="0 3 * * *", execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    with warnings.catch_warnings():
        # superseded by FreshnessPolicy, which dagster-dbt/dagster-dlt assets cannot carry
        # here yet; the checks still run, and the sensor evaluates them between runs
        warnings.simplefilter("ignore")
        freshness = dg.build_last_update_freshness_checks(
            assets=[*raw_asset_keys(), dg.AssetKey("fct_sales"), FORECAST_KEY],
            lower_bound_delta=timedelta(hours=26),
        )
        sensor = dg.build_sensor_for_freshness_checks(
            freshness_checks=freshness, name=FRESHNESS_SENSOR
        )
    return dg.Definitions.merge(
        domains,
        dg.Definitions(jobs=[job], schedules=[schedule], asset_checks=freshness,
                       sensors=[sensor]),
    )
