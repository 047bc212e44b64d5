"""The reference production topology (deploy/docker-compose.yml) names real commands,
and every platform service gets the shared settings.

No container engine runs in CI, so the file is checked, not started."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from oaken.cli import app

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "docker-compose.yml"
INFRASTRUCTURE = {"mysql", "kafka"}  # third-party images: no oaken settings


def environment(spec: dict) -> dict[str, str]:
    """A service's environment as a mapping (compose also allows a list of KEY=value)."""
    value = spec.get("environment") or {}
    if isinstance(value, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in value)
    return {key: str(item) for key, item in value.items()}


def test_every_platform_service_runs_an_existing_oaken_command() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    commands = {name: spec["command"] for name, spec in services.items() if "command" in spec}
    assert set(commands) == {"api", "orders", "shipping", "accounting"}
    for command in commands.values():
        assert command[0] == "oaken"
        result = CliRunner().invoke(app, [*command[1:], "--help"])
        assert result.exit_code == 0, result.output
    for name in ("orders", "shipping", "accounting"):
        env = environment(services[name])
        assert env["OAKEN_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["OAKEN_DATABASE_URL"].startswith("mysql+pymysql://")


def test_every_platform_service_gets_every_shared_setting() -> None:
    """`<<` merges are shallow: a service's own `environment:` replaces the shared one
    whole, so a service that adds a variable must merge the shared ones in as well.
    Checked on the environment as a YAML loader resolves it (merges applied)."""
    document = yaml.safe_load(COMPOSE.read_text())
    template = document["x-oaken"]
    shared = environment(template)
    assert {"OAKEN_DATABASE_URL", "OAKEN_KAFKA_BOOTSTRAP", "OAKEN_PARTITIONS",
            "OAKEN_HOME"} <= set(shared)
    platform = {name for name, spec in document["services"].items()
                if spec.get("image") == template["image"]}
    # a new service is either built from the template, or known infrastructure
    assert set(document["services"]) - platform == INFRASTRUCTURE
    assert platform == {"api", "orders", "shipping", "accounting"}
    for name in sorted(platform):
        env = environment(document["services"][name])
        missing = {key: value for key, value in shared.items() if env.get(key) != value}
        assert not missing, f"service {name!r} lacks shared settings: {missing}"
    assert environment(document["services"]["api"])["OAKEN_API_HOST"] == "0.0.0.0"
