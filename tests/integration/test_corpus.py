"""The corpus of odd values: what one database refuses or reads unlike another, through
the real pipeline (sales.raw → orders → shipping → accounting) on every database.

Ordinary sales surround a corpus of odd ones. Every ordinary sale is recorded, shipped
and in the ledger; every odd one is either recorded, and then identically on SQLite,
MariaDB and PostgreSQL (all their rows are compared), or dead-lettered naming the field
(the contract's rules), or, for a value no rule of the contract can foresee (here a rule
an operator added to the database), dead-lettered with the database's own reason by the
worker's bisect; the letters are on ``sales.dlq`` and in ``dead_letters``, the same
records on every database; no worker stops. A second wave sends twins of the first
wave's ids (differing only in case, accents, Unicode normalisation or blanks around
them), so they meet the rows already written, as in the issue: ``INV-P00000001`` and
``inv-p00000001``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from oaken.api.app import create_app
from oaken.bus.topics import Topics
from oaken.db.migrate import migrate
from oaken.db.models import Base, dead_letters
from oaken.sources.replay import encode, publish
from tests.support.databases import ENGINES, fresh_database
from tests.support.factory import dollars, sale
from tests.support.invariants import assert_invariants, counts
from tests.support.pipeline import Running, make_settings, read_topic, wait_until
from tests.support.refusals import CLOSED_STORE, REFUSAL_CODE, refuse_closed_store

ORDINARY = [sale(n) for n in range(24)]
MAX_INT = 2_147_483_647


def odd(number: int, invoice: object, **change: object) -> dict[str, object]:
    """A sale with an id of its own and a store, vendor, category and item of its own,
    so its text is the only text those dimension rows ever get."""
    ident = 7000 + number
    own: dict[str, object] = {
        "Invoice": invoice, "StoreNumber": ident, "VendorNumber": ident, "Category": ident,
        "ItemNumber": ident, "StoreName": f"STORE {ident}", "VendorName": f"VENDOR {ident}",
        "CategoryName": f"CATEGORY {ident}", "ItemDescription": f"ITEM {ident}"}
    return sale(number, **{**own, **change})


#: accepted by the contract: recorded, identically on every database (label, record)
RECORDED_FIRST: list[tuple[str, dict[str, object]]] = [
    ("upper-case id", odd(1, "INV-P00000001")),
    ("accented id (NFC)", odd(2, "CAF\u00c9-00000001")),
    ("id with sharp s spelt ss", odd(3, "STRASSE-00000001")),
    ("id later sent with blanks around it", odd(4, "INV-Q00000001")),
    ("id later sent with a blank and other content", odd(5, "INV-R00000001")),
    ("id with inner blanks", odd(6, "INV P 00000001")),
    ("64-character id of 4-byte characters", odd(7, "\U0001f37e" * 64)),
    ("id as a JSON integer beyond a float's precision", odd(8, 9007199254740993)),
    ("255 characters, 510 bytes", odd(9, "LONG-00000001", StoreName="\u00e9" * 255,
                                     Address="\u20ac" * 255, City="\u0416" * 255,
                                     County="\u00df" * 255, ZipCode="\u00e8" * 255)),
    ("255 characters, 1020 bytes", odd(10, "LONG-00000002", VendorName="\U0001f37e" * 255,
                                       CategoryName="\U0001d518" * 255,
                                       ItemDescription="\U0001f600" * 255)),
    ("tab and line breaks in text", odd(11, "TEXT-00000001",
                                        ItemDescription="Rye\tWhiskey\r\nAged 6 years",
                                        StoreName="Hy-Vee\nWine & Spirits")),
    ("quotes, backslashes and COPY's end marker in text",
     odd(12, "TEXT-00000002", StoreName="Jack's \\ \"Old No. 7\"", CategoryName="\\.",
         VendorName="a\\tb", ItemDescription="\\N")),
    ("printable and unprintable non-controls in text",
     odd(13, "TEXT-00000003", StoreName="Hy\u00a0Vee\u200b", VendorName="\ufeffDiageo",
         CategoryName="Rum\u2028Dark", ItemDescription="\ue000\uffff\U0010fffd")),
    ("largest ids", odd(14, "MAXID-00000001", StoreNumber=MAX_INT, VendorNumber=MAX_INT,
                        Category=MAX_INT, ItemNumber=MAX_INT, CountyNumber=MAX_INT,
                        EmployeeID=MAX_INT)),
    ("largest amounts and a cost of goods at the ledger's limit",
     odd(15, "MAXMONEY-00000001", BottleCost="9999999999.99", BottleRetail="9999999999.99",
         BottlesSold=100, SaleDollars="9999999999.99", VolumeSoldLiters="9999999999.99")),
    ("the first date accepted", odd(16, "DATE-00000001", Date="2012-01-01")),
    ("quotes, backslashes and COPY's markers in the id and the state",
     odd(17, "Q'\"\\N\\.-00000001", State="\\.")),
]

#: the second wave: twins of first-wave ids that are other sales on every database
RECORDED_SECOND: list[tuple[str, dict[str, object]]] = [
    ("lower-case id", odd(21, "inv-p00000001")),
    ("accented id (NFD)", odd(22, "CAFE\u0301-00000001")),
    ("unaccented id", odd(23, "CAFE-00000001")),
    ("lower-case accented id", odd(24, "caf\u00e9-00000001")),
    ("id with sharp s", odd(25, "STRA\u00dfE-00000001")),
    ("id with inner blanks spaced otherwise", odd(26, "INV P  00000001")),
]

#: the second wave: the same sale as a first-wave one (blanks around the id are trimmed)
ABSORBED_SECOND = [
    ("id with trailing blanks", odd(4, "INV-Q00000001   ")),
    ("id with leading blanks", odd(4, "  INV-Q00000001")),
]

CONFLICT_SECOND = odd(5, "INV-R00000001 ", SaleDollars="1.00")
CONFLICT_REASON = ("conflict: invoice_line_id 'INV-R00000001' was already recorded with "
                   "different content")

#: a text field of each dimension row, its spelling, and the dimension's id field
DIMENSION_TEXT = [
    ("store_name", "StoreName"), ("address", "Address"), ("city", "City"),
    ("zip_code", "ZipCode"), ("county", "County"), ("state", "State"),
    ("vendor_name", "VendorName"), ("category_name", "CategoryName"),
    ("item_description", "ItemDescription"),
]
CONTROLS = ["\x00", "\x01", "\x1b", "\x1f", "\x7f", "\x85"]


def _dead_cases() -> list[tuple[str, dict[str, object], str]]:
    """(label, record, the start of its reason) of records the contract refuses."""
    cases = []
    number = 100
    for field, alias in DIMENSION_TEXT:
        for control in CONTROLS:
            number += 1
            cases.append((
                f"{field} with U+{ord(control):04X}",
                odd(number, f"CTRL-{number:08d}", **{alias: f"Hy-Vee{control} Wine"}),
                f"{field}: contains the control character U+{ord(control):04X} "
                "at character 7"))
    for label, invoice, reason in [
        ("id with NUL", "INV-\x0000000001",
         "contains the control character U+0000 at character 5"),
        ("id with a line feed", "INV-00000001\n",
         "contains the control character U+000A at character 13"),
        ("id with a tab", "INV-\t00000001", "contains the control character U+0009"),
        ("id with a zero-width space", "INV-\u200b00000001",
         "contains the unprintable character U+200B"),
        ("id with a no-break space", "INV-\u00a000000001",
         "contains the unprintable character U+00A0"),
        ("id with a line separator", "INV-00000001\u2028",
         "contains the unprintable character U+2028"),
        ("id of 65 characters", "X" * 65, "longer than 64 characters (65)"),
    ]:
        number += 1
        cases.append((label, odd(number, invoice), f"invoice_line_id: {reason}"))
    for label, change, reason in [
        ("256 one-byte characters", {"StoreName": "y" * 256},
         "store_name: longer than 255 characters (256)"),
        ("256 two-byte characters", {"ItemDescription": "\u00e9" * 256},
         "item_description: longer than 255 characters (256)"),
        ("a store id beyond 32 bits", {"StoreNumber": MAX_INT + 1},
         f"store_id: out of range ({MAX_INT + 1})"),
        ("an item id of 31 digits", {"ItemNumber": str(10**30)},
         f"item_id: out of range ({10**30})"),
        ("a date before 2012", {"Date": "2011-12-31"}, "sale_date: before 2012-01-01"),
        ("a date in year 9999", {"Date": "9999-12-31"},
         "sale_date: more than one day in the future"),
        ("a date in year 1", {"Date": "0001-01-01"}, "sale_date: before 2012-01-01"),
        ("an amount beyond DECIMAL(12,2)", {"SaleDollars": "10000000000.00"},
         "sale_dollars: out of range (10000000000.00)"),
        ("a cost of goods beyond the ledger's DECIMAL(14,2)",
         {"BottleCost": "9999999999.99", "BottlesSold": 101, "SaleDollars": "1.00"},
         "bottle_cost: times bottles_sold (1009999999998.99) is beyond the ledger's"),
    ]:
        number += 1
        cases.append((label, odd(number, f"ODD-{number:08d}", **change), reason))
    return cases


DEAD = _dead_cases()


def _raw(number: int, field: str, json_value: str) -> str:
    """The JSON text of an odd sale with ``field`` spelt as ``json_value`` verbatim."""
    return orjson.dumps(odd(number, f"RAW-{number:08d}", **{field: "@"})).decode().replace(
        '"@"', json_value)


#: JSON texts no encoder of a Python dict writes: a lone surrogate escaped in a string,
#: an integer past 64 bits (read as a float)
RAW_DEAD = [
    ("lone surrogate", _raw(201, "StoreName", '"Hy-Vee\\ud800"'), "message: not valid JSON"),
    ("an integer past 64 bits", _raw(202, "ItemNumber", "1" + "0" * 30),
     "item_id: out of range"),
]


#: valid by the contract, refused by a rule in the database (as an operator might add)
REFUSED_BY_DATABASE = odd(301, "CLOSED-00000001", StoreNumber=CLOSED_STORE)
DATABASE_REFUSED = "database refused: "


def _expected_dollars() -> dict[str, Decimal]:
    recorded = [*ORDINARY, *(r for _, r in RECORDED_FIRST), *(r for _, r in RECORDED_SECOND)]
    return {str(r["Invoice"]): dollars(r) for r in recorded}


def _normal(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, date):
        return value.isoformat()
    return value


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table (but when it was written and the outbox flags), read
    through the models' types, in an order of Python's."""
    found: dict[str, list[tuple]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name == "dead_letters":  # where and when, per delivery: compared apart
                continue
            columns = [c for c in table.columns if c.name not in ("updated_at", "published")]
            rows = connection.execute(select(*columns)).all()
            found[table.name] = sorted((tuple(_normal(v) for v in row) for row in rows),
                                       key=repr)
    return found


def run_corpus(url: str, broker: str, home: Path) -> dict[str, Any]:
    """The corpus through the pipeline on one database: what it recorded and refused."""
    settings = make_settings(url, broker, home)
    running = Running(settings)
    topics = Topics(settings.topic_prefix)
    expected = _expected_dollars()
    first = [*ORDINARY[:12], REFUSED_BY_DATABASE, *ORDINARY[12:],
             *(r for _, r in RECORDED_FIRST), *(r for _, r, _ in DEAD),
             *({"__raw__": raw} for _, raw, _ in RAW_DEAD)]
    second = [*(r for _, r in RECORDED_SECOND), *(r for _, r in ABSORBED_SECOND),
              CONFLICT_SECOND]
    refuse_closed_store(running.engine)
    try:
        workers = running.start("orders", "shipping", "accounting")
        publish(settings, first)
        in_first = len(ORDINARY) + len(RECORDED_FIRST)
        wait_until(lambda: _drained(running.engine, in_first), timeout=180)
        publish(settings, second)
        wait_until(lambda: _drained(running.engine, len(expected)), timeout=180)
        letters = len(DEAD) + len(RAW_DEAD) + 2  # the conflict, the database's refusal
        wait_until(lambda: len(read_topic(settings, topics.sales_dlq)) >= letters, timeout=60)
        assert all(thread.is_alive() for _, thread in running.workers), "a worker stopped"
        assert [worker.rejoins for worker in workers] == [0, 0, 0]
        assert_invariants(running.engine, expected)
        dead = {(m.value(), dict(m.headers())["reason"].decode())
                for m in read_topic(settings, topics.sales_dlq)}
        with running.engine.connect() as connection:
            kept = {(bytes(row.payload), row.reason, row.stage, row.status) for row in
                    connection.execute(select(dead_letters.c.payload, dead_letters.c.reason,
                                              dead_letters.c.stage, dead_letters.c.status))}
        return {"rows": snapshot(running.engine), "dead": dead, "kept": kept,
                "counts": counts(running.engine), "dialect": running.engine.dialect.name}
    finally:
        running.stop()


def _drained(engine: Engine, sales: int) -> bool:
    found = counts(engine)
    # every sale has a cost: 4 lines for the sale, 2 for its shipment
    return (found["sales"], found["shipments"], found["journal_entries"],
            found["journal_lines"]) == (sales, sales, 2 * sales, 6 * sales)


@pytest.fixture
def corpus_runs(broker: str, tmp_path: Path, server_status) -> Iterator[dict[str, Any]]:
    """The corpus run on each database in turn, each on a fresh one."""
    runs: dict[str, Any] = {}
    for kind in ("sqlite", "mariadb", "postgresql"):
        if kind not in ENGINES:
            continue
        home = tmp_path / kind
        home.mkdir()
        for url in fresh_database(kind, home, server_status):
            migrate(url)
            runs[kind] = run_corpus(url, broker, home)
    yield runs


def test_odd_values_are_recorded_alike_on_every_database_or_dead_lettered(
    corpus_runs: dict[str, Any]
) -> None:
    assert corpus_runs, "no database to run on"
    expected = _expected_dollars()
    wanted_dead = {(encode(record)[1], reason) for _, record, reason in DEAD}
    wanted_dead |= {(raw.encode(), reason) for _, raw, reason in RAW_DEAD}
    wanted_dead.add((encode(CONFLICT_SECOND)[1], CONFLICT_REASON))
    wanted_dead.add((encode(REFUSED_BY_DATABASE)[1], DATABASE_REFUSED))
    for kind, run in corpus_runs.items():
        assert run["counts"]["sales"] == len(expected), kind
        sales = {row[0]: row for row in run["rows"]["sales"]}
        assert set(sales) == set(expected), kind
        # each dead letter is the record as sent, with its reason naming the field
        got = {(payload, reason) for payload, reason in run["dead"]}
        missing = {(payload, reason) for payload, reason in wanted_dead
                   if not any(p == payload and r.startswith(reason) for p, r in got)}
        assert not missing, (kind, sorted(missing, key=repr)[:3])
        assert len(got) == len(wanted_dead), kind
        refusal = next(r for p, r in got if p == encode(REFUSED_BY_DATABASE)[1])
        assert REFUSAL_CODE[run["dialect"]] in refusal, (kind, refusal)
        # the letters are kept in dead_letters too, open, each by the orders stage
        assert run["kept"] == {(p, r, "orders", "open") for p, r in got}, kind
        # nothing of a refused record was written: none of its dimension rows exists
        refused = [record for _, record, _ in DEAD] + [REFUSED_BY_DATABASE]
        for table, field in (("stores", "StoreNumber"), ("vendors", "VendorNumber"),
                             ("categories", "Category"), ("products", "ItemNumber")):
            ids = {row[0] for row in run["rows"][table]}
            assert not ids & {record[field] for record in refused}, (kind, table)
    # the same rows, and the same dead letters, on every database
    first_kind, first = next(iter(corpus_runs.items()))
    for kind, run in corpus_runs.items():
        for table, rows in first["rows"].items():
            assert run["rows"][table] == rows, f"{table}: {kind} differs from {first_kind}"
        # the same letters (the database's own words for its refusal aside)
        assert _same_letters(run["dead"]) == _same_letters(first["dead"]), (
            f"dead letters: {kind} differs from {first_kind}")


def _same_letters(letters: set[tuple[bytes, str]]) -> set[tuple[bytes, str]]:
    return {(payload, DATABASE_REFUSED if reason.startswith(DATABASE_REFUSED) else reason)
            for payload, reason in letters}


@pytest.fixture
def client(sqlite_url: str, broker: str, tmp_path: Path) -> Iterator[TestClient]:
    # a loopback client: with no API key configured the API serves only its own host
    with TestClient(create_app(make_settings(sqlite_url, broker, tmp_path)),
                    client=("127.0.0.1", 50000)) as test_client:
        yield test_client


def test_the_api_refuses_each_contract_case_at_the_door_naming_the_field(
    client: TestClient
) -> None:
    records = [record for _, record, _ in DEAD]
    response = client.post("/v1/sales", json=records)
    assert response.status_code == 422
    body = response.json()
    assert body["accepted"] == 0
    reasons = {item["index"]: item["errors"] for item in body["rejected"]}
    for index, (label, _, reason) in enumerate(DEAD):
        assert len(reasons[index]) == 1 and reasons[index][0].startswith(reason), label
    accepted = [record for _, record in [*RECORDED_FIRST, *RECORDED_SECOND]]
    response = client.post("/v1/sales", json=accepted)
    assert response.status_code == 202 and response.json() == {
        "accepted": len(accepted), "rejected": []}
    for label, raw, reason in RAW_DEAD:
        response = client.post("/v1/sales", content=raw.encode(),
                               headers={"content-type": "application/json"})
        if reason.startswith("message: not valid JSON"):  # the body is not JSON: 400
            assert response.status_code == 400, label
            assert response.json()["detail"].startswith("malformed JSON"), label
        else:
            assert response.status_code == 422, label
            [rejected] = response.json()["rejected"]
            assert rejected["errors"][0].startswith(reason), label


def test_the_issue_example_nul_in_a_new_store_name(client: TestClient) -> None:
    record = sale(1, StoreName="Hy-Vee\u0000 Wine")
    response = client.post("/v1/sales", content=orjson.dumps(record),
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["rejected"] == [{"index": 0, "errors": [
        "store_name: contains the control character U+0000 at character 7"]}]


def test_the_corpus_is_what_it_says() -> None:
    """Guards on the corpus itself: ids are distinct where they must be, twins are
    twins, and the long texts are over 255 bytes."""
    ids = [str(r["Invoice"]) for r in (*ORDINARY, *(r for _, r in RECORDED_FIRST),
                                       *(r for _, r in RECORDED_SECOND))]
    assert len(ids) == len(set(ids))
    assert {i.lower() for i in ids if i.startswith(("INV-P", "inv-p"))} == {"inv-p00000001"}
    long_texts = [v for _, r in RECORDED_FIRST for v in r.values()
                  if isinstance(v, str) and len(v) == 255]
    assert len(long_texts) == 8
    assert all(len(v.encode()) > 255 for v in long_texts)
