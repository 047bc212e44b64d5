"""Operations: sales per sender per day (``mart_dashboard_sender_daily``).

The sender is how a sale entered (``sales.sent_by``: an API key's name,
``replay:<file>``, ``import:<file>``); the day is the UTC day the source of truth
recorded it, not the sale date, so the page's filters do not apply.
"""

from __future__ import annotations

import pandas as pd

from oaken.dashboard.frames import floats
from oaken.warehouse.adapter import Warehouse


def sales_per_sender_day(wh: Warehouse) -> pd.DataFrame:
    """recorded_date, sent_by, sale_lines, sale_dollars; by day then sender."""
    frame = wh.frame(
        "select recorded_date, sent_by, sale_lines, sale_dollars "
        f"from {wh.table('mart_dashboard_sender_daily')} order by recorded_date, sent_by"
    )
    frame["recorded_date"] = pd.to_datetime(frame["recorded_date"])
    return floats(frame, "sale_lines", "sale_dollars")
