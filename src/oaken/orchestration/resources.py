"""Shared plumbing: where the dbt project is, the environment dbt runs in.

One switch chooses everything: ``OAKEN_WAREHOUSE`` (``duckdb:///…`` or
``bigquery://PROJECT/DATASET``) selects the dlt destination, the dbt target of the
same kind (``local`` or ``bigquery`` in ``transform/profiles.yml``) and where the
forecasts are written.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from oaken.errors import ConfigError
from oaken.settings import Settings
from oaken.warehouse.config import WarehouseConfig, warehouse_config

DBT_PROJECT_ENV = "OAKEN_DBT_PROJECT_DIR"


def find_dbt_project() -> Path:
    """The ``transform/`` dbt project: ``$OAKEN_DBT_PROJECT_DIR``, or the first
    ``transform/dbt_project.yml`` above this package or the working directory."""
    override = os.environ.get(DBT_PROJECT_ENV)
    if override:
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


def dbt_environment(settings: Settings) -> dict[str, str]:
    """Environment variables ``transform/profiles.yml`` and dbt read."""
    config = warehouse_config(settings)
    home = dbt_home(settings)
    env = {
        "OAKEN_DBT_TARGET": config.dbt_target,
        "DBT_TARGET_PATH": str(home / "target"),
        "DBT_LOG_PATH": str(home / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(find_dbt_project()),
    }
    if config.kind == "duckdb":
        env["OAKEN_WAREHOUSE_PATH"] = str(config.path)
        env["OAKEN_DBT_SCHEMA"] = config.marts_schema
    else:
        from oaken.warehouse import bigquery

        env.update(bigquery.dbt_environment(config))
    return env


def apply_dbt_environment(settings: Settings) -> WarehouseConfig:
    """Export :func:`dbt_environment` into this process (dbt runs as a child process)."""
    env = dbt_environment(settings)
    os.environ.update(env)
    for folder in ("target", "logs"):
        (dbt_home(settings) / folder).mkdir(parents=True, exist_ok=True)
    return warehouse_config(settings)
