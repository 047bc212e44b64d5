"""``oaken replay`` through a real ``oaken up`` whose embedded broker is recycled while
the replay runs: every replayed sale is recorded, exactly once."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal

import pytest
from sqlalchemy import create_engine

from oaken.contract import parse_sale
from oaken.sources.generator import iter_sales
from tests.support.chaos import Platform, wait_until_settled
from tests.support.invariants import assert_invariants

SALES = 30_000
RATE = 1500
SEED = 7


@pytest.mark.slow
def test_a_replay_loses_nothing_to_broker_recycles(database_url, tmp_path) -> None:
    # the repairer at its pace of production rather than the chaos tests' 3 s: with
    # 3 s, every recycle made it send again each event the shipping and accounting
    # stages had not reached yet, and on a loaded PostgreSQL that flood filled the
    # broker to twice the limit again within a minute, recycle after recycle
    platform = Platform(
        tmp_path / "home",
        database_url,
        OAKEN_BROKER_RECYCLE_MB="30",
        OAKEN_REPAIR_GRACE_SECONDS="30",
        OAKEN_REPAIR_INTERVAL_SECONDS="5",
    )
    platform.start()
    replay: subprocess.Popen[bytes] | None = None
    try:
        with open(tmp_path / "replay.out", "wb") as out:
            replay = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "oaken",
                    "replay",
                    "--synthetic",
                    str(SALES),
                    "--rate",
                    str(RATE),
                    "--seed",
                    str(SEED),
                ],
                env=platform.env,
                cwd=platform.home,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            code = replay.wait(timeout=600)
        output = (tmp_path / "replay.out").read_text()
        assert code == 0, output
        final = wait_until_settled(platform, SALES, timeout=480)
        log = (platform.home / "up.out").read_text()
    finally:
        if replay is not None and replay.poll() is None:
            replay.kill()
            replay.wait()
        platform.stop()
    recycles = re.findall(r"recycling the broker: .* unconsumed messages: (\d+)", log)
    assert final["supervisor"]["broker_recycles"] >= 1 and recycles, log[-3000:]
    assert f"replayed {SALES} messages" in output and f"{SALES} taken" in output, output
    expected: dict[str, Decimal] = {}
    for record in iter_sales(SALES, seed=SEED, style="compact"):
        sale = parse_sale(record)
        expected[sale.invoice_line_id] = sale.sale_dollars
    assert len(expected) == SALES
    assert_invariants(create_engine(database_url), expected)  # each sale exactly once
