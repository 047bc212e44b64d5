"""The synthetic sales generator: determinism, realism and internal consistency."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Literal

import orjson
import pytest

from oaken.sources.files import read_records
from oaken.sources.generator import (
    CATEGORIES,
    COMPACT_KEYS,
    COUNTIES,
    DEFAULT_END,
    DEFAULT_START,
    IOWA_CSV_HEADER,
    catalog,
    iter_sales,
    write_sales,
)

Row = dict[str, object]
SAMPLE_ROWS = 50_000
LINE_ID = re.compile(r"^INV-(\d{8})(\d{5})$")
CENT = Decimal("0.01")


def day_of(row: Row) -> date:
    return datetime.strptime(str(row["Date"]), "%m/%d/%Y").date()


def money(value: object) -> Decimal:
    text = str(value)
    assert re.fullmatch(r"\d+\.\d\d", text), text
    return Decimal(text)


@pytest.fixture(scope="module")
def sample() -> list[Row]:
    return list(iter_sales(SAMPLE_ROWS, seed=42))


def test_header_is_the_iowa_export_layout() -> None:
    assert len(IOWA_CSV_HEADER) == 24
    assert IOWA_CSV_HEADER[:3] == ["Invoice/Item Number", "Date", "Store Number"]
    assert IOWA_CSV_HEADER[-4:] == ["Bottles Sold", "Sale (Dollars)", "Volume Sold (Liters)",
                                    "Volume Sold (Gallons)"]


def test_counties_are_the_99_real_ones_in_alphabetical_order() -> None:
    names = [name for name, _, _ in COUNTIES]
    assert len(names) == 99
    assert names == sorted(names)
    assert (names[0], names[76], names[98]) == ("Adair", "Polk", "Wright")


def test_catalog_sizes_and_unique_numbers() -> None:
    cat = catalog()
    assert 1400 <= len(cat.stores) <= 1600
    assert len({s.number for s in cat.stores}) == len(cat.stores)
    assert all(2000 <= s.number <= 10000 for s in cat.stores)
    assert all(50001 <= int(s.zip_code) <= 52809 for s in cat.stores)
    assert len(cat.vendors) >= 300
    assert len({v.number for v in cat.vendors}) == len(cat.vendors)
    assert all(v.number > 0 for v in cat.vendors)
    assert len(cat.categories) >= 40
    assert len(cat.items) >= 3000
    assert len({i.number for i in cat.items}) == len(cat.items)


def test_items_pack_matches_bottle_size() -> None:
    packs: dict[int, set[int]] = defaultdict(set)
    for item in catalog().items:
        packs[item.volume_ml].add(item.pack)
    assert packs[50] == {48}
    assert packs[1750] == {6}
    assert packs[750] <= {6, 12}
    assert set(packs) == {50, 100, 200, 375, 750, 1000, 1750}


def test_same_arguments_same_rows_and_other_seed_other_rows() -> None:
    first = list(iter_sales(3000, seed=7))
    assert first == list(iter_sales(3000, seed=7))
    other = list(iter_sales(3000, seed=8))
    assert len(other) == 3000
    assert first != other
    assert sum(a != b for a, b in zip(first, other, strict=True)) > 2900


def test_first_invoice_numbers_sales_that_add_to_earlier_ones() -> None:
    """Sales generated again with another seed reuse the invoice numbers (and so the
    line ids) of the first ones; ``first_invoice`` moves them past."""
    earlier = {row["Invoice"] for row in iter_sales(500, seed=7, style="compact")}
    again = {row["Invoice"] for row in iter_sales(500, seed=8, style="compact")}
    assert earlier & again
    later = [row["Invoice"] for row in iter_sales(500, seed=8, style="compact",
                                                   first_invoice=90_000_000)]
    assert not earlier & set(later)
    assert later[0].startswith("INV-90000000")


def test_exact_row_count_and_arguments_checked() -> None:
    assert list(iter_sales(0)) == []
    assert len(list(iter_sales(1))) == 1
    assert len(list(iter_sales(777, start=date(2025, 12, 25), end=date(2025, 12, 25)))) == 777
    with pytest.raises(ValueError, match="rows"):
        iter_sales(-1)
    with pytest.raises(ValueError, match="before"):
        iter_sales(10, start=date(2025, 2, 1), end=date(2025, 1, 1))


def test_sample_covers_stores_counties_vendors_categories_items(sample: list[Row]) -> None:
    assert len(sample) == SAMPLE_ROWS
    assert set(sample[0]) == set(IOWA_CSV_HEADER)
    assert list(sample[0]) == IOWA_CSV_HEADER
    assert len({r["Store Number"] for r in sample}) >= 1000
    assert len({r["County"] for r in sample}) == 99
    assert {int(str(r["County Number"])) for r in sample} == set(range(1, 100))
    assert len({r["Vendor Number"] for r in sample}) >= 200
    assert len({r["Category"] for r in sample}) >= 30
    assert len({r["Item Number"] for r in sample}) >= 1000


def test_county_number_matches_county_name(sample: list[Row]) -> None:
    expected = {str(n): name.upper() for n, (name, _, _) in enumerate(COUNTIES, start=1)}
    assert all(expected[str(r["County Number"])] == r["County"] for r in sample)


def test_money_and_volume_are_exact(sample: list[Row]) -> None:
    for row in sample:
        cost, retail = money(row["State Bottle Cost"]), money(row["State Bottle Retail"])
        bottles = int(str(row["Bottles Sold"]))
        assert retail == (cost * Decimal("1.5")).quantize(CENT, ROUND_HALF_UP)
        assert 1 <= bottles <= 96
        assert money(row["Sale (Dollars)"]) == bottles * retail
        liters = Decimal(bottles * int(str(row["Bottle Volume (ml)"]))) / 1000
        assert money(row["Volume Sold (Liters)"]) == liters.quantize(CENT, ROUND_HALF_UP)
        gallons = (liters * Decimal("0.264172")).quantize(CENT, ROUND_HALF_UP)
        assert money(row["Volume Sold (Gallons)"]) == gallons


def test_bottles_mostly_small_sometimes_cases(sample: list[Row]) -> None:
    bottles = Counter(int(str(r["Bottles Sold"])) for r in sample)
    small = sum(n for b, n in bottles.items() if b <= 12)
    assert small / len(sample) > 0.9
    assert bottles[1] > bottles[5]
    assert bottles[24] + bottles[48] > 0


def test_invoice_line_ids_unique_and_invoices_well_formed(sample: list[Row]) -> None:
    ids = [str(r["Invoice/Item Number"]) for r in sample]
    assert len(set(ids)) == len(ids)
    invoices: dict[str, list[Row]] = defaultdict(list)
    previous = 0
    for row in sample:
        match = LINE_ID.match(str(row["Invoice/Item Number"]))
        assert match, row["Invoice/Item Number"]
        number = int(match.group(1))
        assert number >= previous  # invoice numbers increase with time
        previous = number
        invoices[match.group(1)].append(row)
    sizes = Counter(len(lines) for lines in invoices.values())
    assert set(sizes) <= set(range(1, 13))
    assert len(sizes) == 12
    for number, lines in invoices.items():
        assert len({(r["Store Number"], r["Date"]) for r in lines}) == 1
        assert [str(r["Invoice/Item Number"])[-5:] for r in lines] == [
            f"{n:05d}" for n in range(1, len(lines) + 1)]
        assert len({r["Item Number"] for r in lines}) == len(lines), number


def test_dates_sorted_and_in_range(sample: list[Row]) -> None:
    days = [day_of(r) for r in sample]
    assert days == sorted(days)
    assert days[0] >= DEFAULT_START
    assert days[-1] <= DEFAULT_END
    assert days[0] < date(2024, 1, 10)
    assert days[-1] > date(2026, 10, 20)
    march = [day_of(r) for r in iter_sales(2000, start=date(2025, 3, 1), end=date(2025, 3, 31))]
    assert march == sorted(march)
    assert march[0] >= date(2025, 3, 1)
    assert march[-1] <= date(2025, 3, 31)


def test_weekly_pattern(sample: list[Row]) -> None:
    by_weekday = Counter(day_of(r).weekday() for r in sample)
    for weekday in range(4):
        assert by_weekday[weekday] > 5 * by_weekday[5]
    assert by_weekday[4] > by_weekday[5] > by_weekday[6]
    assert by_weekday[6] < 0.005 * len(sample)


def test_december_busier_than_june_and_growth(sample: list[Row]) -> None:
    days = Counter(day_of(r) for r in sample)
    december = sum(n for d, n in days.items() if d.month == 12) / (31 * 2)
    june = sum(n for d, n in days.items() if d.month == 6) / (30 * 3)
    assert december > 1.2 * june
    christmas_week = sum(n for d, n in days.items() if d.month == 12 and 15 <= d.day <= 23)
    early_december = sum(n for d, n in days.items() if d.month == 12 and 1 <= d.day <= 9)
    assert christmas_week > early_december
    assert all(n == 0 for d, n in days.items() if (d.month, d.day) == (12, 25))
    years = Counter(d.year for d in days.elements())
    assert years[2025] > 1.08 * years[2024]


def test_heavy_tailed_popularity(sample: list[Row]) -> None:
    items = Counter(r["Item Description"] for r in sample).most_common()
    categories = Counter(r["Category Name"] for r in sample).most_common()
    assert items[0][0] == "FIREBALL CINNAMON WHISKEY"
    assert sum(n for _, n in items[:10]) > 0.2 * len(sample)
    assert items[0][1] > 20 * items[len(items) // 2][1]
    assert categories[0][0] == "AMERICAN VODKAS"
    assert categories[0][1] > 0.1 * len(sample)


def test_price_changes_apply_from_their_day(sample: list[Row]) -> None:
    seen: dict[object, dict[Decimal, list[date]]] = defaultdict(lambda: defaultdict(list))
    for row in sample:
        seen[row["Item Number"]][money(row["State Bottle Cost"])].append(day_of(row))
    changed = {item: prices for item, prices in seen.items() if len(prices) > 1}
    assert 5 <= len(changed) <= 0.06 * len(seen)
    for prices in changed.values():
        assert len(prices) == 2
        old, new = sorted(prices, key=lambda p: min(prices[p]))
        assert max(prices[old]) < min(prices[new])
        assert Decimal("1.02") <= new / old <= Decimal("1.08")


def test_iowa_and_compact_styles_describe_the_same_sales() -> None:
    iowa = list(iter_sales(4000, seed=3))
    compact = list(iter_sales(4000, seed=3, style="compact"))
    assert list(compact[0]) == COMPACT_KEYS
    json.dumps(compact)  # JSON-serialisable as is
    pairs = {"Invoice": "Invoice/Item Number", "StoreName": "Store Name", "Address": "Address",
             "City": "City", "ZipCode": "Zip Code", "County": "County",
             "CategoryName": "Category Name", "VendorName": "Vendor Name",
             "ItemDescription": "Item Description", "BottleCost": "State Bottle Cost",
             "BottleRetail": "State Bottle Retail", "SaleDollars": "Sale (Dollars)",
             "VolumeSoldLiters": "Volume Sold (Liters)", "StoreNumber": "Store Number",
             "CountyNumber": "County Number", "Category": "Category",
             "VendorNumber": "Vendor Number", "ItemNumber": "Item Number", "Pack": "Pack",
             "BottleVolumeML": "Bottle Volume (ml)", "BottlesSold": "Bottles Sold"}
    for a, b in zip(iowa, compact, strict=True):
        assert {k: str(b[k]) for k in pairs} == {k: a[v] for k, v in pairs.items()}
        assert date.fromisoformat(str(b["Date"])) == day_of(a)
        assert isinstance(b["StoreNumber"], int)
        assert isinstance(b["BottlesSold"], int)
        assert b["State"] == "IA"
    employees: dict[object, set[object]] = defaultdict(set)
    for b in compact:
        employees[b["StoreNumber"]].add(b["EmployeeID"])
    assert all(len(ids) == 1 for ids in employees.values())
    assert {e for ids in employees.values() for e in ids} <= set(range(1, 13))


def test_write_sales_csv_round_trips_through_read_records(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    calls: list[int] = []
    assert write_sales(path, 12_000, seed=5, progress=calls.append) == 12_000
    assert sum(calls) == 12_000
    assert len(calls) >= 2
    expected = list(iter_sales(12_000, seed=5))
    assert list(read_records(path)) == expected
    # byte for byte what the csv module writes for those rows
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(IOWA_CSV_HEADER)
    writer.writerows(row.values() for row in expected)
    assert path.read_bytes() == buffer.getvalue().encode("utf-8")
    assert b'"SAZERAC COMPANY  INC"' not in path.read_bytes()  # quoted only when needed


def test_write_sales_jsonl_is_compact_json(tmp_path: Path) -> None:
    path = tmp_path / "sales.jsonl"
    calls: list[int] = []
    assert write_sales(path, 6000, seed=5, fmt="jsonl", progress=calls.append) == 6000
    assert sum(calls) == 6000
    lines = path.read_text(encoding="utf-8").splitlines()
    expected = list(iter_sales(6000, seed=5, style="compact"))
    assert [json.loads(line) for line in lines] == expected
    assert path.read_bytes() == b"".join(orjson.dumps(row) + b"\n" for row in expected)
    assert list(read_records(path)) == expected


def test_write_sales_checks_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        write_sales(tmp_path / "x.parquet", 10, fmt="parquet")  # type: ignore[arg-type]
    assert write_sales(tmp_path / "empty.csv", 0) == 0
    assert (tmp_path / "empty.csv").read_text() == ",".join(IOWA_CSV_HEADER) + "\n"


# ---------------------------------------------------------------------------------------
# Same seed, same output, byte for byte
# ---------------------------------------------------------------------------------------
# The SHA-256 digests below were recorded from the generator as it was at commit f6aa989
# (one 1,260-line module), before it was split into reference data files and modules.
# They pin every byte the public entry points produce, so a refactoring that changes any
# sale, any key order or any value type fails here. Change them only on purpose, with a
# commit that says the generated sales change.

# (rows, seed, start, end): a default period with price changes, a December, a single day
# with more rows than one sampling chunk (16,384), a Christmas Day (closed), one row
HASH_CASES: dict[str, tuple[int, int, date, date]] = {
    "default": (30_000, 42, DEFAULT_START, DEFAULT_END),
    "december": (5_000, 7, date(2025, 12, 1), date(2025, 12, 31)),
    "one day, two chunks": (40_000, 123, date(2025, 3, 4), date(2025, 3, 4)),
    "christmas": (777, 2, date(2025, 12, 25), date(2025, 12, 25)),
    "one row": (1, 0, DEFAULT_START, DEFAULT_END),
}

ITER_SALES_SHA256: dict[tuple[str, str], str] = {
    ("default", "iowa"): (
        "d3f62a0a1e32e90444b5a3fe9ad9754f0e066cf61113ae85dc87da9c2e4e4778"),
    ("default", "compact"): (
        "44bb186e65ac64016d63469e91136b2f3f07226b6e130f84dc267e6dd14f7a30"),
    ("december", "iowa"): (
        "6cd797ae6b000f3fe1769f968d0a8b54449061b94265072c005d942b367e22d6"),
    ("december", "compact"): (
        "aa0ec5373e7aa94e0e57100abe128f88db2827970ff0ccd79d16386856b9c6b5"),
    ("one day, two chunks", "iowa"): (
        "ed65b52263795d2af656d563a2b169034cb696e13b0ecee277228b870ebba267"),
    ("one day, two chunks", "compact"): (
        "d4b2f6b8164748f87c4aca66e65a0297c577028ee6218258ae328e384273fa3b"),
    ("christmas", "iowa"): (
        "39480bf80c13fed9492eb5d7fe6b4505045e8981973a03d7691a1cac6142e12d"),
    ("christmas", "compact"): (
        "3ad53f5b2608b620a9f5eeaab12f6b0f64836353b7b8e4eadb019d30f570eb5d"),
    ("one row", "iowa"): (
        "ebe086d0f8bb7800d22a29d7bfc23c583cf89241d25f5f8de7693731bb4602aa"),
    ("one row", "compact"): (
        "2979ac13802d1a77faca3d2decae039f8c73602c7f2d1957edaf0b6d009247d6"),
}
WRITE_SALES_SHA256: dict[tuple[str, str], str] = {
    ("default", "csv"): (
        "07a1d1c3c15dbb8fcb0582ab2c10f15922b07d31a9aff1cb336bc5d1c8b82843"),
    ("default", "jsonl"): (
        "83db324431d58a44ba4924ed69001d37e7e844b0032b836129514a0483ce1403"),
    ("december", "csv"): (
        "bf53ebd1c4de8851d4021a55214ba67dada293fa2ba205d924b4485a021b8a37"),
    ("december", "jsonl"): (
        "ebd29b08eaa7fbde3a2e1f9965d2f16890083f78000d82ab1f9bcc2bd098b18f"),
    ("one day, two chunks", "csv"): (
        "88b882d1f18cf18f54335fb08da0f035c392375f5fccf356119cc423263cc98c"),
    ("one day, two chunks", "jsonl"): (
        "5383671bbbbc0219081f9d5dd2415da73d056d929e4fecc4d10ff64fae425416"),
    ("christmas", "csv"): (
        "930b4f2aea4c540d87e9b00268aa99ab67d9d463d6c05cfbaa770eb5a5c1c349"),
    ("christmas", "jsonl"): (
        "6726fb58b5da6f4addc8d6e0e9b00a25f46365d5c93756e398561199a3dc71f9"),
    ("one row", "csv"): (
        "9f9284c92534f5681403b8a6eb66145592af33c19977a71a60b920942172d59e"),
    ("one row", "jsonl"): (
        "63c47e11ca6d6986f5a691ec9e0bd0f1c66f1f2fc60c5b45e1c9fcae8fdc67d0"),
}
CLI_GENERATE_SHA256: dict[tuple[int, int, str], str] = {
    (20_000, 42, "csv"): (
        "0722fd65de8f040cfcab6c51f5f67be6f4f8b10b7b0ed721b6af4434089f809c"),
    (20_000, 42, "jsonl"): (
        "64738877b95bfff48b2806bcb114877d0a486783057cf657ec3c0d63cb85b481"),
    (3_000, 11, "csv"): (
        "791fc0dad61c6323354e82ac1765842542dd7726ccd59e2cd688661237c3372a"),
    (3_000, 11, "jsonl"): (
        "845209b777ce1a47c9d476189322b32af7c8ef97cabdefe7882179b20b2a4764"),
}
CATALOG_SHA256 = "886557f09b8e9d52ee12a182731dfe7ad503ee7433ca14a27b374aa38d0fda31"
CONSTANTS_SHA256 = "99a421e02aa6d2d29b19817671469a088bea22b2b48b789ce146772715b3d2b0"


def _sha256_of_rows(rows: Iterable[Row]) -> str:
    """Digest of rows serialised with key order and value types kept (str vs int)."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


