"""Every number and chart of the sales report, as plain functions over the warehouse.

Each function takes a warehouse handle (:func:`open_warehouse`) and a :class:`Filters`
and returns numbers, small dataclasses or pandas DataFrames. No Streamlit here: the app
(:mod:`oaken.dashboard.app`) only caches and draws what these return, and the tests
call them directly and compare with SQL over ``fct_sales``.

Which tables, and why the scorecards are exact
----------------------------------------------
Invoices and customers are *distinct* counts, which cannot be added up across
pre-aggregated rows in general. The dashboard has two marts of its own (dbt models in
``transform/models/marts/dashboard/``):

- ``mart_dashboard_sales``: one narrow row per sale line (invoice id, date, store,
  county, category, vendor, item, bottles, dollars, margin, shipping), sorted by sale
  date. Any filter combination is one ``where`` clause, and ``count(distinct
  invoice_id)`` / ``count(distinct store_id)`` over it are exact by construction.
  It is used whenever a product filter (category, vendor or item) is set: such a
  filter keeps a fraction of the rows, and DuckDB counts them quickly.
- ``mart_dashboard_store_daily``: one row per sale day × store (far fewer than lines).
  Without a product filter every remaining filter (dates, stores, counties) selects
  whole rows of it, so ``count(distinct store_id)`` stays exact and ``sum(invoices)``
  is exact *because an invoice belongs to one store on one day*. That is the Iowa data
  model, but it is checked rather than assumed: ``mart_dashboard_meta.split_invoices``
  counts invoices that break it, and :func:`use_store_daily` sends every query to the
  line mart when it is not zero. This path serves the first paint (no filters but the
  date range): a year of sales is a small fraction of the rows of the line mart.

Top categories and items, shipments per ship day and the CSV export need the item or
the line, so they read ``mart_dashboard_sales`` / ``mart_sales_daily_detail`` with
the date range pruning row groups. Forecasts come from ``forecast_sales_daily``,
receivables from ``mart_receivables``, the ledger check from ``mart_dashboard_ledger``.

SQL and warehouses
------------------
User values are always bound parameters (``$name`` in the SQL below); only table
names from the configuration and integer limits from code are put into the text. The
same SQL runs on both warehouses through a small adapter: DuckDB (the default, opened
read-only for each query so ``oaken analytics`` can write in between) and BigQuery
(``$name`` → ``@name``, list filters as ``in unnest(@name)``, typed query parameters).
The BigQuery adapter's SQL rendering and parameter typing are unit-tested, and the
page is drawn over BigQuery marts on the BigQuery emulator in
``tests/integration/test_bigquery.py``; no query has been run against Google's
BigQuery from this repository (no credentials in CI).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from oaken.analytics.warehouse import WarehouseConfig, parse_warehouse
from oaken.errors import (
    OakenError,
    WarehouseBusy,
    WarehouseEmpty,
    WarehouseError,
    WarehouseMissing,
)

RUN_ANALYTICS = "run `oaken analytics` first"


# --- filters --------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the report is filtered on. Empty tuples mean "all"; dates are inclusive."""

    start: date
    end: date
    stores: tuple[int, ...] = ()
    counties: tuple[str, ...] = ()
    categories: tuple[int, ...] = ()
    vendors: tuple[int, ...] = ()
    items: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"end date {self.end} is before start date {self.start}")
        # sorted and de-duplicated, so equal filters are equal cache keys
        for name, kind in (("stores", int), ("counties", str), ("categories", int),
                           ("vendors", int), ("items", int)):
            object.__setattr__(self, name, tuple(sorted({kind(v) for v in getattr(self, name)})))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def has_product_filter(self) -> bool:
        return bool(self.categories or self.vendors or self.items)

    @property
    def has_filters_besides_dates(self) -> bool:
        return bool(self.stores or self.counties or self.has_product_filter)

    def previous(self) -> Filters:
        """The period of the same length just before this one, same other filters."""
        return replace(self, start=self.start - timedelta(days=self.days),
                       end=self.start - timedelta(days=1))


# --- warehouse adapters ---------------------------------------------------------------


class DashboardWarehouse(Protocol):
    kind: str
    url: str

    def table(self, name: str) -> str: ...
    def in_list(self, column: str, param: str) -> str: ...
    def frame(self, sql: str, params: dict[str, Any]) -> pd.DataFrame: ...
    def rows(self, sql: str, params: dict[str, Any]) -> list[tuple]: ...
    def version(self) -> str: ...
    def session(self) -> AbstractContextManager[None]: ...


