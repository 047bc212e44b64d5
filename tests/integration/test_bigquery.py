"""The analytics half on BigQuery, against the BigQuery emulator over HTTP.

The only stand-in is the warehouse: bqemulator 1.4.0 (``make bqemulator``), started on a
free port by ``start_bigquery_emulator`` and reached the way a user reaches any
BigQuery endpoint, with ``OAKEN_WAREHOUSE=bigquery://test-project/oaken`` and
``OAKEN_BIGQUERY_ENDPOINT`` (no Google credentials: the clients send a placeholder
token). Everything else is real: the database (SQLite and PostgreSQL) is filled by the
streaming pipeline (the embedded broker and the three workers), dlt loads it, dbt-bigquery
builds and tests every model, statsforecast writes the forecasts, Streamlit serves the
dashboard to headless Chromium, and the same database is also built into DuckDB to
compare with, model by model.

The emulator translates BigQuery SQL to DuckDB, so this proves configuration, API calls,
load jobs and MERGE end to end, not BigQuery's exact SQL semantics. Its known gaps
(docs/bigquery.md) stay out of the assertions: NUMERIC values come back padded to nine
places (compared as ``Decimal`` to the cent), a load job's ``output_rows`` is the
table's total (rows moved are read from dlt's own trace), BIGNUMERIC is never used.

One build per engine, made on first use and kept for the module: the first-run tests
come first; the SQLite build then takes new sales (incremental run through the Dagster
job), and retention runs last. PostgreSQL gets the BigQuery run and its reconciliation
with the database; the DuckDB run to compare with, the dashboard, the second runs and
retention are on SQLite only: on 2 shared cores one analytics run costs about a minute.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal
from pathlib import Path

import duckdb
import httpx
import pytest
import sqlglot
from typer.testing import CliRunner

from oaken.analytics.runner import reconcile, run_analytics
from oaken.settings import Settings, get_settings
from oaken.sources.replay import publish
from oaken.warehouse.adapter import Warehouse
from oaken.warehouse.config import warehouse_config
from tests.support.analytics import (
    cli_app,
    database_rows,
    generated,
    money,
    totals_by,
)
from tests.support.bigquery_scans import Large, unrestricted_reads
from tests.support.dashboard import LABELS, assert_no_errors, cards, expected_cards, wait_until_idle
from tests.support.databases import fresh_database
from tests.support.invariants import drained
from tests.support.pipeline import Running, make_settings, wait_until

pytestmark = pytest.mark.slow

SALES = 600
NEW_SALES = 60
PROJECT, DATASET = "test-project", "oaken"
ENGINES = ("sqlite", "postgresql")
#: DuckDB schema → BigQuery dataset (dbt's <schema>_<folder> on both; dlt's raw)
DATASETS = {"raw": "raw", "analytics": DATASET, "analytics_staging": f"{DATASET}_staging",
            "analytics_intermediate": f"{DATASET}_intermediate",
            "analytics_snapshots": f"{DATASET}_snapshots"}


@dataclass
class Build:
    """One database filled by the streaming pipeline, built into DuckDB and BigQuery."""

    kind: str
    url: str
    streaming: Settings  # the database and the broker (topic prefix of this build)
    duck: Settings  # built on SQLite only (the runs are slow on 2 shared cores)
    bq: Settings
    endpoint: str
    cli_output: str

    @property
    def duck_path(self) -> Path:
        return self.duck.home / "warehouse.duckdb"

    def duck_rows(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.duck_path), read_only=True) as connection:
            return connection.execute(sql).fetchall()

    def bq_rows(self, sql: str) -> list[tuple]:
        return Warehouse(warehouse_config(self.bq)).rows(sql)

    def table(self, name: str, dataset: str = DATASET) -> str:
        return f"`{PROJECT}.{dataset}.{name}`"

    def environment(self) -> dict[str, str]:
        return {"OAKEN_HOME": str(self.bq.home), "OAKEN_DATABASE_URL": self.url,
                "OAKEN_WAREHOUSE": self.bq.warehouse, "OAKEN_BIGQUERY_ENDPOINT": self.endpoint,
                "OAKEN_KAFKA_BOOTSTRAP": self.streaming.bootstrap_servers,
                "OAKEN_TOPIC_PREFIX": self.streaming.topic_prefix}


def assert_line_marts_equal(built: Build, rows: list) -> None:
    """``mart_sales_daily_detail`` and ``mart_dashboard_sales`` on the emulator equal
    the database's sale lines ``rows``, to the cent."""
    detail = {(r[0], r[1], r[2]): money(r[3]) for r in built.bq_rows(
        f"select sale_date, store_id, item_id, sale_dollars "
        f"from {built.table('mart_sales_daily_detail')}")}
    assert detail == totals_by(rows, lambda r: (r.sale_date, r.store_id, r.item_id),
                               lambda r: r.sale_dollars)
    lines = {r[0]: money(r[1]) for r in built.bq_rows(
        f"select invoice_line_id, sale_dollars from {built.table('mart_dashboard_sales')}")}
    assert lines == {r.invoice_line_id: money(r.sale_dollars) for r in rows}


def small_marts_recomputed(built: Build) -> dict[str, tuple[str, str]]:
    """mart → (its columns, a query of the same columns over the whole of what it is
    built from): key, count, distinct count, two money sums, a name."""
    staging = DATASETS["analytics_staging"]
    return {
        "mart_dashboard_store_daily": (
            "store_day_id, sale_lines, invoices, sale_dollars, shipping_cost, county",
            "select store_day_id, count(*), count(distinct invoice_id), sum(sale_dollars), "
            "sum(shipping_cost), max(county) from (select *, concat(cast(sale_date as string),"
            " '|', cast(store_id as string)) as store_day_id "
            f"from {built.table('mart_dashboard_sales')}) group by store_day_id"),
        "mart_dashboard_sender_daily": (
            "sender_day_id, sale_lines, 0, sale_dollars, 0, ''",
            "select sender_day_id, count(*), 0, sum(sale_dollars), 0, '' from (select *, "
            "concat(cast(cast(updated_at as date) as string), '|', "
            "coalesce(sent_by, '(not recorded)')) as sender_day_id "
            f"from {built.table('stg_sales', staging)}) group by sender_day_id"),
        "mart_dashboard_ledger": (
            "account_code, postings, 0, debits, credits, ''",
            "select account_code, count(*), 0, sum(debit), sum(credit), '' "
            f"from {built.table('stg_journal_lines', staging)} group by account_code"),
    }


