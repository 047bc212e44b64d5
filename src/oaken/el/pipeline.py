"""Extract/load: the source-of-truth database into the warehouse's ``raw`` schema with dlt.

One dlt source with a resource per table of the source of truth (docs/reference.md,
"Tables"). Every table of a run is read as of one moment
(:class:`~oaken.el.snapshot.Snapshot`: one read transaction, or PostgreSQL's exported
snapshot), so the warehouse never holds a row whose parent it lacks. Every table is
read incrementally by its ``updated_at`` cursor (a naive-UTC timestamp set on insert
and on change), stepped back by ``OAKEN_ANALYTICS_CURSOR_LAG_SECONDS`` (dlt's ``lag``)
because workers stamp rows before they commit, and merged on its primary key, so a row
that commits late is still read and a changed row replaces its old version. The
range is open (``updated_at > start``), so dlt's boundary deduplication (a hash of
every row at the last value, kept in state) is off.

How rows are read depends on the database (:mod:`oaken.el.snapshot`):

- SQLite and PostgreSQL: Arrow batches straight from the ADBC drivers
  (:mod:`oaken.el.arrow_tables`), several times faster than dlt's ``sql_table`` on
  large tables (BENCHMARKS.md); PostgreSQL's tables in parallel;
- MySQL/MariaDB (no ADBC driver): one SQLAlchemy connection, rows built into Arrow
  with the reflected types (``DECIMAL`` money stays exact).

Tables are reflected at run time (a column added by a migration shows up in ``raw``:
dlt's schema evolution), money loads as exact ``DECIMAL(p, 2)`` and timestamps as naive
``TIMESTAMP``. The outbox flags ``sales.published`` and ``shipments.published`` are
internal and left out.

State (cursors) lives in dlt's own state, in ``settings.home / "dlt"`` and in the
destination's ``_dlt_pipeline_state`` table, so a lost working directory is restored
from the warehouse.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import dlt
from dlt.common.runtime import telemetry
from dlt.common.runtime.collector import NULL_COLLECTOR
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.pipeline.progress import TCollectorArg
from sqlalchemy import DateTime, Table

from oaken.db import models
from oaken.el import arrow_tables
from oaken.el.snapshot import Snapshot
from oaken.settings import Settings
from oaken.warehouse.config import (
    RAW_SCHEMA,
    WarehouseConfig,
    duckdb_config,
    warehouse_config,
)

PIPELINE_NAME = "oaken_el"
SOURCE_NAME = "oaken_db"
CURSOR = "updated_at"

#: the tables of the source of truth (docs/reference.md, "Tables"), parents first
TABLES: tuple[Table, ...] = (
    models.stores,
    models.vendors,
    models.categories,
    models.products,
    models.positions,
    models.employees,
    models.sales,
    models.shipments,
    models.accounts,
    models.journal_entries,
    models.journal_lines,
)

#: internal columns that never leave the database
EXCLUDED: dict[str, list[str]] = {"sales": ["published"], "shipments": ["published"]}

TABLE_NAMES: tuple[str, ...] = tuple(table.name for table in TABLES)

#: BigQuery: the large raw tables, partitioned by day of ``updated_at`` when dlt creates
#: them, so a filter on a constant cursor reads only the recent days (docs/bigquery.md)
PARTITIONED: tuple[str, ...] = ("sales", "shipments", "journal_entries", "journal_lines")


def primary_key(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


def dlt_dir(settings: Settings) -> Path:
    return Path(settings.home).absolute() / "dlt"


class _QuietCursorWarning(logging.Filter):
    """A whole batch shares one ``updated_at`` (one transaction): expected, not a problem."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "sharing the same value of cursor field" not in record.getMessage()


_QUIET = _QuietCursorWarning()


#: dlt's own configuration for every pipeline here (its environment variables still win):
#: no telemetry; normalize and load in parallel but within a 2-core budget; four extract
#: threads mostly wait on their ADBC reader processes
DLT_CONFIG: dict[str, object] = {
    "runtime.dlthub_telemetry": False,
    "normalize.workers": 1,
    "load.workers": 4,
    "extract.workers": 4,
}


def _configure_dlt(settings: Settings) -> None:
    """Keep dlt's working files, logs and telemetry off the repository and network."""
    logging.getLogger("dlt").addFilter(_QUIET)
    dlt_dir(settings).mkdir(parents=True, exist_ok=True)
    for key, value in DLT_CONFIG.items():
        dlt.config[key] = value
    # dlt starts its telemetry from the configuration it found when first used, which
    # may be before the line above; stopping it is idempotent and keeps it off
    telemetry.stop_telemetry()