class DuckDBWarehouse:
    """A DuckDB warehouse file, opened read-only only while it is being read.

    A reader holds a shared lock that keeps ``oaken analytics`` from writing, so no
    connection is kept between page runs: each query opens and closes one, or, inside
    :meth:`session` (one run of the page), the first query opens one that the others
    reuse until the session ends. Sessions are per thread (Streamlit runs each browser
    session's script in its own thread).
    """

    kind = "duckdb"

    def __init__(self, path: Path, schema: str = "analytics") -> None:
        self.path = Path(path)
        self.schema = schema
        self.url = f"duckdb:///{self.path}"
        self._local = threading.local()

    @contextmanager
    def session(self) -> Iterator[None]:
        """Reuse one read-only connection for the queries made inside (opened lazily:
        a page served from the cache does not touch the file)."""
        if getattr(self._local, "active", False):
            yield
            return
        self._local.active = True
        try:
            yield
        finally:
            connection = getattr(self._local, "connection", None)
            self._local.active = False
            self._local.connection = None
            if connection is not None:
                connection.close()

    def table(self, name: str) -> str:
        return f"{self.schema}.{name}"

    def in_list(self, column: str, param: str) -> str:
        return f"list_contains(${param}, {column})"

    def version(self) -> str:
        """Changes whenever the file is rewritten (new cache entries after a rebuild)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return "missing"
        return f"{stat.st_mtime_ns}-{stat.st_size}"

    def _run(self, sql: str, params: dict[str, Any], fetch: str) -> Any:
        import duckdb

        shared = getattr(self._local, "active", False)
        connection = getattr(self._local, "connection", None) if shared else None
        if connection is None:
            connection = self._connect()
            if shared:
                self._local.connection = connection
        try:
            result = connection.execute(sql, params)
            return result.df() if fetch == "frame" else result.fetchall()
        except duckdb.CatalogException as problem:
            raise WarehouseMissing(
                f"the warehouse has no dashboard marts ({_first_line(problem)}): {RUN_ANALYTICS}"
            ) from None
        finally:
            if not shared:
                connection.close()

    def _connect(self) -> Any:
        import duckdb

        if not self.path.exists():
            raise WarehouseMissing(f"there is no warehouse at {self.path} yet: {RUN_ANALYTICS}")
        try:
            connection = duckdb.connect(str(self.path), read_only=True)
        except duckdb.IOException as problem:
            if "lock" in str(problem).lower():
                raise WarehouseBusy(
                    f"the warehouse {self.path} is being rebuilt (`oaken analytics` holds its "
                    "lock): refresh in a minute"
                ) from None
            raise WarehouseError(f"the warehouse {self.path} cannot be opened: "
                                 f"{_first_line(problem)}") from None
        except duckdb.Error as problem:
            raise WarehouseError(f"the warehouse {self.path} cannot be opened: "
                                 f"{_first_line(problem)}") from None
        return connection

    def frame(self, sql: str, params: dict[str, Any]) -> pd.DataFrame:
        return self._run(sql, params, "frame")

    def rows(self, sql: str, params: dict[str, Any]) -> list[tuple]:
        return self._run(sql, params, "rows")


class BigQueryWarehouse:
    """The same SQL on BigQuery: ``$name`` → ``@name`` with typed query parameters.

    Exercised over the BigQuery emulator (tests/integration/test_bigquery.py), not
    Google's BigQuery; :meth:`render` and :func:`bigquery_parameter` are unit-tested.
    Results are cached by the app for ten minutes (see :meth:`version`).
    """

    kind = "bigquery"

    def __init__(self, project: str, dataset: str, *, client: Any = None,
                 config: WarehouseConfig | None = None) -> None:
        self.project = project
        self.dataset = dataset
        self.url = f"bigquery://{project}/{dataset}"
        self._client = client
        # endpoint, location and cost guard (OAKEN_BIGQUERY_*), see oaken.analytics.bigquery
        self.config = config or parse_warehouse(self.url)

    def table(self, name: str) -> str:
        return f"`{self.project}.{self.dataset}.{name}`"

    def in_list(self, column: str, param: str) -> str:
        return f"{column} in unnest(${param})"

    def version(self) -> str:
        return str(int(time.time() // 600))

    @contextmanager
    def session(self) -> Iterator[None]:
        yield  # the client is reused anyway

    @staticmethod
    def render(sql: str) -> str:
        return re.sub(r"\$(\w+)", r"@\1", sql)

    def client(self) -> Any:
        if self._client is None:
            from oaken.analytics import bigquery

            self._client = bigquery.client(self.config)
        return self._client

    def _job(self, sql: str, params: dict[str, Any]) -> Any:
        from google.api_core.exceptions import GoogleAPIError, NotFound

        from oaken.analytics import bigquery

        config = bigquery.query_config(
            self.config,
            query_parameters=[bigquery_parameter(name, value) for name, value in params.items()],
        )
        try:
            return self.client().query(self.render(sql), job_config=config).result()
        except NotFound as problem:
            raise WarehouseMissing(f"BigQuery: {_first_line(problem)}: {RUN_ANALYTICS}") from None
        except GoogleAPIError as problem:
            raise WarehouseError(f"BigQuery query failed: {_first_line(problem)}") from None

    def frame(self, sql: str, params: dict[str, Any]) -> pd.DataFrame:
        return self._job(sql, params).to_dataframe(create_bqstorage_client=False)

    def rows(self, sql: str, params: dict[str, Any]) -> list[tuple]:
        return [tuple(row.values()) for row in self._job(sql, params)]


def bigquery_parameter(name: str, value: Any) -> Any:
    """A typed BigQuery query parameter for a Python value (date, int, str or a list)."""
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


def open_warehouse(url: str | WarehouseConfig) -> DashboardWarehouse:
    """The dashboard's handle on ``OAKEN_WAREHOUSE`` (raises WarehouseError if malformed).

    Give it :func:`~oaken.analytics.warehouse.warehouse_config` of the settings to carry
    the BigQuery endpoint, location and cost guard along.
    """
    config = parse_warehouse(url) if isinstance(url, str) else url
    if config.kind == "duckdb":
        assert config.path is not None
        return DuckDBWarehouse(config.path, config.marts_schema)
    assert config.project is not None
    return BigQueryWarehouse(config.project, config.dataset, config=config)


def _first_line(problem: BaseException) -> str:
    text = str(problem).strip()
    return text.splitlines()[0][:300] if text else type(problem).__name__


# --- where clauses --------------------------------------------------------------------

_LIST_FILTERS = (("store_id", "stores"), ("county", "counties"), ("category_id", "categories"),
                 ("vendor_id", "vendors"), ("item_id", "items"))
_PRODUCT = {"categories", "vendors", "items"}


def where(wh: DashboardWarehouse, f: Filters, *, date_column: str = "sale_date",
          dates: bool = True, products: bool = True) -> tuple[str, dict[str, Any]]:
    """``(sql, params)`` of the filter's where clause (without the ``where`` keyword)."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if dates:
        clauses.append(f"{date_column} between $start and $end")
        params.update(start=f.start, end=f.end)
    for column, name in _LIST_FILTERS:
        values = getattr(f, name)
        if not values:
            continue
        if name in _PRODUCT and not products:
            raise ValueError(f"this table cannot be filtered on {name}")
        clauses.append(wh.in_list(column, name))
        params[name] = list(values)
    return (" and ".join(clauses) or "1 = 1"), params


