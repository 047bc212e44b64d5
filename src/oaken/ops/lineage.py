"""The children of ``oaken up`` outlive it by neither route: they die with it, and a new
``oaken up`` stops whatever an old one left behind.

Two mechanisms, because each covers the other's gap:

* every child asks Linux for a parent-death signal (``prctl(PR_SET_PDEATHSIG,
  SIGTERM)``) before it runs, so when the supervisor dies, even by ``kill -9``, its
  workers finish their batch and exit, the API closes its journal and the embedded
  broker stops (elsewhere than on Linux this part does nothing);
* the supervisor notes itself and every child, each with its process create time, in
  ``OAKEN_HOME/children.json``. A new ``oaken up`` reads it before it starts anything:
  a noted process still alive *with the same create time* is an orphan of the old one
  (a pid reused by an unrelated process has another create time and is left alone),
  and it is stopped (SIGTERM, then SIGKILL after ``grace`` seconds) so that it frees
  its port. If the old supervisor itself still runs, the new one refuses to start.

Nothing is lost by stopping an orphan rather than adopting it: the sales the old API
accepted are in the journal, which the new API forwards; what a worker had not
committed is delivered again to the new workers.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

import psutil

from oaken.errors import OakenError

log = logging.getLogger("oaken.up")
CHILDREN = "children.json"
BROKER = "broker"
PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent() -> None:
    """For ``subprocess.Popen(preexec_fn=...)``: run in the child between fork and exec,
    it asks for SIGTERM when the parent dies, and exits at once if the parent already
    died before the request was in place."""
    if _libc is None:
        return
    parent = os.getppid()
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent or parent == 1:
        os._exit(1)


def created(pid: int) -> float | None:
    """The create time of process ``pid``, or None when there is none."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _same(pid: int, when: float) -> psutil.Process | None:
    """The process ``pid`` if it is still the one created at ``when``."""
    try:
        process = psutil.Process(pid)
        return process if abs(process.create_time() - when) < 0.05 else None
    except psutil.Error:
        return None


def record(home: Path, children: dict[str, int | None]) -> None:
    """Note the supervisor (this process) and its ``children`` (name → pid). A file that
    cannot be written (a full disk) is only logged: the parent-death signal still holds."""
    noted = {name: [pid, when] for name, pid in children.items()
             if pid is not None and (when := created(pid)) is not None}
    path = Path(home) / CHILDREN
    temporary = path.with_suffix(".tmp")
    try:
        temporary.write_text(json.dumps({"supervisor": [os.getpid(), created(os.getpid())],
                                         "children": noted}))
        temporary.replace(path)
    except OSError as problem:
        log.warning("cannot note the children in %s: %s", path, problem)


def forget(home: Path) -> None:
    (Path(home) / CHILDREN).unlink(missing_ok=True)


def stop_orphans(home: Path, *, grace: float = 20.0) -> list[str]:
    """Stop the processes an earlier ``oaken up`` of ``home`` left running; returns their
    names. :class:`OakenError` if that ``oaken up`` itself still runs."""
    path = Path(home) / CHILDREN
    try:
        noted = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as problem:
        log.warning("cannot read %s (%s): no orphans looked for", path, problem)
        return []
    pid, when = noted["supervisor"]
    if pid != os.getpid() and when is not None and _same(pid, when) is not None:
        raise OakenError(f"oaken up already runs with OAKEN_HOME={home} (pid {pid}); "
                         "stop it first")
    orphans = {name: process for name, (child, since) in noted["children"].items()
               if (process := _same(child, since)) is not None}
    # the workers and the API first (they finish their batch, which needs the broker)
    _stop({n: p for n, p in orphans.items() if n != BROKER}, grace)
    _stop({n: p for n, p in orphans.items() if n == BROKER}, grace)
    forget(home)
    return sorted(orphans)


def _stop(processes: dict[str, psutil.Process], grace: float) -> None:
    for name, process in processes.items():
        log.warning("stopping %s (pid %d), left running by an oaken up that died",
                    name, process.pid)
        with contextlib.suppress(psutil.Error):
            process.send_signal(signal.SIGCONT)  # a stopped process cannot handle SIGTERM
            process.terminate()
    alive = _wait_gone(processes, grace)
    for name, process in alive.items():
        log.warning("%s (pid %d) did not stop in %.0fs: killing it", name, process.pid, grace)
        with contextlib.suppress(psutil.Error):
            process.kill()
    _wait_gone(alive, 5.0)


def _running(process: psutil.Process) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever adopted it)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_gone(processes: dict[str, psutil.Process], timeout: float
               ) -> dict[str, psutil.Process]:
    """Wait until every one of ``processes`` has ended; returns those still running."""
    deadline = time.monotonic() + timeout
    alive = dict(processes)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = {name: p for name, p in alive.items() if _running(p)}
    return alive
