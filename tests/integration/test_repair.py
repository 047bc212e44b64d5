"""The reconciler: each kind of gap found and its event sent again, nothing twice, and
the stages fill the gaps from the repaired events."""

from __future__ import annotations

import orjson
from sqlalchemy import func, select

from oaken.bus.topics import Topics
from oaken.contract import parse_sale
from oaken.db import models
from oaken.db.engine import make_engine
from oaken.ops.repair import Reconciler, waiting
from oaken.workers.accounting import post_entries
from oaken.workers.dimensions import DimensionCache
from oaken.workers.orders import event_for, record_sales
from oaken.workers.shipping import schedule_shipments, shipment_for
from tests.support.factory import dollars, sale
from tests.support.invariants import assert_invariants
from tests.support.pipeline import read_topic, wait_until


def write_with_gaps(engine) -> dict[str, object]:
    """Four sales as a broker restart could leave them: A lacks its shipment, B its
    sale entry, C its shipment's entry; D is whole."""
    sales = {name: parse_sale(sale(n)) for n, name in enumerate("ABCD")}
    events = {name: event_for(s) for name, s in sales.items()}
    shipments = {name: shipment_for(events[name]) for name in "BCD"}
    dimensions = DimensionCache()
    with engine.begin() as connection:
        dimensions.load(connection)
        record_sales(connection, [(s, name) for name, s in sales.items()], dimensions,
                     published=True)
        schedule_shipments(connection, [events[name] for name in "BCD"], published=True)
        post_entries(connection, [events["A"], events["C"], events["D"], shipments["B"],
                                  shipments["D"]])
    return {"events": events, "shipments": shipments}


def test_each_kind_of_gap_is_repaired_once_and_filled_by_the_stages(settings, running):
    engine = make_engine(settings.database_url)
    written = write_with_gaps(engine)
    topics = Topics(settings.topic_prefix)
    reconciler = Reconciler(settings.model_copy(update={"repair_grace_seconds": 0}), engine)

    dry = reconciler.run_once(dry_run=True)
    assert dry.found == {"sale without shipment": 1, "sale without ledger entry": 1,
                         "shipment without ledger entry": 1}
    assert dry.sent == 0
    assert read_topic(settings, topics.sales_recorded) == []

    first = reconciler.run_once()
    assert first.sent == 3
    recorded = sorted(orjson.loads(m.value())["invoice_line_id"]
                      for m in read_topic(settings, topics.sales_recorded))
    events = written["events"]
    assert recorded == sorted([events["A"].invoice_line_id, events["B"].invoice_line_id])
    [scheduled] = read_topic(settings, topics.shipments_scheduled)
    assert scheduled.value() == written["shipments"]["C"].encode()

    again = reconciler.run_once()  # the gaps are still there (no worker runs yet)
    assert again.total == 3 and again.sent == 0  # but repaired once is enough

    running.start("shipping", "accounting")
    def settled() -> bool:
        with engine.connect() as connection:
            return not any(gap.rows for gap in waiting(connection).values())

    wait_until(settled, timeout=60)
    assert reconciler.run_once().total == 0
    assert_invariants(engine, {str(sale(n)["Invoice"]): dollars(sale(n)) for n in range(4)})
    with engine.connect() as connection:
        assert connection.execute(
            select(func.count()).select_from(models.journal_entries)).scalar_one() == 8


def test_young_gaps_are_left_to_the_pipeline(settings) -> None:
    engine = make_engine(settings.database_url)
    write_with_gaps(engine)
    reconciler = Reconciler(settings.model_copy(update={"repair_grace_seconds": 3600}),
                            engine)
    assert reconciler.run_once().total == 0
    with engine.connect() as connection:
        gaps = waiting(connection)
    assert {kind: gap.rows for kind, gap in gaps.items()} == {
        "sale without shipment": 1, "sale without ledger entry": 1,
        "shipment without ledger entry": 1}
    assert all(gap.oldest_seconds is not None and gap.oldest_seconds < 600
               for gap in gaps.values())
