"""Every BigQuery client of the project, built in one place from the settings.

Four clients talk to BigQuery when ``OAKEN_WAREHOUSE=bigquery://PROJECT/DATASET``:
dlt (the load), dbt-bigquery (the models, as a child process), and
google-cloud-bigquery for the forecasts, the reconciliation, ``oaken archive`` and
the dashboard. They all get the same three things from here:

- **credentials**: Application Default Credentials, i.e. the key file named by
  ``GOOGLE_APPLICATION_CREDENTIALS`` or ``gcloud auth application-default login`` (or
  the attached service account on GCP). When ``OAKEN_BIGQUERY_ENDPOINT`` is set and no
  credentials are configured, a placeholder bearer token instead: emulators check
  none, and without it every client would stop at "default credentials not found".
- **the endpoint**: ``OAKEN_BIGQUERY_ENDPOINT`` (e.g. an emulator,
  ``http://127.0.0.1:9050``) for all four. google-cloud-bigquery takes it as
  ``client_options``; dbt as the profile's ``api_endpoint``; dlt builds its client
  itself and has no such option, so the variable google-cloud-bigquery reads for
  emulators (``BIGQUERY_EMULATOR_HOST``) is set for it.
- **the location** of the datasets (``OAKEN_BIGQUERY_LOCATION``) and **the cost guard**
  (``OAKEN_BIGQUERY_MAXIMUM_BYTES_BILLED``): a query that would bill more bytes fails
  instead of running; dbt gets it as the profile's ``maximum_bytes_billed``.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from oaken.errors import WarehouseError

if TYPE_CHECKING:  # pragma: no cover
    from oaken.warehouse.config import WarehouseConfig

#: sent as the bearer token to an endpoint when no Google credentials are configured
PLACEHOLDER_TOKEN = "oaken-placeholder-token"  # not a secret
#: the variable google-cloud-bigquery reads for an emulator (dlt's client has no option)
EMULATOR_HOST_VARIABLE = "BIGQUERY_EMULATOR_HOST"
SCOPES = ("https://www.googleapis.com/auth/bigquery",
          "https://www.googleapis.com/auth/cloud-platform")


@lru_cache(maxsize=8)
def _default_credentials(endpoint: str | None) -> tuple[Any, bool]:
    """``(credentials, is_placeholder)``; ``(None, False)`` leaves the choice to the client.

    Without an endpoint the Google clients find Application Default Credentials
    themselves (and say so when there are none). With one, ADC are used when present,
    else a placeholder token.
    """
    if endpoint is None:
        return None, False
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=list(SCOPES))
        return credentials, False
    except DefaultCredentialsError:
        from google.oauth2.credentials import Credentials

        return Credentials(token=PLACEHOLDER_TOKEN), True


def uses_placeholder_token(config: WarehouseConfig) -> bool:
    return _default_credentials(config.endpoint)[1]


def client(config: WarehouseConfig) -> Any:
    """A ``google.cloud.bigquery.Client`` for the warehouse's project."""
    try:
        from google.cloud import bigquery
    except ImportError:  # pragma: no cover - dbt-bigquery brings it
        raise WarehouseError("google-cloud-bigquery is not installed") from None
    from google.auth.exceptions import DefaultCredentialsError

    credentials, _ = _default_credentials(config.endpoint)
    options = {"api_endpoint": config.endpoint} if config.endpoint else None
    try:
        return bigquery.Client(project=config.project, credentials=credentials,
                               location=config.location, client_options=options)
    except DefaultCredentialsError:
        raise WarehouseError(
            "no Google credentials for BigQuery: set GOOGLE_APPLICATION_CREDENTIALS to a "
            "service-account key file or run `gcloud auth application-default login`"
        ) from None


def query_config(config: WarehouseConfig, **options: Any) -> Any:
    """A ``QueryJobConfig`` carrying the cost guard (and any other ``options``)."""
    from google.cloud import bigquery

    job = bigquery.QueryJobConfig(**options)
    if config.maximum_bytes_billed:
        job.maximum_bytes_billed = config.maximum_bytes_billed
    return job


