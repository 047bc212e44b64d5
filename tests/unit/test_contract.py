"""Data contract v1: the four spellings, lenient parsing, strict validation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from oaken.contract import FIELD_ALIASES, Sale, decode_sale, parse_sale
from oaken.errors import ContractError

TODAY = date(2026, 11, 25)

COMPACT = {
    "Invoice": "S29198800001", "Date": "2015-11-20", "StoreNumber": 2191,
    "StoreName": "Keokuk Spirits", "Address": "1013 Main", "City": "Keokuk",
    "ZipCode": "52632", "CountyNumber": 56, "County": "Lee", "Category": 1062310,
    "CategoryName": "Spiced Rum", "VendorNumber": 259, "VendorName": "Diageo Americas",
    "ItemNumber": 43337, "ItemDescription": "Captain Morgan Spiced Rum", "Pack": 12,
    "BottleVolumeML": 1000, "BottleCost": "11.75", "BottleRetail": "17.63",
    "BottlesSold": 12, "SaleDollars": "211.56", "VolumeSoldLiters": "12", "EmployeeID": 4,
}
CSV = {
    "Invoice/Item Number": "S29198800001", "Date": "11/20/2015", "Store Number": "2191",
    "Store Name": "Keokuk Spirits", "Address": "1013 Main", "City": "Keokuk",
    "Zip Code": "52632", "Store Location": "POINT (-91.4 40.4)", "County Number": "56",
    "County": "Lee", "Category": "1062310.0", "Category Name": "Spiced Rum",
    "Vendor Number": "259", "Vendor Name": "Diageo Americas", "Item Number": "43337",
    "Item Description": "Captain Morgan Spiced Rum", "Pack": "12",
    "Bottle Volume (ml)": "1000", "State Bottle Cost": "$11.75",
    "State Bottle Retail": "$17.63", "Bottles Sold": "12", "Sale (Dollars)": "$211.56",
    "Volume Sold (Liters)": "12.0", "Volume Sold (Gallons)": "3.17",
}
OPEN_DATA = {
    "invoice_line_no": "S29198800001", "date": "2015-11-20T00:00:00.000", "store": "2191",
    "name": "Keokuk Spirits", "address": "1013 Main", "city": "Keokuk", "zipcode": "52632",
    "county_number": "56", "county": "Lee", "category": "1062310",
    "category_name": "Spiced Rum", "vendor_no": "259", "vendor_name": "Diageo Americas",
    "itemno": "43337", "im_desc": "Captain Morgan Spiced Rum", "pack": "12",
    "bottle_volume_ml": "1000", "state_bottle_cost": "11.75", "state_bottle_retail": "17.63",
    "sale_bottles": "12", "sale_dollars": "211.56", "sale_liters": "12",
}
BIGQUERY = {
    "invoice_and_item_number": "S29198800001", "date": "2015-11-20", "store_number": "2191",
    "store_name": "Keokuk Spirits", "address": "1013 Main", "city": "Keokuk",
    "zip_code": "52632", "county_number": "56", "county": "Lee", "category": "1062310",
    "category_name": "Spiced Rum", "vendor_number": "259", "vendor_name": "Diageo Americas",
    "item_number": "43337", "item_description": "Captain Morgan Spiced Rum", "pack": 12,
    "bottle_volume_ml": 1000, "state_bottle_cost": 11.75, "state_bottle_retail": 17.63,
    "bottles_sold": 12, "sale_dollars": 211.56, "volume_sold_liters": 12.0,
}


@pytest.mark.parametrize("record", [CSV, OPEN_DATA, BIGQUERY], ids=["csv", "open-data", "bq"])
def test_four_spellings_normalise_to_the_same_sale(record: dict) -> None:
    compact = parse_sale(COMPACT, today=TODAY)
    other = parse_sale(record, today=TODAY)
    differences = {
        name for name in Sale.__slots__ if getattr(compact, name) != getattr(other, name)
    }
    assert differences == {"employee_id"}  # only the sales app sends the employee
    assert other.sale_dollars == Decimal("211.56")
    assert other.sale_date == date(2015, 11, 20)
    assert other.store_id == 2191 and other.category_id == 1062310


def test_money_is_decimal_with_two_places_rounded_half_up() -> None:
    sale = parse_sale({**COMPACT, "SaleDollars": "$1,234.565", "BottleCost": 0.1 + 0.2},
                      today=TODAY)
    assert sale.sale_dollars == Decimal("1234.57")
    assert isinstance(sale.sale_dollars, Decimal)
    assert sale.bottle_cost == Decimal("0.30")
    assert parse_sale({**COMPACT, "SaleDollars": 0}, today=TODAY).sale_dollars == Decimal("0.00")


@pytest.mark.parametrize("value", ["2191", 2191, "2191.0", 2191.0, " 2191 "])
def test_ids_arrive_in_several_shapes(value: object) -> None:
    assert parse_sale({**COMPACT, "StoreNumber": value}, today=TODAY).store_id == 2191


@pytest.mark.parametrize("text", ["2015-11-20", "11/20/2015", "2015-11-20T00:00:00.000",
                                  "2015-11-20T13:45:00"])
def test_three_date_formats(text: str) -> None:
    assert parse_sale({**COMPACT, "Date": text}, today=TODAY).sale_date == date(2015, 11, 20)


def test_invoice_id_is_the_line_id_without_its_line_number() -> None:
    assert parse_sale(COMPACT, today=TODAY).invoice_id == "S291988"
    assert parse_sale({**COMPACT, "Invoice": "INV-1234567800012"},
                      today=TODAY).invoice_id == "INV-12345678"
    assert parse_sale({**COMPACT, "Invoice": "ABC-12"}, today=TODAY).invoice_id == "ABC-12"


def test_state_defaults_to_iowa_and_unknown_fields_are_ignored() -> None:
    sale = parse_sale({**COMPACT, "Shoe size": 44, "Volume Sold (Gallons)": "3.17"}, today=TODAY)
    assert sale.state == "IA"
    assert parse_sale({**COMPACT, "State": "NE"}, today=TODAY).state == "NE"


def errors_of(record: object) -> list[str]:
    with pytest.raises(ContractError) as caught:
        parse_sale(record, today=TODAY)
    return caught.value.errors


@pytest.mark.parametrize("field,alias", [
    ("invoice_line_id", "Invoice"), ("sale_date", "Date"), ("store_id", "StoreNumber"),
    ("item_id", "ItemNumber"), ("bottles_sold", "BottlesSold"),
    ("sale_dollars", "SaleDollars"),
])
def test_each_required_field_is_named_when_missing(field: str, alias: str) -> None:
    record = {k: v for k, v in COMPACT.items() if k != alias}
    assert errors_of(record) == [f"{field}: required"]


@pytest.mark.parametrize("change,expected", [
    ({"BottlesSold": 0}, "bottles_sold: must be positive"),
    ({"BottlesSold": "-3"}, "bottles_sold: must be positive"),
    ({"BottlesSold": "2.5"}, "bottles_sold: expected a whole number"),
    ({"SaleDollars": "-0.01"}, "sale_dollars: must not be negative"),
    ({"SaleDollars": "12,3x"}, "sale_dollars: expected an amount"),
    ({"SaleDollars": "NaN"}, "sale_dollars: expected an amount"),
    ({"SaleDollars": [1]}, "sale_dollars: expected an amount, got list"),
    ({"SaleDollars": True}, "sale_dollars: expected an amount"),
    ({"StoreNumber": 0}, "store_id: must be a positive integer"),
    ({"StoreNumber": "-5"}, "store_id: must be a positive integer"),
    ({"ItemNumber": "12a"}, "item_id: expected a whole number"),
    ({"VendorNumber": 1.5}, "vendor_id: expected a whole number"),
    ({"Invoice": ""}, "invoice_line_id: required"),
    ({"Invoice": 0.0}, "invoice_line_id: must be text or a positive integer, got float"),
    ({"Invoice": -3}, "invoice_line_id: must be text or a positive integer"),
    ({"Invoice": "x" * 65}, "invoice_line_id: longer than 64 characters"),
    ({"StoreName": "y" * 256}, "store_name: longer than 255 characters"),
    ({"Date": "2011-12-31"}, "sale_date: before 2012-01-01"),
    ({"Date": "2026-11-27"}, "sale_date: more than one day in the future"),
    ({"Date": "20/11/2015"}, "sale_date: expected YYYY-MM-DD"),
    ({"Date": 20151120}, "sale_date: expected a date"),
    ({"StoreName": "Hy-Vee\u0000 Wine"},
     "store_name: contains the control character U+0000 at character 7"),
    ({"City": "Ames\x1f"}, "city: contains the control character U+001F at character 5"),
    ({"VendorName": "\x1bDiageo"}, "vendor_name: contains the control character U+001B"),
    ({"CategoryName": "Rum\x7f"}, "category_name: contains the control character U+007F"),
    ({"ItemDescription": "Rum\x85"},
     "item_description: contains the control character U+0085"),
    ({"County": "Lee\ud800"}, "county: contains a lone surrogate U+D800 at character 4"),
    ({"Invoice": "S2919\x0088"},
     "invoice_line_id: contains the control character U+0000 at character 6"),
    ({"Invoice": "S29198800001\n"},
     "invoice_line_id: contains the control character U+000A at character 13"),
    ({"Invoice": "S291988\t00001"}, "invoice_line_id: contains the control character U+0009"),
    ({"Invoice": "S2919\u200b8800001"},
     "invoice_line_id: contains the unprintable character U+200B at character 6"),
    ({"Invoice": "S2919\u00a08800001"},
     "invoice_line_id: contains the unprintable character U+00A0"),
    ({"BottleCost": "9999999999.99", "BottlesSold": 101, "SaleDollars": "1"},
     "bottle_cost: times bottles_sold (1009999999998.99) is beyond the ledger's "
     "999,999,999,999.99"),
])
def test_invalid_values_are_rejected_naming_the_field(change: dict, expected: str) -> None:
    errors = errors_of({**COMPACT, **change})
    assert len(errors) == 1 and errors[0].startswith(expected), errors


@pytest.mark.parametrize("text", [
    "Hy-Vee\tWine", "Hy-Vee\nWine", "Hy-Vee\r\nWine", "Caf\u00e9 \U0001f37e", "a\u00a0b",
    "\u00e9" * 255, "\U0001f37e" * 255,
])
def test_text_keeps_tabs_line_breaks_and_any_printable_character(text: str) -> None:
    sale = parse_sale({**COMPACT, "ItemDescription": text}, today=TODAY)
    assert sale.item_description == text


def test_line_ids_keep_their_case_and_inner_spaces_and_lose_outer_blanks() -> None:
    def line(value: str) -> str:
        return parse_sale({**COMPACT, "Invoice": value}, today=TODAY).invoice_line_id

    assert (line("inv-p00000001"), line("INV-P00000001")) == ("inv-p00000001", "INV-P00000001")
    assert line("  INV P00000001  ") == "INV P00000001"
    assert line("\u00c9T\u00c9-\U0001f37e") == "\u00c9T\u00c9-\U0001f37e"
    assert line("x" * 60 + " " * 10) == "x" * 60


def test_cost_of_goods_at_the_ledger_limit_is_accepted() -> None:
    sale = parse_sale({**COMPACT, "BottleCost": "9999999999.99", "BottlesSold": 100},
                      today=TODAY)
    assert sale.bottle_cost * sale.bottles_sold == Decimal("999999999999.00")


def test_tomorrow_is_still_accepted() -> None:
    assert parse_sale({**COMPACT, "Date": "2026-11-26"}, today=TODAY).sale_date.day == 26


def test_every_problem_is_reported_at_once() -> None:
    errors = errors_of({**COMPACT, "BottlesSold": 0, "SaleDollars": "-1", "StoreNumber": "x"})
    assert [e.split(":")[0] for e in errors] == ["store_id", "bottles_sold", "sale_dollars"]


@pytest.mark.parametrize("payload,expected", [
    (b"not json", "message: not valid JSON"),
    (b"\xff\xfe\x00", "message: not valid"),
    (b"[1, 2]", "message: expected a JSON object, got list"),
    (b'"text"', "message: expected a JSON object, got str"),
    (b"null", "message: expected a JSON object, got NoneType"),
])
def test_payloads_that_are_not_objects(payload: bytes, expected: str) -> None:
    with pytest.raises(ContractError) as caught:
        decode_sale(payload, today=TODAY)
    assert str(caught.value).startswith(expected)


def test_every_alias_is_unique_to_one_field() -> None:
    seen: dict[str, str] = {}
    for field, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            assert seen.setdefault(alias, field) == field, alias


def test_content_hash_tells_identical_from_different() -> None:
    first = parse_sale(COMPACT, today=TODAY)
    assert parse_sale(CSV | {"EmployeeID": 4}, today=TODAY).content_hash() == first.content_hash()
    changed = parse_sale({**COMPACT, "SaleDollars": "211.57"}, today=TODAY)
    assert changed.content_hash() != first.content_hash()
