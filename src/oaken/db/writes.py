"""Dialect-aware bulk writes: insert-or-ignore and upsert, one statement per batch.

SQLite and PostgreSQL use ``ON CONFLICT``; MySQL/MariaDB use ``INSERT IGNORE`` and
``ON DUPLICATE KEY UPDATE``. Each call is an ``executemany`` of one statement, which
the drivers turn into multi-row inserts; plain inserts on PostgreSQL are a ``COPY``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    Dialect,
    Table,
    bindparam,
    case,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from oaken.db.engine import sqlite_timestamp
from oaken.db.money import to_hundredths_or_none

CHUNK = 500  # keys per IN (...) list: far below every database's parameter limit


@dataclass(frozen=True, slots=True)
class Binder:
    """One batch's row values as the driver binds them, for :func:`insert_values`.

    Rows take :attr:`now` and :attr:`published` as they are and pass their money and
    dates through :attr:`money` and :attr:`day`. Most drivers bind the Python values
    themselves, and nothing changes. sqlite3 would adapt every ``Decimal``, ``date``,
    ``datetime`` and ``bool`` at bind time, a registry lookup per value that was a
    sizeable share of the time of a SQLite insert; the values made here (money as integer
    hundredths, dates as ISO text) are what its adapters (:mod:`oaken.db.engine`) and
    SQLAlchemy's types (:class:`oaken.db.money.Money`) make, so the stored values are
    the same.
    """

    now: Any
    published: Any
    money: Callable[[Decimal | None], Any]
    day: Callable[[date], Any]

    @classmethod
    def of(cls, connection: Connection, *, published: bool = False) -> Binder:
        """The binder of a batch written now (naive UTC) on ``connection``."""
        now = datetime.now(UTC).replace(tzinfo=None)
        if connection.dialect.name == "sqlite":
            return cls(sqlite_timestamp(now), int(published), to_hundredths_or_none,
                       date.isoformat)
        return cls(now, published, _as_is, _as_is)


def _as_is(value: Any) -> Any:
    return value


def _dialect_insert(connection: Connection, table: Table) -> Any:
    name = connection.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    if name in ("mysql", "mariadb"):
        return mysql.insert(table)
    raise NotImplementedError(f"unsupported database dialect {name!r}")


def insert_values(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple]
) -> None:
    """Plain insert of tuples whose values follow ``columns``: a duplicate key is an
    error (the caller checked existence first).

    The hot path of every worker and of the import. The statement is compiled by
    SQLAlchemy once per table, column set and dialect and handed to the driver's
    ``executemany`` with the values as they are, which skips SQLAlchemy's per-row type
    processing (a large share of the cost of a batch). Tuples already in the statement's
    column order go to the driver untouched. The drivers bind ``Decimal`` and ``date``
    natively; SQLite gets adapters for them in :mod:`oaken.db.engine` (money as integer
    hundredths, unless :class:`Binder` converted it already). PostgreSQL
    takes the rows through ``COPY`` instead (:func:`_copy_rows`).
    """
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        _copy_rows(connection, table, columns, rows)
        return
    sql, order = _compiled_insert(connection.dialect, table, columns)
    if order is None:  # named parameters (psycopg): the driver wants mappings
        params: Sequence = [dict(zip(columns, row, strict=True)) for row in rows]
    elif order == tuple(range(len(columns))):
        params = rows if isinstance(rows, list) else list(rows)
    else:
        params = [tuple(row[index] for index in order) for row in rows]
    connection.exec_driver_sql(sql, params)


def _copy_rows(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple]
) -> None:
    """``COPY table (columns) FROM STDIN`` on the connection's own transaction.

    An ``executemany`` is a statement per row on PostgreSQL; ``COPY`` streams the rows
    to one statement, which more than halved the import's inserts there. psycopg
    writes each value with the same adapters it binds parameters with (``Decimal`` as
    exact numeric text), and a duplicate key fails the ``COPY`` as it fails an insert.
    The driver's errors are raised as SQLAlchemy's, as for any other statement.
    """
    driver = connection.connection.driver_connection
    assert driver is not None
    dialect = connection.dialect
    statement = _copy_statement(dialect, table, columns)
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except dialect.loaded_dbapi.Error as problem:
        # what SQLAlchemy raises for a statement it runs itself (IntegrityError, DataError,
        # OperationalError, …), so callers tell a refusal from a database that is away
        raise DBAPIError.instance(
            statement, None, problem, dialect.loaded_dbapi.Error,
            connection_invalidated=dialect.is_disconnect(problem, driver, None),
            dialect=dialect) from problem


@lru_cache(maxsize=64)
def _copy_statement(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> str:
    """The ``COPY`` statement; names quoted by SQLAlchemy (it has no values)."""
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(name) for name in columns)
    return f"COPY {quote.format_table(table)} ({names}) FROM STDIN"


@lru_cache(maxsize=256)
def _compiled_insert(
    dialect: Dialect, table: Table, columns: tuple[str, ...]
) -> tuple[str, tuple[int, ...] | None]:
    """The INSERT's text and, for positional drivers, where each of its parameters is in
    a row ordered as ``columns``."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    if not compiled.positional:
        return str(compiled), None
    return str(compiled), tuple(columns.index(name) for name in compiled.positiontup or ())


