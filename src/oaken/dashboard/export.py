"""The CSV download: the filtered sales, one row per day × store × item, with names.

Read from ``mart_sales_daily_detail``, whose product and county columns may be null;
the filter compares them as the dashboard marts store them (``Unknown``, ``-1``).
"""

from __future__ import annotations

import pandas as pd

from oaken.dashboard.filters import Filters, where
from oaken.warehouse.adapter import Warehouse

EXPORT_COLUMNS = (
    "sale_date", "store_id", "store_name", "city", "county", "item_id", "item_description",
    "category_id", "category_name", "vendor_id", "vendor_name", "sale_lines", "invoices",
    "bottles_sold", "volume_liters", "sale_dollars", "cost_dollars", "gross_margin",
    "shipping_cost",
)
#: the detail mart keeps nulls where the dashboard marts say 'Unknown' / -1
_DETAIL_COLUMNS = {"counties": "coalesce(county, 'Unknown')",
                   "categories": "coalesce(category_id, -1)",
                   "vendors": "coalesce(vendor_id, -1)"}


def filtered_rows(wh: Warehouse, f: Filters) -> pd.DataFrame:
    """The filtered sales at the grain of ``mart_sales_daily_detail`` (one row per day ×
    store × item, with names), for the CSV download. Money stays exact (Decimal)."""
    condition, params = where(wh, f, columns=_DETAIL_COLUMNS)
    rows = wh.rows(
        f"select {', '.join(EXPORT_COLUMNS)} from {wh.table('mart_sales_daily_detail')} "
        f"where {condition} order by sale_date, store_id, item_id", params)
    return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))


def filtered_rows_csv(wh: Warehouse, f: Filters) -> bytes:
    return filtered_rows(wh, f).to_csv(index=False).encode("utf-8")
