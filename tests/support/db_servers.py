"""Private database servers for fault tests: a real MariaDB or PostgreSQL that a test may
``kill -9`` and start again without touching the shared servers on 3306 and 5432.

Each :class:`PrivateServer` lives in its own temporary directory (data, socket, log) on
its own port, runs Debian's binaries (as ``mysql`` / ``postgres`` when the tests run as
root: PostgreSQL refuses to run as root) and is started directly, so :attr:`pid` is the
server process itself. Start-up takes about 2 s; a restart after ``kill -9`` runs the
server's crash recovery, exactly as in production.

Fixtures (registered in ``tests/conftest.py`` with ``pytest_plugins``):

* ``private_server``: a started server, parametrised over MariaDB and PostgreSQL; stopped
  and removed afterwards, whatever the test did to it;
* ``private_database_url``: a migrated database on that server.

Without the binaries the tests are skipped with the reason (failed when ``CI`` is set).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

KINDS = ("mariadb", "postgresql")
POSTGRES_BIN = Path(os.environ.get("OAKEN_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
MARIADB_INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/bin") or "/usr/sbin/mariadbd"
SERVICE_USER = {"postgresql": "postgres", "mariadb": "mysql"}
LOG_TAIL = 4000


def _local_port_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A free port below the ephemeral range. While a server is down, a client connecting
    to its port from an ephemeral port can otherwise, rarely, pick that very port and
    connect to itself (TCP simultaneous open), or another program can take the port."""
    low, _ = _local_port_range()
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12000), low)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def unavailable(kind: str) -> str | None:
    """Why a private ``kind`` server cannot run here, or None."""
    if kind == "postgresql":
        needed = [POSTGRES_BIN / "initdb", POSTGRES_BIN / "postgres"]
    else:
        needed = [Path(MARIADB_INSTALL_DB), Path(MARIADBD)]
    missing = [str(path) for path in needed if not os.access(path, os.X_OK)]
    if missing:
        return f"private {kind} server: binaries missing: {', '.join(missing)}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVICE_USER[kind])
        except KeyError:
            return f"private {kind} server: running as root but user {SERVICE_USER[kind]!r} " \
                   "does not exist"
    return None


