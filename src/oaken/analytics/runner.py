"""``oaken analytics`` without the UI: the Dagster job, in-process, and a report.

:func:`run_analytics` builds the same definitions that ``oaken orchestrator`` serves
and executes their one job (dlt → dbt build → forecasts) in this process.
:func:`reconcile` compares the database with the warehouse to the cent.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select

from oaken.db import models
from oaken.db.engine import make_engine, safe_url, wait_for_database
from oaken.errors import (
    AnalyticsError,
    ArchiveError,
    DatabaseError,
    OakenError,
    TransformError,
    WarehouseBusy,
    WarehouseError,
    WarehouseMissing,
)
from oaken.money import to_cents
from oaken.settings import Settings
from oaken.warehouse.adapter import Warehouse
from oaken.warehouse.config import RAW_SCHEMA, warehouse_config

_ERRORS = {cls.__name__: cls for cls in (
    AnalyticsError, ArchiveError, DatabaseError, TransformError, WarehouseError,
    WarehouseMissing, WarehouseBusy,
)}


@dataclass
class AnalyticsReport:
    rows_moved: dict[str, int] = field(default_factory=dict)
    dbt: dict[str, int] = field(default_factory=dict)
    forecast_rows: int = 0
    backtest_rows: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    warehouse: str = ""

    @property
    def total_rows_moved(self) -> int:
        return sum(self.rows_moved.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows_moved": self.rows_moved, "dbt": self.dbt, "forecast_rows": self.forecast_rows,
            "backtest_rows": self.backtest_rows, "timings": self.timings,
            "seconds": self.seconds, "warehouse": self.warehouse,
        }


def check_database(settings: Settings, *, timeout: float = 5.0) -> None:
    """Fail fast, in one line, if the database is down or was never migrated."""
    engine = make_engine(settings.database_url)
    try:
        wait_for_database(engine, timeout=timeout)
        if not inspect(engine).has_table("sales"):
            raise DatabaseError(
                f"database {safe_url(settings.database_url)} has no sales table: "
                "run `oaken up` or `oaken import` first"
            )
    finally:
        engine.dispose()


def run_analytics(
    settings: Settings, *, full_refresh: bool = False, echo: bool = False,
    job_name: str | None = None, defs: Any = None,
) -> AnalyticsReport:
    """Extract/load, ``dbt build`` and forecasts, as the Dagster job, in-process.

    ``job_name`` is ``analytics_job`` (everything) by default, or ``analytics_live``
    (a micro-batch: :mod:`oaken.analytics.live`); ``defs`` are definitions already
    built (a loop builds them once). dbt's console output goes to
    ``$OAKEN_HOME/logs/analytics.log`` (and to stdout too when ``echo``).
    """
    import dagster as dg

    from oaken.el.pipeline import PIPELINE_NAME, dlt_dir, rows_moved
    from oaken.orchestration.build import JOB_NAME, build_definitions
    from oaken.orchestration.dbt import DBT_OP, summarise
    from oaken.orchestration.el import EL_OP

    started = time.perf_counter()
    config = warehouse_config(settings)
    check_database(settings)
    if defs is None:
        defs = build_definitions(settings)
    job = defs.resolve_job_def(job_name or JOB_NAME)
    ops = {node.name for node in job.graph.nodes}
    run_config: dict[str, Any] = {
        "ops": {
            op: {"config": {"full_refresh": full_refresh}}
            for op in (EL_OP, DBT_OP) if op in ops
        },
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }
    prepared = time.perf_counter()
    log_path = settings.home.absolute() / "logs" / "analytics.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with _sigterm_kept(), dg.DagsterInstance.ephemeral() as instance, \
            _console_to(log_path, echo=echo):
        result = job.execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False
        )
        timings = _step_timings(instance.all_logs(result.run_id))
    report = AnalyticsReport(warehouse=config.describe())
    report.timings = {"prepare": round(prepared - started, 2), **timings}
    if not result.success:
        raise _failure(result)
    # the job's last asset published the dashboard's copy (oaken.orchestration.serving)

    if EL_OP in ops:
        import dlt

        pipeline = dlt.attach(PIPELINE_NAME, pipelines_dir=str(dlt_dir(settings) / "pipelines"))
        report.rows_moved = rows_moved(pipeline)
    results_file = settings.home.absolute() / "dbt" / "last_run_results.json"
    if results_file.exists():
        report.dbt = summarise(json.loads(results_file.read_text()))
    warehouse = Warehouse(config)
    report.forecast_rows = _count(warehouse, config.table("forecast_sales_daily"))
    report.backtest_rows = _count(warehouse, config.table("forecast_backtest"))
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _count(warehouse: Warehouse, table: str) -> int:
    return int(warehouse.rows(f"select count(*) from {table}")[0][0])


@contextmanager
def _sigterm_kept() -> Iterator[None]:
    """Give SIGTERM back its handler after Dagster's in-process run, which leaves it
    mapped to SIGINT's (for Kubernetes). In a process a shell started in the background
    SIGINT is ignored, so SIGTERM stayed ignored too: by this process and by every child
    it started later, which then outlived a stop (test_lineage found it)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread's handlers can change; Dagster leaves them too
        return
    kept = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, kept)


