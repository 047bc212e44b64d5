"""Running ``dagster dev`` for ``oaken orchestrator``, and stopping all of it.

``dagster dev`` starts a webserver, a daemon and code servers of its own. Stopped by
a signal that the command did not pass on, it left all of them running, holding the
port. So it runs in a session of its own (Ctrl-C in a terminal reaches only
``oaken orchestrator``), SIGTERM and SIGINT are passed on to it, and whatever of its
process tree is still alive after the grace period is stopped by pid.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import time
from collections.abc import Sequence

import psutil

log = logging.getLogger("oaken.orchestrator")

GRACE_SECONDS = 20.0  # for dagster dev to stop its children itself


def run_process_tree(
    command: Sequence[str], env: dict[str, str], *, grace: float = GRACE_SECONDS
) -> int:
    """Run ``command`` until it exits or this process gets SIGTERM/SIGINT; then stop its
    whole tree within ``grace`` seconds (SIGKILL after). Returns its exit status."""
    process = subprocess.Popen(list(command), env=env, start_new_session=True)
    asked: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        asked.append(signum)

    previous = {
        signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        while process.poll() is None and not asked:
            time.sleep(0.1)
        if asked:
            stop_process_tree(process, grace=grace)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        stop_process_tree(process, grace=0.0)  # nothing of it outlives this command
    return process.returncode


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def stop_process_tree(process: subprocess.Popen[bytes], *, grace: float) -> None:
    """SIGTERM to ``process`` (it stops its own children), then, once it is gone or
    ``grace`` has passed, SIGTERM and 5 s later SIGKILL to every descendant left."""
    tree = {child.pid: child for child in descendants(process.pid)}
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log.warning("dagster dev did not stop in %.0fs: killing it", grace)
            tree.update({child.pid: child for child in descendants(process.pid)})
            process.kill()
            process.wait()
    left = [child for child in tree.values() if _alive(child)]
    for child in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    _, still = psutil.wait_procs(left, timeout=5)
    for child in still:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(still, timeout=5)


def _alive(child: psutil.Process) -> bool:
    try:
        return child.is_running() and child.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
