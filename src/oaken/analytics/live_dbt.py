"""The micro-batch's ``dbt build``, run in this process with the project parsed once.

A ``dbt`` child process spends about 3 s of every micro-batch before its first model
(importing dbt and its adapter, reading the project) on an idle 2-core machine, and
several times that while sales stream: more than dbt's own node time at a
micro-batch's size. dbt's programmatic entry point (``dbtRunner``) takes a parsed
manifest, so the live loop parses the project once (the first micro-batch) and every
later build starts at its first node.

Two things keep this safe in a long-lived process:

- **No lock left behind.** dbt-duckdb keeps its DuckDB instance open after an
  invocation; extract/load (dlt) and the publish step open the same file with other
  settings, which DuckDB refuses within one process. The environment is closed after
  every build (:func:`_release_duckdb`).
- **Stopping stays stopping.** dbt reports a KeyboardInterrupt (how the live loop
  stops on SIGTERM) as a failed result; it is raised again here, so a stop is not
  counted as a failed run.

Everything dbt logs goes to ``$OAKEN_HOME/dbt/logs/dbt.log``; nothing is written to the
environment (the flags carry what ``DBT_*`` variables would).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from oaken.errors import TransformError
from oaken.orchestration.dbt import failures
from oaken.orchestration.resources import (
    dbt_arguments,
    dbt_home,
    find_dbt_project,
    prepare_dbt_home,
)
from oaken.settings import Settings

_LOCK = threading.Lock()  # one dbt invocation at a time in a process (dbt's globals)
_MANIFESTS: dict[str, Any] = {}  # parsed manifests, by project, target and variables


def build(settings: Settings, *, select: str, exclude: list[str], target_path: Path) -> None:
    """``dbt build --select select --exclude …`` in this process; a failed node (or dbt
    itself failing) raises :class:`TransformError` naming the nodes."""
    from dbt.cli.main import dbtRunner
    from dbt.contracts.graph.manifest import Manifest

    config = prepare_dbt_home(settings)
    project = find_dbt_project(settings.dbt_project_dir)
    logs = dbt_home(settings) / "logs"
    common = ["--project-dir", str(project), "--profiles-dir", str(project),
              "--target", config.dbt_target, "--log-path", str(logs),
              "--no-send-anonymous-usage-stats", "--quiet", *dbt_arguments(settings)]
    key = json.dumps(common)
    with _LOCK:
        try:
            manifest = _MANIFESTS.get(key)
            if manifest is None:
                parsed = dbtRunner().invoke(["parse", "--target-path", str(target_path),
                                             *common])
                _raise_if_stopped(parsed.exception)
                if not parsed.success or not isinstance(parsed.result, Manifest):
                    raise TransformError(f"dbt parse failed: {parsed.exception} "
                                         f"(see {logs / 'dbt.log'})")
                manifest = _MANIFESTS[key] = parsed.result
            done = dbtRunner(manifest=manifest).invoke([
                "build", "--select", select,
                *[part for value in exclude for part in ("--exclude", value)],
                "--exclude-resource-type", "unit_test", "--target-path", str(target_path),
                *common])
        finally:
            _release_duckdb()
    _raise_if_stopped(done.exception)
    if not done.success:
        results = target_path / "run_results.json"
        bad = failures(json.loads(results.read_text())) if results.exists() else []
        detail = ", ".join(bad[:5]) or (str(done.exception) if done.exception else "")
        raise TransformError(f"dbt build (live) failed: {detail or 'see the log'} "
                             f"(see {logs / 'dbt.log'})")


def forget_manifests() -> None:
    """Parse again at the next build (the project or its variables changed)."""
    with _LOCK:
        _MANIFESTS.clear()


def _raise_if_stopped(problem: BaseException | None) -> None:
    if isinstance(problem, KeyboardInterrupt):
        raise KeyboardInterrupt from problem


def _release_duckdb() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open between invocations."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb not installed: nothing held
        return
    environment = DuckDBConnectionManager._ENV
    DuckDBConnectionManager.close_all_connections()
    close = getattr(environment, "close", None)
    if close is not None:
        close()
