"""Arrow-native reads of the source tables, for SQLite and PostgreSQL (ADBC).

dlt's ``sql_table`` reads rows through SQLAlchemy and builds Arrow from Python
objects, which is slow on a database the size of the 12.5-million-sale Iowa history.
The ADBC drivers (Apache Arrow's database connectivity) hand back Arrow record batches
straight from the C client, several times faster (BENCHMARKS.md). Extract reads
through :mod:`oaken.el.snapshot` (every table as of one moment), which uses the query
builders and types here; :func:`read_table` reads one table on its own.

Every batch is conformed to the types of the table as reflected at run time, so a
column added by a migration appears, typed, on the next run:

- money (``NUMERIC(p, s)``) becomes ``decimal128(p, s)`` exactly, never through a
  float: PostgreSQL sends NUMERIC as text, which Arrow parses as a decimal and rounds
  half-up to the column's scale; SQLite stores money as an INTEGER of hundredths
  (:mod:`oaken.db.money`), reflected as an integer and typed as money again from the
  models (:mod:`oaken.el.money_columns`): its text is parsed as an integer and scaled
  to ``decimal128(p, 2)`` exactly (``4537`` → ``45.37``);
- integers are ``int64``, dates ``date32``, timestamps ``timestamp[us]`` (naive UTC),
  booleans ``bool``, anything else text.

SQLite is dynamically typed, and its ADBC driver infers each column's type from the
first batch, taking a column that is all NULL there for an integer: a text column
NULL in the first 100,000 rows and set later would fail the read. So every column is
read as text, after one tagged row of empty strings that fixes each column's type to
text; the reader drops that row and Arrow parses the text into the reflected types.
SQLite is read in a child process (:mod:`oaken.el.sqlite_reader` says why).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pyarrow as pa
from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    bindparam,
    cast,
    create_engine,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.sql import sqltypes

from oaken.db.money import Money
from oaken.el.money_columns import hundredths, restore_money
from oaken.el.sqlite_reader import TAG, conform
from oaken.errors import DatabaseError

BATCH_ROWS = 100_000


def supports(database_url: str) -> bool:
    """Whether ``database_url`` names a database with an ADBC driver here."""
    return make_url(database_url).get_backend_name() in ("sqlite", "postgresql")


def reflect(database_url: str, name: str, excluded: Sequence[str] = ()) -> list[Column]:
    """The table's columns as they are now in the database, but the ``excluded`` ones;
    money stored as integer hundredths typed as money (:func:`restore_money`)."""
    engine = create_engine(make_url(database_url))
    try:
        table = restore_money(Table(name, MetaData(), autoload_with=engine))
    finally:
        engine.dispose()
    return [column for column in table.columns if column.name not in excluded]


def arrow_type(column_type: sqltypes.TypeEngine) -> pa.DataType:
    if isinstance(column_type, Money):
        return pa.decimal128(column_type.precision, 2)
    if isinstance(column_type, sqltypes.Boolean):
        return pa.bool_()
    if isinstance(column_type, sqltypes.Integer):
        return pa.int64()
    if isinstance(column_type, sqltypes.Float):
        return pa.float64()
    if isinstance(column_type, sqltypes.Numeric):
        if column_type.precision is None:  # no declared precision: keep the exact text
            return pa.string()
        return pa.decimal128(column_type.precision, column_type.scale or 0)
    if isinstance(column_type, sqltypes.DateTime):
        return pa.timestamp("us")
    if isinstance(column_type, sqltypes.Date):
        return pa.date32()
    return pa.string()


def arrow_schema(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema([
        pa.field(column.name, arrow_type(column.type), nullable=bool(column.nullable))
        for column in columns
    ])


def read_table(
    database_url: str, columns: Sequence[Column], *, cursor: str, since: datetime | None
) -> Iterator[pa.Table]:
    """``columns`` (of one reflected table) of the rows whose ``cursor`` is after
    ``since`` (every row when None), one Arrow table per batch of the driver."""
    url = make_url(database_url)
    schema = arrow_schema(columns)
    if url.get_backend_name() == "sqlite":
        batches = _read_sqlite(url, columns, cursor, since, schema)
    else:
        batches = _read_postgres(url, columns, cursor, since, schema)
    for batch in batches:
        yield pa.Table.from_batches([batch])


def _read_sqlite(
    url: URL, columns: Sequence[Column], cursor: str, since: datetime | None,
    schema: pa.Schema,
) -> Iterator[pa.RecordBatch]:
    if since is not None and not _sqlite_has_rows_after(url, columns, cursor, since):
        return  # nothing new: spare the child's start-up (most tables, most runs)
    query, params = sqlite_query(columns, cursor, since)
    request = {
        "database": url.database, "query": query, "params": params, "batch_rows": BATCH_ROWS,
        "schema": base64.b64encode(schema.serialize().to_pybytes()).decode(),
        "hundredths": hundredths(columns),
    }
    # as a context manager, Popen closes the pipes and reaps the child however we leave
    with subprocess.Popen(
        [sys.executable, "-m", "oaken.el.sqlite_reader"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as child:
        assert child.stdin and child.stdout and child.stderr  # all three are pipes
        try:
            child.stdin.write(json.dumps(request).encode())
            child.stdin.close()
            try:
                reader = pa.ipc.open_stream(child.stdout)
            except pa.ArrowInvalid:  # the child failed before its stream began: see stderr
                reader = None
            if reader is not None:
                yield from reader
            problem = child.stderr.read().decode().strip()
            if child.wait() != 0:
                table = columns[0].table.name
                reason = problem.splitlines()[-1] if problem else "no reason given"
                raise DatabaseError(f"reading {table} from {url.database} failed: {reason}")
        finally:
            if child.poll() is None:  # the consumer stopped early: do not wait for the rest
                child.kill()


def _sqlite_has_rows_after(
    url: URL, columns: Sequence[Column], cursor: str, since: datetime
) -> bool:
    """One indexed probe through this process's own ``sqlite3`` (no second SQLite)."""
    cursor_column = columns[0].table.c[cursor]
    probe = select(literal(1)).where(
        cursor_column > bindparam("since", _sqlite_cursor_text(since), type_=String)
    ).limit(1)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(probe).first() is not None
    finally:
        engine.dispose()


