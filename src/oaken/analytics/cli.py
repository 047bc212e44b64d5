"""The analytics commands: ``oaken analytics``, ``oaken orchestrator``, ``oaken archive``.

``register(app)`` adds them to the main Typer app. Expected failures print one line
on stderr and exit 1 (the commands catch :class:`~oaken.errors.OakenError` themselves,
so they behave the same on any app they are registered on).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from oaken.console import err, out
from oaken.errors import ConfigError, OakenError
from oaken.settings import Settings, load_settings


def _settings() -> Settings:
    return load_settings()


def _one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OakenError as problem:
            message = " ".join(str(problem).split()) or type(problem).__name__
            err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True, highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def analytics(
    full_refresh: Annotated[bool, typer.Option(
        "--full-refresh",
        help="Reload every raw table from scratch and rebuild incremental models.",
    )] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Show dbt's output instead of logging it to $OAKEN_HOME/logs.",
    )] = False,
    live: Annotated[bool, typer.Option(
        "--live", help="Keep the warehouse current until stopped: a micro-batch every "
        "OAKEN_ANALYTICS_INTERVAL_SECONDS, the whole job every "
        "OAKEN_ANALYTICS_HEAVY_INTERVAL_SECONDS (`oaken up` runs this).",
    )] = False,
) -> None:
    """Extract/load the database into the warehouse (dlt), `dbt build`, then forecasts.

    Runs the same Dagster assets the orchestrator serves, in this process. Only new or
    changed rows move; the marts and forecasts are rebuilt from them. With --live it
    keeps running micro-batches (docs/analytics.md, "Live mode").
    """
    from oaken.analytics.runner import reconcile, run_analytics

    settings = _settings()
    if live:
        import logging

        from oaken.analytics.live import run_live

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        if full_refresh:
            raise ConfigError("--live and --full-refresh do not go together")
        state = run_live(settings)
        out.print(f"live analytics stopped: {state.runs} runs, {state.failed_runs} failed")
        return
    with err.status("Running analytics: extract/load → dbt build → forecasts …"):
        report = run_analytics(settings, full_refresh=full_refresh, echo=verbose)
    moved = Table(title="Rows moved (database → raw)", show_edge=False)
    moved.add_column("table")
    moved.add_column("rows", justify="right")
    for table, rows in report.rows_moved.items():
        moved.add_row(table, f"{rows:,}")
    out.print(moved)
    dbt = ", ".join(f"{count} {status}" for status, count in sorted(report.dbt.items()))
    out.print(f"dbt build: {dbt or 'no results'}")
    out.print(f"forecasts: {report.forecast_rows:,} rows, backtest: {report.backtest_rows} rows")
    steps = ", ".join(f"{step} {seconds:.1f}s" for step, seconds in report.timings.items())
    out.print(f"time: {report.seconds:.1f}s ({steps})")
    check = reconcile(settings)
    if check["matches"]:
        db = check["database"]
        out.print(f"[green]reconciled[/green]: {db['sales']:,} sales, ${db['sale_dollars']:,} "
                  "in the database and the warehouse")
    else:
        for name, (database, warehouse) in check["differences"].items():
            out.print(f"[yellow]differs[/yellow] {name}: database {database}, "
                      f"warehouse {warehouse}")
    out.print(f"warehouse: {report.warehouse}")


class Role(StrEnum):
    dev = "dev"
    webserver = "webserver"
    daemon = "daemon"


def dagster_environment(settings: Settings) -> dict[str, str]:
    """The environment of a Dagster process: DAGSTER_HOME is ``$OAKEN_HOME/dagster``."""
    dagster_home = settings.home.absolute() / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "DAGSTER_HOME": str(dagster_home),
            "OAKEN_HOME": str(settings.home.absolute())}


def dagster_executable(name: str) -> str:
    executable = Path(sys.executable).parent / name
    if not executable.exists():
        raise ConfigError(f"the {name} executable is not installed in this environment")
    return str(executable)


def orchestrator(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(
        help="Port of the UI (default OAKEN_DAGSTER_PORT, 3000).")] = None,
    role: Annotated[Role, typer.Option(
        help="dev: the UI and the daemon in one process tree (one machine); in production "
        "run one `webserver` (the UI, behind an authenticating proxy) and one `daemon` "
        "(schedules, run queue) sharing OAKEN_HOME/dagster.")] = Role.dev,
) -> None:
    """Serve the Dagster UI over the project's assets, job, schedule and checks, or run
    Dagster's daemon (--role).

    SIGTERM or Ctrl-C stops dagster dev and every process it started (webserver,
    daemon, code servers), by pid after a 20 s grace period; the production roles
    replace this process with Dagster's, so the signal reaches it directly.
    """
    from oaken.orchestration.resources import find_dbt_project
    from oaken.orchestration.serve import run_process_tree
    from oaken.warehouse.config import parse_warehouse

    settings = _settings()
    parse_warehouse(settings.warehouse)
    find_dbt_project(settings.dbt_project_dir)
    env = dagster_environment(settings)
    port = port or settings.dagster_port
    definitions = ["-m", "oaken.orchestration.definitions"]
    if role is Role.daemon:
        command = [dagster_executable("dagster-daemon"), "run", *definitions]
        err.print(f"Dagster daemon (DAGSTER_HOME={env['DAGSTER_HOME']}); Ctrl-C stops")
    else:
        command = ([dagster_executable("dagster"), "dev"] if role is Role.dev
                   else [dagster_executable("dagster-webserver")])
        command += [*definitions, "-h", host, "-p", str(port)]
        err.print(f"Dagster UI on http://{host}:{port} (DAGSTER_HOME={env['DAGSTER_HOME']}); "
                  "Ctrl-C stops")
    if role is not Role.dev:  # replace this process: a container's SIGTERM reaches Dagster
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execve(command[0], command, env)
        except OSError as problem:
            raise ConfigError(f"cannot start {Path(command[0]).name}: {problem}") from None
    code = run_process_tree(command, env)
    if code not in (0, -2, -9, -15, 130):
        raise ConfigError(f"dagster dev exited with status {code}")


def archive(
    older_than: Annotated[str, typer.Option(
        "--older-than", help="Age cut-off: 2y, 18m, 6w or 90d (sales dated before it).",
    )],
    apply: Annotated[bool, typer.Option(
        "--apply", help="Delete for real (default: dry run, nothing changes).",
    )] = False,
) -> None:
    """Remove operational sales older than the cut-off that the warehouse verifiably holds.

    Each sale line must be in the warehouse's fct_sales with the same dollars and date;
    its shipment goes with it. The ledger is never touched. Dry run unless --apply.
    """
    from oaken.analytics.archive import archive_sales

    settings = _settings()
    with err.status("Verifying sales against the warehouse …"):
        report = archive_sales(settings, older_than, apply=apply)
    verb = "removed" if apply else "would remove"
    out.print(f"cut-off: sales dated before {report.cutoff.isoformat()}")
    out.print(f"candidates: {report.candidates:,}; verified in the warehouse: {report.verified:,} "
              f"(${report.verified_dollars:,}); not verified, kept: {report.unverified:,}")
    if apply:
        out.print(f"{verb} {report.deleted_sales:,} sales and {report.deleted_shipments:,} "
                  "shipments; ledger untouched")
    else:
        out.print(f"dry run: {verb} {report.verified:,} sales and their shipments; "
                  "ledger untouched (use --apply)")
    if report.unverified_examples:
        out.print("kept (not in the warehouse or different): "
                  + ", ".join(report.unverified_examples))


def register(app: typer.Typer) -> None:
    """Add ``analytics``, ``orchestrator`` and ``archive`` to ``app``."""
    app.command("analytics")(_one_line_errors(analytics))
    app.command("orchestrator")(_one_line_errors(orchestrator))
    app.command("archive")(_one_line_errors(archive))
