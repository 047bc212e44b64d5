"""The live pipeline status on the Operations tab: the database and the broker.

Not the warehouse: this is what ``oaken status`` reports, read from the operational
database and Kafka, so the page can show lag and dead letters next to the marts. Open
dead letters are rows of the database's ``dead_letters``: they are counted even when
the broker is away.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from oaken.errors import OakenError
from oaken.warehouse.adapter import first_line


@dataclass(frozen=True)
class LiveStatus:
    """What ``oaken status`` reports, from the operational database and the broker."""

    counts: dict[str, int] = field(default_factory=dict)
    ledger_imbalance: Decimal | None = None
    receivable_gap: Decimal | None = None
    lag: dict[str, int] | None = None
    dlq: int | None = None
    problems: tuple[str, ...] = ()


def live_status(settings: Any, *, probe_timeout: float = 0.5) -> LiveStatus:
    """Counts, ledger imbalance, consumer lag and open dead letters from the same functions
    as ``oaken status`` (:func:`oaken.ops.status.collect`). The broker is probed first, so
    a dashboard running without the pipeline reports it unreachable in ``probe_timeout``
    seconds instead of waiting for Kafka client time-outs (the database's figures,
    dead letters included, are shown all the same)."""
    from oaken.db.engine import make_engine, safe_url
    from oaken.ops import status
    from oaken.ops.dlq import open_letters

    engine = make_engine(settings.database_url)
    problems: list[str] = []
    try:
        if _broker_reachable(settings.bootstrap_servers, probe_timeout):
            try:
                found = status.collect(settings, engine)
                return LiveStatus(found.counts, found.ledger_imbalance, found.receivable_gap,
                                  found.lag, found.dlq)
            except OakenError as problem:
                problems.append(str(problem))
        else:
            problems.append(f"Kafka broker {settings.bootstrap_servers} is not reachable: "
                            "consumer lag is unavailable (is `oaken up` running?)")
        try:
            counts, imbalance, gap = status.database_status(engine)
            with engine.connect() as connection:
                dead = open_letters(connection)
        except Exception as problem:
            problems.append(f"database {safe_url(settings.database_url)} cannot be read: "
                            f"{first_line(problem)}")
            return LiveStatus(problems=tuple(problems))
        return LiveStatus(counts, imbalance, gap, dlq=dead, problems=tuple(problems))
    finally:
        engine.dispose()


def _broker_reachable(bootstrap: str, timeout: float) -> bool:
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port or 9092)),
                                          timeout=timeout):
                return True
        except (OSError, ValueError):
            continue
    return False
