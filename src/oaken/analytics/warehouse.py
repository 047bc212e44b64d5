"""Where the warehouse is (``OAKEN_WAREHOUSE``) and a small client for it.

Two kinds, chosen by configuration only:

- ``duckdb:///path/to/warehouse.duckdb`` (the embedded default), and
- ``bigquery://PROJECT/DATASET`` (credentials from the usual Google environment:
  ``GOOGLE_APPLICATION_CREDENTIALS`` or application-default login; the endpoint,
  location and cost guard from ``OAKEN_BIGQUERY_*``: :mod:`oaken.analytics.bigquery`).

Layout, the same on both: dlt loads the database into the ``raw`` schema/dataset;
dbt writes staging, intermediate and snapshots into ``<schema>_staging``,
``<schema>_intermediate`` and ``<schema>_snapshots`` and the marts into ``<schema>``
(``analytics`` on DuckDB, ``DATASET`` on BigQuery); the forecast step writes
``forecast_sales_daily`` and ``forecast_backtest`` beside the marts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from oaken.errors import WarehouseError

if TYPE_CHECKING:  # pragma: no cover
    from oaken.settings import Settings

RAW_SCHEMA = "raw"
DUCKDB_MARTS_SCHEMA = "analytics"
#: DuckDB takes up to 80 % of RAM by default; every writer of the warehouse (dlt's load,
#: dbt through ``transform/profiles.yml``, the checks here) is held to this instead and
#: spills to disk beyond it.
DEFAULT_DUCKDB_MEMORY_LIMIT = "2GB"


def duckdb_config() -> dict[str, str]:
    """Settings for every DuckDB connection that writes or scans the warehouse."""
    return {"memory_limit": os.environ.get("OAKEN_DUCKDB_MEMORY_LIMIT",
                                           DEFAULT_DUCKDB_MEMORY_LIMIT)}


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
    """The warehouse of ``settings``: ``OAKEN_WAREHOUSE`` and, on BigQuery, the
    endpoint, location and cost guard (``OAKEN_BIGQUERY_*``)."""
    return parse_warehouse(
        settings.warehouse, endpoint=settings.bigquery_endpoint,
        location=settings.bigquery_location,
        maximum_bytes_billed=settings.bigquery_maximum_bytes_billed,
    )


def parse_warehouse(url: str, *, endpoint: str | None = None, location: str = "US",
                    maximum_bytes_billed: int = 0) -> WarehouseConfig:
    """``duckdb:///path`` or ``bigquery://PROJECT/DATASET`` → :class:`WarehouseConfig`.

    The keywords apply to BigQuery only; :func:`warehouse_config` takes them from the
    settings.
    """
    parsed = urlparse(url)
    if parsed.scheme == "duckdb":
        # SQLAlchemy's convention: duckdb:///relative/path, duckdb:////absolute/path
        raw = url[len("duckdb:///"):] if url.startswith("duckdb:///") else url[len("duckdb://"):]
        path = Path(raw).expanduser()
        if not raw or raw == "/":
            raise WarehouseError(f"OAKEN_WAREHOUSE has no DuckDB file path: {url!r}")
        return WarehouseConfig(kind="duckdb", path=path.absolute())
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


class Warehouse:
    """Run SQL against the warehouse and write small tables (forecasts) into it."""

    def __init__(self, config: WarehouseConfig) -> None:
        self.config = config
        self._client: Any = None

    @contextmanager
    def _duckdb(self, *, read_only: bool = False) -> Iterator[Any]:
        import duckdb

        path = self.config.path
        assert path is not None
        if read_only and not path.exists():
            raise WarehouseError(
                f"warehouse {path} does not exist yet: run `oaken analytics` first"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
        except duckdb.Error as problem:
            raise WarehouseError(f"warehouse {path} cannot be opened: {problem}") from None
        try:
            yield connection
        finally:
            connection.close()

    def _bigquery(self) -> Any:
        from oaken.analytics import bigquery

        if self._client is None:
            self._client = bigquery.client(self.config)
        return self._client

    def _bigquery_job(self, sql: str) -> Any:
        from oaken.analytics import bigquery

        return self._bigquery().query(sql, job_config=bigquery.query_config(self.config))

    def query(self, sql: str) -> list[tuple]:
        """Rows of ``sql`` as tuples (DECIMAL columns come back as ``Decimal``)."""
        if self.config.kind == "duckdb":
            import duckdb

            with self._duckdb(read_only=True) as connection:
                try:
                    return connection.execute(sql).fetchall()
                except duckdb.CatalogException as problem:
                    first = str(problem).splitlines()[0]
                    raise WarehouseError(
                        f"warehouse is missing a table ({first}): run `oaken analytics` first"
                    ) from None
        return [tuple(row.values()) for row in self._bigquery_job(sql).result()]

    def query_df(self, sql: str) -> Any:
        """``sql`` as a pandas DataFrame."""
        if self.config.kind == "duckdb":
            with self._duckdb(read_only=True) as connection:
                return connection.execute(sql).df()
        return self._bigquery_job(sql).result().to_dataframe(create_bqstorage_client=False)

    def has_table(self, name: str, schema: str | None = None) -> bool:
        return name in self.tables(schema)

    def tables(self, schema: str | None = None) -> set[str]:
        """Names of the tables (and views) in ``schema``; empty if it does not exist."""
        schema = schema or self.config.marts_schema
        if self.config.kind == "duckdb":
            if not self.config.path or not self.config.path.exists():
                return set()
            with self._duckdb(read_only=True) as connection:
                rows = connection.execute(
                    "select table_name from information_schema.tables where table_schema = ?",
                    [schema],
                ).fetchall()
            return {name for (name,) in rows}
        from google.api_core.exceptions import NotFound

        try:
            listed = self._bigquery().list_tables(f"{self.config.project}.{schema}")
            return {table.table_id for table in listed}
        except NotFound:
            return set()

    def replace_table(self, name: str, frame: Any, schema: str | None = None) -> int:
        """Create or replace ``schema.name`` with the rows of a pandas DataFrame."""
        schema = schema or self.config.marts_schema
        if self.config.kind == "duckdb":
            with self._duckdb() as connection:
                # identifiers cannot be bound as parameters: quote them instead
                target = f"{_quoted(schema)}.{_quoted(name)}"
                connection.execute(f"create schema if not exists {_quoted(schema)}")
                connection.register("frame", frame)
                connection.execute(f"create or replace table {target} as select * from frame")
                connection.unregister("frame")
            return len(frame)
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq
        from google.cloud import bigquery

        # Parquet through load_table_from_file without a size, i.e. a resumable upload,
        # as dlt loads. load_table_from_dataframe would send a multipart upload whose
        # media part is typed "*/*": BigQuery takes it, bqemulator refuses it (400), and
        # the resumable upload is as right on BigQuery for any size.
        table = pa.Table.from_pandas(frame, preserve_index=False)
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        buffer.seek(0)
        job = self._bigquery().load_table_from_file(
            buffer,
            f"{self.config.project}.{schema}.{name}",
            job_config=bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET,
                write_disposition="WRITE_TRUNCATE",
                # an explicit schema: the column types do not depend on what BigQuery
                # infers from Parquet (and bqemulator creates a missing table only with one)
                schema=[bigquery.SchemaField(field.name, _bigquery_type(field.type))
                        for field in table.schema],
            ),
        )
        job.result()
        return len(frame)


def _bigquery_type(arrow_type: Any) -> str:
    """The BigQuery column type for an Arrow type of a forecast frame."""
    import pyarrow as pa

    if pa.types.is_boolean(arrow_type):
        return "BOOL"
    if pa.types.is_integer(arrow_type):
        return "INT64"
    if pa.types.is_floating(arrow_type):
        return "FLOAT64"
    if pa.types.is_decimal(arrow_type):
        return "NUMERIC"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_timestamp(arrow_type):
        # naive timestamps are UTC here (DESIGN: event timestamps are UTC)
        return "TIMESTAMP"
    return "STRING"


def _quoted(identifier: str) -> str:
    """A DuckDB identifier in double quotes, embedded quotes doubled."""
    return '"' + identifier.replace('"', '""') + '"'
