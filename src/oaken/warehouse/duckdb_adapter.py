"""The embedded warehouse: a DuckDB file, opened only while it is being used.

Readers that set ``readers_copy`` (the dashboard) open the copy each analytics run
publishes (:mod:`oaken.warehouse.publish`) and never wait for the writer.

A reader holds a shared lock that keeps ``oaken analytics`` from writing, so no
connection is kept between uses: each query opens and closes one, or, inside
:meth:`DuckDBWarehouse.session` (e.g. one run of the dashboard page), the first query
opens one that the others reuse until the session ends. Sessions are per thread
(Streamlit runs each browser session's script in its own thread). Every connection
gets :func:`~oaken.warehouse.config.duckdb_config` (the memory limit).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects import postgresql

from oaken.errors import WarehouseBusy, WarehouseError, WarehouseMissing
from oaken.warehouse.adapter import RUN_ANALYTICS, Params, Warehouse, first_line
from oaken.warehouse.config import WarehouseConfig, duckdb_config
from oaken.warehouse.publish import published_path

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class DuckDBWarehouse(Warehouse):
    kind = "duckdb"

    def __init__(self, config: WarehouseConfig) -> None:
        super().__init__(config)
        assert config.path is not None
        self.path = config.path
        self._local = threading.local()
        #: read the copy each analytics run publishes (oaken.warehouse.publish) rather
        #: than the file being written: the dashboard sets it
        self.readers_copy = False

    @contextmanager
    def session(self) -> Iterator[None]:
        """Reuse one read-only connection for the queries made inside (opened lazily:
        a page served from the cache does not touch the file)."""
        if getattr(self._local, "active", False):
            yield
            return
        self._local.active = True
        try:
            yield
        finally:
            connection = getattr(self._local, "connection", None)
            self._local.active = False
            self._local.connection = None
            if connection is not None:
                connection.close()

    def in_list(self, column: str, param: str) -> str:
        return f"list_contains(${param}, {column})"

    def version(self) -> str:
        """Changes whenever the file is rewritten (new cache entries after a rebuild)."""
        try:
            stat = self._read_path().stat()
        except FileNotFoundError:
            return "missing"
        return f"{stat.st_mtime_ns}-{stat.st_size}"

    def _read_path(self) -> Path:
        """The file readers open: the published copy whenever there is one. Never the
        warehouse itself then, not even when it is newer: between two steps of a run
        (extract/load done, dbt not started) it is free, and a page that opened it would
        hold the lock the next step needs. Every analytics job publishes as its last
        step (``oaken.orchestration.serving``), so the copy is at most a run behind."""
        if not self.readers_copy:
            return self.path
        copy = published_path(self.path)
        return copy if copy.exists() else self.path

    def rows(self, sql: str, params: Params | None = None) -> list[tuple]:
        return self._run(sql, params, lambda result: result.fetchall())

    def frame(self, sql: str, params: Params | None = None) -> pd.DataFrame:
        return self._run(sql, params, lambda result: result.df())

    def tables(self, schema: str | None = None) -> set[str]:
        if not self.path.exists():
            return set()
        rows = self.rows(
            "select table_name from information_schema.tables where table_schema = $schema",
            {"schema": schema or self.config.marts_schema})
        return {name for (name,) in rows}

    def replace_table(self, name: str, frame: pd.DataFrame, schema: str | None = None) -> int:
        """Through a read-write connection of its own (not a session's read-only one)."""
        schema = schema or self.config.marts_schema
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = self._connect(read_only=False)
        try:
            # identifiers cannot be bound as parameters: quote them instead
            target = f"{_quoted(schema)}.{_quoted(name)}"
            connection.execute(f"create schema if not exists {_quoted(schema)}")
            connection.register("frame", frame)
            connection.execute(f"create or replace table {target} as select * from frame")
            connection.unregister("frame")
        finally:
            connection.close()
        return len(frame)

    def _run(self, sql: str, params: Params | None, fetch: Any) -> Any:
        import duckdb

        shared = getattr(self._local, "active", False)
        connection = getattr(self._local, "connection", None) if shared else None
        if connection is None:
            connection = self._connect(read_only=True)
            if shared:
                self._local.connection = connection
        try:
            return fetch(connection.execute(sql, dict(params or {})))
        except duckdb.CatalogException as problem:
            raise WarehouseMissing(
                f"the warehouse is missing a table ({first_line(problem)}): {RUN_ANALYTICS}"
            ) from None
        finally:
            if not shared:
                connection.close()

    def _connect(self, *, read_only: bool) -> Any:
        import duckdb

        path = self._read_path() if read_only else self.path
        if read_only and not path.exists():
            raise WarehouseMissing(f"there is no warehouse at {self.path} yet: {RUN_ANALYTICS}")
        settings: dict[str, Any] = duckdb_config(self.config)  # DuckDB wants wider values
        try:
            return duckdb.connect(str(path), read_only=read_only, config=settings)
        except duckdb.IOException as problem:
            if "lock" in str(problem).lower():
                raise WarehouseBusy(
                    f"the warehouse {self.path} is being rebuilt (`oaken analytics` holds its "
                    "lock): refresh in a minute"
                ) from None
            raise WarehouseError(f"the warehouse {self.path} cannot be opened: "
                                 f"{first_line(problem)}") from None
        except duckdb.Error as problem:
            raise WarehouseError(f"the warehouse {self.path} cannot be opened: "
                                 f"{first_line(problem)}") from None


#: DuckDB quotes identifiers as PostgreSQL does: SQLAlchemy's quoting for that dialect
_quoted = postgresql.dialect().identifier_preparer.quote_identifier
