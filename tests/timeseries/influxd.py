"""A real InfluxDB server for tests and benchmarks: Debian's `influxd` 1.6.7 on free 127.0.0.1 ports,
its data in a temporary folder, stopped by PID — plus the v2 write adapter in front of it.

1.6.7 predates `/api/v2/write` (1.8), which is the endpoint influxdb-client writes to, so
`V2WriteAdapter` (test-only) translates `/api/v2/write?bucket=B&precision=ns` into `/write?db=B&precision=n`
and passes every other request through untouched. Everything behind it — parsing, storage, InfluxQL —
is the real server. The adapter also records each batch the server accepted, in arrival order, so a
test can tell that no point arrived twice or out of order.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

INFLUXD = shutil.which("influxd") or "/usr/bin/influxd"
_PRECISION = {"ns": "n", "us": "u", "ms": "ms", "s": "s"}


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class V2WriteAdapter:
    """Test-only: `/api/v2/write` → `/write` for a server that predates the v2 API; the rest passes through."""

    def __init__(self, upstream_port: int, port: int = 0, accepted: list[bytes] | None = None) -> None:
        self.upstream_port = upstream_port
        self.accepted = accepted if accepted is not None else []  # batches the server answered 204 to, in order
        self.lock = threading.Lock()
        adapter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: a stopped adapter serves nothing more

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._forward(self.path, None)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urllib.parse.urlsplit(self.path)
                if url.path != "/api/v2/write":
                    self._forward(self.path, body)
                    return
                query = dict(urllib.parse.parse_qsl(url.query))
                db, _, rp = query.get("bucket", "").partition("/")
                params = {"db": db, "precision": _PRECISION.get(query.get("precision", "ns"), "n")}
                if rp:
                    params["rp"] = rp
                status = self._forward("/write?" + urllib.parse.urlencode(params), body)
                if status == 204:
                    with adapter.lock:
                        adapter.accepted.append(body)

            def _forward(self, path: str, body: bytes | None) -> int:
                conn = http.client.HTTPConnection("127.0.0.1", adapter.upstream_port, timeout=30)
                try:
                    conn.request(self.command, path, body=body,
                                 headers={k: v for k, v in self.headers.items() if k.lower() in (
                                     "content-type", "authorization", "accept", "content-encoding")})
                    resp = conn.getresponse()
                    status, data, ctype = resp.status, resp.read(), resp.getheader("Content-Type", "")
                except OSError as exc:
                    status, data, ctype = 503, f'{{"error": "upstream: {exc}"}}'.encode(), "application/json"
                finally:
                    conn.close()
                self.send_response(status)
                self.send_header("Content-Type", ctype or "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return status

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class InfluxServer:
    """`start()` / `stop()` keep the ports and the data: a restart is the same server coming back."""

    workdir: Path
    http_port: int = field(default_factory=free_tcp_port)
    rpc_port: int = field(default_factory=free_tcp_port)
    adapter_port: int = field(default_factory=free_tcp_port)
    proc: subprocess.Popen[bytes] | None = None
    adapter: V2WriteAdapter | None = None
    accepted: list[bytes] = field(default_factory=list)  # adapter batches, across restarts

    @property
    def url(self) -> str:
        """Where influxdb-client writes (the adapter); it passes /query through as well."""
        return f"http://127.0.0.1:{self.adapter_port}"

    @property
    def direct_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, timeout_s: float = 30.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "influxdb.conf"
        config.write_text(f"""reporting-disabled = true
bind-address = "127.0.0.1:{self.rpc_port}"
[meta]
  dir = "{self.workdir / 'meta'}"
[data]
  dir = "{self.workdir / 'data'}"
  wal-dir = "{self.workdir / 'wal'}"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{self.http_port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
""")
        with open(self.workdir / "influxd.log", "ab") as log:
            self.proc = subprocess.Popen([INFLUXD, "run", "-config", str(config)], stdout=log,
                                         stderr=subprocess.STDOUT)
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"influxd exited with {self.proc.returncode}; see {self.workdir / 'influxd.log'}")
            try:
                with urllib.request.urlopen(f"{self.direct_url}/ping", timeout=1) as resp:
                    if resp.status == 204:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("influxd did not answer /ping in time")
        self.adapter = V2WriteAdapter(self.http_port, self.adapter_port, self.accepted)

    def stop(self) -> None:
        if self.adapter is not None:
            self.adapter.close()
            self.adapter = None
        if self.proc is not None:
            self.proc.terminate()  # by PID: this process only
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None

    def accepted_lines(self) -> list[str]:
        return [line for body in list(self.accepted) for line in body.decode("utf-8").splitlines() if line]

    def create_database(self, name: str) -> None:
        data = urllib.parse.urlencode({"q": f'CREATE DATABASE "{name}"'}).encode()
        with urllib.request.urlopen(f"{self.direct_url}/query", data=data, timeout=10) as resp:
            assert resp.status == 200


def _serve_adapter() -> None:
    """`python -m tests.timeseries.influxd UPSTREAM_PORT PORT`: the adapter alone, in its own process
    (the write-path benchmark keeps its CPU out of the client's figures)."""
    import sys

    upstream, port = int(sys.argv[1]), int(sys.argv[2])
    adapter = V2WriteAdapter(upstream, port, accepted=_Discard())
    adapter.thread.join()


class _Discard(list[bytes]):
    def append(self, item: bytes) -> None:
        pass


if __name__ == "__main__":
    _serve_adapter()