@contextmanager
def _console_to(path: Path, *, echo: bool) -> Iterator[None]:
    """Send what the job prints (dbt's log lines) to ``path`` instead of stdout."""
    if echo:
        yield
        return
    with path.open("a", encoding="utf-8") as log, redirect_stdout(log):
        yield


def _step_timings(entries: Any) -> dict[str, float]:
    starts: dict[str, float] = {}
    timings: dict[str, float] = {}
    for entry in entries:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.step_key in starts and event.event_type_value in (
            "STEP_SUCCESS", "STEP_FAILURE"
        ):
            timings[event.step_key] = round(entry.timestamp - starts[event.step_key], 2)
    return timings


def _failure(result: Any) -> OakenError:
    """The first failed step as one of our errors, with a one-line message."""
    for record in result.all_events:
        if record.event_type_value != "STEP_FAILURE":
            continue
        error = record.step_failure_data.error
        while error is not None and error.cls_name not in _ERRORS and error.cause is not None:
            error = error.cause
        if error is None:
            break
        message = error.message.strip().splitlines()[0] if error.message.strip() else ""
        cls = _ERRORS.get(error.cls_name)
        if cls is not None:
            _, _, text = message.partition(": ")
            return cls(text or message)
        return AnalyticsError(f"step {record.step_key} failed: {message[:300]}")
    return AnalyticsError("the analytics job failed (see the Dagster logs)")


# --- reconciliation -----------------------------------------------------------------


def _money_sum(connection: Any, column: Any, *where: Any) -> Decimal:
    """Exact sum of a money column: ``DECIMAL`` sums, or SQLite's integer hundredths
    summed as integers, both ``Decimal`` through the column's type."""
    total = connection.execute(select(func.coalesce(func.sum(column), 0)).where(*where))
    return to_cents(total.scalar_one())


def database_totals(settings: Settings) -> dict[str, Any]:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            count = lambda table: int(  # noqa: E731
                connection.execute(select(func.count()).select_from(table)).scalar_one()
            )
            receivable = models.journal_lines.c.account_code == "1100"
            return {
                "sales": count(models.sales),
                "sale_dollars": _money_sum(connection, models.sales.c.sale_dollars),
                "shipments": count(models.shipments),
                "shipping_cost": _money_sum(connection, models.shipments.c.shipping_cost),
                "ledger_debits": _money_sum(connection, models.journal_lines.c.debit),
                "ledger_credits": _money_sum(connection, models.journal_lines.c.credit),
                "receivable_debits": _money_sum(connection, models.journal_lines.c.debit,
                                                receivable),
            }
    finally:
        engine.dispose()


def warehouse_totals(settings: Settings) -> dict[str, Any]:
    config = warehouse_config(settings)
    warehouse = Warehouse(config)
    fct = config.table("fct_sales")
    lines = config.table("journal_lines", RAW_SCHEMA)
    row = warehouse.rows(f"""
        select count(*), coalesce(sum(sale_dollars), 0),
               sum(case when is_shipped then 1 else 0 end), coalesce(sum(shipping_cost), 0)
        from {fct}
    """)[0]
    ledger = warehouse.rows(f"""
        select coalesce(sum(debit), 0), coalesce(sum(credit), 0),
               coalesce(sum(case when account_code = '1100' then debit else 0 end), 0)
        from {lines}
    """)[0]
    totals = {
        "sales": int(row[0]),
        "sale_dollars": to_cents(row[1]),
        "shipments": int(row[2] or 0),
        "shipping_cost": to_cents(row[3]),
        "ledger_debits": to_cents(ledger[0]),
        "ledger_credits": to_cents(ledger[1]),
        "receivable_debits": to_cents(ledger[2]),
    }
    if warehouse.has_table("forecast_sales_daily"):
        totals["forecast_rows"] = _count(warehouse, config.table("forecast_sales_daily"))
    return totals


def reconcile(settings: Settings) -> dict[str, Any]:
    """Database vs warehouse totals; ``matches`` is true when every shared total agrees.

    ``{"database": {...}, "warehouse": {...}, "differences": {name: (db, wh)},
    "matches": bool}`` with sales, sale_dollars, shipments, shipping_cost,
    ledger_debits, ledger_credits and receivable_debits (Decimal, to the cent); the
    warehouse side also has forecast_rows once forecasts exist. After ``oaken archive
    --apply`` the warehouse keeps history the database no longer has, so sales
    counts and dollars legitimately differ.
    """
    database = database_totals(settings)
    try:
        warehouse = warehouse_totals(settings)
    except WarehouseError:
        raise
    except Exception as problem:
        raise WarehouseError(f"warehouse cannot be read: {str(problem).splitlines()[0]}") from None
    differences = {
        name: (value, warehouse.get(name))
        for name, value in database.items()
        if warehouse.get(name) != value
    }
    return {"database": database, "warehouse": warehouse, "differences": differences,
            "matches": not differences}
