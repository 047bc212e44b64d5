"""The `oaken` command: import, generate, status and dlq, and its one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import orjson
import pytest
from typer.testing import CliRunner

from oaken.cli import app
from oaken.settings import get_settings
from oaken.sources.replay import publish
from tests.support.factory import sale
from tests.support.invariants import drained
from tests.support.pipeline import wait_until
from tests.support.workers import worker_env

runner = CliRunner()


def invoke(env: dict[str, str], *args: str):
    get_settings.cache_clear()
    try:
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)
    finally:
        get_settings.cache_clear()


@pytest.fixture
def env(settings) -> dict[str, str]:
    return worker_env(settings)


def test_generate_is_deterministic_and_import_is_idempotent(env, tmp_path, database_url):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (first, second):
        result = invoke(env, "generate", "--rows", "2000", "--out", str(path), "--seed", "7")
        assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes()
    result = invoke(env, "import", str(first))
    assert result.exit_code == 0, result.output
    assert "imported 2000" in result.output
    again = invoke(env, "import", str(first))
    assert "imported 0, already there 2000" in again.output
    status = invoke(env, "status", "--json")
    assert status.exit_code == 0, status.output
    report = json.loads(status.stdout)
    assert report["counts"]["sales"] == 2000
    assert report["counts"]["shipments"] == 2000
    assert report["counts"]["journal_entries"] == 4000
    assert report["ledger_imbalance"] == "0.00"
    assert set(report["lag"]) == {f"{env['OAKEN_TOPIC_PREFIX']}oaken-{s}"
                                  for s in ("orders", "shipping", "accounting")}


def test_status_and_dead_letters_after_a_stream(env, settings, running) -> None:
    records = [sale(n) for n in range(300)]
    publish(settings, [*records, {"Invoice": "only-an-id"}, {**sale(1), "SaleDollars": "9.99"}])
    running.start("orders", "shipping", "accounting")
    wait_until(lambda: drained(running.engine, 300))
    wait_until(lambda: json.loads(invoke(env, "status", "--json").stdout)["dlq"] == 2,
               timeout=30)
    report = json.loads(invoke(env, "status", "--json").stdout)
    assert report["counts"]["sales"] == 300 and report["ledger_imbalance"] == "0.00"
    wait_until(lambda: all(v == 0 for v in json.loads(
        invoke(env, "status", "--json").stdout)["lag"].values()), timeout=30)
    letters = json.loads(invoke(env, "dlq", "list", "--json").stdout)
    assert len(letters) == 2
    for letter in letters:
        assert {"reason", "source_topic", "partition", "offset", "payload"} <= set(letter)
        assert letter["source_topic"] == f"{env['OAKEN_TOPIC_PREFIX']}sales.raw"
    by_reason = {letter["reason"].split(":")[0]: letter for letter in letters}
    assert set(by_reason) == {"sale_date", "conflict"}
    assert orjson.loads(by_reason["conflict"]["payload"])["SaleDollars"] == "9.99"
    table = invoke(env, "dlq", "list")
    assert table.exit_code == 0 and "conflict" in table.stdout


def test_dlq_replay_resubmits_each_dead_letter_once(env, settings, running) -> None:
    publish(settings, [{**sale(1), "BottlesSold": 0}])
    running.start("orders", "shipping", "accounting")
    wait_until(lambda: len(json.loads(invoke(env, "dlq", "list", "--json").stdout)) == 1,
               timeout=30)
    running.stop()  # no worker: the replayed message stays in sales.raw for now
    assert "replayed 1" in invoke(env, "dlq", "replay").output
    assert "replayed 0" in invoke(env, "dlq", "replay").output
    # still invalid when it is processed again, so it becomes a new dead letter
    running.start("orders")
    wait_until(lambda: len(json.loads(invoke(env, "dlq", "list", "--json", "--status", "all")
                                      .stdout)) == 2, timeout=30)
    first, second = json.loads(invoke(env, "dlq", "list", "--json", "--status", "all").stdout)
    assert (first["status"], second["status"]) == ("replayed", "open")
    assert first["payload"] == second["payload"] and first["reason"] == second["reason"]
    assert second["offset"] != first["offset"]  # the replayed copy, a new delivery


def test_errors_are_one_line_without_a_traceback(tmp_path) -> None:
    environment = {"PATH": "/usr/bin:/bin", "OAKEN_HOME": str(tmp_path),
                   "OAKEN_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                   "OAKEN_KAFKA_BOOTSTRAP": "127.0.0.1:1"}
    result = subprocess.run([sys.executable, "-m", "oaken", "status"], env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: database "), result.stderr
    assert "Traceback" not in result.stderr
    bad = subprocess.run([sys.executable, "-m", "oaken", "import", str(tmp_path / "none.csv")],
                         env=environment, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stderr.strip() == f"error: no such file: {tmp_path}/none.csv"
    config = subprocess.run([sys.executable, "-m", "oaken", "status"],
                            env={**environment, "OAKEN_PARTITIONS": "zero"},
                            capture_output=True, text=True, timeout=60)
    assert config.returncode == 1 and config.stderr.startswith("error: OAKEN_PARTITIONS")


@pytest.mark.parametrize("command", [[], ["up"], ["demo"], ["worker"], ["api"], ["replay"],
                                     ["generate"], ["import"], ["status"], ["dlq"],
                                     ["dlq", "list"], ["dlq", "replay"],
                                     ["dlq", "discard"]])
def test_every_command_explains_itself(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output) > 200


def test_money_in_status_is_exact(env, tmp_path, database_url) -> None:
    path = tmp_path / "cents.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(sale(n, SaleDollars="0.10", BottleCost="0.01",
                                                     BottlesSold=1)) for n in range(1000)))
    assert invoke(env, "import", str(path)).exit_code == 0
    report = json.loads(invoke(env, "status", "--json").stdout)
    assert Decimal(report["ledger_imbalance"]) == Decimal("0.00")
    assert report["receivable_gap"] == "0.00"


def test_replay_publishes_files_and_synthetic_sales(env, settings, running, tmp_path) -> None:
    from oaken.bus.topics import Topics
    from tests.support.pipeline import read_topic

    running.start("orders")  # replay returns once the orders worker has taken every record
    path = tmp_path / "sales.jsonl"
    path.write_text("\n".join([orjson.dumps(sale(1)).decode(), "{broken", "",
                               orjson.dumps(sale(2)).decode()]) + "\n")
    result = invoke(env, "replay", str(path))
    assert result.exit_code == 0, result.output
    assert "replayed 3 messages" in result.output and "3 taken" in result.output
    result = invoke(env, "replay", "--synthetic", "250", "--rate", "5000")
    assert result.exit_code == 0, result.output
    assert "replayed 250 messages" in result.output and "250 taken" in result.output
    messages = read_topic(settings, Topics(settings.topic_prefix).sales_raw)
    assert len(messages) == 253
    assert not list((settings.home / "journal").glob("replay-*"))  # its journal is gone
    assert b"{broken" in {m.value() for m in messages}  # published as is, to be dead-lettered
    neither = runner.invoke(app, ["replay"], env=env)
    assert str(neither.exception) == "give either a PATH or --synthetic N"