@pytest.mark.parametrize("style", ["iowa", "compact"])
@pytest.mark.parametrize("case", list(HASH_CASES))
def test_iter_sales_output_is_unchanged(case: str, style: Literal["iowa", "compact"]) -> None:
    rows, seed, start, end = HASH_CASES[case]
    sales = iter_sales(rows, seed=seed, start=start, end=end, style=style)
    assert _sha256_of_rows(sales) == ITER_SALES_SHA256[case, style]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("case", list(HASH_CASES))
def test_write_sales_output_is_unchanged(case: str, fmt: Literal["csv", "jsonl"],
                                         tmp_path: Path) -> None:
    rows, seed, start, end = HASH_CASES[case]
    path = tmp_path / f"sales.{fmt}"
    assert write_sales(path, rows, seed=seed, fmt=fmt, start=start, end=end) == rows
    assert hashlib.sha256(path.read_bytes()).hexdigest() == WRITE_SALES_SHA256[case, fmt]


@pytest.mark.parametrize(("rows", "seed", "fmt"), [(20_000, 42, "csv"), (20_000, 42, "jsonl"),
                                                   (3_000, 11, "csv"), (3_000, 11, "jsonl")])
def test_cli_generate_output_is_unchanged(rows: int, seed: int, fmt: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from oaken.cli import app

    out = tmp_path / f"sales.{fmt}"
    args = ["generate", "--rows", str(rows), "--out", str(out), "--format", fmt,
            "--seed", str(seed)]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(out.read_bytes()).hexdigest() == CLI_GENERATE_SHA256[rows, seed, fmt]


def test_catalog_is_unchanged() -> None:
    cat = catalog()
    lines = [repr(store) for store in cat.stores] + [repr(vendor) for vendor in cat.vendors]
    lines += [repr(category) for category in cat.categories] + [repr(it) for it in cat.items]
    assert hashlib.sha256("\n".join(lines).encode()).hexdigest() == CATALOG_SHA256


def test_public_reference_constants_are_unchanged() -> None:
    text = json.dumps([COUNTIES, CATEGORIES])  # tuples as lists, floats as repr() writes them
    assert hashlib.sha256(text.encode()).hexdigest() == CONSTANTS_SHA256
