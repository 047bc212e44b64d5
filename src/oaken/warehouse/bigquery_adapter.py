"""The same SQL on BigQuery: ``$name`` → ``@name`` with typed query parameters.

The client, its endpoint, location and cost guard (``maximum_bytes_billed`` on every
query job) come from :mod:`oaken.warehouse.bigquery`. Exercised over the BigQuery
emulator (tests/integration/test_bigquery.py), not Google's BigQuery;
:meth:`BigQueryWarehouse.render` and the parameter typing are unit-tested.
"""

from __future__ import annotations

import io
import re
import time
from typing import TYPE_CHECKING, Any

from oaken.errors import WarehouseError, WarehouseMissing
from oaken.warehouse import bigquery
from oaken.warehouse.adapter import RUN_ANALYTICS, Params, Warehouse, first_line
from oaken.warehouse.config import WarehouseConfig

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: cached answers (the dashboard) are reused for this long: BigQuery has no cheap
#: "last modified" for a whole dataset
VERSION_SECONDS = 600


class BigQueryWarehouse(Warehouse):
    kind = "bigquery"

    def __init__(self, config: WarehouseConfig, *, client: Any = None) -> None:
        super().__init__(config)
        self._client = client

    def in_list(self, column: str, param: str) -> str:
        return f"{column} in unnest(${param})"

    def version(self) -> str:
        return str(int(time.time() // VERSION_SECONDS))

    @staticmethod
    def render(sql: str) -> str:
        return re.sub(r"\$(\w+)", r"@\1", sql)

    def client(self) -> Any:
        if self._client is None:
            self._client = bigquery.client(self.config)
        return self._client

    def rows(self, sql: str, params: Params | None = None) -> list[tuple]:
        return [tuple(row.values()) for row in self._result(sql, params)]

    def frame(self, sql: str, params: Params | None = None) -> pd.DataFrame:
        return self._result(sql, params).to_dataframe(create_bqstorage_client=False)

    def tables(self, schema: str | None = None) -> set[str]:
        from google.api_core.exceptions import NotFound

        schema = schema or self.config.marts_schema
        try:
            listed = self.client().list_tables(f"{self.config.project}.{schema}")
            return {table.table_id for table in listed}
        except NotFound:
            return set()

    def replace_table(self, name: str, frame: pd.DataFrame, schema: str | None = None) -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from google.cloud import bigquery as api

        schema = schema or self.config.marts_schema
        # Parquet through load_table_from_file without a size, i.e. a resumable upload,
        # as dlt loads. load_table_from_dataframe would send a multipart upload whose
        # media part is typed "*/*": BigQuery takes it, bqemulator refuses it (400), and
        # the resumable upload is as right on BigQuery for any size.
        table = pa.Table.from_pandas(frame, preserve_index=False)
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        buffer.seek(0)
        job = self.client().load_table_from_file(
            buffer,
            f"{self.config.project}.{schema}.{name}",
            job_config=api.LoadJobConfig(
                source_format=api.SourceFormat.PARQUET,
                write_disposition="WRITE_TRUNCATE",
                # an explicit schema: the column types do not depend on what BigQuery
                # infers from Parquet (and bqemulator creates a missing table only with one)
                schema=[api.SchemaField(field.name, bigquery.column_type(field.type))
                        for field in table.schema],
            ),
        )
        job.result()
        return len(frame)

    def _result(self, sql: str, params: Params | None) -> Any:
        """The finished query job's rows; every job carries the cost guard."""
        from google.api_core.exceptions import GoogleAPIError, NotFound

        options = {"query_parameters": [bigquery.query_parameter(name, value)
                                        for name, value in params.items()]} if params else {}
        job_config = bigquery.query_config(self.config, **options)
        try:
            return self.client().query(self.render(sql), job_config=job_config).result()
        except NotFound as problem:
            raise WarehouseMissing(f"BigQuery: {first_line(problem)}: {RUN_ANALYTICS}") from None
        except GoogleAPIError as problem:
            raise WarehouseError(f"BigQuery query failed: {first_line(problem)}") from None
