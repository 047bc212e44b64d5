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


def streamlit_command(port: int, address: str, secrets: Path | None = None) -> list[str]:
    """The command line that serves the report (no browser, no usage statistics); with
    ``secrets``, Streamlit reads its secrets (the sign-in's ``[auth]``) from that file only."""
    return [
        sys.executable, "-m", "oaken.dashboard.serve", "run", str(APP),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",
        *(["--secrets.files", str(secrets)] if secrets is not None else []),
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
        address: Annotated[str | None, typer.Option(
            help="interface to listen on (default: $OAKEN_DASHBOARD_ADDRESS, else "
            "127.0.0.1); another than loopback needs sign-in or --allow-anonymous")] = None,
        allow_anonymous: Annotated[bool, typer.Option(
            "--allow-anonymous", help="serve other machines without sign-in (a trusted "
            "network, or an authenticating proxy in front); also "
            "OAKEN_DASHBOARD_ALLOW_ANONYMOUS")] = False,
    ) -> None:
        """Serve the sales report (Streamlit) over the warehouse marts, read-only.

        Opens on http://127.0.0.1:$OAKEN_DASHBOARD_PORT (default 8501) and reads
        the warehouse in OAKEN_WAREHOUSE (DuckDB by default, or BigQuery).
        Build it first with `oaken analytics` (or `oaken demo`); until then
        the page says so. Ctrl-C stops it.

        With OAKEN_DASHBOARD_OIDC_* set, people sign in with OpenID Connect
        and only the allowed addresses and domains see the report; without,
        it serves this machine only, unless --allow-anonymous.
        """
        from oaken.dashboard import signin
        from oaken.settings import load_settings
        from oaken.warehouse.config import parse_warehouse

        settings = load_settings()
        config = parse_warehouse(settings.warehouse)  # WarehouseError: one line
        address = settings.dashboard_address if address is None else address
        signin.check_configuration(settings)
        signin.check_exposure(settings, address, allow_anonymous=allow_anonymous
                              or settings.dashboard_allow_anonymous)
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
        secrets = signin.write_secrets(settings) if settings.dashboard_sign_in else None
        typer.echo(f"dashboard: http://{host}:{chosen} (warehouse {config.describe()}; "
                   f"{signin.describe(settings)}); Ctrl-C to stop", err=True)
        command = streamlit_command(chosen, address, secrets)
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
