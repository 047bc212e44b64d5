"""Two orders workers in one consumer group split the partitions and together
record every sale exactly once."""

from __future__ import annotations

from oaken.sources.replay import publish
from tests.support.factory import dollars, sale
from tests.support.invariants import assert_invariants, drained
from tests.support.pipeline import wait_until


def test_two_orders_workers_share_the_partitions(settings, running) -> None:
    first, second = running.start("orders", "orders")
    wait_until(lambda: len(first.assignment) + len(second.assignment) == settings.partitions
               and first.assignment and second.assignment, timeout=60)
    assert not first.assignment & second.assignment
    records = [sale(n) for n in range(3000)]
    publish(settings, records)
    running.start("shipping", "accounting")
    wait_until(lambda: drained(running.engine, 3000))
    assert first.processed > 0 and second.processed > 0
    assert first.processed + second.processed == 3000
    assert_invariants(running.engine, {str(r["Invoice"]): dollars(r) for r in records})