@dlt.source(name=SOURCE_NAME, max_table_nesting=0)
def oaken_database(
    database_url: str, table_names: Iterable[str] = TABLE_NAMES, *,
    snapshot: Snapshot | None = None, lag_seconds: float = 0.0,
):
    """One incremental, merging resource per table of the source-of-truth database, all
    read through one :class:`~oaken.el.snapshot.Snapshot` (one moment for every table)."""
    wanted = set(table_names)
    shared = snapshot if snapshot is not None else Snapshot(database_url)
    for table in TABLES:
        if table.name in wanted:
            yield _snapshot_table(shared, table, lag_seconds)


def _snapshot_table(snapshot: Snapshot, table: Table, lag_seconds: float):
    """The resource of ``table``: rows changed since the cursor (less ``lag_seconds``, see
    :func:`incremental`), read as of the snapshot, merged on the primary key."""
    excluded = EXCLUDED.get(table.name, ())

    def rows(updated_at=incremental(lag_seconds)):  # noqa: B008
        columns = arrow_tables.reflect(snapshot.database_url, table.name, excluded)
        yield from snapshot.read(columns, cursor=CURSOR, since=updated_at.start_value)

    # timestamps are naive UTC (not TIMESTAMP WITH TIME ZONE)
    naive: TTableSchemaColumns = {
        column.name: {"data_type": "timestamp", "timezone": False}
        for column in table.columns if isinstance(column.type, DateTime)}
    return dlt.resource(rows, name=table.name, primary_key=primary_key(table),
                        write_disposition="merge", columns=naive,
                        parallelized=snapshot.parallel)


def incremental(lag_seconds: float) -> dlt.sources.incremental:
    """The ``updated_at`` cursor, stepped back ``lag_seconds`` from the newest value seen.

    Workers stamp ``updated_at`` from their own clock before their commit, so a row can
    become visible after a later-stamped one was extracted. Each run re-reads the last
    ``lag_seconds`` (merged on the primary key, so nothing doubles): a row is missed only
    if it commits more than ``lag_seconds`` less twice the workers' clock skew after it
    was stamped (docs/analytics.md, "The cursor").
    """
    return dlt.sources.incremental(CURSOR, range_start="open", lag=lag_seconds or None)


def destination_for(config: WarehouseConfig):
    if config.kind == "duckdb":
        assert config.path is not None
        config.path.parent.mkdir(parents=True, exist_ok=True)
        return dlt.destinations.duckdb(credentials=DuckDbCredentials(
            str(config.path), global_config=duckdb_config(config)))
    from oaken.warehouse import bigquery

    return bigquery.dlt_destination(config)


def make_pipeline(settings: Settings) -> dlt.Pipeline:
    _configure_dlt(settings)
    config = warehouse_config(settings)
    if config.kind == "bigquery":
        from oaken.warehouse import bigquery

        for key, value in bigquery.dlt_config(config).items():
            dlt.config[key] = value
    progress: TCollectorArg = "log" if settings.dlt_progress else NULL_COLLECTOR
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(dlt_dir(settings) / "pipelines"),
        destination=destination_for(config),
        dataset_name=RAW_SCHEMA,
        progress=progress,
    )


def make_source(
    settings: Settings, table_names: Iterable[str] = TABLE_NAMES, *,
    snapshot: Snapshot | None = None,
):
    return oaken_database(settings.database_url, tuple(table_names), snapshot=snapshot,
                          lag_seconds=settings.analytics_cursor_lag_seconds)


def source_for_run(
    settings: Settings, snapshot: Snapshot, *, full_refresh: bool = False,
    table_names: Iterable[str] = TABLE_NAMES, pipeline: dlt.Pipeline | None = None,
):
    """A fresh source for one run: tables the warehouse does not hold yet are appended.

    On a first load (or a ``--full-refresh``, which drops the raw tables first) there is
    nothing to merge with, and dlt's merge (a staging copy, de-duplication by key, then
    delete and insert) only costs time: plain append makes the whole extract/load
    faster (BENCHMARKS.md). Tables that exist keep merging. The answer comes from
    the warehouse itself, not from dlt's local state, so a lost working directory can
    never append over loaded rows. On BigQuery the merges into the large raw tables
    delete only in recent partitions (:func:`scope_merges`, from ``pipeline``'s cursors).
    """
    from oaken.warehouse.adapter import Warehouse

    configure_extract(snapshot)
    source = make_source(settings, table_names, snapshot=snapshot)
    warehouse = Warehouse(warehouse_config(settings))
    loaded = warehouse.tables(warehouse.config.raw_schema)
    for name, resource in source.resources.items():
        if full_refresh or name not in loaded:
            resource.apply_hints(write_disposition="append")
    if warehouse.config.kind == "bigquery":
        partition_by_day(source)
        if pipeline is not None:
            scope_merges(source, pipeline, settings.analytics_cursor_lag_seconds)
    return source


