"""The production topology (deploy/docker-compose.yml and deploy/Dockerfile) is whole and
names only real things.

No container engine runs in CI, so the files are checked, not started: the compose
file against the Compose Specification's JSON schema (vendored in compose_spec/, with
its source and licence); every service's command and health check parsed by the real
``oaken`` Typer app (as the image's entrypoint runs them); every ``OAKEN_*`` variable
and secret file against ``Settings``; the Kafka cluster's replication; the order of
start (``migrate`` first); the image's user, home and entrypoint against the Dockerfile.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer
import yaml
from pydantic import SecretStr
from typer.testing import CliRunner

from oaken.cli import app
from oaken.settings import OIDC_REQUIRED, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
SCHEMA = Path(__file__).with_name("compose_spec") / "compose-spec.json"
INFRASTRUCTURE = {"mysql", "kafka-1", "kafka-2", "kafka-3", "oauth2-proxy"}  # third-party
PLATFORM = {"migrate", "api", "orders", "shipping", "accounting", "repair",
            "orchestrator-daemon", "orchestrator", "dashboard"}
SETTINGS = {"OAKEN_" + name.upper(): field for name, field in Settings.model_fields.items()}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(document) -> dict[str, dict[str, Any]]:
    return document["services"]


def environment(spec: dict) -> dict[str, str]:
    """A service's environment as a mapping (compose also allows a list of KEY=value)."""
    value = spec.get("environment") or {}
    if isinstance(value, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in value)
    return {key: str(item) for key, item in value.items()}


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) per instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines  # type: ignore[misc]
            if line and not line.startswith("#")]


def instruction(name: str) -> list[str]:
    return [arguments for key, arguments in dockerfile() if key == name]


def entrypoint() -> list[str]:
    (value,) = instruction("ENTRYPOINT")
    return json.loads(value)


def parse(args: list[str]) -> Any:
    """``oaken ARGS`` parsed and converted by the real command, without running it (the
    command's context); a wrong command, option or value raises Typer's usage error."""
    group = typer.main.get_command(app)
    context = group.make_context("oaken", list(args))
    name, command, rest = group.resolve_command(context, list(args))  # type: ignore[attr-defined]
    assert command is not None, args
    return command.make_context(name, rest, parent=context)


# --- the Compose Specification ------------------------------------------------------------


def test_the_compose_file_follows_the_compose_specification(document) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(document)


@pytest.mark.parametrize("breakage", [
    ("services", "api", "depends_on", "migrate", "condition", "service_finished"),
    ("services", "orders", "healthcheck", "probe", ["CMD", "oaken", "healthcheck"]),
    ("services", "api", "restart_policy", "always"),
])
def test_the_schema_check_can_fail(document, breakage) -> None:
    *path, key, value = breakage
    broken = copy.deepcopy(document)
    node = broken
    for step in path:
        node = node[step]
    node[key] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json.loads(SCHEMA.read_text()))


# --- every part, a real command -----------------------------------------------------------


def test_the_services_are_the_whole_platform(document, services) -> None:
    image = document["x-oaken"]["image"]
    platform = {name for name, spec in services.items() if spec.get("image") == image}
    assert platform == PLATFORM
    assert set(services) - platform == INFRASTRUCTURE


def test_every_platform_service_runs_an_existing_oaken_command(services) -> None:
    assert entrypoint() == ["oaken"]
    for name in sorted(PLATFORM):
        command = services[name]["command"]
        parse(command)  # the arguments as the image's entrypoint gets them
        result = CliRunner().invoke(app, [*command[:1], "--help"])
        assert result.exit_code == 0, (name, result.output)
    assert services["repair"]["command"] == ["repair", "--every"]
    assert services["migrate"]["command"][0] == "migrate"
    roles = {services[name]["command"][2] for name in ("orchestrator", "orchestrator-daemon")}
    assert roles == {"webserver", "daemon"}


def test_a_wrong_command_does_not_parse() -> None:
    for wrong in (["worker", "billing"], ["orchestrator", "--role", "scheduler"],
                  ["healthcheck", "orders", "--max-age", "soon"], ["serve"]):
        with pytest.raises(typer.TyperException):
            parse(wrong)


