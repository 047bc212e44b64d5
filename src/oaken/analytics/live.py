"""Live mode: keep the warehouse current with micro-batches (``oaken analytics --live``).

``oaken up`` runs this as one more supervised child when
``OAKEN_ANALYTICS_INTERVAL_SECONDS`` is above 0. Every interval it runs a micro-batch
(:func:`micro_batch`): extract/load of what changed (one snapshot, lagged cursor), then
one ``dbt build`` of the models the dashboard and the reconciliation read, with their
generic tests (dbt tag ``live``; the singular tests and those tagged
``whole_table`` left to the whole job) — what the Dagster job
``analytics_live`` runs, without Dagster's per-run overhead. The whole Dagster job
``analytics_job`` (every model and test, forecasts, backtests) runs instead at most
every ``OAKEN_ANALYTICS_HEAVY_INTERVAL_SECONDS``, and first of all when the warehouse
has no ``fct_sales`` yet.

After each run the loop writes ``$OAKEN_HOME/analytics_live.json`` (runs, failed runs,
the last run's duration and error, and ``data_through``: the newest sale's acceptance
time in the warehouse), which ``oaken status``, ``/metrics`` and the dashboard read.
The counts start again with each start of the loop, that is with ``oaken up``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oaken.errors import OakenError
from oaken.settings import Settings

log = logging.getLogger("oaken.analytics.live")

STATE_FILE = "analytics_live.json"


@dataclass
class LiveState:
    started_at: str = ""
    runs: int = 0
    failed_runs: int = 0
    heavy_runs: int = 0
    last_kind: str = ""
    last_finished_at: str = ""
    last_seconds: float = 0.0
    last_error: str = ""
    # the newest failed run (kind, finished_at, error): a later success keeps it, so
    # `failed_runs` > 0 always comes with its reason
    last_failure: dict[str, str] | None = None
    data_through: str | None = None
    last_bytes_billed: int | None = None  # BigQuery: the last run's dbt jobs; DuckDB: None
    last_timings: dict[str, float] = field(default_factory=dict)
    durations: list[float] = field(default_factory=list)  # the last micro-batches, seconds


def state_path(settings: Settings) -> Path:
    return Path(settings.home) / STATE_FILE


def read_state(settings: Settings) -> LiveState | None:
    try:
        data = json.loads(state_path(settings).read_text())
    except (OSError, ValueError):
        return None
    known = set(LiveState.__dataclass_fields__)
    return LiveState(**{key: value for key, value in data.items() if key in known})


def _write_state(settings: Settings, state: LiveState) -> None:
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    spare = path.with_suffix(".tmp")
    spare.write_text(json.dumps(asdict(state), indent=1))
    os.replace(spare, path)  # readers never see half a file


def newest_sale(settings: Settings) -> datetime | None:
    """The newest sale's acceptance time (``updated_at``, naive UTC) in ``fct_sales``."""
    from oaken.warehouse.adapter import Warehouse
    from oaken.warehouse.config import warehouse_config

    config = warehouse_config(settings)
    warehouse = Warehouse(config)
    if not warehouse.has_table("fct_sales"):
        return None
    sql = f"select max(sale_updated_at) from {config.table('fct_sales')}"
    if config.kind == "bigquery" and warehouse.has_table("oaken_model_cursors"):
        # the same value, kept by fct_sales' post-hook (transform/macros/model_cursors.sql):
        # max() would read the whole column, billed on every micro-batch
        stored = warehouse.rows(
            f"select newest from {config.table('oaken_model_cursors')} "
            "where model_relation = $model and cursor_column = 'sale_updated_at'",
            {"model": f"{config.marts_schema}.fct_sales"})
        value = stored[0][0] if stored else warehouse.rows(sql)[0][0]
    else:
        value = warehouse.rows(sql)[0][0]
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def summary(settings: Settings, now: datetime | None = None) -> dict[str, Any] | None:
    """What ``oaken status --json`` reports as ``analytics`` (None before live mode ran):
    ``data_through`` (newest sale's acceptance time in the warehouse, UTC),
    ``lag_seconds`` (now minus that), ``runs`` and ``failed_runs`` since the loop (that
    is ``oaken up``) started, and the last run."""
    state = read_state(settings)
    if state is None:
        return None
    return {
        "data_through": state.data_through, "lag_seconds": lag_seconds(state.data_through, now),
        "runs": state.runs, "failed_runs": state.failed_runs, "full_runs": state.heavy_runs,
        "started_at": state.started_at, "last_run": {
            "kind": state.last_kind, "finished_at": state.last_finished_at,
            "seconds": state.last_seconds, "timings": state.last_timings,
            "bytes_billed": state.last_bytes_billed, "error": state.last_error or None},
        "last_failure": state.last_failure,
    }


