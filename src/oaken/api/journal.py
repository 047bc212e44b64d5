"""The ingest journal: accepted sale records on disk until the orders worker has them.

The API answers ``202`` only once a record is here, in a SQLite file in
``OAKEN_HOME`` written with ``synchronous=FULL`` (a committed append survives a crash
of the process or of the machine). A :class:`~oaken.api.forwarder.Forwarder` sends the
records to ``sales.raw`` and notes where each one landed: the broker's cluster id,
the partition and the offset. A record leaves the journal only when the orders
worker's consumer group has committed an offset past it *on that same cluster*,
which it does only after the record is in the database or dead-lettered. A record
the broker lost with a restart (a new cluster id) is simply sent again; the orders
stage absorbs a record it already has.

Why not a ready-made queue (persist-queue, litequeue): the API appends a whole request
in one transaction, for many concurrent requests at once (one disk flush for all of
them), and a record is done when a consumer group's committed offset passes the
position the record got on a given cluster, not when a reader acknowledges it. Those
queues put and acknowledge one item at a time and keep no broker position.

Each record keeps its sender (``sent_by``, :mod:`oaken.provenance`), which the
forwarder sends as the message's header: it survives a restart of the API like the
record itself. A journal written before the column existed gets it on opening (NULL
for the records already there).
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from oaken.errors import JournalFull, JournalUnwritable

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key BLOB,
    value BLOB NOT NULL,
    sent_by TEXT,              -- the sender (oaken.provenance); NULL when not known
    cluster TEXT,              -- where the record was last forwarded: NULL until then
    partition INTEGER,
    "offset" INTEGER
);
CREATE INDEX IF NOT EXISTS ix_records_cluster ON records (cluster, partition, "offset");
-- the records waiting to be sent, in order: what the forwarder reads every round
CREATE INDEX IF NOT EXISTS ix_records_unsent ON records (seq) WHERE cluster IS NULL;
"""

Record = tuple[bytes | None, bytes, str | None]  # key (none: any partition), value, sent_by
UNWRITABLE_FOR = 10.0  # seconds /healthz reports a failed write (see Journal.unwritable)


