"""Read one query from a SQLite file with ADBC, in a child process, as an Arrow stream.

    python -m oaken.el.sqlite_reader  < request.json  > arrow-ipc-stream

Why a child process: the ADBC driver carries its own copy of SQLite, and two copies of
SQLite in one process corrupt each other's view of a WAL database (POSIX locks are per
process, so each copy takes the other's connections for none: closing the last
connection of one deletes the WAL the other is still writing to; sqlite.org's "How To
Corrupt An SQLite Database File", §2.2.1). The process that runs extract/load also
holds Python's ``sqlite3`` connections; a child that only reads keeps the two apart.

The request (JSON on stdin): ``database`` (file path), ``query`` and ``params`` (qmark
style), ``schema`` (an Arrow schema, IPC-serialised, base64), ``batch_rows``,
``hundredths`` (the money columns stored as integer hundredths). The
query's last column is a tag: rows tagged ``"0"`` fix the column types for the
driver's inference (see :mod:`oaken.el.arrow_tables`) and are dropped here. Each batch
is conformed to ``schema`` before it is written, so the parsing runs on this
process's core. A failure is one line on stderr and exit status 1.

Only pyarrow and the driver are imported: the child starts in a fraction of a second.
"""

from __future__ import annotations

import base64
import itertools
import json
import struct
import sys
from collections.abc import Collection
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

TAG = "_oaken_row"
FRAME = struct.Struct(">q")
_HUNDREDTH = pa.scalar(Decimal("0.01"), pa.decimal128(2, 2))


def conform(
    batch: pa.RecordBatch, schema: pa.Schema, hundredths: Collection[str] = ()
) -> pa.RecordBatch:
    """``batch`` with every column in the type of ``schema``, money exact to its scale;
    the ``hundredths`` columns are integers of hundredths (SQLite's money)."""
    arrays = []
    for field in schema:
        array = batch.column(field.name)
        if isinstance(array.type, pa.ExtensionType):  # PostgreSQL NUMERIC: text storage
            array = array.storage
        if field.name in hundredths:
            array = decimal_from_hundredths(array, field.type)
        elif pa.types.is_decimal(field.type) and not pa.types.is_decimal(array.type):
            array = decimal_from_text(array, field.type)
        arrays.append(array.cast(field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def decimal_from_text(array: pa.Array, target: pa.Decimal128Type) -> pa.Array:
    """Parse decimal text with room to spare, then round half-up to the target's scale."""
    wide = array.cast(pa.decimal128(38, max(target.scale, 10)))
    return pc.round(wide, ndigits=target.scale, round_mode="half_up").cast(target)


def decimal_from_hundredths(array: pa.Array, target: pa.Decimal128Type) -> pa.Array:
    """Integers of hundredths (as text or integers) as ``target``, exactly: ``4537`` ×
    ``0.01`` is decimal arithmetic on the unscaled integers, and the final cast fails
    rather than lose a digit."""
    whole = array.cast(pa.decimal128(19, 0))  # every int64
    return pc.multiply(whole, _HUNDREDTH).cast(target)


def stream(request: dict, out) -> None:
    # the low-level API: the DB-API module imports pandas, which triples the start-up
    import adbc_driver_manager as adbc
    import adbc_driver_sqlite

    schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(request["schema"])))
    hundredths = frozenset(request.get("hundredths", ()))
    with adbc_driver_sqlite.connect(request["database"]) as database, \
            adbc.AdbcConnection(database) as connection:
        _run(connection, "PRAGMA busy_timeout=30000")  # wait for a writer, as workers do
        batches = _rows(connection, request, schema, hundredths)
        first = next(batches, None)  # the query runs before the stream's header is written
        with pa.ipc.new_stream(out, schema) as writer:
            for batch in itertools.chain([] if first is None else [first], batches):
                writer.write_batch(batch)


def serve(database: str, requests, out) -> None:
    """Answer one request (a JSON line: query, params, schema, batch_rows, hundredths) after
    another inside one read transaction: every table as of the same moment. Each answer
    is frames of :func:`write_frame`: an IPC stream per batch, then an
    empty frame; a failure is a negative-length frame holding its one-line reason."""
    import io

    import adbc_driver_manager as adbc
    import adbc_driver_sqlite

    with adbc_driver_sqlite.connect(database) as handle, \
            adbc.AdbcConnection(handle) as connection:
        _run(connection, "PRAGMA busy_timeout=30000")
        _run(connection, "BEGIN")
        # the read transaction's snapshot is taken at its first read: take it now
        _run(connection, "SELECT count(*) FROM sqlite_master")
        for line in requests:
            if not line.strip():
                continue
            try:
                request = json.loads(line)
                schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(request["schema"])))
                hundredths = frozenset(request.get("hundredths", ()))
                for batch in _rows(connection, request, schema, hundredths):
                    sink = io.BytesIO()
                    with pa.ipc.new_stream(sink, schema) as writer:
                        writer.write_batch(batch)
                    write_frame(out, sink.getvalue())
                    out.flush()
            except Exception as problem:
                reason = f"{type(problem).__name__}: {' '.join(str(problem).split())}"
                write_frame(out, reason.encode(), error=True)
            else:
                write_frame(out, b"")
            out.flush()
        _run(connection, "ROLLBACK")


def write_frame(out, payload: bytes, *, error: bool = False) -> None:
    """One answer frame of the SQLite reader: signed length (negative: an error), bytes."""
    out.write(FRAME.pack(-len(payload) if error else len(payload)))
    out.write(payload)


def _rows(connection, request: dict, schema: pa.Schema, hundredths: frozenset[str]):
    """The query's rows (those tagged ``1``), conformed to ``schema``, batch by batch."""
    for batch in _query(connection, request):
        rows = batch.filter(pc.equal(batch.column(TAG), "1"))
        if rows.num_rows:
            yield conform(rows, schema, hundredths)


def _query(connection, request: dict):
    import adbc_driver_manager as adbc

    params = request["params"]
    with adbc.AdbcStatement(connection) as statement:
        statement.set_options(**{"adbc.sqlite.query.batch_rows": str(request["batch_rows"])})
        statement.set_sql_query(request["query"])
        if params:
            statement.bind(pa.record_batch([pa.array([value]) for value in params],
                                           names=[str(i) for i in range(len(params))]))
        handle, _ = statement.execute_query()
        with pa.RecordBatchReader._import_from_c(handle.address) as batches:
            yield from batches


def _run(connection, sql: str) -> None:
    import adbc_driver_manager as adbc

    with adbc.AdbcStatement(connection) as statement:
        statement.set_sql_query(sql)
        statement.execute_update()


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.stdin, sys.stdout.buffer)
        return 0
    try:
        stream(json.load(sys.stdin), sys.stdout.buffer)
    except Exception as problem:  # the parent turns this line into its error
        print(f"{type(problem).__name__}: {' '.join(str(problem).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
