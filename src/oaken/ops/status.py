"""``oaken status``: row counts, consumer lag and members, dead letters, rows waiting for
a downstream stage, the journal, restarts, and the ledger balance (exact, in Decimal)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import psutil
from confluent_kafka import Consumer, ConsumerGroupState, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from sqlalchemy import Engine, func, select

from oaken.bus.config import admin_config, consumer_config
from oaken.bus.topics import Topics
from oaken.db import models
from oaken.errors import BrokerError
from oaken.money import to_cents
from oaken.ops.dlq import open_letters
from oaken.ops.repair import Waiting, waiting
from oaken.settings import Settings
from oaken.workers import presence
from oaken.workers.stages import STAGES, group_id

COUNTED = ("stores", "vendors", "categories", "products", "employees", "sales", "shipments",
           "journal_entries", "journal_lines")
#: where a running ``oaken up`` (oaken.ops.runtime) keeps its restart counts
SUPERVISOR_STATE = "supervisor.json"


@dataclass
class Status:
    counts: dict[str, int]
    lag: dict[str, int]
    dlq: int  # open dead letters (the dead_letters table)
    ledger_imbalance: Decimal
    receivable_gap: Decimal
    members: dict[str, int] = field(default_factory=dict)
    waiting: dict[str, Waiting] = field(default_factory=dict)
    journal: int | None = None
    supervisor: dict | None = None
    analytics: dict | None = None  # live mode (oaken.analytics.live.summary)

    def as_json(self) -> dict[str, object]:
        return {"counts": self.counts, "lag": self.lag, "members": self.members,
                "analytics": self.analytics,
                "dlq": self.dlq, "waiting": {k: w.as_json() for k, w in self.waiting.items()},
                "journal": self.journal, "supervisor": self.supervisor,
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
        receivable: Decimal = connection.execute(
            select(func.coalesce(func.sum(lines.c.debit), 0)).where(lines.c.account_code == "1100")
        ).scalar_one()
        dollars: Decimal = connection.execute(
            select(func.coalesce(func.sum(models.sales.c.sale_dollars), 0))
        ).scalar_one()
    imbalance = to_cents(debit) - to_cents(credit)
    return counts, imbalance, to_cents(receivable) - to_cents(dollars)


def group_members(settings: Settings) -> dict[str, int]:
    """Members of each worker's consumer group (0: no worker has joined). The embedded
    broker lists no members: there, the workers' own notes count them."""
    groups = [group_id(settings.topic_prefix, stage) for stage in STAGES]
    admin = AdminClient(admin_config(settings))
    members = {}
    for group, future in admin.describe_consumer_groups(groups, request_timeout=10).items():
        try:
            described = future.result()
        except KafkaException as problem:
            raise BrokerError(f"cannot describe group {group}: {problem.args[0].str()}") from None
        alive = described.state not in (ConsumerGroupState.DEAD, ConsumerGroupState.EMPTY)
        members[group] = len(described.members) if alive else 0
        if not members[group]:
            members[group] = presence.members(settings.home, group)
    return members


def journal_records(settings: Settings) -> int | None:
    """Records in this host's API journal not yet taken by the orders worker."""
    path = settings.journal_path
    if not path.exists():
        return None
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as journal:
        return journal.execute("SELECT count(*) FROM records").fetchone()[0]


def read_supervisor_state(home: Path) -> dict | None:
    """What a running ``oaken up`` last wrote, or ``None`` when none runs for ``home``."""
    try:
        state = json.loads((Path(home) / SUPERVISOR_STATE).read_text())
    except (OSError, ValueError):
        return None
    return state if psutil.pid_exists(state.get("supervisor_pid", -1)) else None


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


def live_summary(settings: Settings) -> dict | None:
    from oaken.analytics.live import summary

    return summary(settings)


def collect(settings: Settings, engine: Engine) -> Status:
    counts, imbalance, gap = database_status(engine)
    with engine.connect() as connection:
        gaps = waiting(connection)
        dead = open_letters(connection)
    return Status(counts=counts, lag=consumer_lag(settings), dlq=dead,
                  ledger_imbalance=imbalance, receivable_gap=gap,
                  members=group_members(settings), waiting=gaps,
                  journal=journal_records(settings),
                  supervisor=read_supervisor_state(settings.home),
                  analytics=live_summary(settings))
