"""Where the warehouse is (``OAKEN_WAREHOUSE``): :class:`WarehouseConfig`.

Two kinds, chosen by configuration only:

- ``duckdb:///path/to/warehouse.duckdb`` (the embedded default), and
- ``bigquery://PROJECT/DATASET`` (credentials from the usual Google environment:
  ``GOOGLE_APPLICATION_CREDENTIALS`` or application-default login; the endpoint,
  location and cost guard from ``OAKEN_BIGQUERY_*``: :mod:`oaken.warehouse.bigquery`).

Layout, the same on both: dlt loads the database into the ``raw`` schema/dataset;
dbt writes staging, intermediate and snapshots into ``<schema>_staging``,
``<schema>_intermediate`` and ``<schema>_snapshots`` and the marts into ``<schema>``
(``analytics`` on DuckDB, ``DATASET`` on BigQuery); the forecast step writes
``forecast_sales_daily`` and ``forecast_backtest`` beside the marts.

Only configuration lives here (no client library is imported), so every layer that
needs to know where the warehouse is can import it cheaply; reading and writing go
through :class:`oaken.warehouse.adapter.Warehouse`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from oaken.errors import WarehouseError

if TYPE_CHECKING:  # pragma: no cover
    from oaken.settings import Settings

RAW_SCHEMA = "raw"
DUCKDB_MARTS_SCHEMA = "analytics"
#: DuckDB takes up to 80 % of RAM by default; every connection to the warehouse (dlt's
#: load, dbt through ``transform/profiles.yml``, the readers and writers of
#: :mod:`oaken.warehouse.duckdb_adapter`) is held to ``OAKEN_DUCKDB_MEMORY_LIMIT``
#: instead, this unless set, and spills to disk beyond it.
DEFAULT_DUCKDB_MEMORY_LIMIT = "2GB"


def duckdb_config(config: WarehouseConfig) -> dict[str, str]:
    """Settings for every DuckDB connection that writes or scans the warehouse."""
    return {"memory_limit": config.memory_limit}


@dataclass(frozen=True)
class WarehouseConfig:
    kind: str  # "duckdb" | "bigquery"
    path: Path | None = None  # duckdb file
    project: str | None = None  # bigquery project
    dataset: str = DUCKDB_MARTS_SCHEMA  # schema of the marts
    # BigQuery only (OAKEN_BIGQUERY_*): another API endpoint, e.g. an emulator; where the
    # datasets live; the most bytes one query may bill (0: no limit)
    endpoint: str | None = None
    location: str = "US"
    maximum_bytes_billed: int = 0
    # DuckDB only (OAKEN_DUCKDB_MEMORY_LIMIT): memory every connection may use
    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT

    @property
    def raw_schema(self) -> str:
        return RAW_SCHEMA

    @property
    def marts_schema(self) -> str:
        return self.dataset

    @property
    def dbt_target(self) -> str:
        return "local" if self.kind == "duckdb" else "bigquery"

    def table(self, name: str, schema: str | None = None) -> str:
        """A fully qualified table name to put in SQL."""
        schema = schema or self.marts_schema
        if self.kind == "bigquery":
            return f"`{self.project}.{schema}.{name}`"
        return f"{schema}.{name}"

    def describe(self) -> str:
        if self.kind == "duckdb":
            return f"duckdb:///{self.path}"
        return f"bigquery://{self.project}/{self.dataset}"


def warehouse_config(settings: Settings) -> WarehouseConfig:
    """The warehouse of ``settings``: ``OAKEN_WAREHOUSE``; on BigQuery the endpoint,
    location and cost guard (``OAKEN_BIGQUERY_*``), on DuckDB the memory limit."""
    return parse_warehouse(
        settings.warehouse, endpoint=settings.bigquery_endpoint,
        location=settings.bigquery_location,
        maximum_bytes_billed=settings.bigquery_maximum_bytes_billed,
        memory_limit=settings.duckdb_memory_limit,
    )


def parse_warehouse(url: str, *, endpoint: str | None = None, location: str = "US",
                    maximum_bytes_billed: int = 0,
                    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT) -> WarehouseConfig:
    """``duckdb:///path`` or ``bigquery://PROJECT/DATASET`` → :class:`WarehouseConfig`.

    ``memory_limit`` applies to DuckDB only, the other keywords to BigQuery only;
    :func:`warehouse_config` takes them from the settings.
    """
    parsed = urlparse(url)
    if parsed.scheme == "duckdb":
        # SQLAlchemy's convention: duckdb:///relative/path, duckdb:////absolute/path
        raw = url[len("duckdb:///"):] if url.startswith("duckdb:///") else url[len("duckdb://"):]
        path = Path(raw).expanduser()
        if not raw or raw == "/":
            raise WarehouseError(f"OAKEN_WAREHOUSE has no DuckDB file path: {url!r}")
        return WarehouseConfig(kind="duckdb", path=path.absolute(), memory_limit=memory_limit)
    if parsed.scheme == "bigquery":
        project, dataset = parsed.netloc, parsed.path.strip("/")
        if not project or not dataset or "/" in dataset:
            raise WarehouseError(
                f"OAKEN_WAREHOUSE must look like bigquery://PROJECT/DATASET, got {url!r}"
            )
        return WarehouseConfig(kind="bigquery", project=project, dataset=dataset,
                               endpoint=endpoint, location=location,
                               maximum_bytes_billed=maximum_bytes_billed)
    raise WarehouseError(
        f"OAKEN_WAREHOUSE must be duckdb:///path or bigquery://PROJECT/DATASET, got {url!r}"
    )
