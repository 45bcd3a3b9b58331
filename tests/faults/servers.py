"""Throwaway backends for the fault suite: a PostgreSQL cluster and a Redis server of their own on
free ports of 127.0.0.1 (SeaweedFS comes from tests.files.test_s3), which a test may freeze
(SIGSTOP: the process keeps its sockets, the kernel still accepts connections, nothing answers),
thaw, stop and restart, without touching the shared servers on 5432 and 6379.

Every wait here is bounded; a backend that cannot start here skips the test with the reason, or
fails it when CI=true (tests.files.test_s3.skip_or_fail).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.files.test_s3 import answers, free_ports, skip_or_fail

START_TIMEOUT = 30


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not answers(port):
        if process.poll() is not None:
            skip_or_fail(f"{what} exited with {process.returncode}: {log.read_text(errors='replace')[-1500:]}")
        if time.monotonic() > deadline:
            skip_or_fail(f"{what} did not answer on port {port} within {START_TIMEOUT} s")
        time.sleep(0.05)


def descendants(root: int) -> list[int]:
    """ROOT and every process below it (from /proc), parents before children."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop(0)
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


@dataclass
class Backend:
    """A server process in a process group of its own."""

    command: list[str]
    port: int
    log: Path
    what: str
    user: str | None = None
    process: subprocess.Popen[bytes] | None = None
    frozen: bool = field(default=False)

    def start(self) -> None:
        command = self.command
        if self.user and os.geteuid() == 0:
            command = ["runuser", "-u", self.user, "--", *command]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_port(self.port, self.process, self.log, self.what)

    def _signal(self, number: int) -> None:
        """NUMBER to every process of the server: PostgreSQL's backends each start a session of
        their own (setsid), so the process group alone would miss them."""
        assert self.process is not None
        for pid in descendants(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, number)

    def freeze(self) -> None:
        """Every process of the server stops where it is: connections hang, nothing is refused."""
        self._signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)
        self.frozen = False

    @contextlib.contextmanager
    def frozen_for(self) -> Iterator[None]:
        self.freeze()
        try:
            yield
        finally:
            self.thaw()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.thaw()
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Postgres(Backend):
    data: Path = Path()

    def start(self) -> None:
        """Started, and taking connections (not only listening: "the database system is starting up")."""
        import psycopg

        super().start()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2) as connection:
                    connection.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)


def _postgres_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (directory / name).exists():
            return str(directory / name)
    return None


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL cluster of its own (trust auth, no fsync: throwaway), stopped and deleted
    afterwards. It lives in a directory of its own under /tmp: run as root, the server runs as the
    postgres user, who cannot enter pytest's (private) temporary directories."""
    initdb, server = _postgres_binary("initdb"), _postgres_binary("postgres")
    if initdb is None or server is None:
        skip_or_fail("PostgreSQL's initdb/postgres binaries are not installed")
    assert initdb is not None and server is not None
    home = Path(tempfile.mkdtemp(prefix="classnote-faults-pg-"))
    data, sockets = home / "pgdata", home / "pgsock"
    sockets.mkdir(exist_ok=True)
    user = "postgres" if os.geteuid() == 0 else None
    if user:
        shutil.chown(home, user)
        shutil.chown(sockets, user)
    prefix = ["runuser", "-u", user, "--"] if user else []
    result = subprocess.run(
        [*prefix, initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        skip_or_fail(f"initdb failed: {result.stderr.decode(errors='replace')[-1500:]}")
    (port,) = free_ports(1)
    command = [
        server, "-D", str(data), "-p", str(port), "-k", str(sockets), "-c", "listen_addresses=127.0.0.1",
        "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=60",
    ]  # fmt: skip
    log = home / "postgres.log"
    if user:
        log.touch()
        shutil.chown(log, user)
    backend = Postgres(command=command, port=port, log=log, what="PostgreSQL", user=user, data=data)
    backend.start()
    try:
        yield backend
    finally:
        backend.stop()
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def redis(home: Path) -> Iterator[Backend]:
    """A Redis server of its own that keeps nothing on disk (as the machine's), stopped afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        skip_or_fail("redis-server is not installed")
    assert binary is not None
    home.mkdir(parents=True, exist_ok=True)
    (port,) = free_ports(1)
    command = [
        binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir", str(home), "--protected-mode", "yes",
    ]  # fmt: skip
    backend = Backend(command=command, port=port, log=home / "redis.log", what="Redis")
    backend.start()
    try:
        yield backend
    finally:
        backend.stop()


def wait_refused(port: int, timeout: float = 10) -> None:
    """Until nothing listens on PORT any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.05)
