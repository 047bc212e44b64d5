"""Telling a database that is away from one that refuses a record (oaken.workers.refusals),
on the drivers' own exception classes."""

from __future__ import annotations

import sqlite3

import psycopg.errors
import pymysql.err
import pytest
from sqlalchemy.exc import DBAPIError

from oaken.workers.refusals import database_away, refusal_reason


def wrapped(orig: Exception, *, invalidated: bool = False) -> DBAPIError:
    """What SQLAlchemy raises for ``orig`` (the class picked by the driver's class name)."""
    return DBAPIError.instance(
        "INSERT …", None, orig, Exception, connection_invalidated=invalidated
    )


@pytest.mark.parametrize(
    ("orig", "away"),
    [
        (psycopg.errors.lookup("08006")("connection failure"), True),
        (
            psycopg.errors.lookup("57P01")("terminating connection due to administrator command"),
            True,
        ),
        (psycopg.errors.lookup("40P01")("deadlock detected"), True),
        (psycopg.errors.lookup("40001")("could not serialize access"), True),
        (psycopg.errors.lookup("54000")("index row size exceeds maximum"), False),
        (psycopg.errors.lookup("22003")("numeric field overflow"), False),
        (psycopg.errors.lookup("23514")("violates check constraint"), False),
        (psycopg.errors.lookup("22021")("invalid byte sequence"), False),
        (pymysql.err.OperationalError(2013, "Lost connection to server during query"), True),
        (pymysql.err.OperationalError(2003, "Can't connect to MySQL server"), True),
        (pymysql.err.OperationalError(1213, "Deadlock found"), True),
        (pymysql.err.OperationalError(1205, "Lock wait timeout exceeded"), True),
        (pymysql.err.OperationalError(4025, "CONSTRAINT `ck` failed"), False),
        (pymysql.err.OperationalError(1366, "Incorrect string value"), False),
        (pymysql.err.DataError(1264, "Out of range value for column 'debit'"), False),
        (pymysql.err.IntegrityError(1062, "Duplicate entry"), False),
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.IntegrityError("FOREIGN KEY constraint failed"), False),
    ],
)
def test_away_or_not(orig: Exception, away: bool) -> None:
    assert database_away(wrapped(orig)) is away


def test_a_connection_sqlalchemy_invalidated_is_away() -> None:
    problem = pymysql.err.OperationalError(4025, "anything")
    assert database_away(wrapped(problem, invalidated=True))


def test_the_reason_carries_the_database_code_and_message() -> None:
    pg = wrapped(psycopg.errors.lookup("22003")("numeric field overflow\nDETAIL:  precision"))
    assert refusal_reason(pg) == (
        "database refused: SQLSTATE 22003 numeric field overflow DETAIL: precision"
    )
    mysql = wrapped(pymysql.err.IntegrityError(1062, "Duplicate entry 'a' for key 'PRIMARY'"))
    assert refusal_reason(mysql) == ("database refused: 1062 Duplicate entry 'a' for key 'PRIMARY'")
    assert (
        refusal_reason(OverflowError("Python int too large to convert to SQLite INTEGER"))
        == "database refused: OverflowError: Python int too large to convert to SQLite INTEGER"
    )
    assert refusal_reason(KeyError("x")).startswith("worker error: KeyError")
