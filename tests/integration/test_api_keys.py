"""API keys and provenance with real API processes, the broker and the orders worker
(docs/operations.md, "API keys"): two keys at once, revocation within 5 s on every
process, rotation without a lost request, no key or hash in any file the run wrote,
and ``sales.sent_by`` for the API, replay and import on every engine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import select

from oaken.db import models
from oaken.db.engine import make_engine
from oaken.keys.store import create_key, hash_key, list_keys
from oaken.settings import Settings
from tests.support.factory import sale
from tests.support.pipeline import Running, free_port, wait_until
from tests.support.workers import worker_env

NDJSON = {"content-type": "application/x-ndjson"}


class Api:
    """``python -m oaken api`` as a process of its own, stopped by its pid."""

    def __init__(self, settings: Settings, logs: Path, port: int | None = None, **env: str) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = logs / f"api-{self.port}.log"
        logs.mkdir(parents=True, exist_ok=True)
        environment = {**worker_env(settings), "OAKEN_API_PORT": str(self.port), **env}
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "oaken", "api"],
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def wait_healthy(self) -> None:
        def healthy() -> bool:
            assert self.process.poll() is None, self.log.read_text()
            try:
                # longer than the API's own 2 s broker probe, which a broker that is away
                # (the journal's tests) uses up: a 2 s client timed out on a loaded machine
                return httpx.get(f"{self.url}/healthz", timeout=10).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, timeout=60)

    def post(self, key: str | None, numbers: range) -> httpx.Response:
        headers = {**NDJSON, **({"authorization": f"Bearer {key}"} if key else {})}
        body = b"\n".join(orjson.dumps(sale(n)) for n in numbers)
        return httpx.post(f"{self.url}/v1/sales", content=body, headers=headers, timeout=30)

    def stop(self) -> None:
        """SIGTERM (the API writes its keys' last use on the way out); SIGKILL if stuck."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def apis() -> Iterator[list[Api]]:
    """The API processes a test starts (:func:`start_apis`), stopped when it ends."""
    started: list[Api] = []
    try:
        yield started
    finally:
        for api in started:
            api.stop()


def start_apis(
    started: list[Api], settings: Settings, tmp_path: Path, count: int = 2, **env: str
) -> list[Api]:
    for _ in range(count):
        started.append(Api(settings, tmp_path / "logs", **env))
    for api in started:
        api.wait_healthy()
    return started


def senders(settings: Settings) -> dict[str, str | None]:
    """``{invoice_line_id: sent_by}`` of every sale in the database."""
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(models.sales.c.invoice_line_id, models.sales.c.sent_by)
        ).all()
    engine.dispose()
    return {line: sender for line, sender in rows}


def line_ids(numbers: range) -> set[str]:
    return {str(sale(n)["Invoice"]) for n in numbers}


def assert_in_no_file(root: Path, secrets: list[str], *, hashes: list[str]) -> int:
    """No key in any file under ``root``; no key hash in any file but the SQLite database
    (where ``api_keys`` keeps them). Returns how many files were read."""
    read = 0
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        content = path.read_bytes()
        read += 1
        for secret in secrets:
            assert secret.encode() not in content, f"a key is written in {path}"
        if not path.name.startswith("oaken.db"):
            for digest in hashes:
                assert digest.encode() not in content, f"a key's hash is written in {path}"
    return read


def test_two_keys_send_at_once_and_each_sale_records_its_sender(
    settings, running: Running, apis, tmp_path
) -> None:
    engine = make_engine(settings.database_url)
    shop = create_key(engine, "shop")
    warehouse_app = create_key(engine, "warehouse-app")
    # through the journal (kept across restarts) on every API process
    start_apis(apis, settings, tmp_path, OAKEN_JOURNAL="on")
    running.start("orders")
    plan = {
        "shop": (shop.key, range(0, 600)),
        "warehouse-app": (warehouse_app.key, range(600, 1200)),
    }
    answers: dict[str, list[int]] = {name: [] for name in plan}

    def send(name: str) -> None:
        key, numbers = plan[name]
        for chunk, start in enumerate(range(numbers.start, numbers.stop, 50)):
            api = apis[chunk % 2]  # both processes, both keys at once
            answers[name].append(api.post(key, range(start, start + 50)).status_code)

    threads = [threading.Thread(target=send, args=(name,)) for name in plan]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert answers == {name: [202] * 12 for name in plan}
    wait_until(lambda: len(senders(settings)) == 1200, timeout=120)
    recorded = senders(settings)
    for name, (_, numbers) in plan.items():
        assert {line for line, sender in recorded.items() if sender == name} == line_ids(numbers)

    for api in apis:
        api.stop()  # writes each key's last use on the way out
    used = {key.name: key.last_used_at for key in list_keys(engine)}
    engine.dispose()
    assert set(used) == {"shop", "warehouse-app"}
    assert all(when is not None for when in used.values()), used
    assert (
        assert_in_no_file(
            tmp_path,
            [shop.key, warehouse_app.key],
            hashes=[hash_key(shop.key), hash_key(warehouse_app.key)],
        )
        > 3
    )


