"""The Sales tab: scorecards, sales per month and per day, the forecast, top lists.

Each function takes a warehouse and :class:`~oaken.dashboard.filters.Filters` and
returns a small dataclass or a pandas DataFrame; ``store_daily`` says which mart
answers exactly (:func:`~oaken.dashboard.filters.use_store_daily`). Top categories
and items need the item, so they read ``mart_dashboard_sales`` with the date range
pruning row groups; forecasts come from ``forecast_sales_daily``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

import pandas as pd

from oaken.dashboard.filters import Filters, add_months, where
from oaken.dashboard.frames import floats
from oaken.errors import WarehouseMissing
from oaken.money import to_cents
from oaken.warehouse.adapter import Warehouse


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


def scorecards(wh: Warehouse, f: Filters, *, store_daily: bool) -> Scorecards:
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
                      bottles_sold=int(bottles), sale_dollars=to_cents(dollars),
                      gross_margin=to_cents(margin), sale_lines=int(lines))


def monthly(wh: Warehouse, f: Filters, *, store_daily: bool,
            min_months: int = 12) -> pd.DataFrame:
    """Invoices, bottles and dollars per month: the filter's months, extended back so at
    least ``min_months`` months up to its end date are shown. Columns: month_start_date,
    invoices, bottles_sold, sale_dollars (months without sales are zero)."""
    end_month = f.end.replace(day=1)
    first_month = add_months(end_month, -(min_months - 1))
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


def daily_sales(wh: Warehouse, f: Filters, *, store_daily: bool) -> pd.DataFrame:
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


def forecast(wh: Warehouse, f: Filters) -> Forecast | None:
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


def top_categories(wh: Warehouse, f: Filters, *, n: int = 10) -> pd.DataFrame:
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
    return floats(frame, "sale_dollars", "share")


def top_items(wh: Warehouse, f: Filters, *, n: int = 10) -> pd.DataFrame:
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
    return floats(frame, "sale_dollars", "share")