def last_bytes_billed(settings: Settings) -> float:
    """The last run's bytes billed for ``/metrics`` (NaN: DuckDB, or no run yet)."""
    state = read_state(settings)
    value = state.last_bytes_billed if state else None
    return float("nan") if value is None else float(value)


def lag_seconds(data_through: str | None, now: datetime | None = None) -> float | None:
    if not data_through:
        return None
    now = now or datetime.now(UTC).replace(tzinfo=None)
    return round((now - datetime.fromisoformat(data_through)).total_seconds(), 1)


def micro_batch(settings: Settings) -> dict[str, float]:
    """Extract/load, then ``dbt build --select tag:live --exclude test_type:singular
    tag:whole_table`` (on BigQuery also ``tag:whole_table_on_bigquery``: the key tests
    that scan every key there) (in this process, the project parsed once:
    :mod:`oaken.analytics.live_dbt`), then the readers' copy.

    Returns the seconds of each step. A failed dbt node fails the micro-batch
    (:class:`~oaken.errors.TransformError` naming the nodes)."""
    from oaken.analytics import live_dbt
    from oaken.el.pipeline import run_el
    from oaken.orchestration.build import LIVE_DBT_SELECT, live_dbt_exclude
    from oaken.orchestration.resources import dbt_home
    from oaken.warehouse.config import warehouse_config
    from oaken.warehouse.publish import publish

    timings: dict[str, float] = {}
    begun = time.perf_counter()
    run_el(settings)
    timings["extract_load"] = round(time.perf_counter() - begun, 2)
    begun = time.perf_counter()
    live_dbt.build(settings, select=LIVE_DBT_SELECT, exclude=live_dbt_exclude(settings),
                   target_path=dbt_home(settings) / "target" / "live")
    timings["dbt_build"] = round(time.perf_counter() - begun, 2)
    begun = time.perf_counter()
    publish(warehouse_config(settings))  # the dashboard's copy (oaken.warehouse.publish)
    timings["publish"] = round(time.perf_counter() - begun, 2)
    return timings


def run_once(settings: Settings, state: LiveState, *, heavy: bool, defs: Any) -> None:
    """One run (micro-batch or the whole job), recorded in ``state`` whatever happens."""
    from oaken.analytics.runner import run_analytics

    begun = time.perf_counter()
    started = time.time()
    state.last_kind = "full" if heavy else "micro-batch"
    interrupted = False
    try:
        if heavy:
            run_analytics(settings, defs=defs)
        else:
            state.last_timings = micro_batch(settings)
        newest = newest_sale(settings)
        state.data_through = newest.isoformat(timespec="seconds") if newest else None
        state.last_error = ""
    except OakenError as problem:
        state.failed_runs += 1
        state.last_error = str(problem)
        state.last_failure = {"kind": state.last_kind, "error": str(problem),
                              "finished_at": datetime.now(UTC).replace(tzinfo=None)
                              .isoformat(timespec="seconds")}
        log.error("analytics %s failed: %s", state.last_kind, problem)
    except KeyboardInterrupt:  # stopping (SIGTERM): not a run, neither done nor failed
        interrupted = True
        raise
    finally:
        if not interrupted:
            state.last_bytes_billed = run_bytes_billed(settings, heavy=heavy, since=started)
            _record(settings, state, heavy, round(time.perf_counter() - begun, 2))


