"""Who may send: the API keys, held in memory and refreshed from the database.

Each API process reads the whole ``api_keys`` table (a few rows) every
:data:`REFRESH` seconds in a thread, so a revoked key is refused by every process
within that time, and a request costs one SHA-256 of its key and one dictionary
lookup, no database round trip. Last use is noted in memory and written at most once
per :data:`RECORD_USE_EVERY` seconds per key (``api_keys.last_used_at``).

``OAKEN_API_TOKEN`` is one more key, named ``token``. With no key at all (no token,
no active key in the table) the API takes requests without a key from its own host
only (loopback clients), as sender ``local``; any other client gets ``401``. While
the database cannot be read the API keeps the keys it last read; before the first
read it answers requests that the token does not cover ``503``.

Nothing here logs a key or its hash: a refusal is logged with the key's name and id
when the key is known, and at most once per :data:`LOG_EVERY` seconds per reason.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Engine

from oaken.keys.store import Entry, hash_key, load_keys, record_use
from oaken.provenance import LOCAL, TOKEN

log = logging.getLogger("oaken.api.auth")
REFRESH = 2.0
RECORD_USE_EVERY = 60.0
LOG_EVERY = 10.0
FIRST_READ_WAIT = 3.0
WHY = {
    "malformed": "malformed Authorization header",
    "unknown": "unknown key",
    "missing": "no key",
    "remote": "no key configured, not a loopback client",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int  #: 401, or 503 while the keys are not known yet
    detail: str


@lru_cache(maxsize=4096)
def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class KeyRing:
    """The keys one API process accepts."""

    def __init__(self, engine: Engine, *, token: str | None) -> None:
        self.engine = engine
        self._token = {hash_key(token): Entry(TOKEN, TOKEN, False)} if token else {}
        self._keys: dict[str, Entry] | None = None  # None until the table was read once
        self._open = False  # no key configured at all: loopback clients need none
        self._used: dict[str, float] = {}  # key_id -> last use, since the last write
        self._logged: dict[str, float] = {}
        self._stop = threading.Event()
        self._first_read = threading.Event()
        self._thread = threading.Thread(target=self._run, name="api-keys", daemon=True)

    # -- the request's side ----------------------------------------------------------
    def sender(self, authorization: str | None, client: str | None) -> str | Refusal:
        """The sender of a request (the key's name), or why it is refused."""
        if authorization:
            scheme, _, key = authorization.partition(" ")
            if scheme.lower() != "bearer" or not key:
                return self._refuse(
                    "malformed", "the Authorization header must be 'Bearer <key>'", client
                )
            digest = hashlib.sha256(key.strip().encode()).hexdigest()
            entry = self._token.get(digest)
            if entry is None:
                if self._keys is None:
                    return self._not_loaded(client)
                entry = self._keys.get(digest)
            if entry is None:
                return self._refuse("unknown", "unknown API key", client)
            if entry.revoked:
                return self._refuse(
                    f"revoked {entry.key_id}",
                    "this API key was revoked",
                    client,
                    name=entry.name,
                    key_id=entry.key_id,
                )
            if entry.key_id != TOKEN:
                self._used[entry.key_id] = time.time()
            return entry.name
        if self._token:
            return self._refuse(
                "missing", "an API key is required (Authorization: Bearer <key>)", client
            )
        if self._keys is None:
            return self._not_loaded(client)
        if not self._open:
            return self._refuse(
                "missing", "an API key is required (Authorization: Bearer <key>)", client
            )
        if not is_loopback(client):
            return self._refuse(
                "remote",
                "no API key is configured: only clients on the "
                "API's own host may send, without a key",
                client,
            )
        return LOCAL

    def _not_loaded(self, client: str | None) -> Refusal:
        self._log(
            "not loaded",
            "refused a request from %s: the API keys could not be read from the database yet",
            client,
        )
        return Refusal(503, "the API keys could not be read from the database yet")

    def _refuse(
        self,
        reason: str,
        detail: str,
        client: str | None,
        *,
        name: str | None = None,
        key_id: str | None = None,
    ) -> Refusal:
        if name is not None:
            self._log(
                reason, "refused a request from %s: revoked key %s of %s", client, key_id, name
            )
        else:
            self._log(reason, "refused a request from %s: %s", client, WHY[reason])
        return Refusal(401, detail)

    def _log(self, reason: str, message: str, *args: object) -> None:
        at = time.monotonic()
        if at - self._logged.get(reason, -LOG_EVERY) >= LOG_EVERY:
            self._logged[reason] = at
            log.warning(message, *args)

    # -- the refresher ---------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._keys is not None

    @property
    def keyless(self) -> bool:
        """True when no key is configured (only loopback clients are served)."""
        return not self._token and self._keys is not None and self._open

    def start(self, *, wait: float = FIRST_READ_WAIT) -> None:
        """Start the refresher; wait up to ``wait`` seconds for its first read, so a
        database that does not answer (the API takes sales without it, into the journal)
        cannot hold up the start."""
        self._thread.start()
        self._first_read.wait(wait)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.write_use()

    def refresh(self) -> bool:
        """Read the keys again; False (keeping the old ones) if the database is away."""
        try:
            with self.engine.connect() as connection:
                keys = load_keys(connection)
        except Exception as problem:  # the database is away: keep what we have
            self._log(
                "database",
                "cannot read the API keys (%s); keeping the %s",
                " ".join(str(problem).split())[:200],
                "last ones read" if self._keys is not None else "token only",
            )
            return False
        self._open = not any(not entry.revoked for entry in keys.values())
        self._keys = keys
        return True

    def write_use(self) -> None:
        """Write the last use of the keys used since the last write."""
        used, self._used = self._used, {}
        if not used:
            return
        when = {
            key_id: datetime.fromtimestamp(at, UTC).replace(tzinfo=None)
            for key_id, at in used.items()
        }
        try:
            with self.engine.begin() as connection:
                record_use(connection, when)
        except Exception as problem:  # try again with the next write
            for key_id, at in used.items():
                self._used.setdefault(key_id, at)
            self._log(
                "last use",
                "cannot record the keys' last use (%s)",
                " ".join(str(problem).split())[:200],
            )

    def _run(self) -> None:
        self.refresh()
        self._first_read.set()
        written = time.monotonic()
        while not self._stop.wait(REFRESH):
            self.refresh()
            if time.monotonic() - written >= RECORD_USE_EVERY:
                self.write_use()
                written = time.monotonic()
