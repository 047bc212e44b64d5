"""Start and stop the BigQuery emulator (bqemulator 1.4.0) that ``make bqemulator`` builds.

It lives in ``.venv-bqemu/`` at the repository's root, never in the project's
``.venv`` (it pins another DuckDB, and its pytest plugin breaks pytest where
``testcontainers`` is missing). It keeps its data in memory: a new process is an empty
BigQuery. Plain Python, no pytest, so the benchmark uses it too.

What it is not: BigQuery. It translates BigQuery SQL to DuckDB; a passing run proves
configuration, API calls, load jobs and MERGE end to end, not BigQuery's exact SQL
semantics. Its known gaps (docs/bigquery.md)
stay out of the assertions.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
VENV = REPOSITORY / ".venv-bqemu"
EXECUTABLE = VENV / "bin" / "bqemulator"
PROJECT = "test-project"


class EmulatorUnavailable(RuntimeError):
    """The emulator is not installed, or did not answer ``/healthz`` in time."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Emulator:
    """One bqemulator process on free ports; ``endpoint`` is its REST address."""

    def __init__(self, log_path: Path, *, project: str = PROJECT) -> None:
        self.log_path = log_path
        self.project = project
        self.port = free_port()
        self.grpc_port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 60.0) -> str:
        if not EXECUTABLE.exists():
            raise EmulatorUnavailable(
                f"the BigQuery emulator is not installed ({EXECUTABLE} missing): "
                "run `make bqemulator`")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(EXECUTABLE), "start", "--rest-port", str(self.port),
                 "--grpc-port", str(self.grpc_port), "--project", self.project,
                 "--log-level", "warning"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise EmulatorUnavailable(
                    f"bqemulator exited with status {self.process.returncode}: "
                    f"{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return self.endpoint
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise EmulatorUnavailable(
                    f"bqemulator did not answer {self.endpoint}/healthz within {timeout:.0f} s: "
                    f"{self._log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return " | ".join(lines[-3:])[-600:] or "no output"
