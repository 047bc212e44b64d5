"""Dimension rows (stores, vendors, categories, products, employees) from sale messages.

A hot stream repeats the same few thousand stores and items millions of times, so
the worker keeps what it last wrote in memory and only upserts a row whose
attributes changed. A field the message leaves out never blanks a known value.
A product's price is the price of its most recent sale: an older, late message does
not roll a price back, and every sale keeps the price it was sold at. The cache only
saves writes; the upsert itself compares sale dates, so two workers of a consumer
group, each with its own cache, cannot roll a price back either.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from operator import attrgetter

from sqlalchemy import Connection, Table, select

from oaken.contract import Sale
from oaken.db import models
from oaken.db.writes import insert_ignore, upsert

#: table -> (key column, attribute columns, the Sale attribute for each column)
_SPECS: dict[str, tuple[Table, str, tuple[str, ...], tuple[str, ...]]] = {
    "categories": (models.categories, "category_id", ("category_name",), ("category_name",)),
    "vendors": (models.vendors, "vendor_id", ("vendor_name",), ("vendor_name",)),
    "stores": (
        models.stores,
        "store_id",
        ("store_name", "address", "city", "zip_code", "county_number", "county", "state"),
        ("store_name", "address", "city", "zip_code", "county_number", "county", "state"),
    ),
    "products": (
        models.products,
        "item_id",
        ("item_description", "category_id", "vendor_id", "pack", "bottle_volume_ml",
         "bottle_cost", "bottle_retail", "price_date"),
        ("item_description", "category_id", "vendor_id", "pack", "bottle_volume_ml",
         "bottle_cost", "bottle_retail", "sale_date"),
    ),
}
_GETTERS = [
    (name, attrgetter(spec[1]), attrgetter(*spec[3]) if len(spec[3]) > 1
     else (lambda sale, a=spec[3][0]: (getattr(sale, a),)))
    for name, spec in _SPECS.items()
]
_PRICE_FIELDS = 5  # products: index of bottle_cost, then bottle_retail, then price_date
_PRICE_COLUMNS = ("bottle_cost", "bottle_retail", "price_date")
_ORDER = ("categories", "vendors", "stores", "products")


class DimensionCache:
    """What the database holds for each dimension row this process has seen."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[int, tuple]] = {name: {} for name in _ORDER}
        self.employees: set[int] = set()

    def load(self, connection: Connection) -> None:
        """Warm the cache from the database (a few thousand rows)."""
        for name in _ORDER:
            table, key, columns, _ = _SPECS[name]
            query = select(table.c[key], *(table.c[c] for c in columns))
            self.rows[name] = {row[0]: tuple(row[1:]) for row in connection.execute(query)}
        self.employees = set(connection.execute(select(models.employees.c.employee_id)).scalars())

    def write(self, connection: Connection, sales: Iterable[Sale]) -> None:
        """Upsert the dimension rows these sales change, parents before children.

        The cache is updated only by :meth:`commit` after the transaction commits,
        so a rolled-back batch leaves it as the database is.
        """
        pending: dict[str, dict[int, tuple]] = {name: {} for name in _ORDER}
        self._pending = pending
        new_employees: set[int] = set()
        for sale in sorted(sales, key=_by_date):
            for name, key_of, attrs_of in _GETTERS:
                ident = key_of(sale)
                if ident is None:
                    continue
                new = attrs_of(sale)
                known = pending[name].get(ident) or self.rows[name].get(ident)
                if new == known:  # the hot path: nothing changed
                    continue
                merged = _merge(name, known, new)
                if merged != known:
                    pending[name][ident] = merged
            if sale.employee_id is not None and sale.employee_id not in self.employees:
                new_employees.add(sale.employee_id)
        now = datetime.now(UTC).replace(tzinfo=None)
        for name in _ORDER:
            table, key, columns, _ = _SPECS[name]
            rows = [
                {key: ident, **dict(zip(columns, values, strict=True)), "updated_at": now}
                for ident, values in pending[name].items()
            ]
            if name == "products":  # the newest price wins, whoever writes last
                upsert(connection, table, rows, guard="price_date", guarded=_PRICE_COLUMNS)
            else:
                upsert(connection, table, rows)
        insert_ignore(connection, models.employees, [
            {"employee_id": ident, "updated_at": now} for ident in sorted(new_employees)
        ])
        self._new_employees = new_employees

    def commit(self) -> None:
        for name, rows in getattr(self, "_pending", {}).items():
            self.rows[name].update(rows)
        self.employees |= getattr(self, "_new_employees", set())
        self._pending, self._new_employees = {}, set()

    def rollback(self) -> None:
        self._pending, self._new_employees = {}, set()


def _by_date(sale: Sale) -> date:
    return sale.sale_date


def _merge(name: str, known: tuple | None, new: tuple) -> tuple:
    """Known values overlaid with the message's non-missing ones."""
    if known is None:
        return new
    merged = tuple(n if n is not None else k for k, n in zip(known, new, strict=True))
    if name != "products":
        return merged
    # products: (…, bottle_cost, bottle_retail, price_date). price_date is when the
    # current price took effect; only a sale at least that recent may change it.
    known_price, new_price = known[_PRICE_FIELDS:-1], new[_PRICE_FIELDS:-1]
    known_date, new_date = known[-1], new[-1]
    changed = any(n is not None and n != k for k, n in zip(known_price, new_price, strict=True))
    if changed and (known_date is None or new_date >= known_date):
        return merged
    return merged[:_PRICE_FIELDS] + known[_PRICE_FIELDS:]
