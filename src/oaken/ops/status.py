"""``oaken status``: row counts, consumer lag, dead letters and the ledger balance."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from confluent_kafka import Consumer, KafkaException, TopicPartition
from sqlalchemy import Engine, func, select

from oaken.bus.config import consumer_config
from oaken.bus.topics import Topics
from oaken.db import models
from oaken.errors import BrokerError
from oaken.ops.dlq import read_dead_letters
from oaken.settings import Settings
from oaken.workers.stages import STAGES, group_id

COUNTED = ("stores", "vendors", "categories", "products", "employees", "sales", "shipments",
           "journal_entries", "journal_lines")
CENT = Decimal("0.01")


@dataclass
class Status:
    counts: dict[str, int]
    lag: dict[str, int]
    dlq: int
    ledger_imbalance: Decimal
    receivable_gap: Decimal

    def as_json(self) -> dict[str, object]:
        return {"counts": self.counts, "lag": self.lag, "dlq": self.dlq,
                "ledger_imbalance": str(self.ledger_imbalance),
                "receivable_gap": str(self.receivable_gap)}


def database_status(engine: Engine) -> tuple[dict[str, int], Decimal, Decimal]:
    """Counts per table, total debits − credits, and AR debits − sales dollars."""
    lines = models.journal_lines
    with engine.connect() as connection:
        counts = {
            name: connection.execute(
                select(func.count()).select_from(getattr(models, name))
            ).scalar_one()
            for name in COUNTED
        }
        debit, credit = connection.execute(
            select(func.coalesce(func.sum(lines.c.debit), 0),
                   func.coalesce(func.sum(lines.c.credit), 0))
        ).one()
        receivable = connection.execute(
            select(func.coalesce(func.sum(lines.c.debit), 0)).where(lines.c.account_code == "1100")
        ).scalar_one()
        dollars = connection.execute(
            select(func.coalesce(func.sum(models.sales.c.sale_dollars), 0))
        ).scalar_one()
    imbalance = _money(debit) - _money(credit)
    return counts, imbalance, _money(receivable) - _money(dollars)


def _money(value: object) -> Decimal:
    # SQLite sums NUMERIC as floating point: round back to cents through its repr
    return Decimal(str(value)).quantize(CENT)


def consumer_lag(settings: Settings) -> dict[str, int]:
    """Messages not yet committed, per consumer group of the workers."""
    topics = Topics(settings.topic_prefix)
    lag: dict[str, int] = {}
    for stage, cls in STAGES.items():
        group = group_id(settings.topic_prefix, stage)
        consumer = Consumer(consumer_config(settings, group))
        try:
            names = cls.topic_names(topics)
            metadata = consumer.list_topics(timeout=5)
            partitions = [
                TopicPartition(name, p)
                for name in names if name in metadata.topics
                for p in metadata.topics[name].partitions
            ]
            committed = consumer.committed(partitions, timeout=10) if partitions else []
            total = 0
            for tp in committed:
                low, high = consumer.get_watermark_offsets(tp, timeout=5)
                position = tp.offset if tp.offset >= 0 else low
                total += max(0, high - position)
            lag[group] = total
        except KafkaException as problem:
            raise BrokerError(f"cannot read consumer lag: {problem.args[0].str()}") from None
        finally:
            consumer.close()
    return lag


def collect(settings: Settings, engine: Engine) -> Status:
    counts, imbalance, gap = database_status(engine)
    dead = read_dead_letters(settings)
    return Status(counts=counts, lag=consumer_lag(settings), dlq=len(dead),
                  ledger_imbalance=imbalance, receivable_gap=gap)
