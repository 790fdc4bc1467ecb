"""A real PostgreSQL server for tests: initdb + postgres on a free 127.0.0.1 port, data in a temporary
folder, stopped (and restarted) by PID — never by name.

PostgreSQL refuses to run as root, so as root the server runs as `nobody` (its folder chowned to it);
the unix socket lives in the temporary folder too, so nothing outside it is touched.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

USER = "saksi"
DATABASE = "saksi"


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin(name: str) -> str:
    """A PostgreSQL program: on PATH, else Debian's versioned folder (the package does not link them)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(Path(folder) / name, os.X_OK):
            return str(Path(folder) / name)
    raise FileNotFoundError(f"{name}: PostgreSQL is not installed (Debian package `postgresql`)")


def available() -> bool:
    try:
        pg_bin("initdb")
        pg_bin("postgres")
        return True
    except FileNotFoundError:
        return False


class Postgres:
    """One server: `start()`, `stop()`, `restart()`, `url`; the same port and data across a restart."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_tcp_port()
        self.root = Path(tempfile.mkdtemp(prefix="saksi-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._ids: tuple[int, int] | None = None
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self._ids = (nobody.pw_uid, nobody.pw_gid)
            os.chown(self.root, *self._ids)
        os.chmod(self.root, 0o700)
        self._initdb()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _as_owner(self) -> dict[str, Any]:
        return {} if self._ids is None else {"user": self._ids[0], "group": self._ids[1], "extra_groups": []}

    def _initdb(self) -> None:
        subprocess.run([pg_bin("initdb"), "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8",
                        "--no-sync", "--locale=C"], check=True, capture_output=True, cwd=self.root,
                       **self._as_owner())
        self.start()
        import psycopg
        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")

    def start(self, timeout: float = 30.0) -> None:
        assert self.proc is None, "already running"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [pg_bin("postgres"), "-D", str(self.data), "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
                 "-c", f"unix_socket_directories={self.root}", "-c", "fsync=off", "-c", "max_connections=50"],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.root, **self._as_owner())
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {self.log.read_text()[-2000:]}")
            if self._ready():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"postgres did not start within {timeout:g}s")

    def _ready(self) -> bool:
        import psycopg
        try:
            with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname="postgres",
                                 connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        """Fast shutdown (SIGINT): clients are disconnected, as when a database server goes away."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