def test_every_platform_service_has_a_real_health_check(services) -> None:
    for name in sorted(PLATFORM - {"migrate"}):
        test = services[name]["healthcheck"]["test"]
        assert test[0] == "CMD", name
        assert test[1:3] == ["oaken", "healthcheck"], name
        context = parse(test[2:])
        part = context.params["part"].value
        # each checks its own part
        expected = {"orders": "orders", "shipping": "shipping", "accounting": "accounting",
                    "repair": "repair", "api": "api", "dashboard": "dashboard",
                    "orchestrator": "orchestrator",
                    "orchestrator-daemon": "orchestrator-daemon"}[name]
        assert part == expected, name
    # the repairer beats once a pass: its limit is above the interval between passes
    repair = parse(services["repair"]["healthcheck"]["test"][2:])
    assert repair.params["max_age"] > 2 * Settings.model_fields[
        "repair_interval_seconds"].default
    assert "healthcheck" not in services["migrate"]  # one-shot: it exits
    for name in ("mysql", "kafka-1", "kafka-2", "kafka-3"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name


# --- settings --------------------------------------------------------------------------


def test_every_oaken_variable_is_a_setting_and_parses(services, monkeypatch) -> None:
    for name in sorted(PLATFORM):
        env = environment(services[name])
        unknown = {key for key in env if key.startswith("OAKEN_")} - set(SETTINGS)
        assert not unknown, f"{name}: not settings: {unknown}"
        for key in list(env):
            monkeypatch.delenv(key, raising=False)
        literal = {key: value for key, value in env.items() if "${" not in value}
        for key, value in literal.items():
            monkeypatch.setenv(key, value)
        Settings(_env_file=None)  # type: ignore[call-arg]  # every literal value is valid


def test_every_secret_file_is_a_secret_setting_or_a_server_password(document,
                                                                    services) -> None:
    declared = document["secrets"]
    for name in sorted(declared):
        assert declared[name]["file"] == f"./secrets/{name}", name
        if name.startswith("oaken_"):
            field = SETTINGS[name.upper()]
            assert field.annotation in (SecretStr | None, str), name
    ignore = (ROOT / "deploy" / "secrets" / ".gitignore").read_text().split()
    assert ignore[-2:] == ["*", "!.gitignore"]
    used = {secret for spec in services.values() for secret in spec.get("secrets", [])}
    assert used == set(declared)


def test_no_secret_is_written_into_the_file(services) -> None:
    for name, spec in services.items():
        for key, value in environment(spec).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key) and not key.endswith("_FILE"):
                assert value.startswith("${") and value.endswith("}"), (name, key)
        database = environment(spec).get("OAKEN_DATABASE_URL")
        assert database is None, f"{name}: the database URL holds a password: a secret file"


def test_every_platform_service_gets_every_shared_setting(document, services) -> None:
    """`<<` merges are shallow: a service's own `environment:` replaces the shared one
    whole, so a service that adds a variable must merge the shared ones in as well.
    Checked on the environment as a YAML loader resolves it (merges applied)."""
    shared = environment(document["x-oaken"])
    assert {"OAKEN_HOME", "OAKEN_KAFKA_BOOTSTRAP", "OAKEN_PARTITIONS",
            "OAKEN_REPLICATION_FACTOR", "OAKEN_WAREHOUSE"} <= set(shared)
    for name in sorted(PLATFORM):
        env = environment(services[name])
        missing = {key: value for key, value in shared.items() if env.get(key) != value}
        assert not missing, f"service {name!r} lacks shared settings: {missing}"
        assert "oaken_database_url" in services[name]["secrets"], name
    assert environment(services["api"])["OAKEN_API_HOST"] == "0.0.0.0"


def test_the_dashboard_serves_the_network_only_with_sign_in(services) -> None:
    spec = services["dashboard"]
    env = environment(spec)
    assert env["OAKEN_DASHBOARD_ADDRESS"] == "0.0.0.0"
    assert "OAKEN_DASHBOARD_ALLOW_ANONYMOUS" not in env
    given = set(env) | {secret.upper() for secret in spec["secrets"]}
    assert {f"OAKEN_{name.upper()}" for name in OIDC_REQUIRED} <= given
    assert env["OAKEN_DASHBOARD_OIDC_REDIRECT_URI"].endswith("/oauth2callback")
    assert {"OAKEN_DASHBOARD_OIDC_ALLOWED_EMAILS", "OAKEN_DASHBOARD_OIDC_ALLOWED_DOMAINS"} \
        <= set(env)


