"""The BigQuery settings (OAKEN_BIGQUERY_*) reach every client: google-cloud-bigquery's
client and query jobs, dlt's destination, and dbt's profile as dbt itself renders it.

The run against a BigQuery API is in tests/integration/test_bigquery.py (emulator).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import ValidationError

from oaken.orchestration.resources import dbt_variables, find_dbt_project
from oaken.settings import Settings
from oaken.warehouse import bigquery
from oaken.warehouse.config import warehouse_config

ENDPOINT = "http://127.0.0.1:9050"


@pytest.fixture
def no_google_credentials(tmp_path, monkeypatch) -> None:
    """No key file, no gcloud login: Application Default Credentials find nothing."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    bigquery._default_credentials.cache_clear()
    yield
    bigquery._default_credentials.cache_clear()


def settings(**extra: object) -> Settings:
    return Settings(warehouse="bigquery://my-project/oaken", **extra)


def test_settings_defaults_and_validation() -> None:
    default = settings()
    assert default.bigquery_endpoint is None
    assert default.bigquery_location == "US"
    assert default.bigquery_maximum_bytes_billed == 100 * 1024**3
    assert settings(bigquery_endpoint=" http://127.0.0.1:9050/ ").bigquery_endpoint == ENDPOINT
    assert settings(bigquery_endpoint="").bigquery_endpoint is None
    for bad in ({"bigquery_endpoint": "127.0.0.1:9050"},
                {"bigquery_maximum_bytes_billed": -1}, {"bigquery_location": ""}):
        with pytest.raises(ValidationError):
            settings(**bad)


def test_settings_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("OAKEN_BIGQUERY_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("OAKEN_BIGQUERY_LOCATION", "europe-west3")
    monkeypatch.setenv("OAKEN_BIGQUERY_MAXIMUM_BYTES_BILLED", "5000000000")
    config = warehouse_config(Settings(warehouse="bigquery://p/d"))
    assert (config.endpoint, config.location, config.maximum_bytes_billed) == (
        ENDPOINT, "europe-west3", 5_000_000_000)


def test_endpoint_without_credentials_gives_every_client_a_placeholder_token(
    no_google_credentials, monkeypatch,
) -> None:
    # dlt_destination sets it for dlt's own client: restored after the test
    monkeypatch.delenv(bigquery.EMULATOR_HOST_VARIABLE, raising=False)
    config = warehouse_config(settings(bigquery_endpoint=ENDPOINT,
                                       bigquery_location="EU",
                                       bigquery_maximum_bytes_billed=12345))
    client = bigquery.client(config)
    assert client._connection.API_BASE_URL == ENDPOINT
    assert client.project == "my-project" and client.location == "EU"
    assert client._credentials.token == bigquery.PLACEHOLDER_TOKEN
    assert bigquery.query_config(config).maximum_bytes_billed == 12345

    destination = bigquery.dlt_destination(config)
    assert destination.config_params["credentials"].token == bigquery.PLACEHOLDER_TOKEN
    assert destination.config_params["location"] == "EU"
    import os

    assert os.environ[bigquery.EMULATOR_HOST_VARIABLE] == ENDPOINT  # dlt's own client
    assert bigquery.dlt_config(config) == {"normalize.data_writer.disable_compression": True}


def test_without_endpoint_the_clients_use_application_default_credentials(
    no_google_credentials,
) -> None:
    from oaken.errors import WarehouseError

    config = warehouse_config(settings())
    assert not bigquery.uses_placeholder_token(config)
    assert bigquery.dlt_config(config) == {"normalize.data_writer.disable_compression": False}
    with pytest.raises(WarehouseError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        bigquery.client(config)
    assert bigquery.query_config(warehouse_config(settings(
        bigquery_maximum_bytes_billed=0))).maximum_bytes_billed is None


RENDER = """
import json, os, sys
from argparse import Namespace
import yaml
from dbt_common.context import set_invocation_context
from dbt.flags import set_from_args
from dbt.adapters.factory import load_plugin
from dbt.config.profile import Profile
from dbt.config.renderer import ProfileRenderer
set_from_args(Namespace(), None)
load_plugin("bigquery")
raw = yaml.safe_load(open(sys.argv[1]))
set_invocation_context(dict(os.environ))
for cli_vars in json.loads(sys.argv[2]):
    c = Profile.from_raw_profiles(raw, "oaken", ProfileRenderer(cli_vars),
                                  target_override="bigquery").credentials
    print(json.dumps({"maximum_bytes_billed": c.maximum_bytes_billed,
                      "method": str(c.method), "api_endpoint": c.api_endpoint,
                      "location": c.location, "token": c.token, "project": c.database,
                      "dataset": c.schema}))
"""


def rendered_profiles(tmp_path, *configurations: Settings) -> list[dict]:
    """transform/profiles.yml's bigquery target as dbt renders it from the vars oaken
    passes, for each of ``configurations`` (one dbt start-up for all)."""
    envs = [dbt_variables(config.model_copy(update={"home": tmp_path}))
            for config in configurations]
    done = subprocess.run(
        [sys.executable, "-c", RENDER, str(find_dbt_project() / "profiles.yml"),
         json.dumps(envs)],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.strip().splitlines()[-len(envs):]]


def test_dbt_profile_carries_the_cost_guard_location_and_endpoint(
    no_google_credentials, tmp_path,
) -> None:
    real, emulated = rendered_profiles(
        tmp_path, settings(bigquery_location="EU"),
        settings(bigquery_endpoint=ENDPOINT, bigquery_maximum_bytes_billed=0))
    assert real == {"maximum_bytes_billed": 100 * 1024**3, "method": "oauth",
                    "api_endpoint": "", "location": "EU", "token": "",
                    "project": "my-project", "dataset": "oaken"}
    assert emulated["api_endpoint"] == ENDPOINT
    assert emulated["method"] == "oauth-secrets"
    assert emulated["token"] == bigquery.PLACEHOLDER_TOKEN
    assert emulated["maximum_bytes_billed"] == 0  # dbt-bigquery: 0 sets no limit


def test_a_bigquery_micro_batch_leaves_the_every_key_tests_to_the_whole_job(tmp_path) -> None:
    """The key tests tagged whole_table_on_bigquery scan whole tables on BigQuery: its
    micro-batch excludes them; DuckDB's runs them (docs/bigquery.md)."""
    from oaken.orchestration.build import LIVE_DBT_EXCLUDE, live_dbt_exclude

    on_bigquery = live_dbt_exclude(Settings(home=tmp_path, warehouse="bigquery://p/d"))
    on_duckdb = live_dbt_exclude(Settings(home=tmp_path, warehouse=""))
    assert on_bigquery == [*LIVE_DBT_EXCLUDE, "tag:whole_table_on_bigquery"]
    assert on_duckdb == LIVE_DBT_EXCLUDE
