"""Telling a database that is away from one that refuses a record, and saying why.

A failed transaction is one of three things:

* the database is **away** (no connection, shutting down, a deadlock or serialization
  failure, a lock wait time-out): waiting and running it again will work;
* a **transient conflict**: an ``IntegrityError`` that a retry or two resolves (another
  copy of the worker inserted the same key first);
* a **refusal**: the database will refuse these rows every time (a value out of range,
  a foreign key, a check, text it cannot store). Retrying is useless; the worker finds
  the offending records (:mod:`oaken.workers.bisect`) and dead-letters them with
  :func:`refusal_reason`.

The drivers classify errors by exception class only roughly (PyMySQL calls most server
errors ``OperationalError``; psycopg calls "program limit exceeded" one), so the class
is refined by the database's own code: the SQLSTATE class on PostgreSQL, the error
number on MariaDB/MySQL.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

#: SQLSTATE classes that mean "not now" on PostgreSQL: connection exception, transaction
#: rollback (serialization failure, deadlock), insufficient resources, object not in
#: prerequisite state (lock not available), operator intervention, system error
_PG_AWAY_CLASSES = frozenset({"08", "40", "53", "55", "57", "58"})
#: MariaDB/MySQL server errors that mean "not now": too many connections, shutdown,
#: aborted/network errors, lock wait time-out, deadlock, query interrupted, read-only,
#: connection killed, max statement time, disconnected for inactivity
_MYSQL_AWAY = frozenset(
    {
        1040,
        1053,
        1077,
        1152,
        1153,
        1154,
        1155,
        1156,
        1157,
        1158,
        1159,
        1160,
        1161,
        1184,
        1205,
        1213,
        1290,
        1317,
        1836,
        1927,
        1969,
        3024,
        4031,
    }
)


def _mysql_errno(problem: DBAPIError) -> int | None:
    args = getattr(problem.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _sqlstate(problem: DBAPIError) -> str | None:
    return getattr(problem.orig, "sqlstate", None) or None


def database_away(problem: DBAPIError) -> bool:
    """True when ``problem`` means the database cannot be reached now (worth waiting for)."""
    if problem.connection_invalidated:
        return True
    if isinstance(problem, InterfaceError):
        return True
    if not isinstance(problem, OperationalError):
        return False
    dialect = _dialect(problem)
    if dialect == "postgresql":
        state = _sqlstate(problem)
        return state is None or state[:2] in _PG_AWAY_CLASSES
    if dialect == "mysql":
        errno = _mysql_errno(problem)
        # 2000-2999 are the client's own errors: lost connection, cannot connect
        return errno is None or 2000 <= errno < 3000 or errno in _MYSQL_AWAY
    return True  # SQLite: locked, busy, I/O errors


def _dialect(problem: DBAPIError) -> str:
    module = type(problem.orig).__module__ if problem.orig is not None else ""
    if module.startswith("psycopg"):
        return "postgresql"
    if module.startswith(("pymysql", "MySQLdb", "mysql", "mariadb")):
        return "mysql"
    return "sqlite"


def _one_line(text: str, limit: int = 500) -> str:
    return " ".join(text.split())[:limit]


def refusal_reason(problem: BaseException) -> str:
    """``database refused: <the database's code> <its message>`` for a refusal: the
    SQLSTATE on PostgreSQL, the error number on MariaDB/MySQL, the extended result code
    on SQLite. An error raised before the database saw the row (a driver that cannot
    bind the value) says what it is."""
    if isinstance(problem, DBAPIError):
        orig = problem.orig
        dialect = _dialect(problem)
        if dialect == "postgresql":
            state = _sqlstate(problem)
            return _one_line(f"database refused: SQLSTATE {state} {orig}")
        if dialect == "mysql":
            args: tuple = getattr(orig, "args", ())
            if len(args) >= 2:
                return _one_line(f"database refused: {args[0]} {args[1]}")
        name = getattr(orig, "sqlite_errorname", None)
        code = f"{name} " if name else ""
        return _one_line(f"database refused: {code}{orig}")
    if isinstance(problem, OverflowError):  # sqlite3 binding an integer beyond 64 bits
        return _one_line(f"database refused: {type(problem).__name__}: {problem}")
    return _one_line(f"worker error: {type(problem).__name__}: {problem}")