# --- metadata and filter options ------------------------------------------------------


@dataclass(frozen=True)
class Meta:
    first_sale_date: date | None
    last_sale_date: date | None
    sale_lines: int
    sale_dollars: Decimal
    invoices: int
    split_invoices: int
    built_at: Any = None

    @property
    def empty(self) -> bool:
        return self.sale_lines == 0 or self.first_sale_date is None

    def default_filters(self, *, months: int = 12) -> Filters:
        """The last ``months`` calendar months up to the last sale (the month of the last
        sale counts as one), or everything if there is less."""
        if self.empty:
            raise WarehouseEmpty(f"the warehouse has no sales yet: {RUN_ANALYTICS}")
        assert self.first_sale_date is not None and self.last_sale_date is not None
        start = max(self.first_sale_date,
                    _add_months(self.last_sale_date.replace(day=1), -(months - 1)))
        return Filters(start=start, end=self.last_sale_date)


def load_meta(wh: DashboardWarehouse) -> Meta:
    """The dashboard's metadata row; WarehouseMissing when the marts are not built."""
    rows = wh.rows(
        "select first_sale_date, last_sale_date, sale_lines, sale_dollars, invoices, "
        f"split_invoices, built_at from {wh.table('mart_dashboard_meta')}", {})
    if not rows:
        return Meta(None, None, 0, Decimal(0), 0, 0)
    first, last, lines, dollars, invoices, split, built = rows[0]
    return Meta(_as_date(first), _as_date(last), int(lines or 0), _money(dollars),
                int(invoices or 0), int(split or 0), built)


