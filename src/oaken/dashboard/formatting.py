"""How the report shows numbers: compact scorecards ("$1.23M", "45.6K") and changes
versus the previous period ("+12.3%"). Pure functions, shared by the app and its tests."""

from __future__ import annotations

from decimal import Decimal

_UNITS = ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"),
          (Decimal(10) ** 3, "K"))


def compact(value: int | float | Decimal | None, *, money: bool = False) -> str:
    """Three significant digits with a K/M/B/T suffix: 1234 → "1.23K", 1234567.8 with
    ``money`` → "$1.23M"; below 1,000 counts are whole and money has cents."""
    if value is None:
        return "—"
    number = Decimal(str(value))
    sign = "-" if number < 0 else ""
    number = abs(number)
    prefix = "$" if money else ""
    for index, (threshold, suffix) in enumerate(_UNITS):
        if number >= threshold:
            scaled = number / threshold
            text = _three_digits(scaled)
            if Decimal(text) >= 1000 and index > 0:  # 999.96K rounds to 1000K: say 1M
                bigger, bigger_suffix = _UNITS[index - 1]
                text, suffix = _three_digits(number / bigger), bigger_suffix
            return f"{sign}{prefix}{text}{suffix}"
    if money:
        return f"{sign}${number.quantize(Decimal('0.01')):,}"
    return f"{sign}{number.quantize(Decimal(1)):,}"


def _three_digits(scaled: Decimal) -> str:
    places = 2 if scaled < 10 else 1 if scaled < 100 else 0
    text = f"{scaled.quantize(Decimal(1).scaleb(-places)):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def exact(value: int | float | Decimal | None, *, money: bool = False) -> str:
    """The full value with thousands separators: "1,234,567.89" (money: "$1,234,567.89")."""
    if value is None:
        return "—"
    number = Decimal(str(value))
    if money:
        text = f"{abs(number).quantize(Decimal('0.01')):,}"
        return f"{'-' if number < 0 else ''}${text}"
    return f"{number.quantize(Decimal(1)):,}"


def change(current: int | float | Decimal | None,
           previous: int | float | Decimal | None) -> float | None:
    """Relative change from ``previous`` to ``current``; None when there is no base."""
    if current is None or previous is None or Decimal(str(previous)) == 0:
        return None
    return float((Decimal(str(current)) - Decimal(str(previous))) / abs(Decimal(str(previous))))


def percent(value: float | None, *, signed: bool = False) -> str | None:
    """0.1234 → "12.3%" (``signed``: "+12.3%")."""
    if value is None:
        return None
    return f"{value:+.1%}" if signed else f"{value:.1%}"
