"""The commands the containers of deploy/docker-compose.yml run besides the services:
``oaken migrate`` (the one-shot service the others wait for) and ``oaken healthcheck``
(every service's health check), against real processes.

A worker's health follows its heartbeat: healthy while its loop turns, unhealthy once
it is frozen (SIGSTOP) longer than ``--max-age``, healthy again when it thaws, and
unhealthy with the reason once it is killed (SIGKILL). The same for the repairer; the
API's is its ``/healthz``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from oaken.bus.config import admin_config
from oaken.bus.topics import Topics
from oaken.db.migrate import current_revision
from oaken.settings import Settings
from tests.support.databases import ENGINES, fresh_database
from tests.support.pipeline import free_port, make_settings
from tests.support.workers import spawn_worker, worker_env


def oaken(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oaken", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def wait_for_health(env: dict[str, str], *args: str, healthy: bool,
                    timeout: float = 60) -> subprocess.CompletedProcess:
    deadline = time.monotonic() + timeout
    while True:
        result = oaken(env, "healthcheck", *args)
        if (result.returncode == 0) == healthy or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize("engine", ENGINES)
def test_migrate_upgrades_the_database_and_creates_the_topics(
        engine, broker, tmp_path, server_status) -> None:
    for url in fresh_database(engine, tmp_path, server_status):  # empty: not migrated
        settings = Settings(home=tmp_path, database_url=url, kafka_bootstrap=broker,
                            topic_prefix=f"m{uuid.uuid4().hex[:8]}.", partitions=3)
        env = {**worker_env(settings), "OAKEN_REPLICATION_FACTOR": "1"}
        assert current_revision(url) == "none"
        first = oaken(env, "migrate")
        assert first.returncode == 0, first.stderr
        assert current_revision(url) != "none"
        assert f"database: at migration {current_revision(url)}" in first.stderr
        topics = AdminClient(admin_config(settings)).list_topics(timeout=10).topics
        for topic in Topics(settings.topic_prefix).all():
            assert topic in first.stderr
            assert len(topics[topic].partitions) == 3
        again = oaken(env, "migrate")  # idempotent
        assert again.returncode == 0, again.stderr
        assert "created none (all there)" in again.stderr


def test_a_worker_is_healthy_while_its_loop_turns(database_url, broker, tmp_path) -> None:
    settings = make_settings(database_url, broker, tmp_path)
    env = worker_env(settings)
    worker = spawn_worker(settings, "orders", tmp_path / "orders.log")
    try:
        healthy = wait_for_health(env, "orders", "--max-age", "8", healthy=True)
        assert healthy.returncode == 0, healthy.stderr + (tmp_path / "orders.log").read_text()
        assert "orders: beat " in healthy.stderr
        assert oaken(env, "healthcheck", "shipping").returncode == 1  # none runs

        os.kill(worker.pid, signal.SIGSTOP)  # frozen: alive, but its loop no longer turns
        frozen = wait_for_health(env, "orders", "--max-age", "8", healthy=False, timeout=30)
        assert frozen.returncode == 1
        assert "orders: last heartbeat" in frozen.stderr and "over 8s" in frozen.stderr

        os.kill(worker.pid, signal.SIGCONT)
        thawed = wait_for_health(env, "orders", "--max-age", "8", healthy=True, timeout=30)
        assert thawed.returncode == 0, thawed.stderr

        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        dead = oaken(env, "healthcheck", "orders", "--max-age", "8")
        assert dead.returncode == 1
        assert "no live process beats on this host" in dead.stderr
    finally:
        stop(worker)


def test_the_repairer_beats_each_pass(sqlite_url, broker, tmp_path) -> None:
    settings = make_settings(sqlite_url, broker, tmp_path)
    env = {**worker_env(settings), "OAKEN_REPAIR_INTERVAL_SECONDS": "1"}
    with (tmp_path / "repair.log").open("wb") as log:
        repairer = subprocess.Popen([sys.executable, "-m", "oaken", "repair", "--every"],
                                    env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        healthy = wait_for_health(env, "repair", "--max-age", "10", healthy=True)
        assert healthy.returncode == 0, healthy.stderr + (tmp_path / "repair.log").read_text()
        os.kill(repairer.pid, signal.SIGKILL)
        repairer.wait(timeout=10)
        dead = oaken(env, "healthcheck", "repair")
        assert dead.returncode == 1 and "repair: no live process" in dead.stderr
    finally:
        stop(repairer)


def test_the_api_is_healthy_when_healthz_answers(sqlite_url, broker, tmp_path) -> None:
    settings = make_settings(sqlite_url, broker, tmp_path)
    port = free_port()
    env = {**worker_env(settings), "OAKEN_API_PORT": str(port), "OAKEN_JOURNAL": "on"}
    refused = oaken(env, "healthcheck", "api")
    assert refused.returncode == 1 and f"127.0.0.1:{port}/healthz" in refused.stderr
    with (tmp_path / "api.log").open("wb") as log:
        api = subprocess.Popen([sys.executable, "-m", "oaken", "api"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        healthy = wait_for_health(env, "api", healthy=True)
        assert healthy.returncode == 0, healthy.stderr + (tmp_path / "api.log").read_text()
        assert "answered 200" in healthy.stderr
    finally:
        stop(api)


@pytest.mark.slow
def test_the_orchestrator_daemon_is_healthy_while_it_runs(tmp_path) -> None:
    """`oaken orchestrator --role daemon` (the compose file's Dagster daemon) replaces
    itself with `dagster-daemon run`; Dagster's liveness check follows it."""
    env = {**os.environ, "OAKEN_HOME": str(tmp_path),
           "OAKEN_WAREHOUSE": f"duckdb:///{tmp_path / 'warehouse.duckdb'}"}
    before = oaken(env, "healthcheck", "orchestrator-daemon")
    assert before.returncode == 1
    assert before.stderr.strip() == "error: orchestrator-daemon: Daemon(s) not running"
    with (tmp_path / "daemon.log").open("wb") as log:
        daemon = subprocess.Popen([sys.executable, "-m", "oaken", "orchestrator", "--role",
                                   "daemon"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        alive = wait_for_health(env, "orchestrator-daemon", healthy=True, timeout=300)
        assert alive.returncode == 0, alive.stderr + (tmp_path / "daemon.log").read_text()
        daemon.terminate()  # the same process: exec, not a child
        assert daemon.wait(timeout=60) == 0
    finally:
        stop(daemon)


@pytest.mark.parametrize("part", ["dashboard", "orchestrator"])
def test_a_web_part_that_does_not_answer_is_unhealthy(tmp_path, part) -> None:
    env = {**os.environ, "OAKEN_HOME": str(tmp_path), "OAKEN_DASHBOARD_PORT": str(free_port()),
           "OAKEN_DAGSTER_PORT": str(free_port())}
    result = oaken(env, "healthcheck", part)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {part}: http://127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_heartbeat_folder_is_left_by_a_stopped_worker(database_url, broker,
                                                         tmp_path) -> None:
    """A worker stopped with SIGTERM removes its heartbeat: nothing stale stays."""
    settings = make_settings(database_url, broker, tmp_path)
    env = worker_env(settings)
    worker = spawn_worker(settings, "shipping", tmp_path / "shipping.log")
    try:
        assert wait_for_health(env, "shipping", healthy=True).returncode == 0
        worker.terminate()
        assert worker.wait(timeout=30) == 0
        assert not list(Path(settings.home, "heartbeats").glob("shipping.*"))
    finally:
        stop(worker)
