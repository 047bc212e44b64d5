"""Money to and from SQLite's integer hundredths: exact, or an error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oaken.db.money import from_hundredths, to_hundredths, to_hundredths_or_none


@pytest.mark.parametrize(("amount", "hundredths"), [
    (Decimal("0.01"), 1), (Decimal("0.10"), 10), (Decimal("0.1") + Decimal("0.2"), 30),
    (Decimal("45.37"), 4537), (Decimal("5"), 500), (Decimal("5.1"), 510),
    (Decimal("1E+2"), 10000), (Decimal("0.00"), 0), (Decimal("-0.00"), 0),
    (Decimal("-12.34"), -1234), (Decimal("9999999999.99"), 999999999999),
    (Decimal("999999999999.99"), 99999999999999), (7, 700),
])
def test_amounts_convert_exactly_both_ways(amount: Decimal | int, hundredths: int) -> None:
    assert to_hundredths(amount) == hundredths
    assert to_hundredths(amount) == hundredths  # remembered: the same answer
    back = from_hundredths(hundredths)
    assert back == amount and back.as_tuple().exponent == -2


def test_equal_amounts_share_one_answer() -> None:
    assert to_hundredths(Decimal("5.1")) == to_hundredths(Decimal("5.10")) == 510


@pytest.mark.parametrize("amount", [
    Decimal("1.005"), Decimal("0.001"), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"),
    Decimal("-Infinity"), Decimal("1E+999999"),
])
def test_amounts_that_are_not_exact_hundredths_are_refused(amount: Decimal) -> None:
    with pytest.raises(ValueError):
        to_hundredths(amount)


@pytest.mark.parametrize("amount", [0.1, 0.5, True, "1.00", None])
def test_only_decimals_and_ints_are_money(amount: object) -> None:
    with pytest.raises(TypeError):
        to_hundredths(amount)  # type: ignore[arg-type]


def test_none_stays_none() -> None:
    assert to_hundredths_or_none(None) is None
    assert to_hundredths_or_none(Decimal("0.30")) == 30


@pytest.mark.parametrize("stored", [0.3, "30", Decimal("30")])
def test_sqlite_money_must_be_an_integer(stored: object) -> None:
    with pytest.raises(TypeError, match="integer hundredths"):
        from_hundredths(stored)  # type: ignore[arg-type]