def query_parameter(name: str, value: Any) -> Any:
    """A typed query parameter for a Python value (date, int, str, Decimal or a list).

    BigQuery needs the type of every parameter, and of an empty list too; the SQL
    names it ``@name`` (see :meth:`oaken.warehouse.bigquery_adapter.BigQueryWarehouse.render`).
    """
    from google.cloud import bigquery

    def kind(sample: Any) -> str:
        if isinstance(sample, bool):
            return "BOOL"
        if isinstance(sample, int):
            return "INT64"
        if isinstance(sample, date):
            return "DATE"
        if isinstance(sample, Decimal):
            return "NUMERIC"
        if isinstance(sample, float):
            return "FLOAT64"
        return "STRING"

    if isinstance(value, (list, tuple)):
        return bigquery.ArrayQueryParameter(name, kind(value[0]) if value else "STRING",
                                            list(value))
    return bigquery.ScalarQueryParameter(name, kind(value), value)


def column_type(arrow_type: Any) -> str:
    """The BigQuery column type for an Arrow type of a frame written to the warehouse;
    naive timestamps are UTC here (event timestamps are UTC), hence TIMESTAMP."""
    import pyarrow as pa

    kinds = ((pa.types.is_boolean, "BOOL"), (pa.types.is_integer, "INT64"),
             (pa.types.is_floating, "FLOAT64"), (pa.types.is_decimal, "NUMERIC"),
             (pa.types.is_date, "DATE"), (pa.types.is_timestamp, "TIMESTAMP"))
    return next((name for is_kind, name in kinds if is_kind(arrow_type)), "STRING")


def dlt_destination(config: WarehouseConfig) -> Any:
    """dlt's BigQuery destination, pointed at the endpoint when there is one."""
    import dlt

    credentials, placeholder = _default_credentials(config.endpoint)
    if config.endpoint:
        # The one write to the environment in the package, on purpose: dlt builds
        # google-cloud-bigquery's Client itself, without client_options, and that
        # client takes another endpoint only from Google's own variable. Only with
        # OAKEN_BIGQUERY_ENDPOINT set (an emulator or a private endpoint).
        os.environ[EMULATOR_HOST_VARIABLE] = config.endpoint
    if not placeholder:
        return dlt.destinations.bigquery(project_id=config.project, location=config.location)
    from dlt.common.configuration.specs import GcpOAuthCredentials

    # dlt refuses AnonymousCredentials; an OAuth token object it accepts as logged in
    oauth = GcpOAuthCredentials()
    oauth.parse_native_representation(credentials)
    assert config.project is not None  # parse_warehouse requires one for BigQuery
    oauth.project_id = config.project
    # dlt's annotation names only service-account credentials; it takes OAuth ones too
    return dlt.destinations.bigquery(credentials=oauth,  # type: ignore[arg-type]
                                     location=config.location)


def dlt_config(config: WarehouseConfig) -> dict[str, object]:
    """dlt settings (``dlt.config`` keys) the endpoint needs: bqemulator does not unzip
    uploaded load files.

    Real BigQuery takes the gzip-compressed files dlt writes by default (and they are
    cheaper to upload), so compression is off only when an endpoint is configured.
    """
    return {"normalize.data_writer.disable_compression": bool(config.endpoint)}


def dbt_profile_values(config: WarehouseConfig) -> dict[str, str]:
    """What ``transform/profiles.yml`` reads for the ``bigquery`` target, by the upper-case
    names of its environment fallbacks (passed to dbt as ``--vars``)."""
    env = {
        "OAKEN_BQ_PROJECT": config.project or "",
        "OAKEN_BQ_DATASET": config.dataset,
        "OAKEN_BQ_LOCATION": config.location,
        "OAKEN_BQ_MAXIMUM_BYTES_BILLED": str(config.maximum_bytes_billed or 0),
        "OAKEN_BQ_API_ENDPOINT": config.endpoint or "",
    }
    if uses_placeholder_token(config):
        env["OAKEN_BQ_METHOD"] = "oauth-secrets"
        env["OAKEN_BQ_TOKEN"] = PLACEHOLDER_TOKEN
    return env
