"""The demo's alerting: the real pipeline, delivering through apprise to a real JSON webhook on 127.0.0.1.

`saksi lab demo` shows what the on-call engineer would receive, not a rendering of what might be
sent: the message is the one a local HTTP receiver got over the loopback. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from monitor.alerts.config import load_alerting
from monitor.alerts.pipeline import Pipeline, build_pipeline
from monitor.store import Store

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


@dataclass
class Inbox:
    """What the local webhook received: (path, title, body) in arrival order."""

    port: int = 0
    received: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(inbox: Inbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                doc: dict[str, Any] = json.loads(raw or b"{}")
            except ValueError:
                doc = {"title": "(not JSON)", "message": raw.decode(errors="replace")}
            with inbox.lock:
                inbox.received.append((self.path, str(doc.get("title", "")), str(doc.get("message", ""))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # the demo prints what matters itself
            pass

    return Handler


@contextmanager
def desk() -> Iterator[tuple[Pipeline, Inbox]]:
    """An alert pipeline on an in-memory store whose receivers are one local webhook; stopped on exit."""
    inbox = Inbox()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(inbox))
    server.daemon_threads = True
    inbox.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, name="saksi-demo-webhook", daemon=True)
    thread.start()
    store = Store("sqlite://")
    try:
        with tempfile.TemporaryDirectory(prefix="saksi-demo-") as tmp:
            path = Path(tmp) / "alerting.yaml"
            path.write_text(ALERTING.format(port=inbox.port))
            pipeline = build_pipeline(load_alerting(path), store)
            try:
                yield pipeline, inbox
            finally:
                pipeline.close()
    finally:
        server.shutdown()
        server.server_close()
        store.close()
