"""Chaos: sales flow through ``oaken up`` while ``kill -9`` hits the embedded broker,
every worker, the API and (MariaDB, PostgreSQL) the database server. Afterwards every
sale answered ``202`` is in the ledger exactly once, balanced to the cent, nothing
waits, and every process is alive again.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine

from tests.support.chaos import Clients, Platform, run_faults, wait_until_settled
from tests.support.invariants import assert_invariants

SALES = 20_000
RATE = 400  # sales a second: 50 s of traffic to spread the faults over
KILLS = ["broker", "broker", "orders", "orders", "shipping", "shipping",
         "accounting", "accounting", "api", "api"]


def chaos(platform: Platform, *, database=None, seed: int) -> None:
    platform.start()
    clients = Clients(platform.url, sales=SALES, rate=RATE)
    sending = threading.Thread(target=clients.run, name="sales-apps")
    try:
        sending.start()
        plan = KILLS + (["database"] if database else [])
        faults = run_faults(platform, plan, seed=seed, spacing=(1.5, 4.5), database=database)
        sending.join(timeout=600)
        assert not sending.is_alive(), "the sales applications never got every 202"
        final = wait_until_settled(platform, SALES)
        alive = platform.all_alive()
        restarts = {name: p["restarts"] for name, p in final["supervisor"]["processes"].items()}
    finally:
        code = platform.stop()
    print(f"faults {[f.kind for f in faults]} restarts {restarts} answers {clients.answers} "
          f"refused {clients.refused}")
    assert [fault.kind for fault in faults].count("broker") >= 2
    assert len(clients.accepted) == SALES
    assert clients.unexpected() == {}, clients.answers  # no 5xx but 503 (and no 4xx)
    assert all(alive.values()), alive  # no process died for good
    for name in ("broker", "orders", "shipping", "accounting", "api"):
        assert restarts[name] >= 2, restarts
    assert final["ledger_imbalance"] == "0.00" and final["receivable_gap"] == "0.00"
    assert_invariants(create_engine(platform.database_url), clients.accepted)
    assert code == 0, platform.log()


@pytest.mark.slow
def test_chaos_on_sqlite_loses_and_doubles_nothing(tmp_path) -> None:
    home = tmp_path / "home"
    chaos(Platform(home, f"sqlite:///{home / 'oaken.db'}"), seed=9)


@pytest.mark.slow
def test_chaos_on_a_database_server_loses_and_doubles_nothing(
        private_server, private_database_url, tmp_path) -> None:
    """The same, on a private MariaDB or PostgreSQL server that is also killed with
    ``kill -9`` once and kept down for 10 s."""
    chaos(Platform(tmp_path / "home", private_database_url),
          database=(private_server.kill, private_server.start), seed=11)