def test_the_dagster_ui_is_reached_through_the_authenticating_proxy(services) -> None:
    assert "ports" not in services["orchestrator"]
    proxy = environment(services["oauth2-proxy"])
    port = parse(services["orchestrator"]["command"]).params["port"] \
        or Settings.model_fields["dagster_port"].default
    assert proxy["OAUTH2_PROXY_UPSTREAMS"] == f"http://orchestrator:{port}"
    assert proxy["OAUTH2_PROXY_PROVIDER"] == "oidc"
    assert services["oauth2-proxy"]["depends_on"]["orchestrator"]["condition"] \
        == "service_healthy"


# --- order of start, Kafka ---------------------------------------------------------------


def test_migrate_runs_first_and_alone(services) -> None:
    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    assert {name: value["condition"] for name, value in migrate["depends_on"].items()} == {
        "mysql": "service_healthy", "kafka-1": "service_healthy",
        "kafka-2": "service_healthy", "kafka-3": "service_healthy"}
    for name in sorted(PLATFORM - {"migrate"}):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}, name
        assert services[name]["restart"] == "unless-stopped", name


def test_three_kraft_brokers_replicate_every_topic(services) -> None:
    brokers = sorted(name for name in services if name.startswith("kafka-"))
    assert len(brokers) == 3
    nodes = {}
    for name in brokers:
        env = environment(services[name])
        nodes[env["KAFKA_NODE_ID"]] = name
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == \
            "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert any(volume.endswith(":" + env["KAFKA_LOG_DIRS"])
                   for volume in services[name]["volumes"])
    assert nodes == {"1": "kafka-1", "2": "kafka-2", "3": "kafka-3"}
    shared = environment(services["orders"])
    assert shared["OAKEN_KAFKA_BOOTSTRAP"] == ",".join(f"{name}:9092" for name in brokers)
    settings = Settings(_env_file=None, replication_factor=shared["OAKEN_REPLICATION_FACTOR"],  # type: ignore[call-arg]
                        partitions=shared["OAKEN_PARTITIONS"])
    assert settings.replication_factor == 3
    orders = services["orders"]["deploy"]["replicas"]
    assert orders <= settings.partitions  # more copies than partitions would idle


# --- the image --------------------------------------------------------------------------


def test_the_image_runs_unprivileged_with_its_home_on_a_volume(document, services) -> None:
    (user,) = instruction("USER")
    uid = user.split(":")[0]
    assert uid not in ("0", "root")
    created = " ".join(instruction("RUN"))
    assert f"useradd --system --uid {uid} " in created
    env = " ".join(instruction("ENV"))
    home = environment(document["x-oaken"])["OAKEN_HOME"]
    assert f"OAKEN_HOME={home}" in env
    assert json.loads(instruction("VOLUME")[0]) == [home]
    assert f"mkdir -p {home}" in created and f"chown oaken:oaken {home}" in created
    # nothing but the code goes in: no secrets, no working data
    copied = [source for arguments in instruction("COPY")
              for source in shlex.split(arguments)[:-1]]
    assert sorted(copied) == ["README.md", "pyproject.toml", "src", "transform",
                                       "uv.lock"]
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") + 1:][:5] == [
        "!pyproject.toml", "!uv.lock", "!README.md", "!src/", "!transform/"]
    # every volume of a platform service is mounted at or under OAKEN_HOME
    for name in sorted(PLATFORM):
        for volume in services[name].get("volumes", []):
            assert volume.split(":", 1)[1].startswith(home), (name, volume)
    assert services["api"]["volumes"] == [f"api-journal:{home}"]


def test_the_warehouse_is_shared_by_who_writes_and_who_reads_it(document, services) -> None:
    warehouse = environment(document["x-oaken"])["OAKEN_WAREHOUSE"]
    folder = str(Path(warehouse.removeprefix("duckdb:///")).parent)
    for name in ("orchestrator-daemon", "orchestrator", "dashboard"):
        assert f"warehouse:{folder}" in services[name]["volumes"], name
    for name in ("orchestrator-daemon", "orchestrator"):
        assert f"dagster:{document['x-oaken']['environment']['OAKEN_HOME']}/dagster" \
            in services[name]["volumes"], name
