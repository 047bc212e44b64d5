"""Data contract v1: one sale line, parsed leniently and validated strictly.

The sales application, the Iowa CSV export, the Iowa open-data API and the BigQuery
public dataset spell the same fields four ways; :data:`FIELD_ALIASES` maps every
spelling to one canonical name. Parsing is lenient where real exports are messy
(money with ``$`` and thousands separators, ids like ``"2191.0"``, three date
formats) and strict about meaning (required fields, signs, ranges, lengths, characters).
Every problem is reported with the canonical field name, all at once. A value that
passes is stored alike by SQLite, MariaDB/MySQL and PostgreSQL: the limits are the
strictest of the three (no NUL in text, amounts within the columns' precision).

This is the hottest code in the pipeline (every message passes through it in the
orders worker), so it is a table of small parse functions over a slotted dataclass
rather than a generic validation framework (its cost per message: BENCHMARKS.md).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from operator import attrgetter
from typing import Any

import orjson

from oaken.errors import ContractError

CENT = Decimal("0.01")
MAX_TEXT = 255
MAX_LINE_ID = 64
MIN_SALE_DATE = date(2012, 1, 1)
MAX_MONEY = Decimal("9999999999.99")  # DECIMAL(12,2)
MAX_LEDGER = Decimal("999999999999.99")  # DECIMAL(14,2), a journal line
MAX_INT = 2_147_483_647  # a signed 32-bit column

#: canonical name -> (compact JSON, Iowa CSV header, Iowa open-data API, BigQuery public dataset)
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "invoice_line_id": (
        "Invoice", "Invoice/Item Number", "invoice_line_no", "invoice_and_item_number",
    ),
    "sale_date": ("Date", "date"),
    "store_id": ("StoreNumber", "Store Number", "store", "store_number"),
    "store_name": ("StoreName", "Store Name", "name", "store_name"),
    "address": ("Address", "address"),
    "city": ("City", "city"),
    "zip_code": ("ZipCode", "Zip Code", "zipcode", "zip_code"),
    "county_number": ("CountyNumber", "County Number", "county_number"),
    "county": ("County", "county"),
    "category_id": ("Category", "category"),
    "category_name": ("CategoryName", "Category Name", "category_name"),
    "vendor_id": ("VendorNumber", "Vendor Number", "vendor_no", "vendor_number"),
    "vendor_name": ("VendorName", "Vendor Name", "vendor_name"),
    "item_id": ("ItemNumber", "Item Number", "itemno", "item_number"),
    "item_description": ("ItemDescription", "Item Description", "im_desc", "item_description"),
    "pack": ("Pack", "pack"),
    "bottle_volume_ml": ("BottleVolumeML", "Bottle Volume (ml)", "bottle_volume_ml"),
    "bottle_cost": ("BottleCost", "State Bottle Cost", "state_bottle_cost"),
    "bottle_retail": ("BottleRetail", "State Bottle Retail", "state_bottle_retail"),
    "bottles_sold": ("BottlesSold", "Bottles Sold", "sale_bottles", "bottles_sold"),
    "sale_dollars": ("SaleDollars", "Sale (Dollars)", "sale_dollars"),
    "volume_liters": (
        "VolumeSoldLiters", "Volume Sold (Liters)", "sale_liters", "volume_sold_liters",
    ),
    "employee_id": ("EmployeeID",),
    "state": ("State",),
}

REQUIRED = ("invoice_line_id", "sale_date", "store_id", "item_id", "bottles_sold", "sale_dollars")

_ALIAS_TO_FIELD: dict[str, str] = {
    alias: field for field, aliases in FIELD_ALIASES.items() for alias in aliases
}
_INVOICE_SUFFIX = re.compile(r"^(.+?)(\d{5})$")
#: what text may not hold: the control characters (Unicode category Cc: C0, DEL, C1)
#: but tab, line feed and carriage return, and lone surrogates (not Unicode text;
#: PostgreSQL refuses NUL, the other databases would keep it)
_REFUSED_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class _Invalid(ValueError):
    """A single field failed to parse; the message is completed with the field name."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _character(char: str) -> str:
    """``char`` named for an error message: ``the control character U+0000``."""
    kind = _KINDS.get(unicodedata.category(char), "the unprintable character")
    return f"{kind} U+{ord(char):04X}"


_KINDS = {"Cc": "the control character", "Cs": "a lone surrogate"}


def _refused_in_text(text: str) -> str | None:
    """Why ``text`` cannot be kept as text, if it cannot (only the slow path's question:
    printable text has none of the refused characters)."""
    found = _REFUSED_IN_TEXT.search(text)
    if found is None:
        return None
    return f"contains {_character(found.group())} at character {found.start() + 1}"


