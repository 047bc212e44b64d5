"""Sale lines out of sampled blocks: one loop for every output format.

An output format is a layout (field names and value types: the Iowa export, or the
sales application's compact JSON) written in an encoding (dicts, CSV or JSON Lines):

========  =======  ========  ==========================
output    layout   encoding  used by
========  =======  ========  ==========================
iowa      Iowa     dicts     ``iter_sales()``
compact   compact  dicts     ``iter_sales(style="compact")``
csv       Iowa     CSV       ``write_sales(fmt="csv")``
jsonl     compact  JSON      ``write_sales(fmt="jsonl")``
========  =======  ========  ==========================

A row is cut into parts that repeat: the store (with the date: per invoice), the item at
a price, the tail (bottles, dollars, volume: per item, price and bottles) and the end
(per store). Each part is encoded once per run (a tail when first needed) and a row only
joins encoded parts, which is what keeps generation fast (BENCHMARKS.md). Text parts are the exact
fragments ``csv.writer`` or orjson write for those fields, so a joined line is byte for
byte what encoding the whole row would give.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Generic, TextIO, TypeVar

import orjson

from oaken.sources.catalog import Item, Store, catalog, format_cents, retail_cents
from oaken.sources.sampling import BOTTLE_BITS, Block, PricePlan

if TYPE_CHECKING:
    from _csv import Writer

__all__ = ["COMPACT", "COMPACT_KEYS", "DICT_FORMATS", "IOWA", "IOWA_CSV_HEADER", "TEXT_FORMATS",
           "Fields", "Format", "Layout", "Renderer", "csv_writer"]

IOWA_CSV_HEADER: list[str] = [
    "Invoice/Item Number", "Date", "Store Number", "Store Name", "Address", "City",
    "Zip Code", "Store Location", "County Number", "County", "Category", "Category Name",
    "Vendor Number", "Vendor Name", "Item Number", "Item Description", "Pack",
    "Bottle Volume (ml)", "State Bottle Cost", "State Bottle Retail", "Bottles Sold",
    "Sale (Dollars)", "Volume Sold (Liters)", "Volume Sold (Gallons)",
]

COMPACT_KEYS: list[str] = [
    "Invoice", "Date", "StoreNumber", "StoreName", "Address", "City", "ZipCode",
    "CountyNumber", "County", "Category", "CategoryName", "VendorNumber", "VendorName",
    "ItemNumber", "ItemDescription", "Pack", "BottleVolumeML", "BottleCost",
    "BottleRetail", "BottlesSold", "SaleDollars", "VolumeSoldLiters", "EmployeeID", "State",
]

Fields = dict[str, object]
P = TypeVar("P")  # an encoded part
R = TypeVar("R")  # an output row

LINE_SUFFIX = [f"{n:05d}" for n in range(13)]
GALLONS_PER_LITER = Decimal("0.264172")
CENT = Decimal("0.01")


def csv_writer(out: TextIO) -> Writer:
    """The CSV dialect of the Iowa export as this project writes it."""
    return csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")


# ---------------------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------------------


class Layout:
    """Field names and value types of a sale row, part by part."""

    id_key: str

    def date(self, day: date) -> Fields:
        raise NotImplementedError

    def store(self, s: Store) -> Fields:
        raise NotImplementedError

    def item(self, it: Item, cost: int) -> Fields:
        raise NotImplementedError

    def tail(self, bottles: int, sale: str, liters: str, gallons: str) -> Fields:
        raise NotImplementedError

    def end(self, s: Store) -> Fields:
        raise NotImplementedError


class _Iowa(Layout):
    """The Iowa export: its column names, every value a string."""

    id_key = "Invoice/Item Number"

    def date(self, day: date) -> Fields:
        return {"Date": day.strftime("%m/%d/%Y")}

    def store(self, s: Store) -> Fields:
        return {"Store Number": str(s.number), "Store Name": s.name, "Address": s.address,
                "City": s.city, "Zip Code": s.zip_code, "Store Location": s.location,
                "County Number": str(s.county_number), "County": s.county}

    def item(self, it: Item, cost: int) -> Fields:
        return {"Category": str(it.category.id), "Category Name": it.category.name,
                "Vendor Number": str(it.vendor.number), "Vendor Name": it.vendor.name,
                "Item Number": str(it.number), "Item Description": it.description,
                "Pack": str(it.pack), "Bottle Volume (ml)": str(it.volume_ml),
                "State Bottle Cost": format_cents(cost),
                "State Bottle Retail": format_cents(retail_cents(cost))}

    def tail(self, bottles: int, sale: str, liters: str, gallons: str) -> Fields:
        return {"Bottles Sold": str(bottles), "Sale (Dollars)": sale,
                "Volume Sold (Liters)": liters, "Volume Sold (Gallons)": gallons}

    def end(self, s: Store) -> Fields:
        return {}


class _Compact(Layout):
    """The sales application's compact JSON: numbers as numbers, money as strings."""

    id_key = "Invoice"

    def date(self, day: date) -> Fields:
        return {"Date": day.isoformat()}

    def store(self, s: Store) -> Fields:
        return {"StoreNumber": s.number, "StoreName": s.name, "Address": s.address,
                "City": s.city, "ZipCode": s.zip_code, "CountyNumber": s.county_number,
                "County": s.county}

    def item(self, it: Item, cost: int) -> Fields:
        return {"Category": it.category.id, "CategoryName": it.category.name,
                "VendorNumber": it.vendor.number, "VendorName": it.vendor.name,
                "ItemNumber": it.number, "ItemDescription": it.description, "Pack": it.pack,
                "BottleVolumeML": it.volume_ml, "BottleCost": format_cents(cost),
                "BottleRetail": format_cents(retail_cents(cost))}

    def tail(self, bottles: int, sale: str, liters: str, gallons: str) -> Fields:
        return {"BottlesSold": bottles, "SaleDollars": sale, "VolumeSoldLiters": liters}

    def end(self, s: Store) -> Fields:
        return {"EmployeeID": s.employee_id, "State": "IA"}