def test_a_revoked_key_is_refused_within_5s_by_every_process(
    settings, running: Running, apis, tmp_path
) -> None:
    engine = make_engine(settings.database_url)
    kept, revoked = create_key(engine, "kept"), create_key(engine, "gone")
    engine.dispose()
    start_apis(apis, settings, tmp_path)
    running.start("orders")
    accepted = {"gone": {0, 1}, "kept": set()}
    for number, api in enumerate(apis):
        assert api.post(revoked.key, range(number, number + 1)).status_code == 202
    revoke = subprocess.run(
        [sys.executable, "-m", "oaken", "keys", "revoke", "gone"],
        env=worker_env(settings),
        capture_output=True,
        text=True,
    )
    assert revoke.returncode == 0, revoke.stderr
    revoked_at = time.monotonic()
    refused_after: dict[int, float] = {}
    number = 2
    while len(refused_after) < len(apis) and time.monotonic() - revoked_at < 10:
        for api in apis:
            if api.port in refused_after:
                continue
            answer = api.post(revoked.key, range(number, number + 1))
            if answer.status_code == 401:
                assert answer.json() == {"detail": "this API key was revoked"}
                refused_after[api.port] = time.monotonic() - revoked_at
            else:
                assert answer.status_code == 202
                accepted["gone"].add(number)
            number += 1
        time.sleep(0.05)
    assert len(refused_after) == 2 and max(refused_after.values()) < 5.0, refused_after
    for api in apis:  # the other key keeps working on every process
        assert api.post(revoked.key, range(number, number + 1)).status_code == 401
        assert api.post(kept.key, range(number, number + 1)).status_code == 202
        accepted["kept"].add(number)
        number += 1
        assert api.post("oak_not-a-key", range(5000, 5001)).status_code == 401
        assert api.post(None, range(5000, 5001)).status_code == 401
    total = sum(len(numbers) for numbers in accepted.values())
    wait_until(lambda: len(senders(settings)) == total, timeout=60)
    recorded = senders(settings)
    for name, numbers in accepted.items():
        assert {line for line, sender in recorded.items() if sender == name} == {
            str(sale(n)["Invoice"]) for n in numbers
        }

    for api in apis:
        api.stop()
    logs = "".join(api.log.read_text() for api in apis)
    assert "revoked key" in logs and "of gone" in logs  # refused, logged by name
    assert "unknown key" in logs
    assert (
        assert_in_no_file(
            tmp_path, [kept.key, revoked.key], hashes=[hash_key(kept.key), hash_key(revoked.key)]
        )
        >= 2
    )


def test_rotation_with_two_live_keys_loses_no_request(
    settings, running: Running, apis, tmp_path
) -> None:
    engine = make_engine(settings.database_url)
    first = create_key(engine, "till")
    start_apis(apis, settings, tmp_path)
    running.start("orders")
    current = {"key": first.key}
    answers: list[int] = []
    stop = threading.Event()
    sent = {"count": 0}

    def till() -> None:  # a sales application that sends without pause
        number = 0
        while not stop.is_set():
            answers.append(
                apis[number % 2].post(current["key"], range(number * 5, number * 5 + 5)).status_code
            )
            number += 1
        sent["count"] = number * 5

    thread = threading.Thread(target=till)
    thread.start()
    try:
        time.sleep(1)
        second = create_key(engine, "till")  # the application now holds two keys
        assert second.active == 2
        time.sleep(5)  # every API process has read the new key (refresh <= 5 s)
        current["key"] = second.key  # the application moves to it
        time.sleep(1)
        from oaken.keys.store import revoke

        assert revoke(engine, "till", key_id=first.info.key_id) == [first.info.key_id]
        time.sleep(6)  # every process has dropped the old key; the new one goes on
    finally:
        stop.set()
        thread.join(timeout=60)
    engine.dispose()
    assert len(answers) > 20
    assert set(answers) == {202}, [code for code in answers if code != 202][:5]
    wait_until(lambda: len(senders(settings)) == sent["count"], timeout=120)
    assert set(senders(settings).values()) == {"till"}
    for api in apis:
        api.stop()
    assert (
        assert_in_no_file(
            tmp_path, [first.key, second.key], hashes=[hash_key(first.key), hash_key(second.key)]
        )
        >= 2
    )