def _text(value: object) -> str | None:
    if type(value) is str:  # the common case, first
        if not value.isprintable() and (problem := _refused_in_text(value)):
            raise _Invalid(problem)
        text = value.strip()
        if len(text) <= MAX_TEXT:
            return text or None
        raise _Invalid(f"longer than {MAX_TEXT} characters ({len(text)})")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid(f"expected text, got {type(value).__name__}")
    text = value.strip() if isinstance(value, str) else _number_text(value)
    if len(text) > MAX_TEXT:
        raise _Invalid(f"longer than {MAX_TEXT} characters ({len(text)})")
    return text or None


def _line_id(value: object) -> str | None:
    """A string of printable characters (leading and trailing spaces trimmed), or a
    positive whole number sent as a JSON number."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise _Invalid(f"must be text or a positive integer, got {_show(value)}")
        return str(value)
    if value is not None and not isinstance(value, str):
        raise _Invalid(f"must be text or a positive integer, got {type(value).__name__}")
    if value is not None and not value.isprintable():
        raise _Invalid(_unprintable(value))
    return _text(value)


def _unprintable(text: str) -> str:
    position, char = next((n, c) for n, c in enumerate(text) if not c.isprintable())
    return f"contains {_character(char)} at character {position + 1} (ids are printable)"


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _int(value: object) -> int | None:
    if type(value) is int:  # the common case, first
        if abs(value) > MAX_INT:
            raise _Invalid(f"out of range ({value})")
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _Invalid(f"expected a whole number, got {_show(value)}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise _Invalid(f"expected a whole number, got {_show(value)}")
        number = int(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
        if len(text) > 32:
            raise _Invalid(f"expected a whole number, got {_show(value)}")
        try:
            number = int(text)
        except ValueError:
            try:
                parsed = Decimal(text)
            except InvalidOperation:
                raise _Invalid(f"expected a whole number, got {_show(value)}") from None
            if not parsed.is_finite() or parsed != parsed.to_integral_value():
                raise _Invalid(f"expected a whole number, got {_show(value)}") from None
            number = int(parsed)
    else:
        raise _Invalid(f"expected a whole number, got {type(value).__name__}")
    if abs(number) > MAX_INT:
        raise _Invalid(f"out of range ({number})")
    return number


def _id(value: object) -> int | None:
    number = _int(value)
    if number is not None and number <= 0:
        raise _Invalid(f"must be a positive integer, got {_show(value)}")
    return number


def _count(value: object) -> int | None:
    number = _int(value)
    if number is not None and number < 0:
        raise _Invalid(f"must not be negative, got {_show(value)}")
    return number


def _parse_money(value: object) -> Decimal | None:
    if type(value) is str and 0 < len(value) <= 16 and "$" not in value and "," not in value:
        try:  # the common case, first: a plain decimal string
            amount = Decimal(value)
        except InvalidOperation:
            pass
        else:
            if amount.is_finite():
                amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
                if abs(amount) <= MAX_MONEY:
                    return amount
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _Invalid(f"expected an amount, got {_show(value)}")
    if isinstance(value, int | float):
        text = repr(value)
    elif isinstance(value, str):
        text = value.strip().replace("$", "").replace(",", "")
        if len(text) > 32:
            raise _Invalid(f"expected an amount, got {_show(value)}")
    else:
        raise _Invalid(f"expected an amount, got {type(value).__name__}")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise _Invalid(f"expected an amount, got {_show(value)}") from None
    if not amount.is_finite():
        raise _Invalid(f"expected an amount, got {_show(value)}")
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if abs(amount) > MAX_MONEY:
        raise _Invalid(f"out of range ({amount})")
    return amount


def _price(value: object) -> Decimal | None:
    amount = _parse_money(value)
    if amount is not None and amount < 0:
        raise _Invalid(f"must not be negative, got {_show(value)}")
    return amount


def _date(value: object) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Invalid(f"expected a date, got {type(value).__name__}")
    text = value.strip()
    try:
        if len(text) == 10 and text[4] == "-":
            return date.fromisoformat(text)
        if len(text) == 10 and text[2] == "/":
            return date(int(text[6:]), int(text[:2]), int(text[3:5]))
        if 10 < len(text) <= 40 and text[4] == "-" and text[10] in "T ":
            return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    raise _Invalid(
        f"expected YYYY-MM-DD, MM/DD/YYYY or an ISO date-time, got {_show(value)}"
    )


_PARSERS: dict[str, Callable[[object], Any]] = {
    "invoice_line_id": _line_id,
    "sale_date": _date,
    "store_id": _id,
    "store_name": _text,
    "address": _text,
    "city": _text,
    "zip_code": _text,
    "county_number": _id,
    "county": _text,
    "category_id": _id,
    "category_name": _text,
    "vendor_id": _id,
    "vendor_name": _text,
    "item_id": _id,
    "item_description": _text,
    "pack": _count,
    "bottle_volume_ml": _count,
    "bottle_cost": _price,
    "bottle_retail": _price,
    "bottles_sold": _int,
    "sale_dollars": _parse_money,
    "volume_liters": _price,
    "employee_id": _id,
    "state": _text,
}


@dataclass(frozen=True, slots=True)
class Sale:
    """One valid sale line, in canonical names and types. Money is Decimal, 2 places."""

    invoice_line_id: str
    sale_date: date
    store_id: int
    item_id: int
    bottles_sold: int
    sale_dollars: Decimal
    store_name: str | None = None
    address: str | None = None
    city: str | None = None
    zip_code: str | None = None
    county_number: int | None = None
    county: str | None = None
    category_id: int | None = None
    category_name: str | None = None
    vendor_id: int | None = None
    vendor_name: str | None = None
    item_description: str | None = None
    pack: int | None = None
    bottle_volume_ml: int | None = None
    bottle_cost: Decimal | None = None
    bottle_retail: Decimal | None = None
    volume_liters: Decimal | None = None
    employee_id: int | None = None
    state: str = "IA"

    @property
    def invoice_id(self) -> str:
        """The invoice this line belongs to: the id without its 5-digit line suffix."""
        match = _INVOICE_SUFFIX.match(self.invoice_line_id)
        return match.group(1) if match else self.invoice_line_id

    def content_hash(self) -> str:
        """A fingerprint of everything the sale says; equal hashes mean identical sales."""
        text = orjson.dumps(_all_fields(self), default=str)
        return hashlib.blake2b(text, digest_size=16).hexdigest()

    def to_dict(self) -> dict[str, object]:
        """Canonical JSON-ready form (money and dates as strings)."""
        out: dict[str, object] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, Decimal | date):
                value = str(value)
            out[name] = value
        return out


_SLOTS: tuple[str, ...] = Sale.__slots__
_all_fields = attrgetter(*_SLOTS)
_ALIAS_SPEC: dict[str, tuple[str, Callable[[object], Any]]] = {
    alias: (field, _PARSERS[field]) for alias, field in _ALIAS_TO_FIELD.items()
}


def parse_sale(record: object, *, today: date | None = None) -> Sale:
    """Normalise one record in any of the four spellings into a :class:`Sale`.

    Raises :class:`~oaken.errors.ContractError` listing every invalid field.
    """
    if not isinstance(record, Mapping):
        raise ContractError([f"message: expected a JSON object, got {type(record).__name__}"])
    values: dict[str, object] = {}
    errors: list[str] = []
    for key, raw in record.items():
        spec = _ALIAS_SPEC.get(key) if type(key) is str else None
        if spec is None:
            continue
        field, parse = spec
        if field in values:
            continue
        try:
            values[field] = parse(raw)
        except _Invalid as problem:
            errors.append(f"{field}: {problem}")
            values[field] = None
    for field in REQUIRED:
        if values.get(field) is None and not any(e.startswith(field + ":") for e in errors):
            errors.append(f"{field}: required")
    errors.extend(_check_meaning(values, today or datetime.now(UTC).date()))
    if errors:
        raise ContractError(errors)
    if values.get("state") is None:
        values.pop("state", None)
    return Sale(**values)  # type: ignore[arg-type]


def _check_meaning(values: dict[str, Any], today: date) -> list[str]:
    """Checks of meaning on the fields that parsed (a missing field is reported already)."""
    errors = []
    line_id = values.get("invoice_line_id")
    if line_id is not None and len(line_id) > MAX_LINE_ID:
        errors.append(f"invoice_line_id: longer than {MAX_LINE_ID} characters ({len(line_id)})")
    bottles = values.get("bottles_sold")
    if bottles is not None and bottles <= 0:
        errors.append(f"bottles_sold: must be positive, got {bottles}")
    dollars = values.get("sale_dollars")
    if dollars is not None and dollars < 0:
        errors.append(f"sale_dollars: must not be negative, got {dollars}")
    cost = values.get("bottle_cost")
    if cost is not None and bottles is not None and cost * bottles > MAX_LEDGER:
        errors.append(f"bottle_cost: times bottles_sold ({cost * bottles}) is beyond the "
                      f"ledger's {MAX_LEDGER:,}")
    sale_date = values.get("sale_date")
    if sale_date is None:
        pass
    elif sale_date < MIN_SALE_DATE:
        errors.append(f"sale_date: before {MIN_SALE_DATE}, got {sale_date}")
    elif sale_date > today + timedelta(days=1):
        errors.append(f"sale_date: more than one day in the future, got {sale_date}")
    return errors


def decode_sale(payload: bytes, *, today: date | None = None) -> Sale:
    """Parse the bytes of one Kafka message into a :class:`Sale`."""
    try:
        record = orjson.loads(payload)
    except orjson.JSONDecodeError as problem:
        reason = "not valid UTF-8" if "utf-8" in str(problem).lower() else "not valid JSON"
        raise ContractError([f"message: {reason} ({problem})"[:300]]) from None
    return parse_sale(record, today=today)
