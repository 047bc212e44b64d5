"""A record the database refuses never stops the pipeline: the stage finds it by halving
the batch, writes every other record, and dead-letters it with the database's reason, in
``dead_letters``; the workers (real processes) keep running."""

from __future__ import annotations

from decimal import Decimal

import orjson
from confluent_kafka import Producer
from sqlalchemy import Engine, select, text

from oaken.bus.config import producer_config
from oaken.bus.topics import Topics
from oaken.db import models
from oaken.db.engine import make_engine
from oaken.ops.dlq import list_letters
from oaken.ops.status import database_status
from oaken.settings import Settings
from tests.support.factory import sale
from tests.support.invariants import counts
from tests.support.pipeline import wait_until
from tests.support.refusals import CLOSED_STORE, REFUSAL_CODE, refuse_closed_store
from tests.support.workers import spawn_worker

STAGES = ("orders", "shipping", "accounting")
SENT_BY = "import:poison.csv"
#: the database's code when a journal line's amount does not fit NUMERIC(14, 2) (SQLite:
#: an integer of hundredths beyond 64 bits, which sqlite3 cannot bind)
OVERFLOW = {
    "sqlite": "OverflowError",
    "postgresql": "SQLSTATE 22003",
    "mariadb": "1264",
    "mysql": "1264",
}
#: a shipment for a sale that is not in ``sales``
FOREIGN_KEY = {
    "sqlite": "SQLITE_CONSTRAINT_FOREIGNKEY",
    "postgresql": "SQLSTATE 23503",
    "mariadb": "1452",
    "mysql": "1452",
}
#: a journal line with a negative debit (CHECK non_negative)
CHECK = {
    "sqlite": "SQLITE_CONSTRAINT_CHECK",
    "postgresql": "SQLSTATE 23514",
    "mariadb": "4025",
    "mysql": "4025",
}