IOWA: Layout = _Iowa()
COMPACT: Layout = _Compact()


# ---------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------


class Format(Generic[P, R]):
    """A layout in an encoding: how parts are encoded and joined into a row.

    ``row(prefix, line, head, item, tail, end)`` is called once per sale line, so it is
    a plain function of precomputed parts; ``head`` (date and store) is made once per
    invoice. The line id is ``opening + "INV-" + invoice + line``.
    """

    row: Callable[[str, str, P, P, P, P], R]
    opening = ""  # what a row starts with before its line id

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def part(self, fields: Fields) -> P:
        raise NotImplementedError

    def head(self, day: P, store: P) -> P:
        raise NotImplementedError

    def end(self, fields: Fields) -> P:
        return self.part(fields)


class _Dicts(Format[Fields, Fields]):
    """Rows as dicts, keys in layout order."""

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        id_key = layout.id_key

        def row(prefix: str, line: str, head: Fields, item: Fields, tail: Fields,
                end: Fields) -> Fields:
            return {id_key: prefix + line, **head, **item, **tail, **end}

        self.row = row

    def part(self, fields: Fields) -> Fields:
        return fields

    def head(self, day: Fields, store: Fields) -> Fields:
        return {**day, **store}


def _text_row(prefix: str, line: str, head: str, item: str, tail: str, end: str) -> str:
    return f"{prefix}{line}{head}{item},{tail}{end}"


class _Csv(Format[str, str]):
    """Rows as lines of CSV as ``csv_writer`` writes them; parts are runs of fields.

    Holds one writer for all its parts: a format object serves one run.
    """

    row = staticmethod(_text_row)

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        self._buffer = io.StringIO()
        self._writer = csv_writer(self._buffer)

    def part(self, fields: Fields) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(fields.values())
        return self._buffer.getvalue()[:-1]

    def head(self, day: str, store: str) -> str:
        return f",{day},{store},"

    def end(self, fields: Fields) -> str:
        return f",{self.part(fields)}\n" if fields else "\n"


