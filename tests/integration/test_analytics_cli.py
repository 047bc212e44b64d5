"""The analytics commands: help, and expected failures as one line on stderr."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from oaken.analytics.cli import register
from oaken.settings import get_settings


@pytest.fixture
def app(tmp_path, monkeypatch) -> typer.Typer:
    monkeypatch.setenv("OAKEN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("OAKEN_WAREHOUSE", raising=False)
    monkeypatch.delenv("OAKEN_AIRBYTE_URL", raising=False)
    get_settings.cache_clear()
    application = typer.Typer()

    @application.callback()
    def main() -> None:
        """test app"""

    register(application)
    yield application
    get_settings.cache_clear()


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("command", ["analytics", "orchestrator", "archive"])
def test_analytics_commands_have_help(app: typer.Typer, command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_analytics_unreachable_database_is_one_line(app, monkeypatch) -> None:
    monkeypatch.setenv("OAKEN_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    line = one_error_line(CliRunner().invoke(app, ["analytics"]))
    assert "unreachable" in line


def test_analytics_unmigrated_database_is_one_line(app, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OAKEN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    line = one_error_line(CliRunner().invoke(app, ["analytics"]))
    assert "no sales table" in line


def test_analytics_bad_warehouse_is_one_line(app, sqlite_url, monkeypatch) -> None:
    monkeypatch.setenv("OAKEN_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("OAKEN_WAREHOUSE", "s3://bucket/warehouse")
    line = one_error_line(CliRunner().invoke(app, ["analytics"]))
    assert "OAKEN_WAREHOUSE" in line


def test_archive_without_warehouse_refuses(app, sqlite_url, monkeypatch) -> None:
    monkeypatch.setenv("OAKEN_DATABASE_URL", sqlite_url)
    line = one_error_line(CliRunner().invoke(app, ["archive", "--older-than", "2y", "--apply"]))
    assert "run `oaken analytics`" in line


def test_archive_bad_age_is_one_line(app, sqlite_url, monkeypatch) -> None:
    monkeypatch.setenv("OAKEN_DATABASE_URL", sqlite_url)
    line = one_error_line(CliRunner().invoke(app, ["archive", "--older-than", "soon"]))
    assert "--older-than" in line
