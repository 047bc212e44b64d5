"""``oaken orchestrator`` stops its whole process tree (dagster dev, its webserver,
daemon and code servers) on SIGTERM and SIGINT, and lets go of its port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from oaken.orchestration.serve import GRACE_SECONDS
from tests.support.pipeline import free_port

ROOT = Path(__file__).resolve().parents[2]


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_every_process_of_the_orchestrator(tmp_path, signum) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OAKEN_", "DAGSTER_"))}
    env.update(
        {
            "OAKEN_HOME": str(tmp_path / "home"),
            "OAKEN_DATABASE_URL": f"sqlite:///{tmp_path / 'oaken.db'}",
        }
    )
    seen: dict[int, psutil.Process] = {}
    with open(tmp_path / "orchestrator.out", "wb") as out:
        command = subprocess.Popen(
            [sys.executable, "-m", "oaken", "orchestrator", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 300  # dagster dev loads the dbt project first
        while True:
            assert command.poll() is None, (tmp_path / "orchestrator.out").read_text()[-3000:]
            seen.update({p.pid: p for p in psutil.Process(command.pid).children(recursive=True)})
            try:
                if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).is_success:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the Dagster UI did not answer"
            time.sleep(0.5)
        time.sleep(3)  # the daemon and the code servers start after the webserver answers
        seen.update({p.pid: p for p in psutil.Process(command.pid).children(recursive=True)})
        assert len(seen) >= 3, seen  # dagster dev, its webserver, daemon, code servers
        sent = time.monotonic()
        command.send_signal(signum)
        command.wait(timeout=GRACE_SECONDS + 30)
        took = time.monotonic() - sent
        left = {pid: " ".join(p.cmdline()[:4]) for pid, p in seen.items() if alive(p)}
        assert left == {}, left
        assert port_free(port)
        assert took <= GRACE_SECONDS + 15
        assert command.returncode == 0, (tmp_path / "orchestrator.out").read_text()[-3000:]
    finally:  # stragglers, by pid
        if command.poll() is None:
            command.kill()
            command.wait()
        for process in seen.values():
            if alive(process):
                process.kill()
