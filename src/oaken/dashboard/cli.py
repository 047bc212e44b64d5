"""``oaken dashboard``: serve the sales report with Streamlit (docs/reference.md,
"Commands" and "Settings").

:func:`register` adds the command to the ``oaken`` Typer app. The command checks the
configuration, then *replaces itself* with ``python -m oaken.dashboard.serve run app.py …``
(exec, not a child process), so a SIGTERM from ``oaken demo --serve`` or a process
manager reaches Streamlit directly; :mod:`oaken.dashboard.serve` warms the server
before handing over to Streamlit's own command line. ``python -m oaken.dashboard.cli``
runs the command alone.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from oaken.errors import ConfigError, OakenError

APP = Path(__file__).with_name("app.py")


def streamlit_command(port: int, address: str) -> list[str]:
    """The command line that serves the report (no browser, no usage statistics)."""
    return [
        sys.executable, "-m", "oaken.dashboard.serve", "run", str(APP),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",
    ]


def _port_free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address if address not in ("", "0.0.0.0") else "0.0.0.0", port))
        except OSError:
            return False
    return True


def register(app: typer.Typer) -> None:
    """Add ``dashboard`` to the ``oaken`` command."""

    @app.command()
    def dashboard(
        port: Annotated[int | None, typer.Option(
            help="port to serve on (default: $OAKEN_DASHBOARD_PORT, else 8501)")] = None,
        address: Annotated[str, typer.Option(
            help="interface to listen on; 0.0.0.0 serves other machines too")] = "127.0.0.1",
    ) -> None:
        """Serve the sales report (Streamlit) over the warehouse marts, read-only.

        Opens on http://127.0.0.1:$OAKEN_DASHBOARD_PORT (default 8501) and reads the
        warehouse in OAKEN_WAREHOUSE (DuckDB by default, or bigquery://PROJECT/DATASET).
        Build the warehouse first with `oaken analytics` (or `oaken demo`); until then the
        page says so. Ctrl-C stops it.
        """
        from oaken.settings import load_settings
        from oaken.warehouse.config import parse_warehouse

        settings = load_settings()
        config = parse_warehouse(settings.warehouse)  # WarehouseError: one line
        chosen = settings.dashboard_port if port is None else port
        if not 0 < chosen < 65536:
            raise ConfigError(f"dashboard port {chosen} is not a TCP port (OAKEN_DASHBOARD_PORT)")
        if not _port_free(address, chosen):
            raise ConfigError(f"port {chosen} on {address} is already in use: stop what "
                              "serves it or set OAKEN_DASHBOARD_PORT / --port")
        if config.kind == "duckdb" and config.path is not None and not config.path.exists():
            typer.echo(f"note: no warehouse at {config.path} yet: run `oaken analytics` "
                       "first (the page says so until then)", err=True)
        host = "127.0.0.1" if address in ("", "0.0.0.0") else address
        typer.echo(f"dashboard: http://{host}:{chosen} (warehouse {config.describe()}); "
                   "Ctrl-C to stop", err=True)
        command = streamlit_command(chosen, address)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execv(sys.executable, command)
        except OSError as problem:
            raise ConfigError(f"cannot start Streamlit: {problem}") from None


def main() -> None:
    """``python -m oaken.dashboard.cli [--port N]``: the command on its own."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    try:
        app()
    except OakenError as problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
