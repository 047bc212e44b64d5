"""Configuration from the environment, `.env` and secret files (docs/reference.md,
"Settings").

A secret may also come as a file named like its variable in lower case, in
:data:`SECRETS_DIR` (``/run/secrets``, where Compose and Kubernetes mount secrets):
``/run/secrets/oaken_api_token`` holds ``OAKEN_API_TOKEN``. The environment wins over
a file.

Everything has an embedded default so `oaken demo` runs with nothing set. Build the
settings with :func:`get_settings` (cached) rather than at import time, so tests and
commands can change the environment first.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

SECRETS_DIR = Path("/run/secrets")

OIDC_REQUIRED = ("dashboard_oidc_issuer", "dashboard_oidc_client_id",
                 "dashboard_oidc_client_secret", "dashboard_oidc_cookie_secret")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OAKEN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, `.env`, and the files in SECRETS_DIR when it
        exists (no warning on a machine without it)."""
        sources = [init_settings, env_settings, dotenv_settings]
        if SECRETS_DIR.is_dir():
            sources.append(SecretsSettingsSource(settings_cls, secrets_dir=SECRETS_DIR))
        return tuple(sources)

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
    dashboard_address: str = Field(
        default="127.0.0.1", min_length=1, description="interface `oaken dashboard` listens "
        "on; another than loopback needs sign-in (OAKEN_DASHBOARD_OIDC_*) or "
        "OAKEN_DASHBOARD_ALLOW_ANONYMOUS")
    dashboard_allow_anonymous: bool = Field(
        default=False, description="serve the dashboard to other machines without sign-in "
        "(a trusted network, or an authenticating proxy in front)")
    # --- sign-in to the dashboard with OpenID Connect (docs/dashboard.md, "Sign-in") -------
    dashboard_oidc_issuer: str | None = Field(
        default=None, description="the provider's issuer URL (its "
        "/.well-known/openid-configuration is read) or that discovery URL itself")
    dashboard_oidc_client_id: str | None = None
    dashboard_oidc_client_secret: SecretStr | None = None
    dashboard_oidc_cookie_secret: SecretStr | None = Field(
        default=None, description="signs the sign-in cookie; 32+ random characters, the same "
        "on every replica")
    dashboard_oidc_redirect_uri: str | None = Field(
        default=None, description="the dashboard's public URL + /oauth2callback "
        "(default http://localhost:PORT/oauth2callback)")
    dashboard_oidc_allowed_emails: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated e-mail addresses that may enter")
    dashboard_oidc_allowed_domains: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated e-mail domains whose every "
        "address may enter")

    @field_validator("dashboard_oidc_allowed_emails", "dashboard_oidc_allowed_domains",
                     mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, (list, tuple)):
            return [str(item).strip().lower().lstrip("@") for item in value if str(item).strip()]
        return value

    @field_validator("dashboard_oidc_issuer", "dashboard_oidc_redirect_uri", mode="before")
    @classmethod
    def _absolute_url(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not value.startswith(("http://", "https://")):
                raise ValueError(f"must be an absolute http(s):// URL, got {value!r}")
        return value

    @field_validator("dashboard_oidc_redirect_uri")
    @classmethod
    def _callback_path(cls, value: str | None) -> str | None:
        if value is not None and not value.rstrip("/").endswith("/oauth2callback"):
            raise ValueError(f"must end with /oauth2callback, got {value!r}")
        return value.rstrip("/") if value else value

    @field_validator("dashboard_oidc_cookie_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value
    # --- end of dashboard sign-in -----------------------------------------------------------
    dagster_port: int = 3000
    topic_prefix: str = ""
    partitions: int = Field(default=4, ge=1, le=1024)
    replication_factor: int | None = Field(
        default=None, ge=1, le=32, description="replicas of each topic the platform creates "
        "(default: the cluster's default.replication.factor)")
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

    @field_validator("kafka_bootstrap", "api_token", "replication_factor", "broker_bin",
                     "kafka_security_protocol", "kafka_sasl_mechanisms", "kafka_sasl_username",
                     "kafka_sasl_password",
                     "kafka_ssl_ca_location", "dbt_project_dir", "airbyte_url",
                     "airbyte_connection_id", "airbyte_username", "airbyte_password",
                     "dashboard_oidc_client_id", "dashboard_oidc_client_secret",
                     "dashboard_oidc_cookie_secret", mode="before")
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
    def dashboard_sign_in(self) -> bool:
        """Whether the dashboard signs people in: any OAKEN_DASHBOARD_OIDC_* set (then
        :func:`oaken.dashboard.signin.check_configuration` wants the provider's four and
        someone allowed, so half a configuration stops the command, never opens it)."""
        return any(getattr(self, name) is not None for name in OIDC_REQUIRED) or bool(
            self.dashboard_oidc_redirect_uri or self.dashboard_oidc_allowed_emails
            or self.dashboard_oidc_allowed_domains)

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