def use_store_daily(f: Filters, meta: Meta) -> bool:
    """Whether store × day rows answer ``f`` exactly (see the module docstring)."""
    return not f.has_product_filter and meta.split_invoices == 0


@dataclass(frozen=True)
class FilterOptions:
    """Choices for the filter widgets: id → label, best sellers first for products."""

    stores: dict[int, str] = field(default_factory=dict)
    counties: list[str] = field(default_factory=list)
    categories: dict[int, str] = field(default_factory=dict)
    vendors: dict[int, str] = field(default_factory=dict)
    items: dict[int, str] = field(default_factory=dict)


def filter_options(wh: DashboardWarehouse) -> FilterOptions:
    stores = wh.frame(
        f"select store_id, store_name, city from {wh.table('dim_store')} "
        "order by store_name, store_id", {})
    counties = wh.frame(
        f"select distinct county from {wh.table('mart_dashboard_store_daily')} order by county",
        {})
    categories = wh.frame(
        f"select category_id, category_name from {wh.table('mart_top_categories')} "
        "order by sales_rank", {})
    vendors = wh.frame(
        "with per_vendor as (select vendor_id, sum(sale_dollars) as sale_dollars "
        f"from {wh.table('mart_dashboard_sales')} group by vendor_id) "
        "select per_vendor.vendor_id, "
        "coalesce(dim_vendor.vendor_name, 'Unknown') as vendor_name from per_vendor "
        f"left join {wh.table('dim_vendor')} as dim_vendor "
        "on per_vendor.vendor_id = dim_vendor.vendor_id "
        "order by per_vendor.sale_dollars desc, per_vendor.vendor_id", {})
    items = wh.frame(
        f"select item_id, item_description from {wh.table('mart_top_items')} "
        "order by sales_rank", {})
    return FilterOptions(
        stores={int(r.store_id): f"{r.store_name or 'Store'} (#{r.store_id})"
                for r in stores.itertuples()},
        counties=[str(c) for c in counties["county"] if c is not None],
        categories={int(r.category_id): str(r.category_name or "Unknown")
                    for r in categories.itertuples()},
        vendors={int(r.vendor_id): f"{r.vendor_name} (#{r.vendor_id})"
                 for r in vendors.itertuples()},
        items={int(r.item_id): f"{r.item_description or 'Item'} (#{r.item_id})"
               for r in items.itertuples()},
    )


# --- scorecards -----------------------------------------------------------------------


@dataclass(frozen=True)
class Scorecards:
    invoices: int
    customers: int
    bottles_sold: int
    sale_dollars: Decimal
    gross_margin: Decimal
    sale_lines: int

    @property
    def gross_margin_pct(self) -> float | None:
        return float(self.gross_margin / self.sale_dollars) if self.sale_dollars else None


def scorecards(wh: DashboardWarehouse, f: Filters, *, store_daily: bool) -> Scorecards:
    """Invoices, customers (stores), bottles, sale dollars and gross margin for ``f``."""
    if store_daily:
        condition, params = where(wh, f, products=False)
        sql = ("select coalesce(sum(invoices), 0), count(distinct store_id), "
               "coalesce(sum(bottles_sold), 0), coalesce(sum(sale_dollars), 0), "
               "coalesce(sum(gross_margin), 0), coalesce(sum(sale_lines), 0) "
               f"from {wh.table('mart_dashboard_store_daily')} where {condition}")
    else:
        condition, params = where(wh, f)
        sql = ("select count(distinct invoice_id), count(distinct store_id), "
               "coalesce(sum(bottles_sold), 0), coalesce(sum(sale_dollars), 0), "
               "coalesce(sum(gross_margin), 0), count(*) "
               f"from {wh.table('mart_dashboard_sales')} where {condition}")
    invoices, customers, bottles, dollars, margin, lines = wh.rows(sql, params)[0]
    return Scorecards(invoices=int(invoices), customers=int(customers),
                      bottles_sold=int(bottles), sale_dollars=_money(dollars),
                      gross_margin=_money(margin), sale_lines=int(lines))


