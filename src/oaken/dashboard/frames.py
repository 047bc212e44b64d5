"""Small conversions of what a query returns into what the page draws."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd


def as_date(value: Any) -> date | None:
    """A date column's value as a ``date``, whichever type the warehouse returned."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "date") and callable(value.date):
        return value.date()
    return value


def floats(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``columns`` of ``frame`` as float64, for charts: Plotly does not plot Decimal.
    Exact money stays in the Decimal values of the dataclasses and the CSV export."""
    for column in columns:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame
