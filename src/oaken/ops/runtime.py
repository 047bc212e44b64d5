"""``oaken up``: broker, topics, migrations, then the workers and the API as processes.

Each worker and the API run in their own process (``oaken worker …``, ``oaken api``),
so the stages use every core and one crashing restarts without the others noticing.
SIGINT/SIGTERM is passed on to every child, which finish their batch and commit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from confluent_kafka.admin import AdminClient

from oaken.bus.broker import EmbeddedBroker, wait_until_ready
from oaken.bus.config import admin_config
from oaken.bus.topics import Topics, ensure_topics
from oaken.db.migrate import migrate
from oaken.settings import Settings

SERVICES = {
    "orders": ["worker", "orders"],
    "shipping": ["worker", "shipping"],
    "accounting": ["worker", "accounting"],
    "api": ["api"],
}


def prepare(settings: Settings) -> None:
    """Topics exist and the database is at the newest migration."""
    wait_until_ready(settings)
    ensure_topics(AdminClient(admin_config(settings)), Topics(settings.topic_prefix).all(),
                  partitions=settings.partitions)
    migrate(settings.database_url)


def oaken_command() -> list[str]:
    return [sys.executable, "-m", "oaken"]


class Stack:
    """The whole operational side, supervised; restarts a child that dies."""

    def __init__(self, settings: Settings, *, services: dict[str, list[str]] | None = None):
        self.settings = settings
        self.services = services or SERVICES
        self.broker = EmbeddedBroker(settings) if settings.embedded_broker else None
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False
        self.logs = Path(settings.home) / "logs"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["OAKEN_KAFKA_BOOTSTRAP"] = self.settings.bootstrap_servers
        env["OAKEN_DATABASE_URL"] = self.settings.database_url
        env["OAKEN_HOME"] = str(self.settings.home)
        return env

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        if self.broker:
            self.broker.start()
        try:
            prepare(self.settings)
            for name in self.services:
                self._spawn(name)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, name: str) -> None:
        with open(self.logs / f"{name}.log", "ab") as log:
            self.children[name] = subprocess.Popen(
                [*oaken_command(), *self.services[name]], env=self.env(),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )

    def supervise_once(self) -> list[str]:
        """Restart children that exited; returns their names."""
        restarted = []
        for name, child in list(self.children.items()):
            if child.poll() is not None and not self.stopping:
                self._spawn(name)
                restarted.append(name)
        return restarted

    def run_forever(self) -> None:
        def on_signal(*_: object) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        while not self.stopping:
            self.supervise_once()
            time.sleep(0.5)
        self.stop()

    def stop(self, timeout: float = 20.0) -> None:
        self.stopping = True
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.children.clear()
        if self.broker:
            self.broker.stop()