# --- sales charts ---------------------------------------------------------------------


def monthly(wh: DashboardWarehouse, f: Filters, *, store_daily: bool,
            min_months: int = 12) -> pd.DataFrame:
    """Invoices, bottles and dollars per month: the filter's months, extended back so at
    least ``min_months`` months up to its end date are shown. Columns: month_start_date,
    invoices, bottles_sold, sale_dollars (months without sales are zero)."""
    end_month = f.end.replace(day=1)
    first_month = _add_months(end_month, -(min_months - 1))
    wide = replace(f, start=min(f.start, first_month))
    if store_daily:
        condition, params = where(wh, wide, products=False)
        sql = ("select month_start_date, sum(invoices) as invoices, "
               "sum(bottles_sold) as bottles_sold, sum(sale_dollars) as sale_dollars "
               f"from {wh.table('mart_dashboard_store_daily')} where {condition} "
               "group by month_start_date order by month_start_date")
    else:
        condition, params = where(wh, wide)
        sql = ("select month_start_date, count(distinct invoice_id) as invoices, "
               "sum(bottles_sold) as bottles_sold, sum(sale_dollars) as sale_dollars "
               f"from {wh.table('mart_dashboard_sales')} where {condition} "
               "group by month_start_date order by month_start_date")
    frame = wh.frame(sql, params)
    months = pd.DataFrame({"month_start_date": pd.date_range(
        wide.start.replace(day=1), end_month, freq="MS")})
    frame["month_start_date"] = pd.to_datetime(frame["month_start_date"])
    out = months.merge(frame, on="month_start_date", how="left").fillna(0)
    out["invoices"] = out["invoices"].astype("int64")
    out["bottles_sold"] = out["bottles_sold"].astype("int64")
    out["sale_dollars"] = out["sale_dollars"].astype("float64")
    return out


def daily_sales(wh: DashboardWarehouse, f: Filters, *, store_daily: bool) -> pd.DataFrame:
    """Sale dollars per day over the filter's range (zero-filled): sale_date, sale_dollars."""
    table = "mart_dashboard_store_daily" if store_daily else "mart_dashboard_sales"
    condition, params = where(wh, f, products=not store_daily)
    frame = wh.frame(
        f"select sale_date, sum(sale_dollars) as sale_dollars from {wh.table(table)} "
        f"where {condition} group by sale_date order by sale_date", params)
    days = pd.DataFrame({"sale_date": pd.date_range(f.start, f.end, freq="D")})
    frame["sale_date"] = pd.to_datetime(frame["sale_date"])
    out = days.merge(frame, on="sale_date", how="left").fillna(0)
    out["sale_dollars"] = out["sale_dollars"].astype("float64")
    return out


@dataclass(frozen=True)
class Forecast:
    """The forecast that matches a filter: which series, and its rows."""

    series_type: str  # total | category | item
    series_id: str
    series_name: str
    frame: pd.DataFrame  # forecast_date, yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95, yhat_hi_95


def forecast_series(f: Filters) -> tuple[str, str] | None:
    """``(series_type, series_id)`` of the forecast for exactly this filter, if any:
    total sales with no filter but dates, one category alone, or one item alone."""
    if not f.has_filters_besides_dates:
        return ("total", "all")
    if f.stores or f.counties or f.vendors:
        return None
    if len(f.categories) == 1 and not f.items:
        return ("category", str(f.categories[0]))
    if len(f.items) == 1 and not f.categories:
        return ("item", str(f.items[0]))
    return None


def forecast(wh: DashboardWarehouse, f: Filters) -> Forecast | None:
    """The 30-day forecast with 80 %/95 % bands for the filter (None when not forecast)."""
    series = forecast_series(f)
    if series is None:
        return None
    series_type, series_id = series
    try:
        frame = wh.frame(
            "select series_name, forecast_date, yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95, "
            f"yhat_hi_95 from {wh.table('forecast_sales_daily')} "
            "where series_type = $series_type and series_id = $series_id "
            "order by forecast_date",
            {"series_type": series_type, "series_id": series_id})
    except WarehouseMissing:
        return None  # forecasts not written (yet): the chart shows history only
    if frame.empty:
        return None
    frame["forecast_date"] = pd.to_datetime(frame["forecast_date"])
    name = str(frame["series_name"].iloc[0])
    return Forecast(series_type, series_id, name, frame.drop(columns=["series_name"]))


