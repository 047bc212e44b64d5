"""The Dagster definitions load; the Airbyte variant syncs against a fake Airbyte server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import dagster as dg
import pytest

from oaken.el.pipeline import TABLE_NAMES
from oaken.settings import Settings, get_settings


@pytest.fixture
def settings(sqlite_url, tmp_path, monkeypatch) -> Iterator[Settings]:
    monkeypatch.setenv("OAKEN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OAKEN_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("OAKEN_WAREHOUSE", raising=False)
    monkeypatch.delenv("OAKEN_AIRBYTE_URL", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_orchestration_definitions_load(settings: Settings) -> None:
    from oaken.orchestration.build import JOB_NAME, SCHEDULE_NAME, build_definitions

    defs = build_definitions(settings)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/sales", "raw/journal_lines", "fct_sales", "mart_receivables",
            "snapshots/snap_products", "forecast_sales_daily", "forecast_backtest"} <= keys
    job = defs.resolve_job_def(JOB_NAME)
    assert {"oaken_el", "oaken_dbt", "oaken_forecast"} <= {n.name for n in job.graph.nodes}
    schedule = defs.resolve_schedule_def(SCHEDULE_NAME)
    assert schedule.cron_schedule == "0 3 * * *"
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert "unique_fct_sales_invoice_line_id" in checks  # dbt tests are asset checks
    assert "assert_fct_sales_reconciles_with_raw" in checks
    assert any("freshness" in name for name in checks)
    # dbt sources and dlt assets share keys, so lineage runs database → raw → marts
    fct_deps = defs.resolve_asset_graph().get(dg.AssetKey(["staging", "stg_sales"])).parent_keys
    assert dg.AssetKey(["raw", "sales"]) in fct_deps



def test_live_mode_is_a_job_and_two_sensors(settings: Settings) -> None:
    """The micro-batch job holds the raw tables and the `live` dbt models with their
    generic tests, not the heavy marts, the forecasts or the singular tests."""
    from oaken.orchestration.build import (
        HEAVY_SENSOR,
        JOB_NAME,
        LIVE_JOB_NAME,
        LIVE_SENSOR,
        build_definitions,
    )

    defs = build_definitions(settings)
    live = defs.resolve_job_def(LIVE_JOB_NAME)
    selected = {key.to_user_string() for key in live.asset_layer.selected_asset_keys}
    assert {"raw/sales", "fct_sales", "mart_dashboard_sales", "mart_sales_daily_detail",
            "snapshots/snap_products"} <= selected
    assert not {"mart_sales_monthly", "mart_top_items", "dim_date",
                "forecast_sales_daily"} & selected
    checks = {spec.key.name for data in live.asset_layer.data
              for spec in data.assets_def.check_specs}  # the job's subset of each asset
    # the relationship tests run in every micro-batch; the whole-table key tests and the
    # singular reconciliations only in the whole job
    assert "relationships_fct_sales_store_id__store_id__ref_dim_store_" in checks
    assert "not_null_fct_sales_invoice_line_id" in checks
    assert not {"unique_fct_sales_invoice_line_id",
                "unique_mart_dashboard_sales_invoice_line_id"} & checks
    assert not {name for name in checks if name.startswith("assert_")}
    every = defs.resolve_sensor_def(LIVE_SENSOR)
    heavy = defs.resolve_sensor_def(HEAVY_SENSOR)
    assert every.minimum_interval_seconds == 30 and every.job_name == LIVE_JOB_NAME
    assert heavy.minimum_interval_seconds == 900 and heavy.job_name == JOB_NAME


class FakeAirbyte(BaseHTTPRequestHandler):
    """Answers the three Airbyte OSS API calls a sync needs; records what it was asked."""

    calls: ClassVar[list[tuple[str, dict]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        self.calls.append((self.path, body))
        if self.path == "/api/v1/connections/get":
            streams = [{"stream": {"name": name, "jsonSchema": {"properties": {}}},
                        "config": {"selected": True}} for name in TABLE_NAMES]
            answer = {"connectionId": body["connectionId"], "syncCatalog": {"streams": streams}}
        elif self.path == "/api/v1/connections/sync":
            answer = {"job": {"id": 7, "status": "running"}}
        elif self.path == "/api/v1/jobs/get":
            stats = [{"streamName": "sales", "stats": {"recordsCommitted": 3}}]
            answer = {"job": {"id": 7, "status": "succeeded"},
                      "attempts": [{"attempt": {"id": 0, "streamStats": stats},
                                    "logs": {"logLines": []}}]}
        else:
            self.send_response(404)
            self.end_headers()
            return
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def test_airbyte_variant_syncs_through_a_fake_airbyte_server(settings, monkeypatch) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAirbyte)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeAirbyte.calls = []
    try:
        monkeypatch.setenv("OAKEN_AIRBYTE_URL", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.setenv("OAKEN_AIRBYTE_CONNECTION_ID", "conn-123")
        monkeypatch.setenv("OAKEN_AIRBYTE_POLL_SECONDS", "0.01")
        from oaken.orchestration.el import build_el_definitions

        defs = build_el_definitions(Settings())
        assets = list(defs.assets)
        keys = {key.to_user_string() for a in assets for key in a.keys}
        assert {"raw/sales", "raw/shipments", "raw/journal_lines"} <= keys
        result = dg.materialize(assets, resources=dict(defs.resources),
                                instance=dg.DagsterInstance.ephemeral())
        assert result.success
        events = result.get_asset_materialization_events()
        materialized = {e.asset_key.to_user_string() for e in events if e.asset_key}
        assert materialized == {f"raw/{name}" for name in TABLE_NAMES}
        assert ("/api/v1/connections/sync", {"connectionId": "conn-123"}) in FakeAirbyte.calls
    finally:
        server.shutdown()


def test_airbyte_variant_needs_a_connection_id(settings, monkeypatch) -> None:
    from oaken.errors import ConfigError
    from oaken.orchestration.el import build_el_definitions

    monkeypatch.setenv("OAKEN_AIRBYTE_URL", "http://127.0.0.1:8000")
    monkeypatch.delenv("OAKEN_AIRBYTE_CONNECTION_ID", raising=False)
    with pytest.raises(ConfigError, match="OAKEN_AIRBYTE_CONNECTION_ID"):
        build_el_definitions(Settings())
