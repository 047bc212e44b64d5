"""Which worker processes have joined their consumer group, as files in ``OAKEN_HOME``.

A real Kafka cluster lists a group's members (``DescribeGroups``); the embedded broker
answers with none. So each worker also notes its partitions, on every assignment and
revocation, in ``OAKEN_HOME/members/<group>.<pid>.json``, and removes the file when it
stops; ``oaken status`` counts the files of processes still alive.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import psutil

log = logging.getLogger("oaken.worker")


def _folder(home: Path) -> Path:
    return Path(home) / "members"


def note(home: Path, group: str, partitions: set[tuple[str, int]]) -> None:
    """Note the partitions; a file that cannot be written (a full disk) only leaves
    ``oaken status`` with an older count, never stops the worker."""
    folder = _folder(home)
    path = folder / f"{group}.{os.getpid()}.json"
    temporary = path.with_suffix(".tmp")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps({"pid": os.getpid(), "partitions": sorted(partitions)}))
        temporary.replace(path)
    except OSError as problem:
        log.warning("cannot note the partitions of %s in %s: %s", group, folder, problem)


def forget(home: Path, group: str) -> None:
    (_folder(home) / f"{group}.{os.getpid()}.json").unlink(missing_ok=True)


def members(home: Path, group: str) -> int:
    """Live processes of ``group`` that hold at least one partition."""
    count = 0
    for path in _folder(home).glob(f"{group}.*.json"):
        try:
            noted = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if noted["partitions"] and psutil.pid_exists(noted["pid"]):
            count += 1
    return count