def top_categories(wh: DashboardWarehouse, f: Filters, *, n: int = 10) -> pd.DataFrame:
    """The ``n`` categories with the most sale dollars under ``f``: category_id,
    category_name, sale_dollars, bottles_sold, share (of the filtered dollars)."""
    condition, params = where(wh, f)
    frame = wh.frame(
        "with per_category as ("
        " select category_id, sum(sale_dollars) as sale_dollars, "
        " sum(bottles_sold) as bottles_sold "
        f" from {wh.table('mart_dashboard_sales')} where {condition} group by category_id) "
        "select per_category.category_id, "
        " coalesce(dim_category.category_name, 'Unknown') as category_name, "
        " per_category.sale_dollars, per_category.bottles_sold, "
        " per_category.sale_dollars / nullif(sum(per_category.sale_dollars) over (), 0) as share "
        "from per_category "
        f"left join {wh.table('dim_category')} as dim_category "
        " on per_category.category_id = dim_category.category_id "
        f"order by per_category.sale_dollars desc, per_category.category_id limit {int(n)}",
        params)
    return _floats(frame, "sale_dollars", "share")


def top_items(wh: DashboardWarehouse, f: Filters, *, n: int = 10) -> pd.DataFrame:
    """The ``n`` items with the most sale dollars under ``f``: item_id, item_description,
    sale_dollars, bottles_sold, share, item_label."""
    condition, params = where(wh, f)
    frame = wh.frame(
        "with per_item as ("
        " select item_id, sum(sale_dollars) as sale_dollars, sum(bottles_sold) as bottles_sold "
        f" from {wh.table('mart_dashboard_sales')} where {condition} group by item_id) "
        "select per_item.item_id, "
        " coalesce(dim_product.item_description, 'Unknown') as item_description, "
        " per_item.sale_dollars, per_item.bottles_sold, "
        " per_item.sale_dollars / nullif(sum(per_item.sale_dollars) over (), 0) as share "
        "from per_item "
        f"left join {wh.table('dim_product')} as dim_product "
        " on per_item.item_id = dim_product.item_id "
        f"order by per_item.sale_dollars desc, per_item.item_id limit {int(n)}",
        params)
    # descriptions repeat across bottle sizes: the label carries the item number too
    frame["item_label"] = [f"{d} (#{i})" for d, i in zip(frame["item_description"],
                                                          frame["item_id"], strict=True)]
    return _floats(frame, "sale_dollars", "share")


# --- shipping -------------------------------------------------------------------------


@dataclass(frozen=True)
class ShippingSummary:
    sale_lines: int
    shipped_lines: int
    avg_days_to_ship: float | None
    shipping_cost: Decimal
    shipped_sale_dollars: Decimal

    @property
    def shipping_cost_share(self) -> float | None:
        if not self.shipped_sale_dollars:
            return None
        return float(self.shipping_cost / self.shipped_sale_dollars)


_SHIPPING_DAILY = (
    "sum(sale_lines) as sale_lines, sum(shipped_lines) as shipped_lines, "
    "sum(days_to_ship_total) as days_to_ship_total, sum(shipping_cost) as shipping_cost, "
    "sum(shipped_sale_dollars) as shipped_sale_dollars")
_SHIPPING_LINES = (
    "count(*) as sale_lines, sum(case when is_shipped then 1 else 0 end) as shipped_lines, "
    "sum(days_to_ship) as days_to_ship_total, sum(shipping_cost) as shipping_cost, "
    "sum(case when is_shipped then sale_dollars end) as shipped_sale_dollars")


def shipping_summary(wh: DashboardWarehouse, f: Filters, *,
                     store_daily: bool) -> ShippingSummary:
    """Lines sold in the range, how many shipped, average days from sale to ship and
    freight as a share of the shipped lines' sale dollars."""
    table, columns = _shipping_source(store_daily)
    condition, params = where(wh, f, products=not store_daily)
    lines, shipped, days, cost, shipped_dollars = wh.rows(
        f"select {columns} from {wh.table(table)} where {condition}", params)[0]
    shipped = int(shipped or 0)
    return ShippingSummary(
        sale_lines=int(lines or 0), shipped_lines=shipped,
        avg_days_to_ship=(float(days) / shipped) if shipped and days is not None else None,
        shipping_cost=_money(cost), shipped_sale_dollars=_money(shipped_dollars))


