"""`oaken up` and `oaken demo` as a user runs them: real processes, real ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import orjson
import pytest
from sqlalchemy import create_engine

from tests.support.factory import sale
from tests.support.invariants import drained
from tests.support.pipeline import free_port, wait_until


def user_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAKEN_")}
    env.update({"OAKEN_HOME": str(tmp_path / ".oaken"), "OAKEN_BROKER_PORT": str(free_port()),
                "OAKEN_API_PORT": str(free_port())})
    return env


@pytest.mark.slow
def test_up_serves_the_api_and_stops_cleanly_on_sigterm(tmp_path) -> None:
    env = user_env(tmp_path)
    up = subprocess.Popen([sys.executable, "-m", "oaken", "up"], env=env, cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{env['OAKEN_API_PORT']}"
    engine = create_engine(f"sqlite:///{tmp_path / '.oaken' / 'oaken.db'}")
    try:
        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, timeout=90)
        body = b"\n".join(orjson.dumps(sale(n)) for n in range(500))
        response = httpx.post(f"{base}/v1/sales", content=body, timeout=30,
                              headers={"content-type": "application/x-ndjson"})
        assert response.json() == {"accepted": 500, "rejected": []}
        wait_until(lambda: drained(engine, 500), timeout=120)
    finally:
        up.send_signal(signal.SIGTERM)
        output = up.communicate(timeout=60)[0].decode()
    assert up.returncode == 0, output
    assert "stopped cleanly" in output
    logs = tmp_path / ".oaken" / "logs"
    for stage in ("orders", "shipping", "accounting"):
        last = (logs / f"{stage}.log").read_text().strip().splitlines()[-1]
        assert last.startswith(f"{stage}: processed"), last
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/healthz", timeout=2)


@pytest.mark.slow
def test_demo_streams_reconciles_and_exits_zero(tmp_path) -> None:
    env = user_env(tmp_path)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "oaken", "demo", "--sales", "3000", "--no-analytics"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout
    assert "3,000 · 3,000 · 6,000" in summary  # sales · shipments · journal entries
    assert "ledger debits − credits" in summary and "0.00" in summary
    assert time.monotonic() - started < 600
