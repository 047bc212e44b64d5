"""Money as the platform reports it: ``Decimal`` rounded to the cent.

Sums come back from the databases and warehouses as ``Decimal``, integers, or (DuckDB
and BigQuery aggregates) floats; going through ``str`` keeps a float's shortest
representation instead of its binary expansion, so ``0.1`` stays ``0.10``.
"""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")


def to_cents(value: object) -> Decimal:
    """``value`` as a Decimal amount rounded to the cent; ``None`` (an empty sum) is 0.00."""
    if value is None:
        return Decimal("0.00")
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(CENT)
