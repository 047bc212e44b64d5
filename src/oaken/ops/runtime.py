"""``oaken up``: broker, topics, migrations, then the workers, the API and the repairer.

Each worker, the API and the repairer (``oaken repair --every``) run in their own
process, so the stages use every core and one crashing is restarted without the
others noticing. The supervisor restarts whatever dies, the embedded broker included
(then it creates the topics again), waiting longer after each quick death (doubling,
capped by ``OAKEN_RESTART_BACKOFF_MAX_SECONDS``), and logs every restart with the exit
status. The embedded broker, which keeps every message in memory, is recycled once it
holds more than ``OAKEN_BROKER_RECYCLE_MB`` and every consumer group has caught up:
with the journal and the repairer, a broker restart loses nothing.
SIGINT/SIGTERM is passed on to every child, which finish their batch and commit.
Restart counts are kept in ``OAKEN_HOME/supervisor.json`` for ``oaken status``.
A write the supervisor cannot make (a full disk: its state file, a log file) is logged
and skipped; it never stops supervising. Its children die with it, even with
``kill -9`` (a parent-death signal), and a new ``oaken up`` stops whatever an old one
left running before it starts anything (:mod:`oaken.ops.lineage`).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from oaken.bus.broker import EmbeddedBroker, wait_until_ready
from oaken.bus.config import admin_config
from oaken.bus.topics import Topics, ensure_topics
from oaken.db.migrate import migrate
from oaken.errors import BrokerError, DatabaseError, OakenError
from oaken.ops import lineage
from oaken.ops.status import SUPERVISOR_STATE, consumer_lag
from oaken.settings import Settings

log = logging.getLogger("oaken.up")

SERVICES = {
    "orders": ["worker", "orders"],
    "shipping": ["worker", "shipping"],
    "accounting": ["worker", "accounting"],
    "api": ["api"],
    "repair": ["repair", "--every"],
}
#: live analytics (oaken.analytics.live), when OAKEN_ANALYTICS_INTERVAL_SECONDS > 0
ANALYTICS = {"analytics": ["analytics", "--live"]}
BROKER = "broker"
FIRST_BACKOFF = 1.0  # seconds before the first restart (longer than an offset commit)
STABLE_AFTER = 30.0  # a process that ran this long starts again from FIRST_BACKOFF
RECYCLE_CHECK_EVERY = 10.0


def prepare(settings: Settings) -> None:
    """Topics exist and the database is at the newest migration."""
    wait_until_ready(settings)
    ensure_topics(AdminClient(admin_config(settings)), Topics(settings.topic_prefix).all(),
                  partitions=settings.partitions,
                  replication_factor=settings.replication_factor)
    migrate(settings.database_url)


def prepare_patiently(settings: Settings, *, give_up_after: float | None = None) -> None:
    """:func:`prepare`, waiting with back-off while the broker or the database is away."""
    delay, started = 0.5, time.monotonic()
    while True:
        try:
            prepare(settings)
            return
        except (BrokerError, DatabaseError, KafkaException) as problem:
            if give_up_after is not None and time.monotonic() - started > give_up_after:
                raise
            log.warning("not ready (%s), trying again in %.0fs", problem, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def oaken_command() -> list[str]:
    return [sys.executable, "-m", "oaken"]


def describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def default_services(settings: Settings) -> dict[str, list[str]]:
    """The supervised children of ``oaken up``: live analytics too unless it is off."""
    return {**SERVICES, **(ANALYTICS if settings.analytics_interval_seconds > 0 else {})}


@dataclass
class Supervised:
    """What the supervisor knows of one process."""

    restarts: int = 0
    last_exit: str = ""
    pid: int | None = None
    failures: int = 0  # quick deaths in a row, for the back-off
    started: float = field(default=0.0, repr=False)
    due: float | None = field(default=None, repr=False)  # when to start it again

    def backoff(self, cap: float) -> float:
        return min(FIRST_BACKOFF * 2 ** max(self.failures - 1, 0), cap)


class Stack:
    """The whole operational side, supervised; restarts what dies, broker included."""

    def __init__(self, settings: Settings, *, services: dict[str, list[str]] | None = None):
        self.settings = settings
        self.services = services or default_services(settings)
        self.broker = (EmbeddedBroker(settings, preexec_fn=lineage.die_with_parent)
                       if settings.embedded_broker else None)
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.state = {name: Supervised() for name in [BROKER, *self.services]}
        self.recycles = 0
        self.stopping = False
        self.logs = Path(settings.home) / "logs"
        self.state_file = Path(settings.home) / SUPERVISOR_STATE
        self._next_recycle_check = time.monotonic() + RECYCLE_CHECK_EVERY

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["OAKEN_KAFKA_BOOTSTRAP"] = self.settings.bootstrap_servers
        env["OAKEN_DATABASE_URL"] = self.settings.database_url
        env["OAKEN_HOME"] = str(self.settings.home)
        # the children see a bootstrap address, not "embedded": pass the choice on
        env["OAKEN_JOURNAL"] = "on" if self.settings.journal_enabled else "off"
        return env

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        lineage.stop_orphans(self.settings.home)
        if self.broker:
            self.broker.start()
            self.state[BROKER].started = time.monotonic()
            self.state[BROKER].pid = self.broker.process.pid if self.broker.process else None
        try:
            prepare(self.settings)
            for name in self.services:
                self._spawn(name)
        except BaseException:
            self.stop()
            raise
        self._save()

    def _spawn(self, name: str) -> None:
        try:
            log_file = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (closed below)
        except OSError as problem:  # e.g. a full disk: run it without its log
            log.warning("cannot open the log of %s (%s): its output is discarded", name,
                        problem)
            log_file = open(os.devnull, "ab")  # noqa: SIM115
        with log_file:
            child = subprocess.Popen(
                [*oaken_command(), *self.services[name]], env=self.env(),
                stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                # between fork and exec: safe here, no thread of the supervisor holds a
                # Python lock, and glibc's malloc is fork-safe (librdkafka's threads)
                preexec_fn=lineage.die_with_parent,
            )
        self.children[name] = child
        self.state[name].pid = child.pid
        self.state[name].started = time.monotonic()

    # -- supervision ------------------------------------------------------------------
    def supervise_once(self) -> list[str]:
        """Notice what died, schedule its restart with back-off, start what is due;
        returns the names started again in this round."""
        if self.stopping:
            return []
        now = time.monotonic()
        if self.broker and self.broker.process is not None:
            code = self.broker.process.poll()
            if code is not None:
                self.broker.process = None
                self._died(BROKER, code, now)
        for name, child in self.children.items():
            entry = self.state[name]
            if entry.due is None and child.poll() is not None:
                self._died(name, child.returncode, now)
        restarted = []
        for name, entry in self.state.items():
            if entry.due is not None and now >= entry.due and self._restart(name):
                restarted.append(name)
        if restarted:
            self._save()
        return restarted

    def _died(self, name: str, code: int, now: float) -> None:
        entry = self.state[name]
        entry.failures = 1 if now - entry.started >= STABLE_AFTER else entry.failures + 1
        entry.last_exit = describe_exit(code)
        entry.pid = None
        wait = entry.backoff(self.settings.restart_backoff_max_seconds)
        entry.due = now + wait
        log.warning("%s %s; restarting it in %.0fs (restart %d)", name, entry.last_exit, wait,
                    entry.restarts + 1)
        self._save()

    def _restart(self, name: str) -> bool:
        entry = self.state[name]
        try:
            if name == BROKER:
                self._restart_broker()
            else:
                self._spawn(name)
        except (OakenError, OSError) as problem:
            entry.failures += 1
            wait = entry.backoff(self.settings.restart_backoff_max_seconds)
            entry.due = time.monotonic() + wait
            log.warning("%s did not start (%s); trying again in %.0fs", name, problem, wait)
            return False
        entry.due = None
        entry.restarts += 1
        log.warning("%s started again (pid %s)", name, entry.pid)
        return True

    def _restart_broker(self) -> None:
        assert self.broker is not None
        self.broker.start()
        entry = self.state[BROKER]
        entry.started = time.monotonic()
        entry.pid = self.broker.process.pid if self.broker.process else None
        try:
            ensure_topics(AdminClient(admin_config(self.settings)),
                          Topics(self.settings.topic_prefix).all(),
                          partitions=self.settings.partitions,
                          replication_factor=self.settings.replication_factor)
        except (KafkaException, BrokerError) as problem:
            self.broker.stop()  # a broker without its topics is no broker: start it again
            entry.pid = None
            reason = problem.args[0].str() if isinstance(problem, KafkaException) else problem
            raise BrokerError(f"cannot create the topics: {reason}") from None

    # -- bounded broker memory --------------------------------------------------------
    def broker_rss_mb(self) -> float | None:
        if not self.broker or self.broker.process is None:
            return None
        try:
            return psutil.Process(self.broker.process.pid).memory_info().rss / 2**20
        except psutil.Error:
            return None

    def recycle_if_due(self) -> bool:
        """Restart the embedded broker when it holds more than ``OAKEN_BROKER_RECYCLE_MB``
        and every consumer group has caught up (nothing left unconsumed), or, whatever
        the groups, when it holds twice that."""
        limit = self.settings.broker_recycle_mb
        now = time.monotonic()
        if not limit or self.stopping or now < self._next_recycle_check:
            return False
        self._next_recycle_check = now + RECYCLE_CHECK_EVERY
        rss = self.broker_rss_mb()
        if rss is None or rss < limit:
            return False
        try:
            lag = consumer_lag(self.settings)
        except OakenError:
            return False
        if any(lag.values()) and rss < 2 * limit:
            self._next_recycle_check = now + 0.5  # look again soon for a quiet moment
            return False
        # past twice the limit it does not wait for a quiet moment: the journal sends
        # again what the orders worker had not taken, the repairer what the others had not
        log.warning("recycling the broker: it holds %.0f MB (OAKEN_BROKER_RECYCLE_MB=%d); "
                    "unconsumed messages: %d", rss, limit, sum(lag.values()))
        assert self.broker is not None
        self.broker.stop()
        self.recycles += 1
        try:
            self._restart_broker()
        except OakenError as problem:
            # the old broker is gone: without this, nothing would ever start another
            entry = self.state[BROKER]
            entry.failures += 1
            entry.last_exit = "recycled"
            entry.pid = None
            wait = entry.backoff(self.settings.restart_backoff_max_seconds)
            entry.due = time.monotonic() + wait
            log.warning("broker did not start after the recycle (%s); trying again in %.0fs",
                        problem, wait)
        self._save()
        return True

    # -- state for `oaken status` -------------------------------------------------------
    def _save(self) -> None:
        state = {
            "supervisor_pid": os.getpid(),
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "broker_recycles": self.recycles,
            "processes": {name: {k: v for k, v in asdict(entry).items()
                                 if k in ("restarts", "last_exit", "pid")}
                          for name, entry in self.state.items()
                          if name != BROKER or self.broker},
        }
        lineage.record(self.settings.home, {name: entry.pid for name, entry in
                                             self.state.items()})
        temporary = self.state_file.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps(state, indent=2))
            temporary.replace(self.state_file)
        except OSError as problem:  # a full disk: `oaken status` shows older counts
            log.warning("cannot write %s: %s", self.state_file, problem)

    def run_forever(self) -> None:
        def on_signal(*_: object) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        while not self.stopping:
            self.supervise_once()
            try:
                self.recycle_if_due()
            except OakenError as problem:
                log.warning("recycling the broker failed: %s", problem)
            time.sleep(0.25)
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
        self.state_file.unlink(missing_ok=True)
        lineage.forget(self.settings.home)