def produce_all(
    settings: Settings,
    topic: str,
    values: list[bytes],
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    producer = Producer(producer_config(settings))
    failures: list[str] = []

    def delivered(error, _message) -> None:
        if error is not None:
            failures.append(error.str())

    for index, value in enumerate(values):
        producer.produce(
            topic, value=value, key=str(index % 7).encode(), headers=headers, on_delivery=delivered
        )
    assert producer.flush(30) == 0 and not failures, failures


def ledger(engine: Engine) -> tuple[Decimal, Decimal]:
    _, imbalance, gap = database_status(engine)
    return imbalance, gap


def test_a_poison_record_in_each_stage_is_dead_lettered_and_the_rest_recorded(
    settings, tmp_path
) -> None:
    engine = make_engine(settings.database_url)
    dialect = engine.dialect.name
    topics = Topics(settings.topic_prefix)
    refuse_closed_store(engine)
    ordinary = [sale(n) for n in range(150)]
    # orders: a store the database refuses, with an item nobody sold before; a valid
    # sale of the same new item must still find its product (the dimension cache
    # forgets what the refused transaction wrote)
    refused_by_orders = sale(1000, StoreNumber=CLOSED_STORE, ItemNumber=777)
    same_new_item = sale(1001, ItemNumber=777)
    records = [*ordinary[:75], refused_by_orders, same_new_item, *ordinary[75:]]
    payloads = [orjson.dumps(record) for record in records]
    produce_all(settings, topics.sales_raw, payloads, headers=[("sent_by", SENT_BY.encode())])
    # shipping and accounting: a crafted event for a sale that does not exist, with a
    # negative amount (shipping: foreign key; accounting: the ledger's CHECK)
    ghost = orjson.dumps(
        {
            "type": "sale.recorded",
            "invoice_line_id": "GHOST-00001",
            "sale_date": "2025-01-06",
            "store_id": 2001,
            "sale_dollars": "-5.00",
            "bottles_sold": 1,
            "bottle_cost": None,
        }
    )
    # accounting: a cost of goods (bottles × bottle cost) that does not fit a ledger
    # amount; the contract refuses such a sale at the door, so only a crafted event
    # reaches the ledger with it (shipping: foreign key; accounting: overflow)
    big = orjson.dumps(
        {
            "type": "sale.recorded",
            "invoice_line_id": "BIG-00001",
            "sale_date": "2025-01-06",
            "store_id": 2001,
            "sale_dollars": "100.00",
            "bottles_sold": 2_000_000_000,
            "bottle_cost": "9999999999.99",
        }
    )
    produce_all(settings, topics.sales_recorded, [ghost, big])
    logs = {stage: tmp_path / f"{stage}.log" for stage in STAGES}
    workers = {stage: spawn_worker(settings, stage, logs[stage]) for stage in STAGES}
    recorded = len(records) - 1  # all but the one the orders stage refuses

    def settled() -> bool:
        exited = {stage: p.returncode for stage, p in workers.items() if p.poll() is not None}
        assert not exited, f"a worker exited: {exited}"
        found = counts(engine)
        return (
            found["sales"] == recorded
            and found["shipments"] == recorded
            and found["journal_entries"] == 2 * recorded
            and len(list_letters(engine)) == 5
        )

    try:
        wait_until(settled, timeout=120)
        alive = {stage: process.poll() for stage, process in workers.items()}
    finally:
        for process in workers.values():
            process.terminate()
        for process in workers.values():
            process.wait(timeout=30)
    assert alive == dict.fromkeys(STAGES), alive  # no worker exited on a poison record
    letters = {(letter.stage, letter.payload): letter for letter in list_letters(engine)}
    assert len(letters) == 5

    orders = letters["orders", payloads[75]]
    assert orders.reason.startswith("database refused: ")
    assert REFUSAL_CODE[dialect] in orders.reason, orders.reason
    assert orders.source_topic == topics.sales_raw and orders.sent_by == SENT_BY
    assert orders.status == "open" and orders.key is not None

    overflow = letters["accounting", big]
    assert overflow.reason.startswith("database refused: ")
    assert OVERFLOW[dialect] in overflow.reason, overflow.reason
    assert overflow.source_topic == topics.sales_recorded
    assert FOREIGN_KEY[dialect] in letters["shipping", big].reason

    shipping = letters["shipping", ghost]
    assert FOREIGN_KEY[dialect] in shipping.reason, shipping.reason
    accounting = letters["accounting", ghost]
    assert CHECK[dialect] in accounting.reason, accounting.reason
    assert shipping.offset == accounting.offset  # one message, refused by two stages

    with engine.connect() as connection:
        lines = set(connection.execute(select(models.sales.c.invoice_line_id)).scalars())
        entries = set(connection.execute(select(models.journal_entries.c.entry_id)).scalars())
        unpublished = connection.execute(
            text("SELECT count(*) FROM sales WHERE NOT published")
        ).scalar_one()
    expected = {str(r["Invoice"]) for r in records if r is not refused_by_orders}
    assert lines == expected
    assert {f"sale:{line}" for line in expected} <= entries
    assert not any(entry.endswith(("GHOST-00001", "BIG-00001")) for entry in entries)
    assert unpublished == 0  # every recorded sale's event was published, then flagged
    assert ledger(engine)[0] == Decimal("0.00")  # debits = credits
    for stage in STAGES:  # the workers found the poison, said so, and stopped cleanly
        assert "processed" in logs[stage].read_text().splitlines()[-1]
    assert "dead-lettered: database refused" in logs["orders"].read_text()


def test_a_redelivered_batch_adds_no_second_letter(settings, running) -> None:
    """The orders worker writes a batch with a contract error and a refused record, then
    dies before publishing and committing: its letters are already rows; the redelivered
    batch writes none twice, and the rest is absorbed."""
    from oaken.workers.loop import Worker

    refuse_closed_store(running.engine)
    records = [
        *(sale(n) for n in range(30)),
        sale(100, StoreNumber=CLOSED_STORE),
        sale(101, BottlesSold=0),
    ]
    produce_all(
        settings,
        Topics(settings.topic_prefix).sales_raw,
        [orjson.dumps(record) for record in records],
    )
    crashing = Worker("orders", settings, running.engine)
    batch: list = []
    wait_until(
        lambda: (
            batch.extend(m for m in crashing.consumer.consume(100, 0.5) if m.error() is None)
            or len(batch) >= len(records)
        ),
        timeout=30,
    )
    output = crashing._write(batch)  # committed to the database, never published
    crashing.consumer.close()  # no offsets committed: the batch will be redelivered
    assert len(output.dead) == 2 and len(output.events) == 30
    first = {(x.reason, x.offset) for x in list_letters(running.engine)}
    assert len(first) == 2 and counts(running.engine)["sales"] == 30

    [worker] = running.start("orders")
    wait_until(lambda: worker.processed >= len(records), timeout=60)
    assert {(x.reason, x.offset) for x in list_letters(running.engine, status="all")} == first
    assert counts(running.engine)["sales"] == 30
