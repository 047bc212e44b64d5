"""Thousands of fuzzed messages straight into sales.raw, mixed with valid sales:
every bad one is dead-lettered with a reason, every valid one reaches the ledger,
and no worker dies."""

from __future__ import annotations

import itertools

import orjson
import pytest
from confluent_kafka import Producer
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from oaken.bus.config import producer_config
from oaken.bus.topics import Topics
from oaken.contract import FIELD_ALIASES, decode_sale
from oaken.errors import ContractError
from tests.support.factory import dollars, sale
from tests.support.invariants import assert_invariants, drained
from tests.support.pipeline import read_topic, wait_until

ALIASES = {alias for spellings in FIELD_ALIASES.values() for alias in spellings}
REQUIRED = ("Invoice", "Date", "StoreNumber", "ItemNumber", "BottlesSold", "SaleDollars")
LETTERS = st.characters(whitelist_categories=("Lu", "Ll"))
# values that are wrong for every required field, whatever else the message holds
always_wrong = st.one_of(
    st.none(), st.booleans(), st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(-5, 5), max_size=3),
)
wrong_for = {
    "Invoice": always_wrong | st.just("") | st.floats() | st.integers(-(2**63), 0)
    | st.text(LETTERS, min_size=65, max_size=2000),
}
wrong_number = (always_wrong | st.integers(-(2**63), -1)
                | st.text(LETTERS, min_size=1, max_size=20)
                | st.text(LETTERS, min_size=256, max_size=2000))


@st.composite
def broken_record(draw) -> bytes:
    record: dict[object, object] = sale(draw(st.integers(min_value=0, max_value=10**6)))
    if draw(st.booleans()):
        extra = draw(st.text(max_size=30).filter(lambda k: k not in ALIASES))
        record[extra] = draw(st.integers(-5, 5) | st.text(max_size=5))
    field = draw(st.sampled_from(REQUIRED))
    if draw(st.booleans()):
        del record[field]
    else:
        record[field] = draw(wrong_for.get(field, wrong_number))
    return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS)


bad_messages = st.one_of(
    st.binary(max_size=300),  # not JSON at all, or invalid UTF-8
    st.binary(min_size=1, max_size=50).map(lambda b: b"\xff" + b),
    st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
                 | st.text(max_size=30),
                 lambda inner: st.lists(inner, max_size=4), max_leaves=8).map(orjson.dumps),
    broken_record(),
)


@pytest.mark.slow
def test_fuzzed_messages_are_dead_lettered_and_valid_ones_reach_the_ledger(settings, running):
    producer = Producer(producer_config(settings))
    raw = Topics(settings.topic_prefix).sales_raw
    counter = itertools.count()
    valid: dict[str, object] = {}
    bad: list[bytes] = []

    @hypothesis_settings(max_examples=150, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))
    @given(st.lists(bad_messages, min_size=10, max_size=30))
    def produce(messages: list[bytes]) -> None:
        for payload in messages:
            try:
                decode_sale(payload)
            except ContractError:
                bad.append(payload)
                producer.produce(raw, value=payload)
                continue
            raise AssertionError(f"fuzzed message unexpectedly valid: {payload[:80]!r}")
        record = sale(next(counter))
        valid[str(record["Invoice"])] = dollars(record)
        producer.produce(raw, value=orjson.dumps(record), key=str(record["StoreNumber"]))

    produce()
    producer.flush(30)
    assert len(bad) >= 2000, len(bad)
    running.start("orders", "shipping", "accounting")
    wait_until(lambda: drained(running.engine, len(valid)), timeout=180)
    assert_invariants(running.engine, valid)
    dlq = Topics(settings.topic_prefix).sales_dlq
    wait_until(lambda: len(read_topic(settings, dlq)) >= len(bad), timeout=60)
    letters = read_topic(settings, dlq)
    assert sorted(m.value() for m in letters) == sorted(bad)
    for letter in letters:
        headers = dict(letter.headers())
        assert headers["reason"] and headers["source_topic"].decode() == raw
    for worker, thread in running.workers:
        assert thread.is_alive(), f"{worker.stage.name} died"
