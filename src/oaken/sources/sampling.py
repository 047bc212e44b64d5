"""Drawing the sales: price changes, invoices, stores, items and bottles.

Everything random about the sales comes from one ``numpy.random.Generator``, drawn in a
fixed order, so the same seed gives the same sales. A day's sales are drawn in blocks
of up to ``CHUNK_ROWS`` lines with vectorised draws. A block is grouped into invoices of
1..12 lines (one store, one date; invoice numbers increase with gaps); items within an
invoice are distinct; bottles are mostly 1..12, sometimes one or two cases. A few items
(``PRICE_CHANGE_SHARE``) change price on a random day of the period; sales from that
day on carry the new cost.

A line is encoded as one integer key, ``((item * 2 + price version) << BOTTLE_BITS) |
bottles``: the renderer caches its output per key, as most keys repeat.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from oaken.sources.catalog import catalog

__all__ = ["BOTTLE_BITS", "CHUNK_ROWS", "FIRST_INVOICE", "Block", "PricePlan", "draw_block",
           "price_plan"]

CHUNK_ROWS = 16_384
FIRST_INVOICE = 10_000_000
INVOICE_SIZE_WEIGHTS = np.array([5, 6, 8, 9, 10, 10, 10, 9, 9, 8, 8, 8], dtype=float)
BOTTLE_VALUES = np.array([1, 2, 3, 4, 5, 6, 8, 10, 12], dtype=np.int64)
BOTTLE_WEIGHTS = np.array([0.22, 0.14, 0.10, 0.08, 0.04, 0.17, 0.05, 0.04, 0.16])
CASE_SHARE = 0.06  # lines that sell whole cases
TWO_CASES_SHARE = 0.2  # of those, lines of two cases
PRICE_CHANGE_SHARE = 0.03
BOTTLE_BITS = 7  # bottles sold < 128 (two cases of 48)
NEVER = np.iinfo(np.int64).max


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights, dtype=float)
    return cdf / cdf[-1]


@dataclass(frozen=True)
class _Tables:
    store_cdf: np.ndarray
    item_cdf: np.ndarray
    item_pack: np.ndarray
    invoice_size_cdf: np.ndarray
    bottle_cdf: np.ndarray


@functools.cache
def _tables() -> _Tables:
    cat = catalog()
    return _Tables(
        store_cdf=_cdf(np.array([s.weight for s in cat.stores])),
        item_cdf=_cdf(np.array([i.weight for i in cat.items])),
        item_pack=np.array([i.pack for i in cat.items], dtype=np.int64),
        invoice_size_cdf=_cdf(INVOICE_SIZE_WEIGHTS),
        bottle_cdf=_cdf(BOTTLE_WEIGHTS),
    )


def _pick(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)


@dataclass(frozen=True)
class PricePlan:
    change_day: np.ndarray  # date ordinal from which item i has its new price, or NEVER
    new_cost: dict[int, int]  # item index -> new cost in cents


def price_plan(rng: np.random.Generator, start: date, end: date) -> PricePlan:
    """Which items change price, on which day, to what (drawn before any sale)."""
    items = catalog().items
    n_items = len(items)
    chosen = np.flatnonzero(rng.random(n_items) < PRICE_CHANGE_SHARE)
    days = rng.integers(start.toordinal(), end.toordinal() + 1, size=len(chosen))
    bumps = rng.uniform(0.03, 0.07, size=len(chosen))
    change_day = np.full(n_items, NEVER, dtype=np.int64)
    change_day[chosen] = days
    new_cost = {}
    for i, bump in zip(chosen.tolist(), bumps.tolist(), strict=True):
        old = items[i].cost_cents
        factor = Decimal(f"{1 + bump:.4f}")
        new_cost[i] = max(old + 1, int((old * factor).to_integral_value(ROUND_HALF_UP)))
    return PricePlan(change_day, new_cost)


@dataclass(frozen=True)
class Block:
    """Sale lines of one day, as plain lists (the renderer's loop reads them per line)."""

    invoices: list[int]
    sizes: list[int]  # lines per invoice
    stores: list[int]  # store index per invoice
    keys: list[int]  # per line: ((item * 2 + price version) << BOTTLE_BITS) | bottles


def _invoice_sizes(rng: np.random.Generator, tables: _Tables, k: int) -> np.ndarray:
    sizes = np.empty(0, dtype=np.int64)
    while sizes.sum() < k:
        more = 1 + _pick(rng, tables.invoice_size_cdf, max(8, k // 5))
        sizes = np.concatenate([sizes, more])
    cum = np.cumsum(sizes)
    last = int(np.searchsorted(cum, k))
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= int(cum[last]) - k
    return sizes


def _distinct_items(rng: np.random.Generator, tables: _Tables, owner: np.ndarray,
                    items: np.ndarray) -> np.ndarray:
    """Redraw items that repeat within an invoice (a few passes; leftovers are rare)."""
    n_items = len(tables.item_cdf)
    for _ in range(6):
        key = owner * n_items + items
        order = np.argsort(key, kind="stable")
        repeat = np.zeros(len(items), dtype=bool)
        repeat[order[1:]] = key[order[1:]] == key[order[:-1]]
        n_repeat = int(repeat.sum())
        if not n_repeat:
            break
        items[repeat] = _pick(rng, tables.item_cdf, n_repeat)
    return items


def draw_block(rng: np.random.Generator, plan: PricePlan, k: int, day_ordinal: int,
               next_invoice: int) -> Block:
    """``k`` sale lines of one day, invoice numbers from ``next_invoice`` on."""
    tables = _tables()
    sizes = _invoice_sizes(rng, tables, k)
    n_inv = len(sizes)
    invoices = next_invoice + np.cumsum(rng.integers(1, 4, size=n_inv)) - 1
    stores = _pick(rng, tables.store_cdf, n_inv)
    owner = np.repeat(np.arange(n_inv), sizes)
    items = _distinct_items(rng, tables, owner, _pick(rng, tables.item_cdf, k))
    bottles = BOTTLE_VALUES[_pick(rng, tables.bottle_cdf, k)]
    case = rng.random(k) < CASE_SHARE
    cases = 1 + (rng.random(k) < TWO_CASES_SHARE)
    bottles = np.where(case, tables.item_pack[items] * cases, bottles)
    version = (plan.change_day[items] <= day_ordinal).astype(np.int64)
    keys = ((items * 2 + version) << BOTTLE_BITS) | bottles
    return Block(invoices.tolist(), sizes.tolist(), stores.tolist(), keys.tolist())