class PrivateServer:
    """One MariaDB or PostgreSQL server in a temporary directory, on a free port."""

    def __init__(self, kind: str, *, start_timeout: float = 60.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        self.kind = kind
        self.port = free_port()
        self.start_timeout = start_timeout
        self.directory = Path(tempfile.mkdtemp(prefix=f"oaken-{kind}-"))
        self.data = self.directory / "data"
        self.log = self.directory / "log"
        self.process: subprocess.Popen[bytes] | None = None
        self._initialised = False
        if os.geteuid() == 0:  # run as the service's user; PostgreSQL refuses root
            account = pwd.getpwnam(SERVICE_USER[kind])
            self.user: str | None = account.pw_name
            self.group: int | None = account.pw_gid
            os.chown(self.directory, account.pw_uid, account.pw_gid)
        else:
            self.user = self.group = None

    def __repr__(self) -> str:
        return f"PrivateServer({self.kind!r}, port={self.port}, pid={self.pid})"

    # -- what a test uses ---------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        """The server process (the postmaster, or mariadbd) while it runs."""
        if self.process is None or self.process.poll() is not None:
            return None
        return self.process.pid

    def url(self, database: str) -> str:
        if self.kind == "postgresql":
            return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` (letters, digits, underscores) and return its URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a plain database name: {name!r}")
        with contextlib.closing(self._connect(autocommit=True)) as connection:
            cursor = connection.cursor()
            cursor.execute(f"CREATE DATABASE {name}")
            cursor.close()
        return self.url(name)

    def start(self) -> None:
        """Start the server (initialising its data directory the first time) and wait
        until it answers a query; after a ``kill -9`` this runs crash recovery."""
        if self.pid is not None:
            raise RuntimeError(f"{self!r} is already running")
        if not self._initialised:
            self._initialise()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self._server_command(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=self.directory, **self._as_service_user(),
                start_new_session=True,  # a Ctrl-C of pytest does not reach it
            )
        deadline = time.monotonic() + self.start_timeout
        problem: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._fail(f"exited with status {self.process.returncode} while starting")
            try:
                if self._answering_from().resolve() == self.data.resolve():
                    return
                # another server holds the port: ours fails to bind and exits
                problem = RuntimeError("another server answers on the port")
            except Exception as failure:  # the driver's "not yet" errors
                problem = failure
            time.sleep(0.1)
        self.kill()
        self._fail(f"did not answer within {self.start_timeout:.0f}s ({problem})")

    def kill(self, *, timeout: float = 30.0) -> None:
        """``kill -9`` the server process, as a crash would, and wait until its port is
        closed and (PostgreSQL) its orphaned backends have exited, so that it can be
        started again. Nothing else is signalled unless a backend outlives ``timeout``."""
        if self.pid is None:
            return
        assert self.process is not None
        # frozen first, so that no backend is forked between listing them and the kill
        self.process.send_signal(signal.SIGSTOP)
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=timeout)
        # PostgreSQL backends notice the postmaster's death and exit on their own
        _, alive = psutil.wait_procs(children, timeout=timeout)
        for orphan in alive:  # stuck: do not leave it holding the shared memory
            with contextlib.suppress(psutil.NoSuchProcess):
                orphan.kill()
        psutil.wait_procs(alive, timeout=5)
        self._wait_port_closed(timeout)

    def stop(self, *, timeout: float = 30.0) -> None:
        """Stop the server (PostgreSQL: immediate shutdown, as ``pg_ctl stop -m
        immediate``; MariaDB: a normal shutdown), killing it if it does not stop."""
        if self.pid is None:
            return
        assert self.process is not None
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        self.process.send_signal(signal.SIGQUIT if self.kind == "postgresql"
                                 else signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)
        _, alive = psutil.wait_procs(children, timeout=timeout)
        for orphan in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                orphan.kill()
        self._wait_port_closed(timeout)

    def remove(self) -> None:
        """Stop the server and delete its directory (data, socket, log)."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, limit: int = LOG_TAIL) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-limit:]

    # -- internals ------------------------------------------------------------------
    def _initialise(self) -> None:
        if self.kind == "postgresql":
            command = [str(POSTGRES_BIN / "initdb"), "-D", str(self.data), "-A", "trust",
                       "-U", "postgres", "--no-sync"]
        else:
            command = [MARIADB_INSTALL_DB, "--no-defaults", f"--datadir={self.data}",
                       "--auth-root-authentication-method=normal", "--skip-test-db"]
            if self.user:
                command.append(f"--user={self.user}")
        with open(self.log, "ab") as log:
            result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=self.directory,
                                    timeout=120, check=False,
                                    # mariadb-install-db switches to --user itself
                                    **(self._as_service_user() if self.kind == "postgresql"
                                       else {}))
        if result.returncode != 0:
            self._fail(f"initialisation ({command[0]}) exited with {result.returncode}")
        self._initialised = True

    def _as_service_user(self) -> dict:
        if self.user is None:
            return {}
        return {"user": self.user, "group": self.group, "extra_groups": []}

    def _server_command(self) -> list[str]:
        if self.kind == "postgresql":
            return [str(POSTGRES_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
                    "-k", str(self.directory), "-c", "listen_addresses=127.0.0.1"]
        return [MARIADBD, "--no-defaults", f"--datadir={self.data}", f"--port={self.port}",
                "--bind-address=127.0.0.1", f"--socket={self.directory / 's.sock'}",
                f"--pid-file={self.directory / 'mariadbd.pid'}"]

    def _connect(self, *, autocommit: bool):
        if self.kind == "postgresql":
            import psycopg

            return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                                   dbname="postgres", connect_timeout=2, autocommit=autocommit)
        import pymysql

        return pymysql.connect(host="127.0.0.1", port=self.port, user="root",
                               connect_timeout=2, autocommit=autocommit)

    def _answering_from(self) -> Path:
        """The data directory of the server answering on our port."""
        with contextlib.closing(self._connect(autocommit=True)) as connection:
            cursor = connection.cursor()
            cursor.execute("SHOW data_directory" if self.kind == "postgresql"
                           else "SELECT @@datadir")
            (directory,) = cursor.fetchone()
            cursor.close()
        return Path(directory)

    def _wait_port_closed(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while port_open(self.port):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self!r}: port {self.port} still open after {timeout}s")
            time.sleep(0.05)

    def _fail(self, what: str) -> None:
        raise AssertionError(
            f"private {self.kind} server on port {self.port} {what}; "
            f"log {self.log}:\n{self.log_tail()}")


def _require(kind: str) -> None:
    reason = unavailable(kind)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(params=KINDS)
def private_server(request: pytest.FixtureRequest) -> Iterator[PrivateServer]:
    """A started private server of each kind in turn, removed after the test."""
    _require(request.param)
    server = PrivateServer(request.param)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def private_database_url(private_server: PrivateServer) -> str:
    """A migrated database ``oaken`` on the test's private server."""
    from oaken.db.migrate import migrate

    url = private_server.create_database("oaken")
    migrate(url)
    return url
