"""The one interface every reader and writer of the warehouse uses.

``Warehouse(config)`` gives the implementation for ``config.kind``:
:class:`~oaken.warehouse.duckdb_adapter.DuckDBWarehouse` or
:class:`~oaken.warehouse.bigquery_adapter.BigQueryWarehouse`. Callers (the
reconciliation, ``oaken archive``, the forecasts, the extract/load and the dashboard)
write one SQL text and never name the implementation.

SQL conventions, the same on both:

- user values are bound parameters, written ``$name`` with a ``dict`` of values
  (BigQuery gets ``@name`` and typed query parameters); a list filter is
  :meth:`Warehouse.in_list`;
- identifiers come from constants and the configuration only, through
  :meth:`Warehouse.table`.

Failures are :class:`~oaken.errors.WarehouseError`: :class:`~oaken.errors.WarehouseMissing`
when there is no warehouse or a table is missing, :class:`~oaken.errors.WarehouseBusy`
when DuckDB's file is locked by a writer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from oaken.warehouse.config import WarehouseConfig, parse_warehouse

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: what every "the warehouse is not built" message asks for
RUN_ANALYTICS = "run `oaken analytics` first"

Params = Mapping[str, Any]


class Warehouse:
    """Run SQL against the warehouse and replace small tables (forecasts) in it.

    ``Warehouse(config)`` returns the implementation for ``config.kind``, so callers
    that only have the configuration never choose one. The methods below that raise
    :class:`NotImplementedError` are what an implementation provides; they are not
    declared abstract so that ``Warehouse(config)`` type-checks.
    """

    kind: str

    def __new__(cls, config: WarehouseConfig, **options: Any) -> Warehouse:
        if cls is Warehouse:
            cls = _implementation(config.kind)
        return super().__new__(cls)

    def __init__(self, config: WarehouseConfig) -> None:
        self.config = config
        self.url = config.describe()

    def table(self, name: str, schema: str | None = None) -> str:
        """A fully qualified table name to put in SQL (marts schema by default)."""
        return self.config.table(name, schema)

    def has_table(self, name: str, schema: str | None = None) -> bool:
        return name in self.tables(schema)

    def in_list(self, column: str, param: str) -> str:
        """A condition: ``column`` is one of the values of the list parameter ``param``."""
        raise NotImplementedError

    def rows(self, sql: str, params: Params | None = None) -> list[tuple]:
        """Rows of ``sql`` as tuples (DECIMAL/NUMERIC columns come back as ``Decimal``)."""
        raise NotImplementedError

    def frame(self, sql: str, params: Params | None = None) -> pd.DataFrame:
        """``sql`` as a pandas DataFrame."""
        raise NotImplementedError

    def tables(self, schema: str | None = None) -> set[str]:
        """Names of the tables (and views) in ``schema``; empty if it does not exist."""
        raise NotImplementedError

    def replace_table(self, name: str, frame: pd.DataFrame, schema: str | None = None) -> int:
        """Create or replace ``schema.name`` with the rows of ``frame``; their number."""
        raise NotImplementedError

    def version(self) -> str:
        """Changes when the warehouse may have changed: the key of cached answers."""
        raise NotImplementedError

    @contextmanager
    def session(self) -> Iterator[None]:
        """Queries made inside may share one connection (see the implementations)."""
        yield


def open_warehouse(url: str | WarehouseConfig) -> Warehouse:
    """The warehouse of ``OAKEN_WAREHOUSE`` (raises WarehouseError if malformed).

    Give it :func:`~oaken.warehouse.config.warehouse_config` of the settings to carry
    the BigQuery endpoint, location and cost guard along.
    """
    return Warehouse(parse_warehouse(url) if isinstance(url, str) else url)


def first_line(problem: BaseException) -> str:
    """The first line of an error, short enough for a one-line message."""
    text = str(problem).strip()
    return text.splitlines()[0][:300] if text else type(problem).__name__


def _implementation(kind: str) -> type[Warehouse]:
    # imported here: both implementations import this module
    if kind == "duckdb":
        from oaken.warehouse.duckdb_adapter import DuckDBWarehouse

        return DuckDBWarehouse
    from oaken.warehouse.bigquery_adapter import BigQueryWarehouse

    return BigQueryWarehouse
