"""Money columns: exact ``DECIMAL(p, 2)`` on MariaDB/MySQL and PostgreSQL, integer
hundredths on SQLite.

SQLite has no decimal type: a ``NUMERIC`` column keeps ``45.37`` as a binary float,
and ``sum()`` over floats drifts off the cent (``154942.450000001``). Applications
that read the database with raw SQL must get exact sums, so on SQLite money is an
``INTEGER`` of hundredths (cents): ``45.37`` is stored as ``4537``, integer sums are
exact, and :class:`Money` maps it to and from ``Decimal`` with two places. The other
databases keep their ``DECIMAL``/``NUMERIC`` columns unchanged.

Conversion is exact or an error, never through a float: a value with more than two
places (``1.005``) or not finite is refused, not rounded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Integer, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator, TypeEngine

#: operators whose other operand is a plain number (a factor), not an amount of money
_FACTOR_OPERATORS = frozenset({operators.mul, operators.truediv, operators.floordiv,
                               operators.mod})
_MEMO_LIMIT = 1 << 16
_memo: dict[Decimal, int] = {}


def to_hundredths(value: Decimal | int) -> int:
    """``value`` as an exact integer of hundredths: ``Decimal("45.37")`` → ``4537``.

    Raises :class:`ValueError` for more than two places or a non-finite value, and
    :class:`TypeError` for anything but ``Decimal`` or ``int`` (a float is never money).
    The hot path of every SQLite write: the same prices and totals recur, so answers
    are remembered (equal Decimals, ``5.1`` and ``5.10``, share one answer).
    """
    if type(value) is not Decimal:
        if type(value) is int:
            return value * 100
        raise TypeError(f"money must be a Decimal, got {type(value).__name__}: {value!r}")
    if not value.is_finite():
        raise ValueError(f"money must be a finite amount, got {value!r}")
    cents = _memo.get(value)
    if cents is not None:
        return cents
    try:
        scaled = value.scaleb(2)
    except ArithmeticError:  # beyond the decimal context (e.g. 1E+999999)
        raise ValueError(f"money out of range: {value!r}") from None
    cents = int(scaled)
    if cents != scaled:
        raise ValueError(f"money has more than two decimal places: {value!r}")
    if len(_memo) >= _MEMO_LIMIT:
        _memo.clear()
    _memo[value] = cents
    return cents


def to_hundredths_or_none(value: Decimal | None) -> int | None:
    return None if value is None else to_hundredths(value)


def from_hundredths(value: int) -> Decimal:
    """An integer of hundredths as ``Decimal`` with two places: ``4537`` → ``45.37``."""
    if type(value) is not int:
        raise TypeError(
            f"money on SQLite is stored as integer hundredths, got {type(value).__name__} "
            f"{value!r} (a database not migrated to revision 0002?)")
    return Decimal(value).scaleb(-2)


class Money(TypeDecorator[Decimal]):
    """``NUMERIC(precision, 2)`` as ``Decimal``; an ``INTEGER`` of hundredths on SQLite.

    Core statements convert through it on every database: a select of a money column,
    or of ``sum()``/``min()``/``max()``/``coalesce()`` over one, or of the sum or
    difference of two, returns ``Decimal``. A ``Decimal`` compared with or added to
    one is bound as money (hundredths on SQLite); a factor (``debit * 2``) must be an
    ``int``. Raw SQL bypasses all this: see "Money in the database" in
    docs/architecture.md.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int) -> None:
        super().__init__(precision, 2, asdecimal=True)

    @property
    def precision(self) -> int:
        return cast(int, cast(Numeric, self.impl_instance).precision)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Integer())
        return dialect.type_descriptor(self.impl_instance)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return to_hundredths(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return from_hundredths(value)

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        if op not in _FACTOR_OPERATORS:
            return self  # an amount: compared or added as money
        if type(value) is not int:
            # hundredths × 0.05 would not be hundredths on SQLite: compute in Python
            raise TypeError(f"money can be multiplied or divided by an int only, "
                            f"got {value!r}")
        return Integer()

    def __repr__(self) -> str:
        return f"Money({self.precision})"
