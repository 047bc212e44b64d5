"""Analytics test helpers: generated sales, the analytics commands as a Typer app, and
the database side of a reconciliation computed exactly in Python from rows read with SQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import typer
from sqlalchemy import select

from oaken.analytics.cli import register
from oaken.db import models
from oaken.db.engine import make_engine

CENT = Decimal("0.01")


def generated(rows: int, *, seed: int, start: date | None = None, end: date | None = None,
              prefix: str | None = None) -> list[dict]:
    from oaken.sources.generator import iter_sales

    kwargs = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    records = list(iter_sales(rows, seed=seed, style="compact", **kwargs))
    if prefix:
        for record in records:
            record["Invoice"] = prefix + str(record["Invoice"])
    return records


def cli_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test app"""

    register(app)
    return app


# --- database side, computed exactly in Python from rows read with SQL ---------------


def database_rows(url: str) -> list:
    engine = make_engine(url)
    s, sh = models.sales, models.shipments
    with engine.connect() as connection:
        rows = connection.execute(
            select(s.c.invoice_line_id, s.c.sale_date, s.c.store_id, s.c.item_id,
                   s.c.category_id, s.c.bottles_sold, s.c.bottle_cost, s.c.sale_dollars,
                   sh.c.ship_date, sh.c.shipping_cost)
            .select_from(s.outerjoin(sh, s.c.invoice_line_id == sh.c.invoice_line_id))
        ).all()
    engine.dispose()
    return rows


def money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def totals_by(rows: list, key, value) -> dict:
    out: dict = defaultdict(Decimal)
    for row in rows:
        amount = value(row)
        if amount is not None:
            out[key(row)] += money(amount)
    return dict(out)
