"""Dashboard test helpers: the shared synthetic warehouse, an oracle that computes the
report's numbers straight from ``fct_sales`` with SQL, and readers of the page in a
browser."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from oaken.dashboard.filters import Filters
from oaken.dashboard.formatting import compact
from tests.support.sample_warehouse import SampleWarehouse, shared_sample_warehouse

SAMPLE = {"rows": 5000, "seed": 7, "start": date(2024, 7, 1), "end": date(2026, 6, 30)}
CENT = Decimal("0.01")


def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> SampleWarehouse:
    """The session's synthetic warehouse (built on first use, ~1 minute)."""
    return shared_sample_warehouse(
        tmp_path_factory.getbasetemp() / "oaken-dashboard-warehouse", **SAMPLE)


# --- oracle: the same numbers straight from fct_sales ---------------------------------


def oracle_where(f: Filters) -> tuple[str, list]:
    clauses = ["f.sale_date between ? and ?"]
    params: list = [f.start, f.end]
    for column, values in (("f.store_id", f.stores), ("coalesce(s.county, 'Unknown')", f.counties),
                           ("coalesce(f.category_id, -1)", f.categories),
                           ("coalesce(f.vendor_id, -1)", f.vendors), ("f.item_id", f.items)):
        if values:
            clauses.append(f"{column} in (select unnest(?))")
            params.append(list(values))
    return " and ".join(clauses), params


def oracle(path: Path, select: str, f: Filters, tail: str = "") -> list[tuple]:
    """``select … from fct_sales f left join dim_store s where <f> <tail>``."""
    condition, params = oracle_where(f)
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(
            f"select {select} from analytics.fct_sales f "
            f"left join analytics.dim_store s on f.store_id = s.store_id "
            f"where {condition} {tail}", params).fetchall()


def oracle_scorecards(path: Path, f: Filters) -> dict[str, object]:
    invoices, stores, bottles, dollars, margin, lines = oracle(
        path, "count(distinct f.invoice_id), count(distinct f.store_id), "
        "coalesce(sum(f.bottles_sold), 0), coalesce(sum(f.sale_dollars), 0), "
        "coalesce(sum(f.gross_margin), 0), count(*)", f)[0]
    return {"invoices": invoices, "customers": stores, "bottles_sold": bottles,
            "sale_dollars": Decimal(dollars).quantize(CENT),
            "gross_margin": Decimal(margin).quantize(CENT), "sale_lines": lines}


CARDS = (("Invoices", "invoices", False), ("Customers", "customers", False),
         ("Bottles sold", "bottles_sold", False), ("Sales", "sale_dollars", True),
         ("Gross margin", "gross_margin", True))


LABELS = [label for label, _, _ in CARDS]


def default_filters(path: Path) -> Filters:
    last = oracle(path, "max(f.sale_date)", Filters(start=date(2000, 1, 1),
                                                    end=date(2100, 1, 1)))[0][0]
    start = date(last.year - 1, last.month + 1, 1) if last.month < 12 else date(last.year, 1, 1)
    return Filters(start=start, end=last)


def busiest(path: Path, column: str) -> object:
    return oracle(path, f"{column}, sum(f.sale_dollars) as d",
                  Filters(start=date(2000, 1, 1), end=date(2100, 1, 1)),
                  "group by 1 order by d desc, 1 limit 1")[0][0]


# --- reading the page -----------------------------------------------------------------


def wait_until_idle(page, timeout: float = 60.0) -> None:
    """Until Streamlit has finished running the script (no "Running…" status)."""
    page.wait_for_selector('[data-testid="stMetricValue"]:visible', timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    while page.locator('[data-testid="stStatusWidget"]').count():
        if time.monotonic() > deadline:
            raise AssertionError("the app kept running")
        page.wait_for_timeout(100)


def cards(page) -> dict[str, str]:
    found = {}
    for metric in page.locator('[data-testid="stMetric"]:visible').all():
        label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        if label in LABELS:
            found[label] = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return found


def expected_cards(path: Path, f: Filters) -> dict[str, str]:
    numbers = oracle_scorecards(path, f)
    return {label: compact(numbers[name], money=money) for label, name, money in CARDS}


def wait_for_cards(page, want: dict[str, str], timeout: float = 30.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        got = cards(page)
        if got == want or time.monotonic() > deadline:
            return got
        page.wait_for_timeout(200)


def assert_no_errors(page) -> None:
    for selector in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
        assert page.locator(selector).count() == 0, page.locator(selector).first.inner_text()


def empty_warehouse(path: Path) -> None:
    """A warehouse whose marts exist but hold no sale (built before any sale arrived)."""
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema analytics")
        connection.execute(
            "create table analytics.mart_dashboard_meta as select 1 as meta_id, "
            "cast(null as date) as first_sale_date, cast(null as date) as last_sale_date, "
            "0 as sale_lines, cast(null as decimal(18,2)) as sale_dollars, 0 as invoices, "
            "0 as split_invoices, cast(null as timestamp) as data_through, "
            "current_timestamp as built_at")
