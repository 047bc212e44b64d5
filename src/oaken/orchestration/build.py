"""Builds the project's Dagster definitions from settings: the per-domain definitions
(extract/load, dbt, forecasts) merged with one job, a daily schedule and freshness
checks. ``definitions.py`` holds the ``defs`` that ``oaken orchestrator`` serves;
``oaken analytics`` builds the same and runs the job in-process.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import dagster as dg

from oaken.orchestration.dbt import DBT_OP, build_dbt_definitions
from oaken.orchestration.el import build_el_definitions, raw_asset_keys
from oaken.orchestration.forecast import FORECAST_KEY, build_forecast_definitions
from oaken.orchestration.serving import READ_COPY_KEY, build_serving_definitions
from oaken.settings import Settings

JOB_NAME = "analytics_job"
LIVE_JOB_NAME = "analytics_live"
SCHEDULE_NAME = "analytics_daily"
FRESHNESS_SENSOR = "analytics_freshness"
LIVE_SENSOR = "analytics_live_every_interval"
HEAVY_SENSOR = "analytics_full_every_heavy_interval"
#: the dbt models of a micro-batch (tag `live` in transform/dbt_project.yml), with their
#: generic tests; the singular tests and the generic ones tagged `whole_table` (a key
#: test over every sale or journal line) run with the whole job, on its slower cadence
LIVE_DBT_SELECT = "tag:live"
WHOLE_TABLE_TAG = "whole_table"
LIVE_DBT_EXCLUDE = ["test_type:singular", f"tag:{WHOLE_TABLE_TAG}"]
#: the key tests that look up every key (a changed key against all the keys of the
#: model, a changed row's parent among all the parents): cheap on DuckDB, a scan of whole
#: tables on BigQuery, where they run with the whole job instead (docs/bigquery.md)
WHOLE_ON_BIGQUERY_TAG = "whole_table_on_bigquery"


def live_dbt_exclude(settings: Settings) -> list[str]:
    """What a micro-batch leaves to the whole job: ``LIVE_DBT_EXCLUDE``, and on BigQuery
    the tests tagged ``whole_table_on_bigquery`` too."""
    if settings.warehouse.startswith("bigquery://"):
        return [*LIVE_DBT_EXCLUDE, f"tag:{WHOLE_ON_BIGQUERY_TAG}"]
    return list(LIVE_DBT_EXCLUDE)


def build_definitions(settings: Settings) -> dg.Definitions:
    domains = dg.Definitions.merge(
        build_el_definitions(settings),
        build_dbt_definitions(settings),
        build_forecast_definitions(settings),
        build_serving_definitions(settings),
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
    live_job, live_sensors = _live(settings, domains, job)
    return dg.Definitions.merge(
        domains,
        dg.Definitions(jobs=[job, live_job], schedules=[schedule], asset_checks=freshness,
                       sensors=[sensor, *live_sensors]),
    )


def _whole_job_tests(settings: Settings) -> set[str]:
    """The names of the tests only the whole job runs (:func:`live_dbt_exclude`): the
    singular tests (dbt writes none for them in the selection syntax that dagster-dbt
    maps to asset checks) and those tagged ``whole_table`` (on BigQuery also
    ``whole_table_on_bigquery``), from the parsed manifest."""
    import json

    from oaken.orchestration.resources import dbt_home

    tags = {part.removeprefix("tag:") for part in live_dbt_exclude(settings)
            if part.startswith("tag:")}
    manifest = json.loads((dbt_home(settings) / "target" / "manifest.json").read_text())
    return {node["name"] for node in manifest["nodes"].values()
            if node["resource_type"] == "test"
            and (not node.get("test_metadata") or tags & set(node.get("tags", [])))}


def _live(
    settings: Settings, domains: dg.Definitions, job: dg.UnresolvedAssetJobDefinition
) -> tuple[dg.UnresolvedAssetJobDefinition, list[dg.SensorDefinition]]:
    """Live mode in Dagster: the micro-batch job (raw tables, then the dbt models tagged
    `live` with their tests) every ``OAKEN_ANALYTICS_INTERVAL_SECONDS``, the whole job
    every ``OAKEN_ANALYTICS_HEAVY_INTERVAL_SECONDS``; both sensors start stopped when the
    interval is 0. ``oaken up`` runs the same jobs without a Dagster daemon."""
    from dagster_dbt import build_dbt_asset_selection

    dbt_assets = [asset for asset in domains.assets or []
                  if isinstance(asset, dg.AssetsDefinition) and asset.op.name == DBT_OP]
    selection: dg.AssetSelection = dg.AssetSelection.assets(*raw_asset_keys(), READ_COPY_KEY)
    if dbt_assets:
        heavy = _whole_job_tests(settings)
        left_out = [spec.key for asset in dbt_assets for spec in asset.check_specs
                    if spec.name in heavy]
        selection = selection | build_dbt_asset_selection(
            dbt_assets, dbt_select=LIVE_DBT_SELECT)
        selection = selection - dg.AssetSelection.checks(*left_out)
    live_job = dg.define_asset_job(
        LIVE_JOB_NAME, selection=selection,
        description="Micro-batch: database → raw (dlt), then the dbt models tagged `live` "
        "and their generic tests; no forecasts, singular or whole-table tests.")
    on = settings.analytics_interval_seconds > 0
    status = dg.DefaultSensorStatus.RUNNING if on else dg.DefaultSensorStatus.STOPPED

    def every(name: str, target: dg.UnresolvedAssetJobDefinition, seconds: float):
        @dg.sensor(name=name, job=target, minimum_interval_seconds=max(int(seconds), 1),
                   default_status=status)
        def _sensor(context: dg.SensorEvaluationContext):
            # one run at a time: skip while the previous one of this job is still going
            active = context.instance.get_run_records(dg.RunsFilter(
                job_name=target.name, statuses=[dg.DagsterRunStatus.STARTED,
                                                dg.DagsterRunStatus.QUEUED,
                                                dg.DagsterRunStatus.STARTING]), limit=1)
            if active:
                return dg.SkipReason(f"{target.name} is still running")
            return dg.RunRequest()

        return _sensor

    sensors = [
        every(LIVE_SENSOR, live_job, settings.analytics_interval_seconds or 30),
        every(HEAVY_SENSOR, job, settings.analytics_heavy_interval_seconds),
    ]
    return live_job, sensors