class Journal:
    """The journal file. Thread-safe: every call takes one lock and one connection."""

    def __init__(self, path: Path, *, max_records: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_records = max_records
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(records)")}
        if "sent_by" not in columns:  # a journal of an older version
            self._db.execute("ALTER TABLE records ADD COLUMN sent_by TEXT")
        self._cluster: str | None = None  # the cluster every non-NULL ``cluster`` names
        self.size = self._db.execute("SELECT count(*) FROM records").fetchone()[0]
        self._failure = ("", 0.0)  # why and when the last write failed (a full disk)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def unwritable(self) -> str:
        """Why the last write failed, if it did in the last ``UNWRITABLE_FOR`` seconds and
        none succeeded since; else "". (Forgotten after a while, so that a load balancer
        that stopped sending requests because of it sends one again to find out.)"""
        reason, when = self._failure
        return reason if reason and time.monotonic() - when < UNWRITABLE_FOR else ""

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, under the lock. When anything fails (a full disk fails
        the writes or the COMMIT itself) it is rolled back, so the connection is never
        left inside a transaction and the next call can write once there is room."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            yield
            self._db.execute("COMMIT")
        except sqlite3.Error as problem:
            self._failure = (str(problem), time.monotonic())
            raise
        finally:
            if self._db.in_transaction:
                with suppress(sqlite3.Error):  # the first error is the one to report
                    self._db.execute("ROLLBACK")
        self._failure = ("", 0.0)

    def append(self, requests: Sequence[Sequence[Record]]) -> list[bool]:
        """Write the records of several requests in one transaction, each request whole
        or not at all; returns, per request, whether it fitted in the journal."""
        taken: list[bool] = []
        rows: list[Record] = []
        with self._lock:
            room = self.max_records - self.size
            for records in requests:
                fits = len(records) <= room
                taken.append(fits)
                if fits:
                    rows.extend(records)
                    room -= len(records)
            if rows:
                with self._transaction():
                    self._db.executemany(
                        "INSERT INTO records (key, value, sent_by) VALUES (?, ?, ?)", rows)
                self.size += len(rows)
        return taken

    def unsent(self, cluster: str, limit: int
               ) -> list[tuple[int, bytes | None, bytes, str | None]]:
        """Records not (yet) sent to ``cluster``, oldest first: seq, key, value, sent_by.

        Every round reads them through the partial index of the records whose
        ``cluster`` is NULL (``cluster <> ?`` would read every record held). So when
        asked about another cluster than before, the records sent elsewhere are first
        made unsent again, once: the broker they went to is not this one.
        """
        with self._lock:
            if cluster != self._cluster:
                with self._transaction():
                    self._db.execute(
                        'UPDATE records SET cluster = NULL, partition = NULL, "offset" = NULL '
                        "WHERE cluster IS NOT NULL AND cluster <> ?", (cluster,))
                self._cluster = cluster
            return self._db.execute(
                # named: without statistics SQLite prefers ix_records_cluster, then sorts
                "SELECT seq, key, value, sent_by FROM records INDEXED BY ix_records_unsent "
                "WHERE cluster IS NULL ORDER BY seq LIMIT ?", (limit,)).fetchall()

    def mark_sent(self, cluster: str, positions: Iterable[tuple[int, int, int]]) -> None:
        """Note where records landed: ``(partition, offset, seq)`` each."""
        with self._lock, self._transaction():
            if cluster != self._cluster:
                self._cluster = None  # the next :meth:`unsent` looks at every record again
            self._db.executemany(
                'UPDATE records SET cluster = ?, partition = ?, "offset" = ? WHERE seq = ?',
                [(cluster, partition, offset, seq) for partition, offset, seq in positions])

    def confirm(self, cluster: str, committed: dict[int, int]) -> int:
        """Drop the records of ``cluster`` below each partition's committed offset;
        returns how many left the journal."""
        if not committed:
            return 0
        gone = 0
        with self._lock:
            with self._transaction():
                for partition, offset in committed.items():
                    gone += self._db.execute(
                        'DELETE FROM records WHERE cluster = ? AND partition = ? '
                        'AND "offset" < ?', (cluster, partition, offset)).rowcount
            self.size -= gone
        return gone


class GroupCommit:
    """Appends from many requests, written together by one thread: a request waits for
    the single disk flush of its group, not for one flush per request before it."""

    def __init__(self, journal: Journal, *, on_append: threading.Event | None = None) -> None:
        self.journal = journal
        self.on_append = on_append
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()

    async def append(self, records: Sequence[Record]) -> None:
        """Return once ``records`` are durable; :class:`JournalFull` if they do not fit,
        :class:`JournalUnwritable` if the file cannot be written (a full disk): in both
        cases nothing of ``records`` was stored."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        self._queue.put((records, done, loop))
        try:
            fitted = await done
        except sqlite3.Error as problem:  # the transaction was rolled back: nothing stored
            raise JournalUnwritable(f"the journal cannot be written: {problem}") from None
        if not fitted:
            raise JournalFull(
                f"the journal holds {self.journal.size:,} records "
                f"(OAKEN_JOURNAL_MAX_RECORDS={self.journal.max_records:,})")

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            while len(group) < 1000:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                group.append(item)
            try:
                taken = self.journal.append([records for records, _, _ in group])
            except Exception as problem:  # the requests fail, the writer lives on
                # sqlite3.Error (a full disk), but also e.g. OverflowError for a value
                # SQLite cannot bind: any of them ended the thread once, and every later
                # append then waited for ever
                for _, done, loop in group:
                    loop.call_soon_threadsafe(_fail, done, problem)
                continue
            for (_, done, loop), fitted in zip(group, taken, strict=True):
                loop.call_soon_threadsafe(_settle, done, fitted)
            if self.on_append is not None and any(taken):
                self.on_append.set()


def _settle(done: asyncio.Future[bool], fitted: bool) -> None:
    if not done.done():
        done.set_result(fitted)


def _fail(done: asyncio.Future[bool], problem: Exception) -> None:
    if not done.done():
        done.set_exception(problem)
