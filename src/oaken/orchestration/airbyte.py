"""Optional extract/load through Airbyte instead of dlt (``OAKEN_AIRBYTE_URL``).

When ``OAKEN_AIRBYTE_URL`` (e.g. ``http://airbyte.internal:8000``) is set, the
``raw/<table>`` assets are produced by triggering an existing Airbyte connection
sync through ``dagster-airbyte`` and waiting for it, instead of running dlt. The
connection (configured in Airbyte, not here) must read the source-of-truth database
with incremental "append + deduped" sync on ``updated_at`` and write the tables of the
source of truth (docs/reference.md, "Tables") under the same names into the warehouse
dataset ``raw``; dbt then runs unchanged.

Environment:

- ``OAKEN_AIRBYTE_URL``: base URL of the Airbyte server (its ``/api/v1`` is used);
- ``OAKEN_AIRBYTE_CONNECTION_ID``: the connection to sync (required);
- ``OAKEN_AIRBYTE_USERNAME`` / ``OAKEN_AIRBYTE_PASSWORD``: basic auth, if enabled;
- ``OAKEN_AIRBYTE_POLL_SECONDS``: how often to poll the job (default 10).
"""

from urllib.parse import urlparse

import dagster as dg
from dagster_airbyte import AirbyteResource, build_airbyte_assets

from oaken.el.pipeline import TABLE_NAMES
from oaken.errors import ConfigError
from oaken.settings import Settings

GROUP = "raw"


def airbyte_resource(settings: Settings) -> AirbyteResource:
    url = settings.airbyte_url or ""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"OAKEN_AIRBYTE_URL must be http(s)://host[:port], got {url!r}")
    return AirbyteResource(
        host=parsed.hostname,
        port=str(parsed.port or ""),
        use_https=parsed.scheme == "https",
        username=settings.airbyte_username,
        password=(settings.airbyte_password.get_secret_value()
                  if settings.airbyte_password else None),
        poll_interval=settings.airbyte_poll_seconds,
        request_max_retries=2,
    )


def build_airbyte_definitions(settings: Settings) -> dg.Definitions:
    connection_id = (settings.airbyte_connection_id or "").strip()
    if not connection_id:
        raise ConfigError("OAKEN_AIRBYTE_URL is set but OAKEN_AIRBYTE_CONNECTION_ID is not")
    assets = build_airbyte_assets(
        connection_id=connection_id,
        destination_tables=list(TABLE_NAMES),
        asset_key_prefix=[GROUP],
        group_name=GROUP,
    )
    return dg.Definitions(assets=assets, resources={"airbyte": airbyte_resource(settings)})