def shipping_monthly(wh: DashboardWarehouse, f: Filters, *, store_daily: bool) -> pd.DataFrame:
    """Per sale month: month_start_date, sale_lines, shipped_lines, avg_days_to_ship,
    shipping_cost, shipped_sale_dollars, shipping_cost_share."""
    table, columns = _shipping_source(store_daily)
    condition, params = where(wh, f, products=not store_daily)
    frame = wh.frame(
        f"select month_start_date, {columns} from {wh.table(table)} where {condition} "
        "group by month_start_date order by month_start_date", params)
    frame = _floats(frame, "shipped_lines", "days_to_ship_total", "shipping_cost",
                    "shipped_sale_dollars")
    shipped = frame["shipped_lines"].where(frame["shipped_lines"] > 0)
    frame["avg_days_to_ship"] = frame["days_to_ship_total"] / shipped
    frame["shipping_cost_share"] = frame["shipping_cost"] / frame["shipped_sale_dollars"].where(
        frame["shipped_sale_dollars"] > 0)
    frame["month_start_date"] = pd.to_datetime(frame["month_start_date"])
    return frame.drop(columns=["days_to_ship_total"])


def days_to_ship(wh: DashboardWarehouse, f: Filters) -> pd.DataFrame:
    """How many shipped lines took 0, 1, 2, … calendar days: days_to_ship, lines."""
    condition, params = where(wh, f)
    return wh.frame(
        "select days_to_ship, count(*) as lines "
        f"from {wh.table('mart_dashboard_sales')} where {condition} and is_shipped "
        "group by days_to_ship order by days_to_ship", params)


def _shipping_source(store_daily: bool) -> tuple[str, str]:
    if store_daily:
        return "mart_dashboard_store_daily", _SHIPPING_DAILY
    return "mart_dashboard_sales", _SHIPPING_LINES


# --- operations -----------------------------------------------------------------------


def shipments_per_day(wh: DashboardWarehouse, f: Filters) -> pd.DataFrame:
    """Shipments of the filtered sales per scheduled ship day (which runs a few days past
    the last sale date): ship_date, shipments, shipping_cost."""
    condition, params = where(wh, f)
    frame = wh.frame(
        "select ship_date, count(*) as shipments, sum(shipping_cost) as shipping_cost "
        f"from {wh.table('mart_dashboard_sales')} where {condition} and is_shipped "
        "group by ship_date order by ship_date", params)
    frame["ship_date"] = pd.to_datetime(frame["ship_date"])
    return _floats(frame, "shipping_cost")


def receivables(wh: DashboardWarehouse, f: Filters) -> pd.DataFrame:
    """What each store owes as of the latest posting (``mart_receivables``), for the
    filter's stores and counties (a balance has no sale date or product), largest first."""
    clauses, params = [], {}
    if f.stores:
        clauses.append(wh.in_list("store_id", "stores"))
        params["stores"] = list(f.stores)
    if f.counties:
        clauses.append(wh.in_list("coalesce(county, 'Unknown')", "counties"))
        params["counties"] = list(f.counties)
    condition = " and ".join(clauses) or "1 = 1"
    frame = wh.frame(
        "select store_id, store_name, city, county, as_of_date, billed, collected, balance, "
        "balance_0_30_days, balance_31_60_days, balance_61_90_days, balance_over_90_days, "
        f"oldest_open_date from {wh.table('mart_receivables')} where {condition} "
        "order by balance desc, store_id", params)
    for column in ("as_of_date", "oldest_open_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return _floats(frame, "billed", "collected", "balance", "balance_0_30_days",
                   "balance_31_60_days", "balance_61_90_days", "balance_over_90_days")


@dataclass(frozen=True)
class LedgerCheck:
    accounts: pd.DataFrame  # account_code, account_name, postings, debits, credits, balance
    debits: Decimal
    credits: Decimal

    @property
    def imbalance(self) -> Decimal:
        return self.debits - self.credits

    @property
    def balanced(self) -> bool:
        return self.imbalance == 0