def receivables_recomputed(built: Build) -> dict[str, tuple[str, str]]:
    """mart_receivables and int_receivables__store_days (BigQuery: incremental, aged from
    the store-day table) → (a query of every column, keyed by its first, and the same
    columns computed over the whole of int_receivables__lines, as the DuckDB model does)."""
    intermediate = DATASETS["analytics_intermediate"]
    lines = built.table("int_receivables__lines", intermediate)
    buckets = ", ".join(
        f"sum(case when date_diff(as_of_date, entry_date, day) {condition} then balance "
        f"else 0 end) as bucket_{number}" for number, condition in enumerate(
            ("<= 30", "between 31 and 60", "between 61 and 90", "> 90")))
    return {
        "mart_receivables": (
            "select store_id, store_name, city, county, as_of_date, postings, billed, "
            "collected, balance, balance_0_30_days, balance_31_60_days, balance_61_90_days, "
            f"balance_over_90_days, oldest_open_date, last_posting_date "
            f"from {built.table('mart_receivables')}",
            "select per_store.store_id, dim_store.store_name, dim_store.city, dim_store.county,"
            " as_of_date, postings, billed, collected, balance, bucket_0, bucket_1, bucket_2,"
            " bucket_3, oldest_open_date, last_posting_date from ("
            "select store_id, max(as_of_date) as as_of_date, count(*) as postings, "
            "sum(debit) as billed, sum(credit) as collected, sum(balance) as balance, "
            f"{buckets}, min(case when balance > 0 then entry_date end) as oldest_open_date, "
            "max(entry_date) as last_posting_date "
            "from (select coalesce(store_id, -1) as store_id, debit, credit, balance, "
            f"entry_date from {lines}) as receivable_lines cross join "
            f"(select max(entry_date) as as_of_date from {lines}) as as_of group by store_id"
            f") as per_store left join {built.table('dim_store')} as dim_store "
            "on per_store.store_id = dim_store.store_id"),
        "int_receivables__store_days": (
            "select store_day_id, store_id, entry_date, postings, billed, collected, balance, "
            f"open_postings from {built.table('int_receivables__store_days', intermediate)} "
            "where postings > 0",
            "select concat(cast(entry_date as string), '|', cast(store_id as string)), "
            "store_id, entry_date, count(*), sum(debit), sum(credit), sum(balance), "
            "sum(case when balance > 0 then 1 else 0 end) from (select coalesce(store_id, -1)"
            f" as store_id, entry_date, debit, credit, balance from {lines}) "
            "group by store_id, entry_date"),
    }


def exact_rows(built: Build, query: str) -> dict:
    """Rows keyed by their first column; NUMERIC values to the cent (the emulator pads
    them to nine places), everything else as returned."""
    return {row[0]: tuple(money(v) if isinstance(v, Decimal) else v for v in row[1:])
            for row in built.bq_rows(query)}


def keyed_rows(built: Build, query: str) -> dict:
    return {r[0]: (r[1], r[2], money(r[3] or 0), money(r[4] or 0), r[5])
            for r in built.bq_rows(query)}


def stream(settings: Settings, records: list[dict], expected_sales: int) -> None:
    """Publish sales to ``sales.raw`` and let the three workers record them."""
    publish(settings, records)
    running = Running(settings)
    try:
        running.start("orders", "shipping", "accounting")
        wait_until(lambda: drained(running.engine, expected_sales), timeout=180)
    finally:
        running.stop()


@pytest.fixture(scope="module")
def builds(tmp_path_factory, server_status, broker,
           start_bigquery_emulator) -> Iterator[Callable[[str], Build]]:
    environ = dict(os.environ)  # the dlt load sets Google's BIGQUERY_EMULATOR_HOST
    cache: dict[str, Build] = {}
    with ExitStack() as stack:

        def build(kind: str) -> Build:
            if kind in cache:
                return cache[kind]
            base = tmp_path_factory.mktemp(f"bigquery_{kind}")
            database = fresh_database(kind, base, server_status)
            url = next(database)
            stack.callback(database.close)  # drops the server database
            from oaken.db.migrate import migrate

            migrate(url)
            streaming = make_settings(url, broker, base / "stream")
            stream(streaming, generated(SALES, seed=21), SALES)
            endpoint = start_bigquery_emulator()

            duck_home = base / "duckdb"
            duck = Settings(home=duck_home, database_url=url,
                            warehouse=f"duckdb:///{duck_home / 'warehouse.duckdb'}")
            if kind == "sqlite":  # the DuckDB run to compare with, model by model
                run_analytics(duck)

            bq_home = base / "bigquery"
            with pytest.MonkeyPatch.context() as patch:
                for name, value in {
                    "OAKEN_HOME": str(bq_home), "OAKEN_DATABASE_URL": url,
                    "OAKEN_WAREHOUSE": f"bigquery://{PROJECT}/{DATASET}",
                    "OAKEN_BIGQUERY_ENDPOINT": endpoint,
                    # exact counts of rows moved: no re-read window
                    "OAKEN_ANALYTICS_CURSOR_LAG_SECONDS": "0",
                }.items():
                    patch.setenv(name, value)
                patch.delenv("OAKEN_AIRBYTE_URL", raising=False)
                patch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
                get_settings.cache_clear()
                result = CliRunner().invoke(cli_app(), ["analytics"])
                bq = get_settings()
            get_settings.cache_clear()
            assert result.exit_code == 0, result.output
            cache[kind] = Build(kind, url, streaming, duck, bq, endpoint, result.output)
            return cache[kind]

        yield build
    get_settings.cache_clear()
    os.environ.clear()
    os.environ.update(environ)


@pytest.fixture(params=ENGINES)
def built(request, builds) -> Build:
    return builds(request.param)


# --- first run: `oaken analytics` on the emulator --------------------------------------


