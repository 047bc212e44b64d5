"""``oaken dashboard``: help, one-line errors, and the Streamlit command it execs."""

from __future__ import annotations

import socket

import pytest
import typer
from typer.testing import CliRunner

from oaken.dashboard.cli import APP, register, streamlit_command
from oaken.errors import ConfigError, WarehouseError
from oaken.settings import get_settings


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test app"""

    register(app)
    return app


@pytest.fixture(autouse=True)
def fresh_settings():
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_help_explains_port_and_warehouse() -> None:
    result = CliRunner().invoke(cli(), ["dashboard", "--help"])
    assert result.exit_code == 0
    assert "OAKEN_DASHBOARD_PORT" in result.output and "oaken analytics" in result.output


def test_streamlit_command_serves_the_app_headless_without_usage_stats() -> None:
    command = streamlit_command(8512, "127.0.0.1")
    assert command[1:5] == ["-m", "oaken.dashboard.serve", "run", str(APP)]
    flags = dict(zip(command[5::2], command[6::2], strict=True))
    assert flags["--server.port"] == "8512"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert APP.exists()


def test_a_bad_warehouse_setting_is_one_line(monkeypatch) -> None:
    monkeypatch.setenv("OAKEN_WAREHOUSE", "mysql://nope")
    result = CliRunner().invoke(cli(), ["dashboard"])
    assert result.exit_code != 0
    assert isinstance(result.exception, WarehouseError)
    assert "\n" not in str(result.exception)


def test_a_busy_port_is_one_line(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("OAKEN_HOME", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli(), ["dashboard", "--port", str(port)])
    assert isinstance(result.exception, ConfigError)
    assert f"port {port}" in str(result.exception) and "in use" in str(result.exception)
