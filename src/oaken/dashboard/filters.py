"""What the report is filtered on, and the where clause every query shares.

:class:`Filters` (dates, stores, counties, categories, vendors, items) becomes one
``where`` clause with bound parameters (:func:`where`); :class:`Meta` (the dashboard's
metadata row) gives the default filters and decides which mart answers a query
(:func:`use_store_daily`); :func:`filter_options` fills the filter widgets.

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

User values are always bound parameters (``$name``); only table names from the
configuration and integer limits from code are put into the SQL text
(:mod:`oaken.warehouse.adapter`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from oaken.dashboard.frames import as_date
from oaken.errors import WarehouseEmpty
from oaken.money import to_cents
from oaken.warehouse.adapter import RUN_ANALYTICS, Warehouse


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


_LIST_FILTERS = (("store_id", "stores"), ("county", "counties"), ("category_id", "categories"),
                 ("vendor_id", "vendors"), ("item_id", "items"))
_PRODUCT = {"categories", "vendors", "items"}


def where(wh: Warehouse, f: Filters, *, date_column: str = "sale_date",
          dates: bool = True, products: bool = True,
          columns: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """``(sql, params)`` of the filter's where clause (without the ``where`` keyword).

    ``products=False`` is for tables without the product columns: a product filter is
    then an error rather than silently ignored. ``columns`` maps a filter
    (``"counties"``) to the SQL expression it compares where a table's column differs
    from the dashboard marts' (constants of the caller, never user input).
    """
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if dates:
        clauses.append(f"{date_column} between $start and $end")
        params.update(start=f.start, end=f.end)
    for column, name in _LIST_FILTERS:
        column = (columns or {}).get(name, column)
        values = getattr(f, name)
        if not values:
            continue
        if name in _PRODUCT and not products:
            raise ValueError(f"this table cannot be filtered on {name}")
        clauses.append(wh.in_list(column, name))
        params[name] = list(values)
    return (" and ".join(clauses) or "1 = 1"), params


@dataclass(frozen=True)
class Meta:
    first_sale_date: date | None
    last_sale_date: date | None
    sale_lines: int
    sale_dollars: Decimal
    invoices: int
    split_invoices: int
    built_at: Any = None
    data_through: Any = None  # the newest sale's acceptance time (naive UTC)

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
                    add_months(self.last_sale_date.replace(day=1), -(months - 1)))
        return Filters(start=start, end=self.last_sale_date)


def load_meta(wh: Warehouse) -> Meta:
    """The dashboard's metadata row; WarehouseMissing when the marts are not built."""
    rows = wh.rows(
        "select first_sale_date, last_sale_date, sale_lines, sale_dollars, invoices, "
        f"split_invoices, built_at, data_through from {wh.table('mart_dashboard_meta')}", {})
    if not rows:
        return Meta(None, None, 0, Decimal(0), 0, 0)
    first, last, lines, dollars, invoices, split, built, through = rows[0]
    return Meta(as_date(first), as_date(last), int(lines or 0), to_cents(dollars),
                int(invoices or 0), int(split or 0), built, through)


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


def filter_options(wh: Warehouse) -> FilterOptions:
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


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