def test_oaken_analytics_on_bigquery_emulator_reconciles_to_the_cent(built: Build) -> None:
    assert "reconciled" in built.cli_output, built.cli_output
    assert "bigquery://test-project/oaken" in built.cli_output
    check = reconcile(built.bq)
    assert check["matches"], check["differences"]
    assert check["database"]["sales"] == SALES
    assert check["warehouse"]["shipments"] == SALES
    assert check["warehouse"]["receivable_debits"] == check["database"]["sale_dollars"]

    # dbt build: every model built and every test passed on the BigQuery target
    import json

    results = json.loads((built.bq.home / "dbt" / "last_run_results.json").read_text())
    statuses = {r["unique_id"]: r["status"] for r in results["results"]}
    assert set(statuses.values()) <= {"success", "pass"}, statuses
    assert sum(1 for key in statuses if key.startswith("test.")) > 100
    assert all(r["adapter_response"].get("_message") for r in results["results"]
               if r["unique_id"].startswith("model."))

    # the marts against the database, to the cent
    rows = database_rows(built.url)
    assert len(rows) == SALES
    daily = {r[0]: money(r[1]) for r in built.bq_rows(
        f"select sale_date, sale_dollars from {built.table('mart_sales_daily')} "
        "where sale_lines > 0")}
    assert daily == totals_by(rows, lambda r: r.sale_date, lambda r: r.sale_dollars)
    items = {r[0]: money(r[1]) for r in built.bq_rows(
        f"select item_id, sale_dollars from {built.table('mart_top_items')}")}
    assert items == totals_by(rows, lambda r: r.item_id, lambda r: r.sale_dollars)
    detail = {(r[0], r[1], r[2]): money(r[3]) for r in built.bq_rows(
        f"select sale_date, store_id, item_id, sale_dollars "
        f"from {built.table('mart_sales_daily_detail')}")}
    assert detail == totals_by(rows, lambda r: (r.sale_date, r.store_id, r.item_id),
                               lambda r: r.sale_dollars)
    shipping = {r[0]: money(r[1]) for r in built.bq_rows(
        f"select month_start_date, shipping_cost "
        f"from {built.table('mart_shipping_performance')}")}
    assert shipping == totals_by(rows, lambda r: r.sale_date.replace(day=1),
                                 lambda r: r.shipping_cost)


def test_bigquery_emulator_models_equal_duckdb_model_by_model(
    builds: Callable[[str], Build],
) -> None:
    """Every table and view dlt and dbt made, both warehouses, from the same database:
    row counts and the sum of every money (DECIMAL/NUMERIC) column, to the cent."""
    built = builds("sqlite")
    columns = built.duck_rows(
        "select table_schema, table_name, column_name, data_type "
        "from information_schema.columns where table_schema in "
        f"({', '.join(repr(schema) for schema in DATASETS)}) "
        "and table_name not like '_dlt%' order by table_schema, table_name, ordinal_position")
    models: dict[tuple[str, str], list[str]] = {}
    for schema, table, column, data_type in columns:
        money_columns = models.setdefault((schema, table), [])
        if data_type.upper().startswith("DECIMAL") and column != "_dlt_id":
            money_columns.append(column)
    assert len([key for key in models if key[0] == "analytics"]) >= 20
    assert len([key for key in models if key[0] == "raw"]) == 11

    compared = []
    for (schema, table), money_columns in models.items():
        sums = "".join(f", coalesce(sum({column}), 0)" for column in money_columns)
        [duck] = built.duck_rows(f'select count(*){sums} from "{schema}"."{table}"')
        [bq] = built.bq_rows(f"select count(*){sums} from "
                             f"{built.table(table, DATASETS[schema])}")
        duck_values = [duck[0], *(money(value) for value in duck[1:])]
        bq_values = [bq[0], *(money(value) for value in bq[1:])]
        assert bq_values == duck_values, (schema, table, ["count", *money_columns])
        compared.append((table, duck_values[0]))
    counts = dict(compared)
    assert counts["fct_sales"] == counts["sales"] == SALES
    assert counts["forecast_sales_daily"] > 0 and counts["forecast_backtest"] > 0


def test_bigquery_layout_partitioning_clustering_and_location_on_emulator(
    builds: Callable[[str], Build],
) -> None:
    """What docs/bigquery.md promises about the tables, as the BigQuery API reports it."""
    from oaken.warehouse import bigquery

    built = builds("sqlite")
    client = bigquery.client(warehouse_config(built.bq))
    fct = client.get_table(f"{PROJECT}.{DATASET}.fct_sales")
    assert {field.name: field.field_type for field in fct.schema}["sale_dollars"] in (
        "NUMERIC", "DECIMAL")
    # partitioning and clustering: bqemulator accepts the DDL but does not report them
    # in the table's metadata (time_partitioning is None), so check what dbt sent it
    executed = sorted((built.bq.home / "dbt" / "target").rglob(
        "run/oaken/models/marts/fct_sales.sql"), key=lambda path: path.stat().st_mtime)
    assert executed, "dbt kept no executed SQL of fct_sales"
    ddl = " ".join(executed[-1].read_text().lower().split())
    assert "partition by date_trunc(sale_date, month)" in ddl, ddl[:500]
    assert "cluster by store_id, item_id" in ddl, ddl[:500]
    # the invoice table mart_dashboard_meta counts on: clustered by its key, which a
    # micro-batch reads and merges by constants (not partitioned)
    executed = sorted((built.bq.home / "dbt" / "target").rglob(
        "run/oaken/models/intermediate/int_dashboard__invoices.sql"),
        key=lambda path: path.stat().st_mtime)
    assert executed, "dbt kept no executed SQL of int_dashboard__invoices"
    ddl = " ".join(executed[0].read_text().lower().split())
    assert "cluster by invoice_id" in ddl and "partition by" not in ddl, ddl[:500]
    for dataset in ("raw", DATASET, f"{DATASET}_staging"):
        assert client.get_dataset(f"{PROJECT}.{dataset}").location == "US"
    forecast = client.get_table(f"{PROJECT}.{DATASET}.forecast_sales_daily")
    assert {field.name: field.field_type for field in forecast.schema}["forecast_date"] == "DATE"


# --- the dashboard over the BigQuery marts, in Chromium --------------------------------


def serve_dashboard(environment: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    from tests.bqemulator.emulator import free_port

    port = free_port()
    env = {**os.environ, **environment, "OAKEN_DASHBOARD_PORT": str(port)}
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "oaken", "dashboard"], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log_path.read_text()[-2000:]
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                return process, url
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, log_path.read_text()[-2000:]
        time.sleep(0.25)


