"""Read sale records from files: Iowa-format CSV exports and JSON Lines.

The format is chosen by suffix (``.csv``; ``.jsonl``, ``.ndjson``, ``.json-lines``);
any other suffix is sniffed: a first non-blank character ``{`` means JSON Lines,
anything else CSV. Records are yielded raw, field names untouched, for the contract
layer to normalise and validate. A JSON Lines line that is not a JSON object comes
back as ``{"__raw__": "<the line>"}`` so the caller can dead-letter it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import orjson

__all__ = ["RAW_KEY", "count_records", "file_format", "read_records"]

RAW_KEY = "__raw__"
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json-lines"})
BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 20


def file_format(path: Path) -> Literal["csv", "jsonl"]:
    """``"csv"`` or ``"jsonl"`` by suffix, else by the first non-blank character."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    return "jsonl" if _first_char(Path(path)) == b"{" else "csv"


def _first_char(path: Path) -> bytes:
    with path.open("rb") as f:
        head = f.read(len(BOM))
        chunk = head[len(BOM):] if head == BOM else head
        while True:
            stripped = chunk.lstrip()
            if stripped:
                return stripped[:1]
            chunk = f.read(_CHUNK)
            if not chunk:
                return b""


def read_records(path: Path) -> Iterator[dict[str, object]]:
    """Yield raw records from an Iowa-format CSV or a JSON Lines file (see module doc)."""
    path = Path(path)
    if file_format(path) == "csv":
        return _read_csv(path)
    return _read_jsonl(path)


def _read_csv(path: Path) -> Iterator[dict[str, object]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        yield from csv.DictReader(f)


def _read_jsonl(path: Path) -> Iterator[dict[str, object]]:
    with path.open("rb") as f:
        for number, line in enumerate(f):
            if number == 0 and line.startswith(BOM):
                line = line[len(BOM):]
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                record = None
            if isinstance(record, dict):
                yield record
            else:
                yield {RAW_KEY: line.decode("utf-8", errors="replace").rstrip("\r\n")}


def count_records(path: Path) -> int:
    """Fast estimate for progress bars: lines (minus the header for CSV).

    Counts newline-terminated lines plus a final unterminated one; blank JSON Lines and
    quoted CSV fields spanning lines make it an estimate, not an exact count.
    """
    path = Path(path)
    lines, last = 0, b"\n"
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    if file_format(path) == "csv":
        lines -= 1
    return max(0, lines)
