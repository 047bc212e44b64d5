"""Shared plumbing: where the dbt project is, what dbt is told about the warehouse.

One switch chooses everything: ``OAKEN_WAREHOUSE`` (``duckdb:///…`` or
``bigquery://PROJECT/DATASET``) selects the dlt destination, the dbt target of the
same kind (``local`` or ``bigquery`` in ``transform/profiles.yml``) and where the
forecasts are written.

dbt learns the rest from the settings as ``--vars`` (:func:`dbt_arguments`), which
``transform/profiles.yml`` reads; nothing is exported into this process's environment.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path

from oaken.errors import ConfigError
from oaken.settings import Settings
from oaken.warehouse.config import WarehouseConfig, warehouse_config

DBT_PROJECT_ENV = "OAKEN_DBT_PROJECT_DIR"


def find_dbt_project(override: Path | None = None) -> Path:
    """The ``transform/`` dbt project: ``override`` (``Settings.dbt_project_dir``), or the
    first ``transform/dbt_project.yml`` above this package or the working directory."""
    if override is not None:
        path = Path(override).expanduser().absolute()
        if not (path / "dbt_project.yml").exists():
            raise ConfigError(f"{DBT_PROJECT_ENV}={override} has no dbt_project.yml")
        return path
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for folder in start.parents if start.is_file() else (start, *start.parents):
            candidate = folder / "transform"
            if (candidate / "dbt_project.yml").exists():
                return candidate
    raise ConfigError(
        f"dbt project not found: set {DBT_PROJECT_ENV} to the repository's transform/ folder"
    )


def dbt_home(settings: Settings) -> Path:
    return Path(settings.home).absolute() / "dbt"


def dbt_executable() -> str:
    """The ``dbt`` next to this interpreter (works without an activated venv)."""
    beside = Path(sys.executable).parent / "dbt"
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if not found:
        raise ConfigError("the dbt executable is not installed in this environment")
    return found


def dbt_variables(settings: Settings) -> dict[str, str]:
    """What ``transform/profiles.yml`` reads, by name: each ``var('oaken_…')`` there falls
    back to the environment variable of the same name in capitals (for dbt run by hand)."""
    config = warehouse_config(settings)
    values = {"OAKEN_DBT_TARGET": config.dbt_target}
    if config.kind == "duckdb":
        values.update({
            "OAKEN_WAREHOUSE_PATH": str(config.path),
            "OAKEN_DBT_SCHEMA": config.marts_schema,
            "OAKEN_DBT_THREADS": str(settings.dbt_threads),
            "OAKEN_DUCKDB_MEMORY_LIMIT": config.memory_limit,
        })
    else:
        from oaken.warehouse import bigquery

        values.update(bigquery.dbt_profile_values(config))
    values["OAKEN_CURSOR_LAG_SECONDS"] = str(math.ceil(settings.analytics_cursor_lag_seconds))
    return {name.lower(): value for name, value in values.items()}


def dbt_arguments(settings: Settings) -> list[str]:
    """The ``--vars`` every dbt command of the platform carries (with ``--target``)."""
    return ["--vars", json.dumps(dbt_variables(settings), sort_keys=True)]


def dbt_environment(settings: Settings) -> dict[str, str]:
    """The environment of a dbt child process (this process's, plus dbt's own switches)."""
    home = dbt_home(settings)
    return {
        **os.environ,
        "DBT_TARGET_PATH": str(home / "target"),
        "DBT_LOG_PATH": str(home / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(find_dbt_project(settings.dbt_project_dir)),
    }


def prepare_dbt_home(settings: Settings) -> WarehouseConfig:
    """Create ``$OAKEN_HOME/dbt/{target,logs}``; the warehouse dbt builds."""
    for folder in ("target", "logs"):
        (dbt_home(settings) / folder).mkdir(parents=True, exist_ok=True)
    return warehouse_config(settings)