def scorecards_in_chromium(browser, environment: dict[str, str], tmp_path: Path,
                           name: str) -> dict[str, str]:
    process, url = serve_dashboard(environment, tmp_path / f"{name}.log")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(url)
        wait_until_idle(page)
        assert_no_errors(page)
        shown = cards(page)
        page.get_by_role("tab", name="Operations").click()
        page.get_by_text("The warehouse ledger balances").wait_for(timeout=60_000)
        wait_until_idle(page)
        assert_no_errors(page)
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        return shown
    finally:
        page.close()
        process.terminate()
        process.wait(timeout=15)


def test_dashboard_on_bigquery_emulator_shows_the_duckdb_scorecards(
    builds: Callable[[str], Build], browser, tmp_path: Path,
) -> None:
    from tests.support.dashboard import default_filters

    built = builds("sqlite")
    on_bigquery = scorecards_in_chromium(browser, built.environment(), tmp_path, "bigquery")
    on_duckdb = scorecards_in_chromium(
        browser, {**built.environment(), "OAKEN_HOME": str(built.duck.home),
                  "OAKEN_WAREHOUSE": built.duck.warehouse}, tmp_path, "duckdb")
    assert set(on_bigquery) == set(LABELS)
    assert on_bigquery == on_duckdb
    assert on_bigquery == expected_cards(built.duck_path, default_filters(built.duck_path))


# --- second runs: new sales through the Dagster job; then nothing new -------------------


def test_dagster_job_on_bigquery_emulator_moves_only_new_sales(
    builds: Callable[[str], Build],
) -> None:
    import dagster as dg
    import dlt

    from oaken.el.pipeline import PIPELINE_NAME, TABLE_NAMES, dlt_dir, rows_moved, run_el
    from oaken.orchestration.build import JOB_NAME, build_definitions

    built = builds("sqlite")
    raw_before = {name: built.bq_rows(f"select count(*) from {built.table(name, 'raw')}")[0][0]
                  for name in TABLE_NAMES}
    new = generated(NEW_SALES, seed=22, start=date(2026, 11, 2), end=date(2026, 11, 12),
                    prefix="N")
    stream(built.streaming, new, SALES + NEW_SALES)

    defs = build_definitions(built.bq)
    job = defs.resolve_job_def(JOB_NAME)
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    materialized = {event.asset_key.to_user_string()
                    for event in result.get_asset_materialization_events()
                    if event.asset_key is not None}
    assert {"raw/sales", "raw/journal_lines", "fct_sales", "mart_sales_daily",
            "forecast_sales_daily"} <= materialized
    checks = list(result.get_asset_check_evaluations())
    assert len(checks) > 100 and all(check.passed for check in checks)

    moved = rows_moved(dlt.attach(PIPELINE_NAME,
                                  pipelines_dir=str(dlt_dir(built.bq) / "pipelines")))
    assert moved["sales"] == moved["shipments"] == NEW_SALES
    assert moved["journal_entries"] == 2 * NEW_SALES
    assert moved["journal_lines"] == 6 * NEW_SALES
    assert moved["positions"] == moved["accounts"] == 0
    raw_after = {name: built.bq_rows(f"select count(*) from {built.table(name, 'raw')}")[0][0]
                 for name in TABLE_NAMES}
    assert raw_after["sales"] == raw_before["sales"] + NEW_SALES
    assert raw_after["journal_lines"] == raw_before["journal_lines"] + 6 * NEW_SALES

    # the incremental marts hold every line, to the cent
    check = reconcile(built.bq)
    assert check["matches"], check["differences"]
    assert check["warehouse"]["sales"] == SALES + NEW_SALES
    rows = database_rows(built.url)
    assert_line_marts_equal(built, rows)

    # nothing new: nothing moves, nothing changes in raw
    assert run_el(built.bq).total == 0
    assert {name: built.bq_rows(f"select count(*) from {built.table(name, 'raw')}")[0][0]
            for name in TABLE_NAMES} == raw_after



# --- live mode: one micro-batch on the emulator ----------------------------------------

LIVE_SALES = 40


def merged_partitions(home: Path, model: str, column: str = "sale_date") -> str:
    """The partition condition of the MERGE dbt ran for ``model`` in the last micro-batch."""
    [executed] = (home / "dbt" / "target" / "live" / "run").rglob(f"{model}.sql")
    statement = " ".join(executed.read_text().split())
    assert statement.lower().count("merge into") == 1, statement[:500]
    found = re.search(rf"date_trunc\(DBT_INTERNAL_DEST\.{column}, month\) in \(([^)]*)\)",
                      statement)
    assert found, f"{model}: the MERGE reads every partition: {statement[:800]}"
    return found.group(1)


def raw_cursor_filters(home: Path, model: str) -> list[str]:
    """The TIMESTAMP literals the last micro-batch's ``model`` compared ``updated_at`` with,
    in its compiled SQL (what dbt-bigquery wrote to the temporary table the MERGE reads)."""
    [executed] = (home / "dbt" / "target" / "live" / "compiled").rglob(f"{model}.sql")
    statement = " ".join(executed.read_text().split())
    return re.findall(r"updated_at > timestamp '([0-9: .-]+) UTC'", statement)


def raw_table_ddl(built: Build) -> dict[str, str]:
    """The CREATE TABLE dlt sent for each table of ``raw``, from the emulator's job list
    (bqemulator does not report a partition by DATE(column) in the table's metadata)."""
    from oaken.warehouse import bigquery

    client = bigquery.client(warehouse_config(built.bq))
    created: dict[str, str] = {}
    for job in client.list_jobs(project=PROJECT, max_results=100_000):
        query = " ".join((getattr(job, "query", None) or "").split())
        # dlt sends the DDL of a schema update as one script, a statement a table
        for statement in re.split(r"(?i)(?=create table )", query):
            found = re.match(r"create table `?[\w-]+`?\.`?raw`?\.`?(\w+)`? ", statement,
                             re.IGNORECASE)
            if found:
                created[found.group(1)] = statement
    return created


