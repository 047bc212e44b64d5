"""Stopping a process a test started, by its id: SIGTERM, then SIGKILL after a wait."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Ask ``process`` to stop (SIGTERM) and wait; kill it when it does not in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
