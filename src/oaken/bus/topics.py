"""Topic names (docs/reference.md, "Topics and consumer groups"), with the configurable
prefix, and their creation."""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from oaken.errors import BrokerError


@dataclass(frozen=True)
class Topics:
    prefix: str = ""

    @property
    def sales_raw(self) -> str:
        return f"{self.prefix}sales.raw"

    @property
    def sales_recorded(self) -> str:
        return f"{self.prefix}sales.recorded"

    @property
    def shipments_scheduled(self) -> str:
        return f"{self.prefix}shipments.scheduled"

    @property
    def sales_dlq(self) -> str:
        return f"{self.prefix}sales.dlq"

    def all(self) -> list[str]:
        return [self.sales_raw, self.sales_recorded, self.shipments_scheduled, self.sales_dlq]


def ensure_topics(
    admin: AdminClient, names: list[str], *, partitions: int,
    replication_factor: int | None = None, timeout: float = 15.0
) -> list[str]:
    """Create the topics that do not exist yet; return the names created.

    ``replication_factor`` None leaves it to the cluster (``default.replication.factor``);
    the topics' ``min.insync.replicas`` is the cluster's too."""
    existing = set(admin.list_topics(timeout=timeout).topics)
    missing = [name for name in names if name not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=replication_factor or -1)
         for name in missing],
        request_timeout=timeout,
    )
    for name, future in futures.items():
        try:
            future.result()
        except KafkaException as problem:
            error = problem.args[0]
            if error.name() != "TOPIC_ALREADY_EXISTS":
                raise BrokerError(f"cannot create topic {name}: {error.str()}") from None
    return missing