def insert_ignore(connection: Connection, table: Table, rows: Sequence[dict]) -> None:
    """Insert rows whose key is not there yet; rows whose key exists are left alone."""
    if not rows:
        return
    stmt = _dialect_insert(connection, table)
    if connection.dialect.name in ("mysql", "mariadb"):
        stmt = stmt.prefix_with("IGNORE")
    else:
        stmt = stmt.on_conflict_do_nothing()
    connection.execute(stmt, list(rows))


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict],
    *,
    guard: str | None = None,
    guarded: Sequence[str] = (),
) -> None:
    """Insert rows, or update every non-key column of the row with the same key.

    With ``guard``, the ``guarded`` columns (the guard among them) change only when the
    incoming ``guard`` value is at least the stored one, or none is stored: the
    database decides what is newest, so a writer with a stale cache (another worker of
    the consumer group wrote since) cannot roll those columns back.
    """
    if not rows:
        return
    stmt = _dialect_insert(connection, table)
    keys = [column.name for column in table.primary_key.columns]
    columns = [name for name in rows[0] if name not in keys]
    on_mysql = connection.dialect.name in ("mysql", "mariadb")
    incoming = stmt.inserted if on_mysql else stmt.excluded

    def value(name: str) -> Any:
        if guard is None or name not in guarded:
            return incoming[name]
        stored = table.c[guard]
        newer = or_(stored.is_(None), incoming[guard] >= stored)
        return case((newer, incoming[name]), else_=table.c[name])

    # MySQL applies the assignments in order, each seeing the ones before: guard last
    ordered = sorted(columns, key=lambda name: name == guard)
    if on_mysql:
        stmt = stmt.on_duplicate_key_update([(name, value(name)) for name in ordered])
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={name: value(name) for name in ordered}
        )
    connection.execute(stmt, list(rows))


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def select_by_keys(
    connection: Connection, table: Table, key: str, keys: Sequence[Any], *columns: str
) -> dict[Any, tuple]:
    """``{key: (columns…)}`` for the rows whose ``key`` is in ``keys``, values as the
    driver returns them (SQLite gives booleans as 0 and 1, money as integer hundredths:
    select money through the table's types when it is needed).

    Every batch of every stage asks this, thousands of keys at a time. One statement
    with a fixed list of :data:`CHUNK` parameters is compiled per table and columns
    and run as is, the last chunk padded with its own last key; SQLAlchemy's expanding
    ``IN`` would render the statement anew for every chunk, which cost three times
    the query itself.
    """
    found: dict[Any, tuple] = {}
    sql, names = _compiled_select(connection.dialect, table, key, columns)
    keys = list(keys)
    for part in chunks(keys):
        padded = (*part, *[part[-1]] * (CHUNK - len(part)))
        params = padded if names is None else dict(zip(names, padded, strict=True))
        for row in connection.exec_driver_sql(sql, params):
            found[row[0]] = tuple(row[1:])
    return found


@lru_cache(maxsize=64)
def _compiled_select(
    dialect: Dialect, table: Table, key: str, columns: tuple[str, ...]
) -> tuple[str, tuple[str, ...] | None]:
    """``SELECT key, columns… WHERE key IN (CHUNK parameters)``; the parameter names
    when the driver takes named ones."""
    params: list[BindParameter[Any]] = [bindparam(f"k{n}") for n in range(CHUNK)]
    query = select(table.c[key], *(table.c[name] for name in columns)).where(
        table.c[key].in_(params)
    )
    compiled = query.compile(dialect=dialect)
    names = None if compiled.positional else tuple(param.key for param in params)
    return str(compiled), names


def mark_published(connection: Connection, table: Table, key: str, keys: Sequence[Any]) -> None:
    """Flag rows whose downstream event the broker has acknowledged."""
    key_column = table.c[key]
    for part in chunks(list(keys)):
        connection.execute(update(table).where(key_column.in_(part)).values(published=True))


