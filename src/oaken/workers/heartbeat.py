"""Heartbeats of the long-running processes, for container health checks.

A worker touches ``OAKEN_HOME/heartbeats/<name>.<host>.<pid>`` each turn of its loop
(at most every :data:`EVERY` seconds), the repairer after each pass;
``oaken healthcheck <name>`` (a container's ``HEALTHCHECK``) passes when a live process
of that name on this host beat within ``--max-age`` seconds. A process whose loop is
stuck stops beating; a dead one's file is ignored (its pid is gone) and removed.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import psutil

EVERY = 5.0  # seconds between two touches of the file


def _folder(home: Path) -> Path:
    return Path(home) / "heartbeats"


class Heartbeat:
    """``beat()`` as often as you like; the file is touched every :data:`EVERY` seconds."""

    def __init__(self, home: Path, name: str) -> None:
        self.path = _folder(home) / f"{name}.{socket.gethostname()}.{os.getpid()}"
        self._last = 0.0

    def beat(self) -> None:
        now = time.monotonic()
        if now - self._last < EVERY:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        os.utime(self.path)
        self._last = now

    def stop(self) -> None:
        self.path.unlink(missing_ok=True)


def last_beat(home: Path, name: str) -> float | None:
    """Seconds since a live process named ``name`` on this host last beat (the most
    recent of them), or None when none beats."""
    newest: float | None = None
    for path in _folder(home).glob(f"{name}.{socket.gethostname()}.*"):
        pid = path.name.rsplit(".", 1)[1]
        try:
            if not pid.isdigit() or not psutil.pid_exists(int(pid)):
                path.unlink(missing_ok=True)
                continue
            modified = path.stat().st_mtime
        except OSError:
            continue
        newest = modified if newest is None else max(newest, modified)
    return None if newest is None else max(0.0, time.time() - newest)
