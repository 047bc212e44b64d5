"""One moment of the source of truth for every table of an extract.

Each table used to be read at its own moment, so a busy database gave the warehouse
sales whose store, shipments whose sale and journal lines whose entry were committed
after their own table had been read, and dbt's relationship tests failed. A
:class:`Snapshot` reads every table of one run inside one read transaction, so the
warehouse never holds a row whose parent it lacks:

- SQLite: one read transaction in one child process (:mod:`oaken.el.sqlite_reader`,
  serving one request per table); in WAL mode a reader sees the database as of its
  first read and never blocks the writer.
- PostgreSQL: a coordinating connection opens a ``REPEATABLE READ`` transaction and
  exports its snapshot (``pg_export_snapshot()``); every table's ADBC reader adopts it
  (``SET TRANSACTION SNAPSHOT``), so the tables are still read in parallel.
- MySQL/MariaDB: one connection, ``START TRANSACTION WITH CONSISTENT SNAPSHOT``, the
  tables read one after the other (the server has no exported snapshots).

The snapshot begins with the first table read and ends when the snapshot is closed.
SQLite's and MariaDB's readers serve one table at a time: extract must consume each
table whole before asking for the next (dlt's ``fifo`` item mode; a second concurrent
read is refused rather than deadlocked).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Column, DateTime, bindparam, create_engine, select, text
from sqlalchemy.engine import Connection, Engine, make_url

from oaken.el import arrow_tables
from oaken.el.money_columns import hundredths
from oaken.el.sqlite_reader import FRAME as _FRAME
from oaken.errors import DatabaseError

#: what ``pg_export_snapshot()`` returns (hex groups); checked before it is used
_PG_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+$")


class Snapshot:
    """Reads tables of ``database_url`` as of one moment (module docstring)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.backend = make_url(database_url).get_backend_name()
        self._lock = threading.Lock()
        self._busy = threading.Lock()
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._pg_snapshot: str | None = None
        self.closed = False

    @property
    def parallel(self) -> bool:
        """Whether tables may be read at the same time (PostgreSQL's exported snapshot)."""
        return self.backend == "postgresql"

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def read(
        self, columns: Sequence[Column], *, cursor: str, since: datetime | None
    ) -> Iterator[pa.Table]:
        """``columns`` of one table, the rows whose ``cursor`` is after ``since``."""
        if self.closed:
            raise DatabaseError("the extract's snapshot is closed")
        if self.parallel:
            yield from self._read_postgres(columns, cursor, since)
            return
        if not self._busy.acquire(blocking=False):
            raise DatabaseError(
                f"reading {columns[0].table.name}: another table of this snapshot is still "
                "being read (extract must read one table at a time on this database)")
        try:
            if self.backend == "sqlite":
                yield from self._read_sqlite(columns, cursor, since)
            else:
                yield from self._read_sqlalchemy(columns, cursor, since)
        finally:
            self._busy.release()

    def close(self) -> None:
        """End the read transaction (nothing was written) and stop the reader."""
        with self._lock:
            self.closed = True
            child, self._child = self._child, None
            if child is not None:
                try:
                    assert child.stdin is not None
                    child.stdin.close()
                    child.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    child.kill()
                    child.wait()
            connection, self._connection = self._connection, None
            if connection is not None:
                try:
                    connection.rollback()
                finally:
                    connection.close()
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    # --- SQLite: one child, one read transaction ------------------------------------------

    def _sqlite_child(self) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._child is None:
                database = make_url(self.database_url).database
                self._child = subprocess.Popen(
                    [sys.executable, "-m", "oaken.el.sqlite_reader", "--serve", str(database)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            return self._child

    def _read_sqlite(
        self, columns: Sequence[Column], cursor: str, since: datetime | None
    ) -> Iterator[pa.Table]:
        import base64

        child = self._sqlite_child()
        assert child.stdin is not None and child.stdout is not None
        schema = arrow_tables.arrow_schema(columns)
        query, params = arrow_tables.sqlite_query(columns, cursor, since)
        request = {
            "query": query, "params": params, "batch_rows": arrow_tables.BATCH_ROWS,
            "schema": base64.b64encode(schema.serialize().to_pybytes()).decode(),
            "hundredths": hundredths(columns),
        }
        table = columns[0].table.name
        try:
            child.stdin.write(json.dumps(request).encode() + b"\n")
            child.stdin.flush()
        except BrokenPipeError:
            raise DatabaseError(f"reading {table}: the SQLite reader stopped "
                                f"(exit status {child.wait()})") from None
        while True:
            size = _read_frame_size(child.stdout, table)
            if size == 0:
                return
            payload = _read_exactly(child.stdout, abs(size), table)
            if size < 0:
                raise DatabaseError(f"reading {table} from {make_url(self.database_url).database}"
                                    f" failed: {payload.decode()}")
            with pa.ipc.open_stream(payload) as reader:
                for batch in reader:
                    yield pa.Table.from_batches([batch])

    # --- PostgreSQL: an exported snapshot, adopted by every reader ------------------------

    def _postgres_snapshot(self) -> str:
        with self._lock:
            if self._pg_snapshot is None:
                self._engine = create_engine(make_url(self.database_url))
                self._connection = self._engine.connect().execution_options(
                    isolation_level="REPEATABLE READ")
                snapshot_id: str = self._connection.execute(
                    text("select pg_export_snapshot()")).scalar_one()
                if not _PG_SNAPSHOT_ID.match(snapshot_id):
                    raise DatabaseError(f"unexpected snapshot id {snapshot_id!r}")
                self._pg_snapshot = snapshot_id
            return self._pg_snapshot

    def _read_postgres(
        self, columns: Sequence[Column], cursor: str, since: datetime | None
    ) -> Iterator[pa.Table]:
        import adbc_driver_postgresql.dbapi as adbc

        from oaken.el.sqlite_reader import conform

        snapshot_id = self._postgres_snapshot()
        schema = arrow_tables.arrow_schema(columns)
        query, params = arrow_tables.postgres_query(columns, cursor, since)
        url = make_url(self.database_url)
        uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
        # autocommit off: the driver begins a transaction, which adopts the snapshot
        # before its first query (the id is the server's, checked against its format)
        with adbc.connect(uri, autocommit=False) as connection:
            with connection.cursor() as reader:
                reader.execute("set transaction isolation level repeatable read, read only")
                reader.execute(f"set transaction snapshot '{snapshot_id}'")
                reader.execute(query, params)
                for batch in reader.fetch_record_batch():
                    if batch.num_rows:
                        yield pa.Table.from_batches([conform(batch, schema)])
            connection.rollback()

    # --- MySQL/MariaDB: one connection, one consistent snapshot ---------------------------

    def _mysql_connection(self) -> Connection:
        with self._lock:
            if self._connection is None:
                self._engine = create_engine(make_url(self.database_url))
                connection = self._engine.connect().execution_options(
                    isolation_level="REPEATABLE READ")
                connection.exec_driver_sql("start transaction with consistent snapshot")
                self._connection = connection
            return self._connection

    def _read_sqlalchemy(
        self, columns: Sequence[Column], cursor: str, since: datetime | None
    ) -> Iterator[pa.Table]:
        connection = self._mysql_connection()
        schema = arrow_tables.arrow_schema(columns)
        table = columns[0].table
        query = select(*columns)
        parameters: dict[str, Any] = {}
        if since is not None:
            query = query.where(table.c[cursor] > bindparam("since", type_=DateTime))
            parameters["since"] = arrow_tables.cursor_param(since)
        result = connection.execution_options(
            stream_results=True, yield_per=arrow_tables.BATCH_ROWS).execute(query, parameters)
        for rows in result.partitions():
            yield _arrow_from_rows(rows, schema)


def _arrow_from_rows(rows: Sequence[Any], schema: pa.Schema) -> pa.Table:
    """Rows of Python values (``Decimal`` money, naive datetimes) as Arrow, exactly."""
    arrays = []
    for index, field in enumerate(schema):
        values = [row[index] for row in rows]
        if pa.types.is_boolean(field.type):
            values = [None if value is None else bool(value) for value in values]
        arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _read_frame_size(stream: Any, table: str) -> int:
    header = _read_exactly(stream, _FRAME.size, table)
    return int(_FRAME.unpack(header)[0])


def _read_exactly(stream: Any, size: int, table: str) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise DatabaseError(f"reading {table}: the SQLite reader stopped mid-answer")
    return bytes(data)
