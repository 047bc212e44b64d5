"""The dbt project parses, its unit tests pass on DuckDB, and its BigQuery target compiles
offline."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from oaken.orchestration.resources import dbt_executable, find_dbt_project

MARTS = {
    "fct_sales", "dim_store", "dim_product", "dim_vendor", "dim_category", "dim_employee",
    "dim_date", "mart_sales_daily", "mart_sales_monthly", "mart_top_items",
    "mart_top_categories", "mart_shipping_performance", "mart_receivables",
}


def dbt(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([dbt_executable(), *args], cwd=find_dbt_project(), env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def dbt_env(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("dbt")
    return {**os.environ, "DBT_PROFILES_DIR": str(find_dbt_project()),
            "DBT_LOG_PATH": str(base / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "OAKEN_WAREHOUSE_PATH": str(base / "warehouse.duckdb"), "_BASE": str(base)}


def test_dbt_parse_documents_every_model_and_column(dbt_env: dict[str, str]) -> None:
    target = dbt_env["_BASE"] + "/target_local"
    done = dbt(["parse", "--target-path", target], dbt_env)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads(Path(f"{target}/manifest.json").read_text())
    nodes = [n for n in manifest["nodes"].values() if n["package_name"] == "oaken"]
    models = {n["name"]: n for n in nodes if n["resource_type"] in ("model", "snapshot")}
    assert set(models) >= MARTS
    assert models["fct_sales"]["config"]["materialized"] == "incremental"
    undocumented = [name for name, node in models.items() if not node["description"]]
    assert undocumented == []
    tested = {n["attached_node"] for n in nodes if n["resource_type"] == "test"
              if n.get("attached_node")}
    ours = [name for name, node in models.items() if node["path"].startswith(
        ("staging/", "intermediate/", "marts/")) and "/dashboard/" not in node["path"]
        and node["resource_type"] == "model"]
    for name in ours:
        node = models[name]
        assert node["columns"], f"{name} has no documented columns"
        assert all(c["description"] for c in node["columns"].values()), name
        assert node["unique_id"] in tested, f"{name} has no tests"
    singular = [n["name"] for n in nodes if n["resource_type"] == "test"
                and n["name"].startswith("assert_")]
    assert len(singular) >= 4


#: the unit tests in the models' YAML (``unit_tests:``); at least this many must pass
UNIT_TESTS = 8


def create_empty_raw_tables(warehouse: Path) -> None:
    """The raw layer dlt loads, empty: the source database's tables and columns."""
    import duckdb
    from sqlalchemy.dialects import postgresql

    from oaken.db.models import Base

    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema raw")
        for table in Base.metadata.sorted_tables:
            columns = ", ".join(f'"{c.name}" {c.type.compile(dialect=postgresql.dialect())}'
                                for c in table.columns)
            connection.execute(f'create table raw."{table.name}" ({columns})')


def test_dbt_unit_tests_pass_on_duckdb(dbt_env: dict[str, str], tmp_path) -> None:
    """dbt reads the column types of a unit test's inputs (and of `this`) from the
    warehouse, so every model is built empty first (`--empty`) over empty raw tables;
    production builds leave unit tests out (src/oaken/orchestration/dbt.py)."""
    warehouse = tmp_path / "unit.duckdb"
    create_empty_raw_tables(warehouse)
    env = {**dbt_env, "OAKEN_WAREHOUSE_PATH": str(warehouse)}
    target = tmp_path / "target_unit"
    built = dbt(["build", "--empty", "--exclude-resource-type", "unit_test",
                 "--exclude-resource-type", "test", "--target-path", str(target)], env)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
    done = dbt(["test", "--select", "test_type:unit", "--target-path", str(target)], env)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"]: r["status"] for r in results
                if r["unique_id"].startswith("unit_test.")}
    assert set(statuses.values()) == {"pass"}, statuses
    assert len(statuses) >= UNIT_TESTS, sorted(statuses)


def test_dbt_bigquery_target_compiles_offline(dbt_env: dict[str, str], tmp_path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    # a syntactically valid, useless service-account key: the adapter builds a client
    # without calling Google; --no-introspect keeps dbt from querying BigQuery
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keyfile = tmp_path / "offline-key.json"
    keyfile.write_text(json.dumps({
        "type": "service_account", "project_id": "oaken-offline", "private_key_id": "offline",
        "private_key": key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode(),
        "client_email": "offline@oaken-offline.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }))
    env = {**dbt_env, "OAKEN_BQ_METHOD": "service-account", "OAKEN_BQ_KEYFILE": str(keyfile),
           "OAKEN_BQ_PROJECT": "oaken-offline", "OAKEN_BQ_DATASET": "analytics"}
    target = dbt_env["_BASE"] + "/target_bigquery"
    done = dbt(["compile", "--target", "bigquery", "--no-introspect", "--no-populate-cache",
                "--target-path", target], env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    compiled = f"{target}/compiled/oaken/models"
    stg_sales = Path(f"{compiled}/staging/stg_sales.sql").read_text()
    assert "`oaken-offline`.`raw`.`sales`" in stg_sales
    assert "round(cast(sale_dollars as numeric), 2)" in stg_sales
    assert "generate_date_array" in Path(f"{compiled}/marts/dim_date.sql").read_text()
    manifest = json.loads(Path(f"{target}/manifest.json").read_text())
    fct = manifest["nodes"]["model.oaken.fct_sales"]["config"]
    assert fct["partition_by"] == {"field": "sale_date", "data_type": "date",
                                   "granularity": "month"}
    assert fct["cluster_by"] == ["store_id", "item_id"]
    assert fct["incremental_strategy"] == "merge"
    invoices = manifest["nodes"]["model.oaken.int_dashboard__invoices"]["config"]
    assert invoices["enabled"] and invoices["cluster_by"] == ["invoice_id"]
    assert invoices["meta"] == {"merge_touched_keys": "invoice_id"}
