"""The lab's alerting: the real pipeline, delivering through apprise to a real JSON webhook on 127.0.0.1.

`saksi lab run` (without --alerting) and `saksi lab demo` show what the on-call engineer would receive,
not a rendering of what might be sent: the message is the one a local HTTP receiver got over the
loopback. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ALERTING = """\
# The demo's on-call desk: one team, two tiers, a NOC channel and each person's own webhook.
web_url: http://127.0.0.1:8080
timing: {{group_wait: 0s, resolve_hold: 2m, repeat_interval: 4h, escalate_after: 30m}}
receivers:
  noc: ["json://127.0.0.1:{port}/noc"]
people:
  aino: {{notify: ["json://127.0.0.1:{port}/aino"]}}
  helmi: {{notify: ["json://127.0.0.1:{port}/helmi"]}}
teams:
  network: {{tiers: [[aino], [helmi]]}}
routes:
  - name: everything
    team: network
    receivers: [noc]
"""


@dataclass(frozen=True)
class Received:
    at: float  # wall time it arrived
    path: str
    doc: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.doc.get("title", ""))

    @property
    def body(self) -> str:
        return str(self.doc.get("message", ""))


@dataclass
class Inbox:
    """A real HTTP receiver on 127.0.0.1 for apprise's json:// messages, each kept with its arrival time.

    The demo shows what it received; the detection-latency benchmark times pages with it.
    """

    port: int = 0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def start(self) -> Inbox:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, name="saksi-inbox", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def first(self, needles: Sequence[str], after: float) -> float | None:
        """Arrival time of the first message at or after `after` whose title mentions one of `needles`."""
        with self.lock:
            return next((m.at for m in self.received if m.at >= after and any(n in m.title for n in needles)), None)


def _handler(inbox: Inbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            arrived = time.time()
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                doc: dict[str, Any] = json.loads(raw or b"{}")
            except ValueError:
                doc = {"title": "(not JSON)", "message": raw.decode(errors="replace")}
            with inbox.lock:
                inbox.received.append(Received(arrived, self.path, doc))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # the demo prints what matters itself
            pass

    return Handler
