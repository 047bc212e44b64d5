"""Dimension rows are written once and then only when something changed."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event, text

from oaken.contract import parse_sale
from oaken.db.engine import make_engine
from oaken.workers.dimensions import DimensionCache
from tests.support.factory import sale
from tests.support.invariants import money_reader


def _writes(engine, cache: DimensionCache, records: list[dict]) -> list[str]:
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement.split("(")[0].strip())

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with engine.begin() as connection:
            cache.write(connection, [parse_sale(r) for r in records])
        cache.commit()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return statements


def test_a_hot_stream_does_not_upsert_known_rows_again(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    cache = DimensionCache()
    first = _writes(engine, cache, [sale(n) for n in range(240)])
    assert len(first) == 5  # categories, vendors, stores, products, employees: one each
    assert _writes(engine, cache, [sale(n) for n in range(240, 480)]) == []
    # a changed store name is written, and nothing else
    changed = _writes(engine, cache, [sale(0, StoreName="Hy-Vee #0 / Ames (remodelled)")])
    assert len(changed) == 1 and "stores" in changed[0]
    # a message that leaves the name out does not blank it
    assert _writes(engine, cache, [{k: v for k, v in sale(40).items() if k != "StoreName"}]) == []
    with engine.connect() as connection:
        name = connection.execute(
            text("SELECT store_name FROM stores WHERE store_id = 2000")).scalar_one()
    assert name == "Hy-Vee #0 / Ames (remodelled)"


def test_a_fresh_worker_loads_what_the_database_knows(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    _writes(engine, DimensionCache(), [sale(n) for n in range(240)])
    restarted = DimensionCache()
    with engine.connect() as connection:
        restarted.load(connection)
    assert _writes(engine, restarted, [sale(n) for n in range(240)]) == []


def test_two_workers_never_roll_a_price_back(database_url: str) -> None:
    """Two orders workers (a consumer group) each cache what they last wrote. A worker
    whose cache is stale must not overwrite a newer price with an older sale's price:
    the database, not the cache, decides which price is the most recent."""
    engine = make_engine(database_url)
    item = 100  # sale(0) and sale(120) sell item 100
    first, second = DimensionCache(), DimensionCache()
    _writes(engine, first, [sale(0, Date="2025-03-01", BottleCost="10.00", BottleRetail="15.00")])
    with engine.connect() as connection:
        second.load(connection)  # both workers now know the 1 March price
    # worker one records a sale of 1 May at a new price…
    _writes(engine, first, [sale(120, Date="2025-05-01", BottleCost="12.00",
                                 BottleRetail="18.00")])
    # …then worker two, still knowing only March, a late message from 1 April
    _writes(engine, second, [sale(240, Date="2025-04-01", BottleCost="11.00",
                                  BottleRetail="16.50", ItemDescription="ITEM 100 (new label)")])
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT bottle_cost, bottle_retail, price_date, item_description FROM products "
            "WHERE item_id = :item"), {"item": item}).one()
    money = money_reader(engine)
    cost, retail = money(row[0]), money(row[1])
    assert (cost, retail, str(row[2])[:10]) == (Decimal("12.00"), Decimal("18.00"), "2025-05-01")
    assert row[3] == "ITEM 100 (new label)"  # attributes other than the price still follow
