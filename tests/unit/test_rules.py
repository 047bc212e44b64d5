"""Shipping and ledger rules (docs/reference.md, "Shipments and the ledger"), and the
product price rule."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from oaken.workers.accounting import sale_lines, shipment_lines
from oaken.workers.dimensions import _merge
from oaken.workers.events import SaleRecorded, ShipmentScheduled
from oaken.workers.shipping import (
    business_days_to_ship,
    ship_date,
    shipment_for,
    shipping_cost,
)


@pytest.mark.parametrize("dollars,cost", [
    ("0.00", "5.00"), ("99.99", "5.00"), ("100.00", "5.00"), ("100.10", "5.01"),
    ("100.30", "5.02"),  # 5.015 rounds half up
    ("211.56", "10.58"), ("1234567.89", "61728.39"),
])
def test_shipping_cost_is_five_percent_with_a_five_dollar_minimum(dollars: str, cost: str):
    assert shipping_cost(Decimal(dollars)) == Decimal(cost)


def test_ship_date_is_zero_to_four_business_days_and_deterministic() -> None:
    offsets = set()
    for n in range(2000):
        line = f"INV-{n:08d}00001"
        for sale_day in (date(2024, 3, 4), date(2024, 3, 9)):  # a Monday, a Saturday
            shipped = ship_date(line, sale_day)
            assert shipped == ship_date(line, sale_day)
            assert shipped.weekday() < 5
            first_business = sale_day + timedelta(days=(7 - sale_day.weekday()) % 7
                                                  if sale_day.weekday() >= 5 else 0)
            business_days = sum(
                1 for k in range((shipped - first_business).days)
                if (first_business + timedelta(days=k + 1)).weekday() < 5
            )
            assert 0 <= business_days <= 4
            offsets.add(business_days)
    assert offsets == {0, 1, 2, 3, 4}


def test_ship_date_is_the_day_by_day_walk_of_the_rule() -> None:
    """The precomputed offsets give what walking the calendar gives, every weekday."""
    for n in range(700):
        line, sale_day = f"S{n:07d}00001", date(2024, 3, 4) + timedelta(days=n % 14)
        day = sale_day
        while day.weekday() >= 5:
            day += timedelta(days=1)
        for _ in range(business_days_to_ship(line)):
            day += timedelta(days=1)
            while day.weekday() >= 5:
                day += timedelta(days=1)
        assert ship_date(line, sale_day) == day


def _balance(lines: list[tuple[str, Decimal, Decimal]]) -> Decimal:
    return sum((debit - credit for _, debit, credit in lines), Decimal("0"))


def test_sale_entry_balances_and_posts_cost_of_goods_when_cost_is_known() -> None:
    sale = SaleRecorded("L1", date(2024, 3, 4), 2191, Decimal("211.56"), 12, Decimal("11.75"))
    lines = sale_lines(sale)
    assert lines == [("1100", Decimal("211.56"), Decimal("0.00")),
                     ("4000", Decimal("0.00"), Decimal("211.56")),
                     ("5000", Decimal("141.00"), Decimal("0.00")),
                     ("1200", Decimal("0.00"), Decimal("141.00"))]
    assert _balance(lines) == 0
    no_cost = SaleRecorded("L2", date(2024, 3, 4), 2191, Decimal("9.99"), 1, None)
    assert [account for account, _, _ in sale_lines(no_cost)] == ["1100", "4000"]


def test_shipment_entry_balances() -> None:
    sale = SaleRecorded("L1", date(2024, 3, 4), 2191, Decimal("211.56"), 12, None)
    shipment = shipment_for(sale)
    assert isinstance(shipment, ShipmentScheduled)
    lines = shipment_lines(shipment)
    assert lines[0] == ("5100", Decimal("10.58"), Decimal("0.00"))
    assert lines[1] == ("2100", Decimal("0.00"), Decimal("10.58"))


def test_events_round_trip_without_losing_a_cent() -> None:
    sale = SaleRecorded("L1", date(2024, 3, 4), 7, Decimal("0.10"), 3, Decimal("12345678.91"))
    assert SaleRecorded.decode(sale.encode()) == sale
    shipment = shipment_for(sale)
    assert ShipmentScheduled.decode(shipment.encode()) == shipment


def test_a_newer_price_replaces_an_older_one_but_not_the_reverse() -> None:
    # (description, category, vendor, pack, volume, cost, retail, price_date)
    known = ("JIM BEAM", 1, 2, 12, 750, Decimal("10.00"), Decimal("15.00"), date(2024, 3, 1))
    newer = ("JIM BEAM", 1, 2, 12, 750, Decimal("10.50"), Decimal("15.75"), date(2024, 4, 1))
    older = ("JIM BEAM", 1, 2, 12, 750, Decimal("9.00"), Decimal("13.50"), date(2024, 1, 1))
    same = ("JIM BEAM", 1, 2, 12, 750, Decimal("10.00"), Decimal("15.00"), date(2024, 5, 1))
    assert _merge("products", known, newer) == newer
    assert _merge("products", known, older) == known
    assert _merge("products", known, same) == known  # no change: no upsert
    missing = (None, None, None, None, None, None, None, date(2024, 6, 1))
    assert _merge("products", known, missing) == known
