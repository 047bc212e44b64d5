"""Workers as real processes (``python -m oaken worker …``), for kill -9 tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from oaken.settings import Settings


def worker_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "OAKEN_HOME": str(settings.home),
        "OAKEN_DATABASE_URL": settings.database_url,
        "OAKEN_KAFKA_BOOTSTRAP": settings.bootstrap_servers,
        "OAKEN_TOPIC_PREFIX": settings.topic_prefix,
        "OAKEN_PARTITIONS": str(settings.partitions),
        "OAKEN_BATCH_SIZE": str(settings.batch_size),
    })
    return env


def spawn_worker(settings: Settings, stage: str, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "oaken", "worker", stage], env=worker_env(settings),
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