def test_raw_tables_on_bigquery_are_partitioned_by_day_of_updated_at(
    builds: Callable[[str], Build],
) -> None:
    """dlt creates the large raw tables PARTITION BY DATE(updated_at); the small ones
    unpartitioned."""
    from oaken.el.pipeline import PARTITIONED

    ddl = raw_table_ddl(builds("sqlite"))
    assert set(PARTITIONED) | {"stores", "products"} <= set(ddl), sorted(ddl)
    for table, statement in ddl.items():
        partitioned = "partition by date(`updated_at`)" in statement.lower()
        assert partitioned == (table in PARTITIONED), (table, statement[-300:])
    # a TIMESTAMP column: the staging views' cast to TIMESTAMP leaves the filter on it
    for table in PARTITIONED:
        assert re.search(r"`updated_at` TIMESTAMP\b", ddl[table]), ddl[table][:600]


def test_live_micro_batch_on_bigquery_emulator_is_exact_and_merges_touched_partitions(
    builds: Callable[[str], Build],
) -> None:
    """New sales, in an old month and recent ones, and a sale that renames a store (name
    and county), its item, category and vendor, then one micro-batch (what
    `oaken analytics --live` runs every interval): the marts equal the database to the
    cent and hold the new names on every line of the renamed keys, each incremental
    MERGE names exactly the months of the new lines (and of the renamed keys' lines in
    the line marts), and the run's bytes billed are recorded in the live state."""
    import json

    from oaken.analytics.live import LiveState, bytes_billed, run_once, summary

    built = builds("sqlite")
    before = {row.invoice_line_id for row in database_rows(built.url)}
    late = generated(LIVE_SALES // 2, seed=23, start=date(2025, 3, 3), end=date(2025, 3, 20),
                     prefix="L")
    recent = generated(LIVE_SALES // 2, seed=24, start=date(2026, 11, 20),
                       end=date(2026, 12, 5), prefix="M")
    # a split invoice: one new line on an invoice of the first run, another day (the
    # generator draws each invoice on one store and day), its held bounds to widen
    split_invoice = re.match(r"^(.+?)\d{5}$", min(before)).group(1)
    recent[0]["Invoice"] = split_invoice + "99999"
    # a store renamed into another county, and its item, category and vendor renamed,
    # since the build: the line marts must rewrite the lines of those keys in every
    # month, not only the months of the new lines
    # (keys the cost-guard test's micro-batch does not sell: its sales, which carry the
    # catalogue's names, would rename them back)
    later = {(key, record[key]) for record in cost_guard_sales()
             for key in ("StoreNumber", "ItemNumber", "Category", "VendorNumber")}
    template = next(record for record in generated(SALES, seed=21) if not any(
        (key, record[key]) in later
        for key in ("StoreNumber", "ItemNumber", "Category", "VendorNumber")))
    renamed = {**template, "Invoice": "RENAME-L1", "Date": "2026-11-21",
               "StoreName": "Oaken Renamed Store", "County": "OAKEN TEST COUNTY",
               "ItemDescription": "OAKEN RENAMED ITEM", "CategoryName": "OAKEN RENAMED CATEGORY",
               "VendorName": "OAKEN RENAMED VENDOR"}
    store, item = int(template["StoreNumber"]), int(template["ItemNumber"])
    category, vendor = int(template["Category"]), int(template["VendorNumber"])
    detail, dashboard = built.table("mart_sales_daily_detail"), built.table("mart_dashboard_sales")
    [(old_months,)] = built.bq_rows(
        f"select count(distinct date_trunc(sale_date, month)) from {detail} "
        f"where store_id = {store} and sale_date < date '2025-03-01'")
    assert old_months >= 1  # lines the micro-batch's months do not hold
    stream(built.streaming, late + recent + [renamed], len(before) + LIVE_SALES + 1)

    # the cursors the micro-batch must filter raw with (the cursor lag is 0 here)
    [cursors] = built.bq_rows(f"select max(sale_updated_at), max(shipment_updated_at) "
                              f"from {built.table('fct_sales')}")
    receivables = built.table("int_receivables__lines", DATASETS["analytics_intermediate"])
    [(receivables_cursor,)] = built.bq_rows(f"select max(updated_at) from {receivables}")

    state = LiveState()
    run_once(built.bq, state, heavy=False, defs=None)
    assert state.failed_runs == 0 and not state.last_error, state.last_error
    assert state.last_kind == "micro-batch" and set(state.last_timings) == {
        "extract_load", "dbt_build", "publish"}

    rows = database_rows(built.url)
    new = [row for row in rows if row.invoice_line_id not in before]
    assert len(new) == LIVE_SALES + 1
    check = reconcile(built.bq)
    assert check["matches"], check["differences"]
    assert check["warehouse"]["sales"] == len(rows)
    lines = {r[0]: (money(r[1]), r[2]) for r in built.bq_rows(
        f"select invoice_line_id, sale_dollars, is_shipped from {built.table('fct_sales')}")}
    assert lines == {r.invoice_line_id: (money(r.sale_dollars), r.ship_date is not None)
                     for r in rows}
    assert_line_marts_equal(built, rows)
    # the ledger marts the dashboard's reconciliation reads
    [(debits, credits)] = built.bq_rows(
        f"select sum(debits), sum(credits) from {built.table('mart_dashboard_ledger')}")
    assert (money(debits), money(credits)) == (check["database"]["ledger_debits"],
                                               check["database"]["ledger_credits"])
    [(billed,)] = built.bq_rows(f"select sum(billed) from {built.table('mart_receivables')}")
    assert money(billed) == check["database"]["receivable_debits"]
    # mart_dashboard_meta (from the store-day mart, the invoice table and the cursor
    # table on BigQuery) equals its whole recomputation over the sale lines, and the
    # invoice table the bounds of every invoice's lines
    sales = built.table("mart_dashboard_sales")
    bounds = {r[0]: tuple(r[1:]) for r in built.bq_rows(
        f"select invoice_id, min(sale_date), max(sale_date), min(store_id), max(store_id), "
        f"min(sale_date) <> max(sale_date) or min(store_id) <> max(store_id) "
        f"from {sales} group by invoice_id")}
    invoices = built.table("int_dashboard__invoices", DATASETS["analytics_intermediate"])
    assert {r[0]: tuple(r[1:]) for r in built.bq_rows(
        f"select invoice_id, first_sale_date, last_sale_date, min_store_id, max_store_id, "
        f"is_split from {invoices}")} == bounds
    assert bounds[split_invoice][-1] is True
    [(first, last, sale_lines, dollars, through)] = built.bq_rows(
        f"select min(sale_date), max(sale_date), count(*), sum(sale_dollars), "
        f"max(sale_updated_at) from {sales}")
    [meta] = built.bq_rows(
        f"select first_sale_date, last_sale_date, sale_lines, sale_dollars, invoices, "
        f"split_invoices, data_through from {built.table('mart_dashboard_meta')}")
    split = sum(1 for bound in bounds.values() if bound[-1])
    assert (*meta[:3], money(meta[3]), *meta[4:]) == (
        first, last, sale_lines, money(dollars), len(bounds), split, through)
    assert sale_lines == len(rows) and split >= 1
    assert money(dollars) == sum((money(r.sale_dollars) for r in rows), Decimal(0))

    # the small marts merged by months or days equal their whole recomputation
    for mart, (columns, whole) in small_marts_recomputed(built).items():
        assert keyed_rows(built, f"select {columns} from {built.table(mart)}") == keyed_rows(
            built, whole), mart
    # ... and so do the receivables, every column of every store, to the cent (the mart
    # is aged from the store-day table on BigQuery; here against the journal lines)
    for model, (built_rows, whole) in receivables_recomputed(built).items():
        incremental = exact_rows(built, built_rows)
        assert incremental and incremental == exact_rows(built, whole), model
    # the renamed keys: every line of them, in every month, holds the new names
    assert built.bq_rows(
        f"select distinct store_name, county from {detail} where store_id = {store}") == [
        ("Oaken Renamed Store", "OAKEN TEST COUNTY")]
    for key, value, column, name in (
            ("item_id", item, "item_description", "OAKEN RENAMED ITEM"),
            ("category_id", category, "category_name", "OAKEN RENAMED CATEGORY"),
            ("vendor_id", vendor, "vendor_name", "OAKEN RENAMED VENDOR")):
        assert built.bq_rows(f"select distinct {column} from {detail} "
                             f"where {key} = {value}") == [(name,)], key
    for mart in (dashboard, built.table("mart_dashboard_store_daily")):
        assert built.bq_rows(f"select distinct county from {mart} "
                             f"where store_id = {store}") == [("OAKEN TEST COUNTY",)], mart
    # ... and every line of every key holds the names of the dimensions now
    dims = {name: built.table(name) for name in ("dim_store", "dim_product", "dim_category",
                                                 "dim_vendor")}
    [(stale_detail,)] = built.bq_rows(
        f"select count(*) from {detail} as d "
        f"left join {dims['dim_store']} as s on d.store_id = s.store_id "
        f"left join {dims['dim_product']} as p on d.item_id = p.item_id "
        f"left join {dims['dim_category']} as c on d.category_id = c.category_id "
        f"left join {dims['dim_vendor']} as v on d.vendor_id = v.vendor_id "
        "where d.store_name is distinct from s.store_name or d.city is distinct from s.city "
        "or d.county is distinct from s.county "
        "or d.county_number is distinct from s.county_number "
        "or d.item_description is distinct from p.item_description "
        "or d.category_name is distinct from c.category_name "
        "or d.vendor_name is distinct from v.vendor_name")
    [(stale_lines,)] = built.bq_rows(
        f"select count(*) from {dashboard} as d left join {dims['dim_store']} as s "
        "on d.store_id = s.store_id where d.county <> coalesce(s.county, 'Unknown')")
    assert (stale_detail, stale_lines) == (0, 0)

    # the cost guard: each MERGE reads only the partitions of the rows it merges: the
    # months of the new lines, and in the line marts those of every line of the renamed
    # keys (rewritten in any month)
    def month_list(months: set) -> str:
        return ", ".join(f"date '{month.isoformat()}'" for month in sorted(months))

    def months_of(mart: str, where: str) -> set:
        return {date.fromisoformat(r[0][:10]) for r in built.bq_rows(
            f"select distinct cast(date_trunc(sale_date, month) as string) from {mart} "
            f"where {where}")}

    new_months = {row.sale_date.replace(day=1) for row in new}
    months = month_list(new_months)
    assert months.count("date") >= 2 and "date '2025-03-01'" in months
    assert merged_partitions(built.bq.home, "fct_sales") == months
    renamed_detail = months_of(detail, f"store_id = {store} or item_id = {item} "
                                       f"or category_id = {category} or vendor_id = {vendor}")
    renamed_lines = months_of(dashboard, f"store_id = {store}")
    assert renamed_lines - new_months and renamed_detail >= renamed_lines
    assert merged_partitions(built.bq.home, "mart_sales_daily_detail") == month_list(
        new_months | renamed_detail)
    assert merged_partitions(built.bq.home, "mart_dashboard_sales") == month_list(
        new_months | renamed_lines)
    # the receivables merge the months of the entry dates of the journal lines changed
    # in the batch (the sale entries of the late sales among them)
    since = receivables_cursor.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    entry_months = ", ".join(sorted({f"date '{day.isoformat()[:8]}01'" for (day,) in
                                     built.bq_rows(f"select distinct entry_date from "
                                                   f"{receivables} where updated_at > "
                                                   f"timestamp '{since} UTC'")}))
    assert "date '2025-03-01'" in entry_months
    for model in ("int_receivables__lines", "int_receivables__store_days"):
        assert merged_partitions(built.bq.home, model, "entry_date") == entry_months, model

    # ... and the filters on raw compare updated_at with constants (what BigQuery prunes
    # raw's day partitions on), equal to the cursors the models held before the batch
    def literal(value) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    # (each cursor is compared more than once: the changed rows, then the recent rows
    # they are joined with)
    assert set(raw_cursor_filters(built.bq.home, "fct_sales")) == {literal(c) for c in cursors}
    assert set(raw_cursor_filters(built.bq.home, "int_receivables__lines")) == {
        literal(receivables_cursor)}

    # bytes billed: what the micro-batch's dbt jobs report, in the state `oaken status`
    # and /metrics read. bqemulator answers every job with bytes processed 0 and no
    # bytes billed, so here the figure is None, as on DuckDB; the sum itself is
    # unit-tested (tests/unit/test_live_bytes_billed.py) on dbt-bigquery's responses.
    results = json.loads(
        (built.bq.home / "dbt" / "target" / "live" / "run_results.json").read_text())
    jobs = [r["adapter_response"] for r in results["results"]
            if r["unique_id"].startswith("model.")]
    assert jobs and all(job.get("job_id") and "bytes_processed" in job for job in jobs)
    assert state.last_bytes_billed == bytes_billed(results)
    assert summary(built.bq)["last_run"]["bytes_billed"] == state.last_bytes_billed

    # dlt's merge into raw deletes old copies only from its cursor's day on
    # (oaken.el.pipeline.scope_merges): a micro-batch with three hours of cursor lag
    # loads every row of this module's build again, and raw must hold each key once
    relagged = built.bq.model_copy(update={"analytics_cursor_lag_seconds": 10800.0})
    run_once(relagged, state, heavy=False, defs=None)
    assert state.failed_runs == 0 and not state.last_error, state.last_error
    [(staged,)] = built.bq_rows(f"select count(*) from {built.table('sales', 'raw_staging')}")
    counts = database_counts(built.url)
    assert staged == counts["sales"]  # every sale loaded again, its old copy deleted
    keys = {"sales": "invoice_line_id", "shipments": "invoice_line_id",
            "journal_entries": "entry_id", "journal_lines": "entry_id, account_code"}
    for table, key in keys.items():
        [(total, distinct)] = built.bq_rows(
            f"select count(*), count(distinct to_json_string(struct({key}))) "
            f"from {built.table(table, 'raw')}")
        assert (total, distinct) == (counts[table], counts[table]), table
    assert reconcile(built.bq)["matches"]

