"""Migrations create exactly the models' schema on every engine, and seed reference data."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from oaken.db.engine import make_engine
from oaken.db.migrate import migrate
from oaken.db.models import Base
from oaken.db.reference import ACCOUNTS, EMPLOYEES, POSITIONS


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_reference_data_is_seeded_once(database_url: str) -> None:
    migrate(database_url)  # a second upgrade is a no-op
    engine = make_engine(database_url)
    with engine.connect() as connection:
        accounts = connection.execute(
            text("SELECT account_code, account_name FROM accounts ORDER BY account_code")).all()
        assert [tuple(row) for row in accounts] == [(code, name) for code, name, _ in ACCOUNTS]
        assert connection.execute(text("SELECT count(*) FROM positions")).scalar_one() == len(
            POSITIONS)
        team = connection.execute(text(
            "SELECT count(*) FROM employees e JOIN positions p "
            "ON p.position_id = e.position_id WHERE p.department = 'Sales'")).scalar_one()
        assert team == len(EMPLOYEES)
    engine.dispose()
