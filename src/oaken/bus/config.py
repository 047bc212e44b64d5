"""librdkafka configuration for the project's producers and consumers.

Everything talks to Kafka through ``confluent-kafka``, so pointing
``OAKEN_KAFKA_BOOTSTRAP`` at any cluster works unchanged. Extra client settings for
a managed cluster (SASL, TLS) come from the ``OAKEN_KAFKA_*`` settings, e.g.
``OAKEN_KAFKA_SECURITY_PROTOCOL=SASL_SSL`` (:meth:`Settings.kafka_client_options`).
"""

from __future__ import annotations

import logging
from typing import Any

from oaken.settings import Settings

#: a librdkafka configuration: strings, numbers and flags, and a ``logger`` object
KafkaConfig = dict[str, Any]

_quiet = logging.getLogger("oaken.kafka")
_quiet.addHandler(logging.NullHandler())


def _common(settings: Settings) -> KafkaConfig:
    config: KafkaConfig = {
        "bootstrap.servers": settings.bootstrap_servers,
        "logger": _quiet,
    }
    config.update(settings.kafka_client_options())
    return config


def producer_config(settings: Settings, **overrides: object) -> KafkaConfig:
    return {
        **_common(settings),
        "acks": "all",
        "linger.ms": 5,
        "batch.num.messages": 10000,
        "compression.type": "none",
        "enable.idempotence": False,
        "message.timeout.ms": 30000,
        # topics are created by the platform with the configured partitions, never
        # implicitly by a producer (a restarted embedded broker starts empty)
        "allow.auto.create.topics": False,
        **overrides,
    }


def consumer_config(settings: Settings, group: str, **overrides: object) -> KafkaConfig:
    return {
        **_common(settings),
        "group.id": group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": settings.kafka_session_timeout_ms,
        "heartbeat.interval.ms": settings.kafka_heartbeat_interval_ms,
        "partition.assignment.strategy": "range",
        "fetch.min.bytes": 1,
        "fetch.wait.max.ms": 50,
        **overrides,
    }


def admin_config(settings: Settings) -> KafkaConfig:
    return _common(settings)
