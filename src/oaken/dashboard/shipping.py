"""Shipping: days from sale to ship, freight as a share of sales, shipments per day.

The summary and the monthly chart read the store × day mart when it answers exactly
(no product filter); the spread of days to ship and the shipments per ship day need
the line, so they read ``mart_dashboard_sales``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from oaken.dashboard.filters import Filters, where
from oaken.dashboard.frames import floats
from oaken.money import to_cents
from oaken.warehouse.adapter import Warehouse


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


def shipping_summary(wh: Warehouse, f: Filters, *,
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
        shipping_cost=to_cents(cost), shipped_sale_dollars=to_cents(shipped_dollars))


def shipping_monthly(wh: Warehouse, f: Filters, *, store_daily: bool) -> pd.DataFrame:
    """Per sale month: month_start_date, sale_lines, shipped_lines, avg_days_to_ship,
    shipping_cost, shipped_sale_dollars, shipping_cost_share."""
    table, columns = _shipping_source(store_daily)
    condition, params = where(wh, f, products=not store_daily)
    frame = wh.frame(
        f"select month_start_date, {columns} from {wh.table(table)} where {condition} "
        "group by month_start_date order by month_start_date", params)
    frame = floats(frame, "shipped_lines", "days_to_ship_total", "shipping_cost",
                    "shipped_sale_dollars")
    shipped = frame["shipped_lines"].where(frame["shipped_lines"] > 0)
    frame["avg_days_to_ship"] = frame["days_to_ship_total"] / shipped
    frame["shipping_cost_share"] = frame["shipping_cost"] / frame["shipped_sale_dollars"].where(
        frame["shipped_sale_dollars"] > 0)
    frame["month_start_date"] = pd.to_datetime(frame["month_start_date"])
    return frame.drop(columns=["days_to_ship_total"])


def days_to_ship(wh: Warehouse, f: Filters) -> pd.DataFrame:
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


def shipments_per_day(wh: Warehouse, f: Filters) -> pd.DataFrame:
    """Shipments of the filtered sales per scheduled ship day (which runs a few days past
    the last sale date): ship_date, shipments, shipping_cost."""
    condition, params = where(wh, f)
    frame = wh.frame(
        "select ship_date, count(*) as shipments, sum(shipping_cost) as shipping_cost "
        f"from {wh.table('mart_dashboard_sales')} where {condition} and is_shipped "
        "group by ship_date order by ship_date", params)
    frame["ship_date"] = pd.to_datetime(frame["ship_date"])
    return floats(frame, "shipping_cost")
