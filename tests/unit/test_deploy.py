"""The reference production topology (deploy/docker-compose.yml) names real commands.

No container engine runs in CI, so the file is checked, not started."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from oaken.cli import app

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "docker-compose.yml"


def test_every_platform_service_runs_an_existing_oaken_command() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    commands = {name: spec["command"] for name, spec in services.items() if "command" in spec}
    assert set(commands) == {"api", "orders", "shipping", "accounting"}
    for command in commands.values():
        assert command[0] == "oaken"
        result = CliRunner().invoke(app, [*command[1:], "--help"])
        assert result.exit_code == 0, result.output
    for name in ("orders", "shipping", "accounting"):
        environment = services[name]["environment"]
        assert environment["OAKEN_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert environment["OAKEN_DATABASE_URL"].startswith("mysql+pymysql://")