def _read_postgres(
    url: URL, columns: Sequence[Column], cursor: str, since: datetime | None,
    schema: pa.Schema,
) -> Iterator[pa.RecordBatch]:
    import adbc_driver_postgresql.dbapi as adbc

    query, params = postgres_query(columns, cursor, since)
    uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with adbc.connect(uri, autocommit=True) as connection, connection.cursor() as reader:
        reader.execute(query, params)
        for batch in reader.fetch_record_batch():
            if batch.num_rows:
                yield conform(batch, schema)


def cursor_param(since: datetime) -> datetime:
    """Cursor values are naive UTC in the database; dlt may hand them back tz-aware."""
    if since.tzinfo is not None:
        since = since.astimezone(UTC)
    return datetime(since.year, since.month, since.day, since.hour, since.minute,
                    since.second, since.microsecond)


def sqlite_query(
    columns: Sequence[Column], cursor: str, since: datetime | None
) -> tuple[str, list]:
    """Every column as text after a tagged typing row (module docstring), qmark style."""
    table = columns[0].table
    typing_row = select(*[literal("", String).label(c.name) for c in columns],
                        literal("0", String).label(TAG))
    rows = select(*[cast(c, String).label(c.name) for c in columns],
                  literal("1", String).label(TAG))
    if since is not None:
        # stored as ISO text (SQLAlchemy's and the workers' format): compare as text
        rows = rows.where(table.c[cursor] > bindparam("since", type_=String))
    compiled = union_all(typing_row, rows).compile(dialect=sqlite.dialect())
    values = dict(compiled.params)
    if since is not None:
        values["since"] = _sqlite_cursor_text(since)
    return str(compiled), [values[name] for name in compiled.positiontup or ()]


def _sqlite_cursor_text(since: datetime) -> str:
    """The cursor as SQLite stores timestamps: ISO text, which compares in time order."""
    return cursor_param(since).isoformat(" ", "microseconds")


def postgres_query(
    columns: Sequence[Column], cursor: str, since: datetime | None
) -> tuple[str, list]:
    """The columns as they are, ``$1`` style (what the ADBC driver binds)."""
    table = columns[0].table
    query = select(*columns)
    if since is not None:
        query = query.where(table.c[cursor] > bindparam("since", type_=DateTime))
    compiled = query.compile(dialect=postgresql.psycopg.dialect(paramstyle="numeric_dollar"))
    values = dict(compiled.params)
    if since is not None:
        values["since"] = cursor_param(since)
    return str(compiled), [values[name] for name in compiled.positiontup or ()]
