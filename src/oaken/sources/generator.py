"""Deterministic, realistic synthetic Iowa-style liquor sales.

The same arguments give the same sales, byte for byte: the catalog (stores, vendors,
categories, items: ``oaken.sources.catalog``, built from the data files of
``oaken.sources.reference``) is the same for every seed, and the sales are drawn from
``numpy.random.default_rng(seed)`` and nothing else, in this order:

* which items change price on which day (``oaken.sources.sampling``);
* how many sales fall on each day of the period (``oaken.sources.sales_days``: weekdays,
  seasons, holidays, growth), exactly ``rows`` in all;
* day by day, the invoices, stores, items and bottles (``oaken.sources.sampling``),

then rendered as dicts or as CSV / JSON Lines text (``oaken.sources.render``). Money is
integer cents internally and formatted as ``"12.34"``; nothing goes through float.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np

from oaken.sources import reference
from oaken.sources.catalog import Catalog, catalog
from oaken.sources.render import (
    COMPACT_KEYS,
    DICT_FORMATS,
    IOWA_CSV_HEADER,
    TEXT_FORMATS,
    Fields,
    Format,
    Renderer,
    csv_writer,
)
from oaken.sources.sales_days import rows_per_day
from oaken.sources.sampling import CHUNK_ROWS, FIRST_INVOICE, draw_block, price_plan

__all__ = [
    "CATEGORIES",
    "COMPACT_KEYS",
    "COUNTIES",
    "DEFAULT_END",
    "DEFAULT_START",
    "IOWA_CSV_HEADER",
    "Catalog",
    "catalog",
    "iter_sales",
    "write_sales",
]

DEFAULT_START = date(2024, 1, 1)
DEFAULT_END = date(2026, 10, 31)
PROGRESS_EVERY = 5_000

#: the 99 Iowa counties: (name, population in thousands, cities: the county seat first)
COUNTIES = reference.counties()
#: (id, name, family, 750 ml cost range in dollars, weight of generated brands)
CATEGORIES = reference.categories()

Style = Literal["iowa", "compact"]
P = TypeVar("P")
R = TypeVar("R")


def _check(rows: int, start: date, end: date) -> None:
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")


def iter_sales(rows: int, *, seed: int = 42, start: date = DEFAULT_START,
               end: date = DEFAULT_END, style: Style = "iowa",
               first_invoice: int = FIRST_INVOICE) -> Iterator[Fields]:
    """Yield ``rows`` synthetic sale lines ordered by date (see the module docstring).

    Invoices are numbered from ``first_invoice``: sales meant to add to a database that
    already holds generated ones start beyond its invoices (the same numbers would be the
    same line ids, which the pipeline takes once).

    ``style="iowa"``: keys are ``IOWA_CSV_HEADER``, values strings as in the CSV export.
    ``style="compact"``: the sales app's compact JSON keys (``COMPACT_KEYS``).
    """
    _check(rows, start, end)
    if style not in DICT_FORMATS:
        raise ValueError(f"unknown style {style!r}")
    return _generate(rows, seed, start, end, DICT_FORMATS[style](), first_invoice)


def write_sales(path: Path, rows: int, *, seed: int = 42, fmt: Literal["csv", "jsonl"] = "csv",
                start: date = DEFAULT_START, end: date = DEFAULT_END,
                progress: Callable[[int], None] | None = None) -> int:
    """Write ``rows`` sales to ``path``; returns the number of rows written.

    csv: the Iowa export (header row, then rows, as ``csv.writer`` with QUOTE_MINIMAL and
    ``\\n`` line ends writes them); jsonl: one compact JSON object per line (as orjson
    writes ``iter_sales(style="compact")``). The same sales as ``iter_sales`` with the same
    arguments. ``progress(n)`` is called with the number of rows just written, every
    ``PROGRESS_EVERY`` rows and at the end.
    """
    if fmt not in TEXT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    _check(rows, start, end)
    lines = _generate(rows, seed, start, end, TEXT_FORMATS[fmt]())
    written = 0
    with Path(path).open("w", newline="", encoding="utf-8") as out:
        if fmt == "csv":
            csv_writer(out).writerow(IOWA_CSV_HEADER)
        while batch := list(itertools.islice(lines, PROGRESS_EVERY)):
            out.write("".join(batch))
            written += len(batch)
            if progress is not None:
                progress(len(batch))
    return written


def _generate(rows: int, seed: int, start: date, end: date, fmt: Format[P, R],
              first_invoice: int = FIRST_INVOICE) -> Iterator[R]:
    """The sales in ``fmt``: each block's rows in turn (lazily: nothing is drawn before
    the first row is asked for)."""
    return itertools.chain.from_iterable(
        _rendered_blocks(rows, seed, start, end, fmt, first_invoice))


def _rendered_blocks(rows: int, seed: int, start: date, end: date, fmt: Format[P, R],
                     first_invoice: int = FIRST_INVOICE) -> Iterator[Iterator[R]]:
    """The sales day by day, in blocks of at most ``CHUNK_ROWS`` lines.

    The draws happen in this order for every format (so every format shows the same
    sales): the price plan, the rows per day, then block after block.
    """
    rng = np.random.default_rng(seed)
    plan = price_plan(rng, start, end)
    per_day = rows_per_day(rng, rows, start, end)
    render = Renderer(fmt, plan).rows
    next_invoice = first_invoice
    for offset in np.flatnonzero(per_day).tolist():
        day = start + timedelta(days=offset)
        remaining = int(per_day[offset])
        while remaining:
            k = min(remaining, CHUNK_ROWS)
            block = draw_block(rng, plan, k, day.toordinal(), next_invoice)
            next_invoice = block.invoices[-1] + 1
            remaining -= k
            yield render(block, day)
