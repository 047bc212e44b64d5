"""One configuration: every setting is a field of ``Settings``, documented where users look,
and nothing in the package reads or changes the environment behind its back."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from oaken.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "oaken"
VARIABLE = re.compile(r"`(OAKEN_[A-Z0-9_]+)`")


def settings_variables() -> set[str]:
    return {"OAKEN_" + name.upper() for name in Settings.model_fields}


def documented(path: Path, heading: str) -> set[str]:
    """The variables in the first column of the tables under ``heading``."""
    section = path.read_text().split(heading, 1)[1]
    section = re.split(r"\n#{1,3} ", section, maxsplit=1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(VARIABLE.findall(line.split("|")[1]))
    return names


def test_the_readme_configuration_table_lists_exactly_the_settings() -> None:
    assert documented(ROOT / "README.md", "## Configuration") == settings_variables()


def test_the_reference_lists_exactly_the_settings() -> None:
    assert documented(ROOT / "docs" / "reference.md", "## Settings") == settings_variables()


@pytest.mark.parametrize("field", ["api_token", "kafka_sasl_password", "airbyte_password"])
def test_secrets_do_not_print(field: str) -> None:
    settings = Settings(**{field: "hunter2"})
    assert isinstance(getattr(settings, field), SecretStr)
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


def test_every_setting_comes_from_dotenv_too(tmp_path, monkeypatch) -> None:
    for name in settings_variables():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "OAKEN_KAFKA_SASL_USERNAME=alice\nOAKEN_KAFKA_SASL_PASSWORD=s3cret\n"
        "OAKEN_DUCKDB_MEMORY_LIMIT=3GB\nOAKEN_DBT_THREADS=2\nOAKEN_AIRBYTE_URL=http://a:8000\n")
    settings = Settings()
    assert settings.kafka_client_options() == {"sasl.username": "alice",
                                               "sasl.password": "s3cret"}
    assert (settings.duckdb_memory_limit, settings.dbt_threads) == ("3GB", 2)
    assert settings.airbyte_url == "http://a:8000"


def environment_uses(tree: ast.AST) -> list[str]:
    """``os.environ``/``os.getenv`` in a module, as ``line: code`` (reading the whole
    environment to hand it to a child process, ``dict(os.environ)``/``{**os.environ}``,
    is allowed)."""
    found = []
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            parent = parents.get(node)
            handed_on = (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name)
                         and parent.func.id == "dict") or isinstance(parent, ast.Dict)
            if not handed_on:
                found.append(f"{node.lineno}: {ast.unparse(parent or node)}")
    return found


#: the one use allowed: dlt builds Google's BigQuery client without client_options, and
#: that client takes another endpoint (OAKEN_BIGQUERY_ENDPOINT) only from this variable
ALLOWED = {"src/oaken/warehouse/bigquery.py": ["os.environ[EMULATOR_HOST_VARIABLE]"]}


def test_the_package_neither_reads_settings_from_nor_writes_the_environment() -> None:
    offenders = {}
    for path in sorted(SOURCE.rglob("*.py")):
        uses = [use.split(": ", 1)[1] for use in environment_uses(ast.parse(path.read_text()))]
        if uses:
            offenders[str(path.relative_to(ROOT))] = uses
    assert offenders == ALLOWED


def test_the_environment_check_catches_a_write_and_a_read() -> None:
    caught = environment_uses(ast.parse(
        "import os\nos.environ['A'] = '1'\nos.environ.get('OAKEN_X')\nenv = dict(os.environ)\n"))
    assert [line.split(":")[0] for line in caught] == ["2", "3"]
