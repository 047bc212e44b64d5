"""How many of a period's sales fall on each day: the seasonal model of the generator.

A day's expected volume is a weekday factor (Monday to Thursday high, Friday half,
Saturday low, Sunday almost nothing) times a month or holiday factor (December busy,
the week before Christmas busiest; closed on New Year's Day, July 4th, Thanksgiving
and Christmas Day; busy days before Thanksgiving and July 4th) times a yearly growth
trend. The sampled counts add log-normal noise and round cumulatively, so they always
add up to the number of sales asked for.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

__all__ = ["day_weight", "rows_per_day"]

WEEKDAY_FACTOR = (1.22, 1.28, 1.20, 1.10, 0.60, 0.07, 0.006)  # Monday .. Sunday
MONTH_FACTOR = (0.82, 0.88, 0.95, 0.97, 1.05, 1.04, 1.03, 1.02, 0.97, 1.00, 1.06, 1.0)
ANNUAL_GROWTH = 1.15
DAY_NOISE = 0.08  # sigma of the log-normal noise on each day's volume


def _thanksgiving(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def _holiday_factor(day: date) -> float:
    """December, closures and the days before holidays; otherwise the month's factor."""
    m, d = day.month, day.day
    if (m, d) in {(1, 1), (7, 4), (12, 25)} or day == _thanksgiving(day.year):
        return 0.0
    if m == 12:
        if d <= 14:
            return 1.30
        if d <= 23:
            return 1.70
        return 0.90 if d == 24 else 1.50
    if m == 11 and 0 < (_thanksgiving(day.year) - day).days <= 3:
        return 1.30
    if m in (6, 7) and 0 < (date(day.year, 7, 4) - day).days <= 7:
        return 1.15
    return MONTH_FACTOR[m - 1]


def day_weight(day: date, start: date) -> float:
    """Expected relative volume of ``day`` (before noise); growth counts from ``start``."""
    years = (day - start).days / 365.25
    return WEEKDAY_FACTOR[day.weekday()] * _holiday_factor(day) * ANNUAL_GROWTH ** years


def rows_per_day(rng: np.random.Generator, rows: int, start: date, end: date) -> np.ndarray:
    """Sales per day from ``start`` to ``end`` (inclusive), adding up to ``rows``."""
    n_days = (end - start).days + 1
    weights = np.array([day_weight(start + timedelta(days=i), start) for i in range(n_days)])
    weights *= rng.lognormal(0.0, DAY_NOISE, n_days)
    if weights.sum() <= 0:
        weights = np.ones(n_days)
    cum = np.cumsum(weights)
    bounds = np.floor(cum / cum[-1] * rows + 0.5).astype(np.int64)
    bounds[-1] = rows
    return np.diff(bounds, prepend=0)