def run_bytes_billed(settings: Settings, *, heavy: bool, since: float) -> int | None:
    """Bytes billed by the dbt jobs of the run that began at ``since`` (epoch seconds),
    from its ``run_results.json``: a micro-batch's own (``dbt/target/live``), the whole
    job's as the Dagster asset copies it (``dbt/last_run_results.json``). None on DuckDB,
    and when the run wrote no results (it failed before dbt)."""
    from oaken.orchestration.resources import dbt_home

    home = dbt_home(settings)
    path = home / "last_run_results.json" if heavy else home / "target" / "live" / (
        "run_results.json")
    try:
        if path.stat().st_mtime < since:
            return None  # an earlier run's
        return bytes_billed(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def bytes_billed(run_results: dict[str, Any]) -> int | None:
    """The sum of ``adapter_response.bytes_billed`` over a dbt run's nodes; None when no
    node reports it (DuckDB)."""
    billed = [result["adapter_response"]["bytes_billed"]
              for result in run_results.get("results", [])
              if isinstance((result.get("adapter_response") or {}).get("bytes_billed"), int)]
    return sum(billed) if billed else None


def _record(settings: Settings, state: LiveState, heavy: bool, seconds: float) -> None:
    """Count a finished run (done or failed) and write the state file."""
    state.runs += 1
    state.heavy_runs += int(heavy)
    state.last_seconds = seconds
    state.last_finished_at = datetime.now(UTC).replace(tzinfo=None).isoformat(
        timespec="seconds")
    if not heavy:
        state.durations = [*state.durations, seconds][-100:]
    _write_state(settings, state)


def run_live(settings: Settings, *, max_runs: int | None = None) -> LiveState:
    """Micro-batches every interval, the whole job every heavy interval, until SIGTERM."""
    from oaken.analytics.runner import check_database
    from oaken.orchestration.build import build_definitions

    interval = settings.analytics_interval_seconds
    if interval <= 0:
        raise OakenError("live analytics is off (OAKEN_ANALYTICS_INTERVAL_SECONDS is 0)")
    stopping = False
    running = False

    def stop(_signum: int, _frame: Any) -> None:
        # between runs: leave after this wait; during one: interrupt it (the supervisor
        # gives its children 20 s), the next start's micro-batch picks up where it was
        nonlocal stopping
        stopping = True
        if running:
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    state = LiveState(started_at=datetime.now(UTC).replace(tzinfo=None).isoformat(
        timespec="seconds"))
    _write_state(settings, state)
    check_database(settings, timeout=60)
    defs = build_definitions(settings)  # dbt parse once, not every micro-batch
    last_heavy: float | None = None
    while not stopping and (max_runs is None or state.runs < max_runs):
        begun = time.monotonic()
        built = _built(settings)
        if built or _has_sales(settings):
            # the whole job until the warehouse exists (a micro-batch tests against
            # models only it builds), then every heavy interval; an existing warehouse
            # gets its first full build one heavy interval after the start
            heavy = not built or (last_heavy is not None and begun - last_heavy
                                  >= settings.analytics_heavy_interval_seconds)
            if last_heavy is None and not heavy:
                last_heavy = begun
            running = True
            try:
                run_once(settings, state, heavy=heavy, defs=defs)
            except KeyboardInterrupt:
                log.info("stopped during a run")
                break
            finally:
                running = False
            if heavy:
                last_heavy = begun
        # else: no sale yet, nothing to build (not a run, so not a failed one)
        wait = interval - (time.monotonic() - begun)
        while wait > 0 and not stopping and (max_runs is None or state.runs < max_runs):
            time.sleep(min(wait, 0.5))
            wait -= 0.5
    return state


def _has_sales(settings: Settings) -> bool:
    """The database holds at least one sale (a warehouse can be built from it)."""
    from sqlalchemy import text

    from oaken.db.engine import make_engine

    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("select 1 from sales limit 1")).first() is not None
    except Exception:  # the database away: the next loop asks again
        log.warning("the database cannot be read yet; live analytics waits")
        return False
    finally:
        engine.dispose()


def _built(settings: Settings) -> bool:
    try:
        return newest_sale(settings) is not None
    except Exception:  # a warehouse that cannot be read yet is built by the first run
        return False
