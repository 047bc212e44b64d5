"""Reading Iowa CSV exports and JSON Lines files."""

from __future__ import annotations

from pathlib import Path

from oaken.sources.files import count_records, file_format, read_records

CSV_TEXT = (
    "Invoice/Item Number,Date,Store Number,Store Name,Sale (Dollars)\n"
    "INV-1234567800001,01/02/2024,2633,\"Hy-Vee #3 / BDI / Des Moines\",179.88\n"
    "INV-1234567800002,01/02/2024,2633,\"Liquor, Wine & More\",\"$1,234.50\"\n"
)


def test_csv_rows_come_back_with_header_names_untouched(tmp_path: Path) -> None:
    path = tmp_path / "iowa.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    records = list(read_records(path))
    assert records[0] == {"Invoice/Item Number": "INV-1234567800001", "Date": "01/02/2024",
                          "Store Number": "2633", "Store Name": "Hy-Vee #3 / BDI / Des Moines",
                          "Sale (Dollars)": "179.88"}
    assert records[1]["Store Name"] == "Liquor, Wine & More"
    assert records[1]["Sale (Dollars)"] == "$1,234.50"
    assert len(records) == 2
    assert count_records(path) == 2


def test_csv_with_byte_order_mark_and_no_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV_TEXT.rstrip("\n").encode())
    records = list(read_records(path))
    assert [r["Invoice/Item Number"] for r in records] == ["INV-1234567800001",
                                                          "INV-1234567800002"]
    assert count_records(path) == 2


def test_jsonl_bad_lines_become_raw_records(tmp_path: Path) -> None:
    path = tmp_path / "sales.jsonl"
    path.write_text(
        '{"Invoice": "INV-1", "BottlesSold": 12, "SaleDollars": "179.88"}\n'
        "\n"
        '{"Invoice": "INV-2", broken\n'
        "[1, 2, 3]\n"
        '   {"Invoice": "INV-3"}   \r\n',
        encoding="utf-8",
    )
    records = list(read_records(path))
    assert records == [
        {"Invoice": "INV-1", "BottlesSold": 12, "SaleDollars": "179.88"},
        {"__raw__": '{"Invoice": "INV-2", broken'},
        {"__raw__": "[1, 2, 3]"},
        {"Invoice": "INV-3"},
    ]
    assert count_records(path) == 5  # a line count: the blank line is included


def test_format_from_suffix_or_first_character(tmp_path: Path) -> None:
    ndjson = tmp_path / "a.ndjson"
    ndjson.write_text('{"Invoice": "X"}\n', encoding="utf-8")
    sniffed_json = tmp_path / "b.txt"
    sniffed_json.write_bytes(b"\xef\xbb\xbf\n\n  {\"Invoice\": \"Y\"}\n")
    sniffed_csv = tmp_path / "c.dat"
    sniffed_csv.write_text(CSV_TEXT, encoding="utf-8")
    lines = tmp_path / "d.json-lines"
    lines.write_text('{"Invoice": "Z"}', encoding="utf-8")
    assert file_format(ndjson) == "jsonl"
    assert file_format(lines) == "jsonl"
    assert file_format(sniffed_json) == "jsonl"
    assert file_format(sniffed_csv) == "csv"
    assert list(read_records(sniffed_json)) == [{"Invoice": "Y"}]
    assert [r["Store Number"] for r in read_records(sniffed_csv)] == ["2633", "2633"]
    assert list(read_records(lines)) == [{"Invoice": "Z"}]
    assert count_records(sniffed_csv) == 2
    assert count_records(lines) == 1


def test_empty_files(tmp_path: Path) -> None:
    for name in ("empty.csv", "empty.jsonl", "empty.txt"):
        path = tmp_path / name
        path.write_bytes(b"")
        assert list(read_records(path)) == []
        assert count_records(path) == 0
