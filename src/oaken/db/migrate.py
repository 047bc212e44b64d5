"""Run the Alembic migrations shipped inside the package."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from oaken.db.engine import make_engine, wait_for_database


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("oaken.db") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, *, engine: Engine | None = None, timeout: float = 30.0) -> None:
    """Wait for the database, then upgrade it to the newest revision (idempotent)."""
    engine = engine or make_engine(url)
    wait_for_database(engine, timeout=timeout)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
