"""A failed live run keeps its reason: ``failed_runs`` > 0 always comes with the error
and when it happened, also after later runs succeeded (``last_run.error`` is the last
run's only)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from oaken.analytics import live
from oaken.errors import TransformError
from oaken.settings import Settings


def test_the_last_failure_outlives_later_successes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'oaken.db'}",
                      warehouse=f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    outcomes = iter([TransformError("dbt build (live) failed: unique_x"), None, None])

    def micro_batch(_settings: Settings) -> dict[str, float]:
        problem = next(outcomes)
        if problem is not None:
            raise problem
        return {"extract_load": 0.1}

    monkeypatch.setattr(live, "micro_batch", micro_batch)
    monkeypatch.setattr(live, "newest_sale", lambda _settings: datetime(2026, 12, 5, 1, 2, 3))
    state = live.LiveState()
    for _ in range(3):
        live.run_once(config, state, heavy=False, defs=None)

    status = live.summary(config)
    assert status is not None
    assert (status["runs"], status["failed_runs"]) == (3, 1)
    assert status["last_run"]["error"] is None  # the last run succeeded
    failure = status["last_failure"]
    assert failure["kind"] == "micro-batch"
    assert failure["error"] == "dbt build (live) failed: unique_x"
    assert datetime.fromisoformat(failure["finished_at"])
    assert status["data_through"] == "2026-12-05T01:02:03"
