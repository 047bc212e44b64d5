"""The books as the warehouse holds them: receivables per store and the ledger check.

A balance has no sale date or product, so receivables follow only the store and
county filters; the ledger check (``mart_dashboard_ledger``) follows none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

import pandas as pd

from oaken.dashboard.filters import Filters, where
from oaken.dashboard.frames import floats
from oaken.money import to_cents
from oaken.warehouse.adapter import Warehouse


def receivables(wh: Warehouse, f: Filters) -> pd.DataFrame:
    """What each store owes as of the latest posting (``mart_receivables``), for the
    filter's stores and counties (a balance has no sale date or product), largest first."""
    places = replace(f, categories=(), vendors=(), items=())
    condition, params = where(wh, places, dates=False,
                              columns={"counties": "coalesce(county, 'Unknown')"})
    frame = wh.frame(
        "select store_id, store_name, city, county, as_of_date, billed, collected, balance, "
        "balance_0_30_days, balance_31_60_days, balance_61_90_days, balance_over_90_days, "
        f"oldest_open_date from {wh.table('mart_receivables')} where {condition} "
        "order by balance desc, store_id", params)
    for column in ("as_of_date", "oldest_open_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return floats(frame, "billed", "collected", "balance", "balance_0_30_days",
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


def ledger_check(wh: Warehouse) -> LedgerCheck:
    """Debits and credits per account in the warehouse copy of the ledger."""
    rows = wh.rows(
        "select account_code, account_name, postings, debits, credits, balance "
        f"from {wh.table('mart_dashboard_ledger')} order by account_code", {})
    frame = pd.DataFrame(rows, columns=["account_code", "account_name", "postings", "debits",
                                        "credits", "balance"])
    debits = sum((to_cents(r[3]) for r in rows), Decimal("0.00"))
    credits = sum((to_cents(r[4]) for r in rows), Decimal("0.00"))
    return LedgerCheck(floats(frame, "debits", "credits", "balance"), debits, credits)