def test_the_journal_keeps_the_sender_across_a_kill_of_the_api(
    settings, running: Running, apis, tmp_path
) -> None:
    """Accepted into the journal while the broker is away, the API killed with SIGKILL,
    started again with the broker: the sales arrive with their key's name."""
    engine = make_engine(settings.database_url)
    shop = create_key(engine, "shop")
    engine.dispose()
    first = Api(
        settings, tmp_path / "logs", OAKEN_JOURNAL="on", OAKEN_KAFKA_BOOTSTRAP="127.0.0.1:1"
    )
    apis.append(first)
    first.wait_healthy()
    assert first.post(shop.key, range(0, 30)).json() == {"accepted": 30, "rejected": []}
    first.process.kill()
    first.process.wait()
    assert senders(settings) == {}
    again = Api(settings, tmp_path / "logs", port=first.port, OAKEN_JOURNAL="on")
    apis.append(again)
    again.wait_healthy()
    running.start("orders")
    wait_until(lambda: len(senders(settings)) == 30, timeout=120)
    assert senders(settings) == dict.fromkeys(line_ids(range(0, 30)), "shop")


def test_replay_and_import_record_their_file_and_the_api_its_key(
    settings, running: Running, apis, tmp_path
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    replayed, imported = files / "replayed.jsonl", files / "backfill.jsonl"
    replayed.write_bytes(b"\n".join(orjson.dumps(sale(n)) for n in range(0, 40)) + b"\n")
    imported.write_bytes(b"\n".join(orjson.dumps(sale(n)) for n in range(100, 130)) + b"\n")
    env = worker_env(settings)
    engine = make_engine(settings.database_url)
    pos = create_key(engine, "pos")
    engine.dispose()
    start_apis(apis, settings, tmp_path, count=1)
    running.start("orders")
    for command in (
        ["replay", str(replayed)],
        ["import", str(imported)],
        ["replay", "--synthetic", "25", "--seed", "7"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "oaken", *command], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    assert apis[0].post(pos.key, range(200, 220)).status_code == 202
    wait_until(lambda: len(senders(settings)) == 40 + 30 + 25 + 20, timeout=120)
    recorded = senders(settings)
    by_sender: dict[str | None, set[str]] = {}
    for line, sender in recorded.items():
        by_sender.setdefault(sender, set()).add(line)
    assert set(by_sender) == {
        "replay:replayed.jsonl",
        "import:backfill.jsonl",
        "replay:synthetic",
        "pos",
    }
    assert by_sender["replay:replayed.jsonl"] == line_ids(range(0, 40))
    assert by_sender["import:backfill.jsonl"] == line_ids(range(100, 130))
    assert by_sender["pos"] == line_ids(range(200, 220))
    assert len(by_sender["replay:synthetic"]) == 25


def test_without_a_key_only_loopback_clients_are_served(sqlite_url, tmp_path) -> None:
    """No key configured: ``oaken api`` refuses to listen beyond 127.0.0.1, in one line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAKEN_")}
    env.update(
        {
            "OAKEN_HOME": str(tmp_path),
            "OAKEN_DATABASE_URL": sqlite_url,
            "OAKEN_API_HOST": "0.0.0.0",
            "OAKEN_API_PORT": str(free_port()),
            "OAKEN_KAFKA_BOOTSTRAP": "127.0.0.1:1",
            "OAKEN_JOURNAL": "on",
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "oaken", "api"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: OAKEN_API_HOST=0.0.0.0: no API key is configured, so the API serves "
        "127.0.0.1 only (create one with `oaken keys create NAME`, or set OAKEN_API_TOKEN)"
    ]
