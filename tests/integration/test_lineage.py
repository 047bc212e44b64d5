"""The children of ``oaken up`` do not outlive it: they die with it (parent-death
signal), and a new ``oaken up`` stops those an old one left behind, recognised by pid
*and* create time."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psutil
import pytest

from oaken.errors import OakenError
from oaken.ops import lineage


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "120"])


def _note(home, supervisor: psutil.Process, children: dict[str, psutil.Process],
          *, shift: float = 0.0) -> None:
    (home / lineage.CHILDREN).write_text(json.dumps({
        "supervisor": [supervisor.pid, supervisor.create_time()],
        "children": {name: [p.pid, p.create_time() + shift] for name, p in children.items()},
    }))


def test_orphans_are_stopped_and_a_reused_pid_is_left_alone(tmp_path) -> None:
    orphan, stranger, old_supervisor = _sleeper(), _sleeper(), _sleeper()
    try:
        supervisor = psutil.Process(old_supervisor.pid)
        _note(tmp_path, supervisor, {"orders": psutil.Process(orphan.pid)})
        old_supervisor.kill()
        old_supervisor.wait()
        notes = json.loads((tmp_path / lineage.CHILDREN).read_text())
        # the "api" entry has the stranger's pid but another create time: a reused pid
        notes["children"]["api"] = [stranger.pid, psutil.Process(stranger.pid).create_time() - 5]
        (tmp_path / lineage.CHILDREN).write_text(json.dumps(notes))
        assert lineage.stop_orphans(tmp_path, grace=5) == ["orders"]
        assert orphan.wait(timeout=5) == -15  # SIGTERM
        assert stranger.poll() is None
        assert not (tmp_path / lineage.CHILDREN).exists()
    finally:
        for process in (orphan, stranger, old_supervisor):
            process.kill()
            process.wait()


def test_a_new_oaken_up_refuses_while_the_old_one_runs(tmp_path) -> None:
    old_supervisor, child = _sleeper(), _sleeper()
    try:
        _note(tmp_path, psutil.Process(old_supervisor.pid), {"orders": psutil.Process(child.pid)})
        with pytest.raises(OakenError, match=f"already runs .*pid {old_supervisor.pid}"):
            lineage.stop_orphans(tmp_path)
        assert child.poll() is None  # nothing touched
    finally:
        for process in (old_supervisor, child):
            process.kill()
            process.wait()


def test_a_child_dies_with_its_parent_even_by_kill_9() -> None:
    """A parent (a Python process) starts ``sleep`` with the parent-death signal and is
    killed with SIGKILL; the ``sleep`` ends by itself."""
    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time\n"
        "from oaken.ops.lineage import die_with_parent\n"
        "child = subprocess.Popen(['sleep', '120'], preexec_fn=die_with_parent)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n")], stdout=subprocess.PIPE)
    child: psutil.Process | None = None
    try:
        assert parent.stdout is not None
        child = psutil.Process(int(parent.stdout.readline()))
        assert child.is_running()
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while lineage._running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not lineage._running(child)
    finally:
        parent.kill()
        parent.wait()
        if child is not None and lineage._running(child):
            child.kill()
