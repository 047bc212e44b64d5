"""Configuration from the environment and `.env` (docs/reference.md, "Settings").

Everything has an embedded default so `oaken demo` runs with nothing set. Build the
settings with :func:`get_settings` (cached) rather than at import time, so tests and
commands can change the environment first.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OAKEN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(default=Path(".oaken"), description="runtime data directory")
    database_url: str = Field(default="", description="the single source of truth")
    kafka_bootstrap: str | None = Field(default=None, description="an external Kafka cluster")
    broker_port: int = 9092
    broker_bin: str | None = Field(default=None, description="path to a tansu binary")
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    api_token: SecretStr | None = Field(
        default=None, description="bearer token POST /v1/sales requires when set")
    warehouse: str = Field(default="", description="duckdb:///path or bigquery://PROJECT/DATASET")
    # --- BigQuery (OAKEN_WAREHOUSE=bigquery://PROJECT/DATASET; docs/bigquery.md) ---------
    bigquery_endpoint: str | None = Field(
        default=None, description="another BigQuery API endpoint for every client, e.g. an "
        "emulator at http://127.0.0.1:9050 (without Google credentials: a placeholder token)")
    bigquery_location: str = Field(
        default="US", min_length=1, description="location of the datasets dlt and dbt "
        "create: US, EU, europe-west3, …")
    bigquery_maximum_bytes_billed: int = Field(
        default=100 * 1024**3, ge=0, description="cost guard: a query that would bill more "
        "bytes fails instead (dbt, forecasts, dashboard, reconciliation); 0 = no limit")

    @field_validator("bigquery_endpoint", mode="before")
    @classmethod
    def _endpoint_is_a_url(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().rstrip("/")
            if not value:
                return None
            if not value.startswith(("http://", "https://")):
                raise ValueError(f"must be http(s)://HOST[:PORT], got {value!r}")
        return value
    # --- end of BigQuery ------------------------------------------------------------------
    dashboard_port: int = 8501
    dashboard_refresh_seconds: float = Field(
        default=15.0, ge=0, description="an open dashboard redraws its report this often "
        "(0: only on a reload or a filter change)")
    dagster_port: int = 3000
    topic_prefix: str = ""
    partitions: int = Field(default=4, ge=1, le=1024)
    batch_size: int = Field(default=2000, ge=1, le=100_000)
    kafka_session_timeout_ms: int = 6000
    kafka_heartbeat_interval_ms: int = 1000
    # resilience: the ingest journal, the supervisor, the reconciler
    journal: Literal["auto", "on", "off"] = Field(
        default="auto", description="store-and-forward journal in front of the broker "
        "(auto: on with the embedded broker)")
    journal_max_records: int = Field(
        default=1_000_000, ge=1, description="records the journal holds before the API "
        "answers 503")
    api_max_inflight_mb: int = Field(
        default=16, ge=1, description="request bodies the API holds in memory at once "
        "before it answers 503")
    repair_grace_seconds: float = Field(
        default=60.0, ge=0, description="age before a sale or shipment missing its next "
        "stage is repaired")
    repair_interval_seconds: float = Field(
        default=30.0, gt=0, description="how often `oaken up` looks for gaps")
    restart_backoff_max_seconds: float = Field(
        default=30.0, ge=1, description="longest wait before the supervisor restarts a "
        "process that keeps dying")
    broker_recycle_mb: int = Field(
        default=512, ge=0, description="restart the embedded broker once every group has "
        "caught up and it holds more than this (0: never)")
    # --- a managed Kafka cluster: passed to librdkafka (bus/config.py) -----------------------
    kafka_security_protocol: str | None = Field(default=None, description="security.protocol")
    kafka_sasl_mechanisms: str | None = Field(default=None, description="sasl.mechanisms")
    kafka_sasl_username: str | None = Field(default=None, description="sasl.username")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="sasl.password")
    kafka_ssl_ca_location: str | None = Field(default=None, description="ssl.ca.location")
    # --- analytics ------------------------------------------------------------------------
    duckdb_memory_limit: str = Field(
        default="2GB", min_length=1, description="memory DuckDB may use while loading, "
        "building and checking the warehouse (spills to disk beyond)")
    dbt_threads: int = Field(default=1, ge=1, description="dbt nodes built at once on DuckDB")
    dbt_project_dir: Path | None = Field(
        default=None, description="the dbt project (default: the first transform/ found)")
    dlt_progress: bool = Field(default=False, description="dlt logs its progress")
    analytics_interval_seconds: float = Field(
        default=30.0, ge=0, description="live mode: `oaken up` runs an analytics micro-batch "
        "this often (0: off)")
    analytics_heavy_interval_seconds: float = Field(
        default=900.0, gt=0, description="live mode: the full build (every test, forecasts, "
        "backtests) at most this often")
    analytics_cursor_lag_seconds: float = Field(
        default=15.0, ge=0, description="extract re-reads rows stamped this long before the "
        "newest one seen (covers commit order and workers' clock skew)")
    # --- extract/load through an existing Airbyte connection instead of dlt -------------------
    airbyte_url: str | None = Field(default=None, description="http(s)://host[:port]")
    airbyte_connection_id: str | None = None
    airbyte_username: str | None = None
    airbyte_password: SecretStr | None = None
    airbyte_poll_seconds: float = Field(default=10.0, gt=0)

    @field_validator("kafka_bootstrap", "api_token", "broker_bin", "kafka_security_protocol",
                     "kafka_sasl_mechanisms", "kafka_sasl_username", "kafka_sasl_password",
                     "kafka_ssl_ca_location", "dbt_project_dir", "airbyte_url",
                     "airbyte_connection_id", "airbyte_username", "airbyte_password",
                     mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _embedded_defaults(self) -> Settings:
        self.home = self.home.expanduser()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'oaken.db'}"
        if not self.warehouse:
            self.warehouse = f"duckdb:///{self.home / 'warehouse.duckdb'}"
        return self

    @property
    def embedded_broker(self) -> bool:
        return self.kafka_bootstrap is None

    @property
    def journal_enabled(self) -> bool:
        return self.journal == "on" or (self.journal == "auto" and self.embedded_broker)

    @property
    def journal_path(self) -> Path:
        """One journal per API port, so two APIs on one host never forward each other's."""
        return self.home / "journal" / f"api-{self.api_port}.sqlite"

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap or f"127.0.0.1:{self.broker_port}"

    def kafka_client_options(self) -> dict[str, str]:
        """The managed-cluster options librdkafka takes (``security.protocol`` …) that are set."""
        options = {
            "security.protocol": self.kafka_security_protocol,
            "sasl.mechanisms": self.kafka_sasl_mechanisms,
            "sasl.username": self.kafka_sasl_username,
            "sasl.password": (self.kafka_sasl_password.get_secret_value()
                              if self.kafka_sasl_password else None),
            "ssl.ca.location": self.kafka_ssl_ca_location,
        }
        return {key: value for key, value in options.items() if value}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def load_settings() -> Settings:
    """:func:`get_settings`, with a bad value reported as one line naming the variable."""
    from oaken.errors import ConfigError

    try:
        return get_settings()
    except ValidationError as problem:
        first = problem.errors()[0]
        name = "OAKEN_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigError(f"{name}: {first['msg']}") from None
