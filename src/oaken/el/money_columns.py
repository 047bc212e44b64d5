"""Money columns as reflected at run time, typed as money again.

On SQLite money is an ``INTEGER`` of hundredths (:mod:`oaken.db.money`), so reflection
sees integers. Extract/load must still load ``DECIMAL(p, 2)`` with the same values as
from the other databases: a reflected integer column that the models declare as money
gets the models' :class:`~oaken.db.money.Money` type back. Other columns, and money
reflected as ``NUMERIC`` (MariaDB/MySQL, PostgreSQL, a SQLite database not yet
migrated), are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.sql import sqltypes

from oaken.db.models import Base
from oaken.db.money import Money


def restore_money(table: Table) -> Table:
    """``table`` (reflected) with its integer-stored money columns typed :class:`Money`."""
    declared = Base.metadata.tables.get(table.name)
    if declared is None:
        return table
    for column in table.columns:
        model = declared.c.get(column.name)
        if (model is not None and isinstance(model.type, Money)
                and isinstance(column.type, sqltypes.Integer)):
            column.type = model.type
    return table


def hundredths(columns: Sequence[Column]) -> list[str]:
    """The names of the columns that are money stored as integer hundredths."""
    return [column.name for column in columns if isinstance(column.type, Money)]


def schema_type(sql_type: Any) -> Any:
    """For dlt's ``sql_table`` schema: :class:`Money` is its ``NUMERIC(p, 2)``."""
    return sql_type.impl_instance if isinstance(sql_type, Money) else sql_type