def partition_by_day(source) -> None:
    """BigQuery: dlt creates the :data:`PARTITIONED` tables ``PARTITION BY
    DATE(updated_at)``. A hint of table creation only: a table loaded before keeps its
    layout until a full refresh drops it (docs/bigquery.md, "Live mode on BigQuery")."""
    from dlt.destinations.adapters import bigquery_adapter

    for name in PARTITIONED:
        if name in source.resources:
            bigquery_adapter(source.resources[name], partition=CURSOR)


def scope_merges(source, pipeline: dlt.Pipeline, lag_seconds: float) -> None:
    """BigQuery: the merge into each :data:`PARTITIONED` raw table deletes the old copies
    of the loaded keys only in the day partitions from the cursor's start on.

    dlt's merge (``delete-insert``) first deletes the rows whose key was loaded again:
    ``DELETE … WHERE EXISTS (SELECT 1 FROM staging WHERE key = …)``, a scan of the key
    column of the whole raw table (BigQuery prunes only on constants). These four tables
    are insert-only in the source of truth (workers insert sales, shipments, entries and
    lines and never update them), so a key is loaded again only when the cursor's lag
    re-reads its row, with the same ``updated_at``, at or after the start of this run's
    range (the newest ``updated_at`` loaded, less the lag). dlt's ``destination_scope``
    replaces the key lookup with that key lookup *and* ``updated_at`` from the start of
    that day, a constant: the delete reads only those partitions. Without a cursor in
    the pipeline's state (first load, lost working directory) the merge stays dlt's."""
    for name in PARTITIONED:
        resource = source.resources.get(name)
        if resource is None or resource.write_disposition != "merge":
            continue
        start = cursor_start(pipeline, name)
        if start is None:
            continue
        day = (start - timedelta(seconds=lag_seconds)).date()
        keys = primary_key(next(table for table in TABLES if table.name == name))
        if len(keys) == 1:
            present = f"{keys[0]} IN (SELECT {keys[0]} FROM {{staging_table}})"
        else:  # BigQuery: the table's own name is the implicit alias of its columns
            match = " AND ".join(f"staged.{key} = {name}.{key}" for key in keys)
            present = f"EXISTS (SELECT 1 FROM {{staging_table}} AS staged WHERE {match})"
        resource.apply_hints(write_disposition={
            "disposition": "merge", "strategy": "delete-insert",
            "destination_scope": f"{CURSOR} >= TIMESTAMP '{day.isoformat()} 00:00:00 UTC'"
                                 f" AND {present}"})


def cursor_start(pipeline: dlt.Pipeline, name: str) -> datetime | None:
    """The newest ``updated_at`` of table ``name`` loaded so far (dlt's cursor), or None."""
    try:
        state = pipeline.state["sources"][SOURCE_NAME]["resources"][name]
        value = state["incremental"][CURSOR]["last_value"]
    except KeyError:
        return None
    return value if isinstance(value, datetime) else None


@dataclass
class LoadReport:
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def rows_moved(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows normalised per table in the pipeline's last run (0 for tables with none)."""
    counts = {name: 0 for name in TABLE_NAMES}
    trace = pipeline.last_trace
    if trace is not None and trace.last_normalize_info is not None:
        for name, count in trace.last_normalize_info.row_counts.items():
            if name in counts:
                counts[name] = count
    return counts


def run_el(settings: Settings, *, full_refresh: bool = False) -> LoadReport:
    """Plain dlt run (no Dagster): used by the benchmark's step timing and by tests."""
    pipeline = make_pipeline(settings)
    with Snapshot(settings.database_url) as snapshot:
        source = source_for_run(settings, snapshot, full_refresh=full_refresh,
                                pipeline=pipeline)
        if full_refresh:
            pipeline.run(source, refresh="drop_sources")
        else:
            pipeline.run(source)
    return LoadReport(rows=rows_moved(pipeline))


def configure_extract(snapshot: Snapshot) -> None:
    """A serial snapshot (SQLite, MariaDB) is read one table at a time: dlt's ``fifo``
    mode drains each resource before it starts the next."""
    dlt.config["extract.next_item_mode"] = "round_robin" if snapshot.parallel else "fifo"

