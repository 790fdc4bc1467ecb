"""Real receivers on 127.0.0.1 for the alert tests: an SMTP server (aiosmtpd) and an HTTP webhook.

Tests assert on what these received — subject, body, diff, owner — never on calls to a fake.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def url(self, to: str) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=saksi@example.net&to={to}&format=text"

    def to(self, rcpt: str) -> list[EmailMessage]:
        return [m for m in self.messages if rcpt in str(m["To"])]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        return list(self.messages)

    @staticmethod
    def text(m: EmailMessage) -> str:
        part = m.get_body(preferencelist=("plain",)) or m
        return str(part.get_content())

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(msg)  # type: ignore[arg-type]
            self.arrived.notify_all()
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    box = Mailbox(free_tcp_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@dataclass
class Webhook:
    """An HTTP receiver: records every POST; can fail the first N, or hang until released."""

    port: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)
    fail_first: int = 0
    hang: threading.Event | None = None  # set: answer; unset: hold every request
    arrived: threading.Condition = field(default_factory=threading.Condition)
    seen: int = 0

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.posts) >= count, timeout)
        return list(self.posts)

    def wait_seen(self, count: int, timeout: float = 20.0) -> None:
        with self.arrived:
            self.arrived.wait_for(lambda: self.seen >= count, timeout)


def _handler(hook: Webhook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with hook.arrived:
                hook.seen += 1
                n = hook.seen
                hook.arrived.notify_all()
            if hook.hang is not None:
                hook.hang.wait(60)
            if n <= hook.fail_first:
                self.send_response(500)
                self.end_headers()
                return
            with hook.arrived:
                hook.posts.append({"path": self.path, **json.loads(body or b"{}")})
                hook.arrived.notify_all()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _serve(hook: Webhook) -> Iterator[Webhook]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hook))
    server.daemon_threads = True
    hook.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    if hook.hang is not None:
        hook.hang.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    yield from _serve(Webhook())


@pytest.fixture
def second_webhook() -> Iterator[Webhook]:
    yield from _serve(Webhook())


def alerting_yaml(tmp: Path, smtp: Mailbox, hook: Webhook, *, extra: str = "", routes: str = "",
                  **timing: Any) -> Path:
    """An alerting file wired to the test receivers: a NOC webhook, and a mailbox per person."""
    times = {"resolve_hold": 120, "repeat_interval": "1d", "escalate_after": "1d", **timing}
    f = tmp / "alerting.yaml"
    lines = "\n".join(f"  {k}: {v}" for k, v in times.items())
    f.write_text(f"""web_url: https://saksi.example.net
timing:
{lines}
delivery:
  timeout: 5
  attempts: 3
  backoff: 60
receivers:
  noc-hook: ["{hook.url()}"]
people:
  alice: {{notify: ["{smtp.url('alice@example.net')}"]}}
  bob: {{notify: ["{smtp.url('bob@example.net')}"]}}
  carol: {{notify: ["{smtp.url('carol@example.net')}"]}}
teams:
  network:
    tiers:
      - [alice, bob]
      - [carol]
routes:
{routes}
  - name: everything
    team: network
    receivers: [noc-hook]
{extra}
""")
    return f