def ledger_check(wh: DashboardWarehouse) -> LedgerCheck:
    """Debits and credits per account in the warehouse copy of the ledger."""
    rows = wh.rows(
        "select account_code, account_name, postings, debits, credits, balance "
        f"from {wh.table('mart_dashboard_ledger')} order by account_code", {})
    frame = pd.DataFrame(rows, columns=["account_code", "account_name", "postings", "debits",
                                        "credits", "balance"])
    debits = sum((_money(r[3]) for r in rows), Decimal("0.00"))
    credits = sum((_money(r[4]) for r in rows), Decimal("0.00"))
    return LedgerCheck(_floats(frame, "debits", "credits", "balance"), debits, credits)


@dataclass(frozen=True)
class LiveStatus:
    """What ``oaken status`` reports, from the operational database and the broker."""

    counts: dict[str, int] = field(default_factory=dict)
    ledger_imbalance: Decimal | None = None
    receivable_gap: Decimal | None = None
    lag: dict[str, int] | None = None
    dlq: int | None = None
    problems: tuple[str, ...] = ()


def live_status(settings: Any, *, probe_timeout: float = 0.5) -> LiveStatus:
    """Counts, ledger imbalance, consumer lag and dead letters from the same functions as
    ``oaken status`` (:func:`oaken.ops.status.collect`). The broker is probed first, so a
    dashboard running without the pipeline reports it unreachable in ``probe_timeout``
    seconds instead of waiting for Kafka client time-outs."""
    from oaken.db.engine import make_engine, safe_url
    from oaken.ops import status

    engine = make_engine(settings.database_url)
    problems: list[str] = []
    try:
        if _broker_reachable(settings.bootstrap_servers, probe_timeout):
            try:
                found = status.collect(settings, engine)
                return LiveStatus(found.counts, found.ledger_imbalance, found.receivable_gap,
                                  found.lag, found.dlq)
            except OakenError as problem:
                problems.append(str(problem))
        else:
            problems.append(f"Kafka broker {settings.bootstrap_servers} is not reachable: "
                            "consumer lag and dead letters are unavailable (is `oaken up` "
                            "running?)")
        try:
            counts, imbalance, gap = status.database_status(engine)
        except Exception as problem:
            problems.append(f"database {safe_url(settings.database_url)} cannot be read: "
                            f"{_first_line(problem)}")
            return LiveStatus(problems=tuple(problems))
        return LiveStatus(counts, imbalance, gap, problems=tuple(problems))
    finally:
        engine.dispose()


def _broker_reachable(bootstrap: str, timeout: float) -> bool:
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port or 9092)),
                                          timeout=timeout):
                return True
        except (OSError, ValueError):
            continue
    return False


# --- the CSV download -----------------------------------------------------------------

EXPORT_COLUMNS = (
    "sale_date", "store_id", "store_name", "city", "county", "item_id", "item_description",
    "category_id", "category_name", "vendor_id", "vendor_name", "sale_lines", "invoices",
    "bottles_sold", "volume_liters", "sale_dollars", "cost_dollars", "gross_margin",
    "shipping_cost",
)


def filtered_rows(wh: DashboardWarehouse, f: Filters) -> pd.DataFrame:
    """The filtered sales at the grain of ``mart_sales_daily_detail`` (one row per day ×
    store × item, with names), for the CSV download. Money stays exact (Decimal)."""
    clauses = ["sale_date between $start and $end"]
    params: dict[str, Any] = {"start": f.start, "end": f.end}
    for column, name in (("store_id", "stores"), ("coalesce(county, 'Unknown')", "counties"),
                         ("coalesce(category_id, -1)", "categories"),
                         ("coalesce(vendor_id, -1)", "vendors"), ("item_id", "items")):
        if getattr(f, name):
            clauses.append(wh.in_list(column, name))
            params[name] = list(getattr(f, name))
    rows = wh.rows(
        f"select {', '.join(EXPORT_COLUMNS)} from {wh.table('mart_sales_daily_detail')} "
        f"where {' and '.join(clauses)} order by sale_date, store_id, item_id", params)
    return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))


def filtered_rows_csv(wh: DashboardWarehouse, f: Filters) -> bytes:
    return filtered_rows(wh, f).to_csv(index=False).encode("utf-8")


# --- helpers --------------------------------------------------------------------------


def _money(value: Any) -> Decimal:
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "date") and callable(value.date):
        return value.date()
    return value


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _floats(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame
