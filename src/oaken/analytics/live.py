"""Live mode: keep the warehouse current with micro-batches (``oaken analytics --live``).

``oaken up`` runs this as one more supervised child when
``OAKEN_ANALYTICS_INTERVAL_SECONDS`` is above 0. Every interval it runs the Dagster job
``analytics_live`` (:mod:`oaken.orchestration.build`): extract/load of what changed,
then ``dbt build`` of the models the dashboard and the reconciliation read, with their
tests (dbt tag ``live``). The whole job (every model and test, the snapshot,
forecasts, backtests) runs instead at most every
``OAKEN_ANALYTICS_HEAVY_INTERVAL_SECONDS``, and first of all when the warehouse is new.

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
    data_through: str | None = None
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
    value = warehouse.rows(f"select max(sale_updated_at) from {config.table('fct_sales')}")[0][0]
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def lag_seconds(data_through: str | None, now: datetime | None = None) -> float | None:
    if not data_through:
        return None
    now = now or datetime.now(UTC).replace(tzinfo=None)
    return round((now - datetime.fromisoformat(data_through)).total_seconds(), 1)


def run_once(settings: Settings, state: LiveState, *, heavy: bool, defs: Any) -> None:
    """One run (micro-batch or the whole job), recorded in ``state`` whatever happens."""
    from oaken.analytics.runner import run_analytics
    from oaken.orchestration.build import JOB_NAME, LIVE_JOB_NAME

    begun = time.perf_counter()
    state.last_kind = "full" if heavy else "micro-batch"
    try:
        run_analytics(settings, job_name=JOB_NAME if heavy else LIVE_JOB_NAME, defs=defs)
        newest = newest_sale(settings)
        state.data_through = newest.isoformat(timespec="seconds") if newest else None
        state.last_error = ""
    except OakenError as problem:
        state.failed_runs += 1
        state.last_error = str(problem)
        log.error("analytics %s failed: %s", state.last_kind, problem)
    finally:
        seconds = round(time.perf_counter() - begun, 2)
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
        heavy = (last_heavy is None and state.data_through is None and not _built(settings)) or (
            last_heavy is not None
            and begun - last_heavy >= settings.analytics_heavy_interval_seconds)
        if last_heavy is None and not heavy:
            last_heavy = begun  # an existing warehouse: the first full build comes later
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
        wait = interval - (time.monotonic() - begun)
        while wait > 0 and not stopping and (max_runs is None or state.runs < max_runs):
            time.sleep(min(wait, 0.5))
            wait -= 0.5
    return state


def _built(settings: Settings) -> bool:
    try:
        return newest_sale(settings) is not None
    except Exception:  # a warehouse that cannot be read yet is built by the first run
        return False