def database_counts(url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from oaken.db import models
    from oaken.db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {name: connection.execute(
                select(func.count()).select_from(getattr(models, name))).scalar_one()
                for name in ("sales", "shipments", "journal_entries", "journal_lines")}
    finally:
        engine.dispose()


#: the tables that grow with the sales, and the views that pass a filter on their
#: partition column down to them (the staging views keep raw's `updated_at`);
#: int_sales__shipped is a left join of two of them, so a filter prunes only one side
#: and it is never listed: reading it counts as reading whole tables.
LARGE_TABLES = [
    *(Large("raw", name, "updated_at")
      for name in ("sales", "shipments", "journal_entries", "journal_lines")),
    *(Large(f"{DATASET}_staging", f"stg_{name}", "updated_at")
      for name in ("sales", "shipments", "journal_entries", "journal_lines")),
    Large(f"{DATASET}_intermediate", "int_sales__shipped", "not a partition column"),
    # not partitioned: clustered by invoice_id, which BigQuery prunes blocks on likewise
    Large(f"{DATASET}_intermediate", "int_dashboard__invoices", "invoice_id"),
    *(Large(DATASET, name, "sale_date")
      for name in ("fct_sales", "mart_sales_daily_detail", "mart_dashboard_sales",
                   "mart_dashboard_store_daily")),
    # a row per receivable journal line (two per sale: billed, collected)
    Large(f"{DATASET}_intermediate", "int_receivables__lines", "entry_date"),
    # a row per store and day with postings: grows with the days the stores buy, not
    # with the lines, but without bound (like the sales): only mart_receivables may
    # read it whole (STILL_WHOLE)
    Large(f"{DATASET}_intermediate", "int_receivables__store_days", "entry_date"),
]


#: (dbt node, or "oaken" for the loop's own queries; large table) → why that read is
#: still whole. Every other read of a large table in a micro-batch must be restricted
#: by constants (docs/bigquery.md, "What a micro-batch still reads whole").
STILL_WHOLE = {
    ("model.oaken.mart_receivables", "oaken_intermediate.int_receivables__store_days"):
        "a row per store and day, aged against the newest entry date (every bucket can "
        "move when it does): small, read whole",
    ("model.oaken.mart_dashboard_meta", "oaken_intermediate.int_dashboard__invoices"):
        "count(*) (no column read) and countif(is_split): one BOOL column, a row per invoice",
    ("model.oaken.mart_dashboard_meta", "oaken.mart_dashboard_store_daily"):
        "the totals of the meta row: a row per store and day, small, read whole",
}


def cost_guard_sales() -> list[dict]:
    """The sales of the cost guard's micro-batch: an old month and recent days."""
    return (generated(5, seed=31, start=date(2025, 6, 2), end=date(2025, 6, 9), prefix="P")
            + generated(5, seed=32, start=date(2026, 11, 20), end=date(2026, 12, 5),
                        prefix="Q"))


def still_whole(node: str, table: str) -> bool:
    return (node, table) in STILL_WHOLE


def test_live_micro_batch_sql_on_bigquery_restricts_every_large_table_by_constant_partitions(
    builds: Callable[[str], Build],
) -> None:
    """Every query a micro-batch sends reads the large tables (raw sales, shipments and
    journal, fct_sales and the partitioned marts, and the views over them) only through
    a constant predicate on their partition column, the only kind BigQuery prunes on
    (on its clustering column invoice_id for int_dashboard__invoices, a row per invoice),
    except the reads listed in STILL_WHOLE. This checks the SQL
    sent to the emulator (its job list), not bytes billed: bqemulator neither prunes
    nor reports bytes. dlt's own merge into `raw` (its statements read `raw_staging`) is
    checked too: its delete reads only the partitions from its cursor's day on."""
    from oaken.analytics.live import LiveState, run_once
    from oaken.warehouse import bigquery

    built = builds("sqlite")
    before = len(database_rows(built.url))
    new = cost_guard_sales()
    stream(built.streaming, new, before + len(new))

    client = bigquery.client(warehouse_config(built.bq))
    seen = {job.job_id for job in client.list_jobs(project=PROJECT, max_results=100_000)}
    state = LiveState()
    run_once(built.bq, state, heavy=False, defs=None)
    assert state.failed_runs == 0 and not state.last_error, state.last_error

    names = {t.name for t in LARGE_TABLES}
    checked, whole, loop_queries, dlt_deletes = set(), [], [], []
    for job in client.list_jobs(project=PROJECT, max_results=100_000):
        query = getattr(job, "query", None) or ""
        if job.job_id in seen or not query:
            continue
        flat = " ".join(query.replace("`", "").split())
        from_dlt = "raw_staging" in flat  # dlt's merge of what it loaded into raw
        if from_dlt and flat.upper().startswith("DELETE FROM"):
            dlt_deletes.append(flat)
        if '"node_id"' not in flat and not from_dlt:
            loop_queries.append(flat)
        if not any(name in flat for name in names):
            continue
        found = re.search(r'"node_id": "([^"]+)"', flat)
        node = (re.sub(r"\.[0-9a-f]{10}$", "", found.group(1)) if found
                else "dlt" if from_dlt else "oaken")
        checked.add(node)
        try:
            unrestricted = unrestricted_reads(query, LARGE_TABLES)
        except sqlglot.errors.ParseError as problem:
            unrestricted = [f"not parsed ({str(problem)[:200]})"]
        whole += [f"{node} reads {table} whole: {flat[:3000]}" for table in unrestricted
                  if not still_whole(node, table)]
    # the micro-batch did read the large tables: the incremental models
    assert {"model.oaken.fct_sales", "model.oaken.mart_sales_daily_detail",
            "model.oaken.mart_dashboard_sales", "model.oaken.int_receivables__lines",
            "model.oaken.mart_dashboard_store_daily", "model.oaken.mart_dashboard_sender_daily",
            "model.oaken.int_ledger__account_days", "model.oaken.int_receivables__store_days",
            "model.oaken.mart_receivables", "model.oaken.int_dashboard__invoices",
            "model.oaken.mart_dashboard_meta", "test.oaken.not_null_fct_sales_sale_date",
            "test.oaken.not_null_int_receivables__lines_journal_line_id"} <= checked, \
        sorted(checked)
    assert not whole, "\n\n".join(whole)
    # dlt merged the new rows of each large raw table, deleting old copies of their keys
    # only from the day partitions of its cursor on (oaken.el.pipeline.scope_merges)
    for table in ("sales", "shipments", "journal_entries", "journal_lines"):
        assert any(re.match(rf"DELETE FROM \S+\.raw\.{table} WHERE updated_at >= TIMESTAMP", q)
                   for q in dlt_deletes), (table, dlt_deletes)
    # the key tests that look up every key or parent ran with the whole job that built
    # the warehouse, and passed, and are not in the micro-batch (tag
    # whole_table_on_bigquery: on BigQuery they run on the whole job's cadence)
    def tests_run(path: Path) -> dict[str, str]:
        return {re.sub(r"\.[0-9a-f]{10}$", "", r["unique_id"]): r["status"]
                for r in json.loads(path.read_text())["results"]
                if r["unique_id"].startswith("test.")}
    key_tests = {
        "test.oaken.unique_changed_stg_sales_invoice_line_id__sales",
        "test.oaken.relationships_changed_stg_shipments_invoice_line_id__invoice_line_id__shipments__ref_stg_sales_",
        "test.oaken.not_null_int_sales__shipped_invoice_line_id"}
    micro = tests_run(built.bq.home / "dbt" / "target" / "live" / "run_results.json")
    whole_job = tests_run(built.bq.home / "dbt" / "last_run_results.json")
    assert "test.oaken.not_null_fct_sales_sale_date" in micro
    assert not key_tests & set(micro), sorted(key_tests & set(micro))
    assert {whole_job.get(test) for test in key_tests} == {"pass"}, whole_job
    # the loop's data_through read the cursor table (its model a parameter), not fct_sales
    assert any("oaken_model_cursors" in query and "@model" in query
               for query in loop_queries), loop_queries

    # the cursor table the lookups read instead of max() holds exactly max()
    stored = {(model, column): value for model, column, value in built.bq_rows(
        f"select model_relation, cursor_column, newest "
        f"from {built.table('oaken_model_cursors')}")}
    for model in ("fct_sales", "mart_sales_daily_detail", "mart_dashboard_sales"):
        [maxima] = built.bq_rows(f"select max(sale_updated_at), max(shipment_updated_at) "
                                 f"from {built.table(model)}")
        assert (stored[(f"{DATASET}.{model}", "sale_updated_at")],
                stored[(f"{DATASET}.{model}", "shipment_updated_at")]) == maxima, model
    intermediate = DATASETS["analytics_intermediate"]
    [(newest,)] = built.bq_rows(f"select max(updated_at) from "
                                f"{built.table('int_receivables__lines', intermediate)}")
    assert stored[(f"{intermediate}.int_receivables__lines", "updated_at")] == newest
    # the store-day table holds every line int_receivables__lines held when it was built
    assert stored[(f"{intermediate}.int_receivables__store_days", "updated_at")] == newest
    # ... and the newest `updated_at` of each dimension the line marts were built with
    # (the renamed-key lookups read the dimensions past these, not the marts)
    dimension_cursors = {
        "mart_sales_daily_detail": {"store_updated_at": "dim_store",
                                    "item_updated_at": "dim_product",
                                    "category_updated_at": "dim_category",
                                    "vendor_updated_at": "dim_vendor"},
        "mart_dashboard_sales": {"store_updated_at": "dim_store"},
        "mart_dashboard_store_daily": {"store_updated_at": "dim_store"}}
    for model, dimensions in dimension_cursors.items():
        for column, dimension in dimensions.items():
            [(newest,)] = built.bq_rows(f"select max(updated_at) from {built.table(dimension)}")
            assert stored[(f"{DATASET}.{model}", column)] == newest, (model, column)


# --- retention against the BigQuery warehouse -------------------------------------------


def test_archive_on_bigquery_emulator_removes_only_what_the_warehouse_holds(
    builds: Callable[[str], Build],
) -> None:
    from oaken.analytics.archive import cutoff_date

    built = builds("sqlite")
    before = reconcile(built.bq)["database"]
    old = [r for r in database_rows(built.url) if r.sale_date < cutoff_date("2y")]
    assert old, "the generated data should reach back more than two years"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in built.environment().items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        dry = CliRunner().invoke(cli_app(), ["archive", "--older-than", "2y"])
        applied = CliRunner().invoke(cli_app(), ["archive", "--older-than", "2y", "--apply"])
    get_settings.cache_clear()
    assert dry.exit_code == 0, dry.output
    assert f"verified in the warehouse: {len(old):,}" in dry.output
    assert applied.exit_code == 0, applied.output
    assert f"removed {len(old):,} sales and {len(old):,} shipments" in applied.output
    after = reconcile(built.bq)
    assert after["database"]["sales"] == before["sales"] - len(old)
    assert after["warehouse"]["sales"] == before["sales"]
    for name in ("ledger_debits", "ledger_credits", "receivable_debits"):
        assert after["database"][name] == before[name] == after["warehouse"][name]
    assert after["database"]["sale_dollars"] == before["sale_dollars"] - sum(
        (money(r.sale_dollars) for r in old), Decimal("0.00"))