class _JsonLines(Format[str, str]):
    """Rows as JSON objects as orjson writes them, one a line; parts are runs of members."""

    row = staticmethod(_text_row)

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        self.opening = "{" + self.part({layout.id_key: ""})[:-1]  # {"Invoice":"

    def part(self, fields: Fields) -> str:
        return orjson.dumps(fields).decode()[1:-1]

    def head(self, day: str, store: str) -> str:
        return f'",{day},{store},'

    def end(self, fields: Fields) -> str:
        return f",{self.part(fields)}}}\n" if fields else "}\n"


#: a new format object for each run, by output name
DICT_FORMATS: dict[str, Callable[[], Format[Fields, Fields]]] = {
    "iowa": lambda: _Dicts(IOWA), "compact": lambda: _Dicts(COMPACT)}
TEXT_FORMATS: dict[str, Callable[[], Format[str, str]]] = {
    "csv": lambda: _Csv(IOWA), "jsonl": lambda: _JsonLines(COMPACT)}


# ---------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------


def _volume_strings(volume_ml: int, bottles: int) -> tuple[str, str]:
    liters = Decimal(bottles * volume_ml) / 1000
    gallons = liters * GALLONS_PER_LITER
    return (str(liters.quantize(CENT, ROUND_HALF_UP)), str(gallons.quantize(CENT, ROUND_HALF_UP)))


class Renderer(Generic[P, R]):
    """Turns the blocks of one run (one price plan) into rows of one format.

    Store, end and item parts are encoded up front, per store and per (item, price
    version); a tail is encoded on first use of its (item, price version, bottles) key.
    """

    def __init__(self, fmt: Format[P, R], plan: PricePlan) -> None:
        cat = catalog()
        layout = fmt.layout
        self.fmt = fmt
        self.items = cat.items
        self.costs = [it.cost_cents for it in cat.items]
        self.new_cost = plan.new_cost
        self.stores = [fmt.part(layout.store(s)) for s in cat.stores]
        self.ends = [fmt.end(layout.end(s)) for s in cat.stores]
        self.item_parts: list[P] = []
        for i, it in enumerate(cat.items):
            base = fmt.part(layout.item(it, it.cost_cents))
            changed = fmt.part(layout.item(it, plan.new_cost[i])) if i in plan.new_cost else base
            self.item_parts += [base, changed]
        self.tails: dict[int, P] = {}

    def tail(self, key: int) -> P:
        item_version, bottles = key >> BOTTLE_BITS, key & ((1 << BOTTLE_BITS) - 1)
        index, version = divmod(item_version, 2)
        cost = self.new_cost[index] if version else self.costs[index]
        sale = format_cents(bottles * retail_cents(cost))
        liters, gallons = _volume_strings(self.items[index].volume_ml, bottles)
        value = self.tails[key] = self.fmt.part(self.fmt.layout.tail(bottles, sale, liters,
                                                                     gallons))
        return value

    def rows(self, block: Block, day: date) -> Iterator[R]:
        fmt, opening, stores, ends = self.fmt, self.fmt.opening, self.stores, self.ends
        row, cached, tail, parts = fmt.row, self.tails.get, self.tail, self.item_parts
        day_part = fmt.part(fmt.layout.date(day))
        keys, pos = block.keys, 0
        for invoice, size, store in zip(block.invoices, block.sizes, block.stores, strict=True):
            prefix, head = f"{opening}INV-{invoice:08d}", fmt.head(day_part, stores[store])
            end = ends[store]
            for line in LINE_SUFFIX[1 : size + 1]:
                key = keys[pos]
                pos += 1
                yield row(prefix, line, head, parts[key >> BOTTLE_BITS],
                          cached(key) or tail(key), end)
