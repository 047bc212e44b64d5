"""A rule in the database that refuses some valid sales, as an operator might add one.

Once the contract refuses what the schema cannot store, a valid sale reaches no
refusal in the orders stage's own tables on every database; a rule added to the
database (a CHECK constraint on MariaDB/MySQL and PostgreSQL, a trigger on SQLite, which
cannot add a constraint to a table) makes the database itself refuse a chosen store,
with its own error, as a real refusal would. Dropping the rule is "the fix".
"""

from __future__ import annotations

from sqlalchemy import Engine, text

#: the store the rule refuses
CLOSED_STORE = 9999
RULE = "ck_sales_store_open"

#: the database's code for the refusal, as it appears in a dead letter's reason
REFUSAL_CODE = {
    "sqlite": "SQLITE_CONSTRAINT_TRIGGER",
    "postgresql": "SQLSTATE 23514",
    "mysql": "4025",
    "mariadb": "4025",
}


def refuse_closed_store(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    f"CREATE TRIGGER {RULE} BEFORE INSERT ON sales "
                    f"WHEN NEW.store_id = {CLOSED_STORE} "
                    f"BEGIN SELECT RAISE(ABORT, 'store {CLOSED_STORE} is closed'); END"
                )
            )
        else:
            connection.execute(
                text(f"ALTER TABLE sales ADD CONSTRAINT {RULE} CHECK (store_id <> {CLOSED_STORE})")
            )


def drop_rule(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text(f"DROP TRIGGER {RULE}"))
        else:
            connection.execute(text(f"ALTER TABLE sales DROP CONSTRAINT {RULE}"))
