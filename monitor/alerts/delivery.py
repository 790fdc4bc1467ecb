"""Delivery at the edge: one worker thread per target, so a receiver that hangs holds up only itself.

The pipeline never waits for the network: it hands a message to the target's queue and goes on.
Outcomes come back through a queue the pipeline drains on its own thread (the only one touching the
store), where a failure is recorded, logged and retried with back-off (`retry_at`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from monitor.inventory import Secret

log = logging.getLogger(__name__)


class Transport(Protocol):
    """Sends one message to one URL; returns None on success, else why it failed."""

    def send(self, url: str, title: str, body: str, timeout: float, kind: str = "info") -> str | None: ...


class AppriseTransport:
    """apprise: email, Slack, Microsoft Teams (Workflows), Telegram, JSON/HTTP webhooks and ~100 more."""

    def send(self, url: str, title: str, body: str, timeout: float, kind: str = "info") -> str | None:
        import apprise

        a = apprise.Apprise()  # a fresh object per message: apprise throttles per plugin instance
        if not a.add(url):
            return "apprise refused the URL"
        try:
            result = a.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT, notify_type=kind,
                              timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - a plugin bug is a failed delivery, not a dead worker
            return f"{type(exc).__name__}: {exc}"
        if result:
            return None
        logs = getattr(result, "logs", None)
        messages = [e.message for e in logs()] if callable(logs) else []
        return "; ".join(dict.fromkeys(messages)) or f"failed ({getattr(result, 'status', 'unknown')!s})"


@dataclass(frozen=True, slots=True)
class Job:
    seq: int  # the outbox row
    target: str
    url: Secret
    title: str
    body: str
    timeout: float
    kind: str = "info"  # apprise's notify type: info, success, warning, failure (colours in Slack/Teams)


@dataclass(frozen=True, slots=True)
class Outcome:
    seq: int
    target: str
    error: str | None  # None: delivered
    elapsed_s: float


class Workers:
    """A queue and a daemon thread per target; `drain()` returns the outcomes so far."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._queues: dict[str, queue.Queue[Job | None]] = {}
        self._outcomes: queue.Queue[Outcome] = queue.Queue()
        self._busy = 0
        self._lock = threading.Condition()
        self.ready = threading.Event()  # set when an outcome waits to be recorded

    def submit(self, jobs: Sequence[Job]) -> None:
        for job in jobs:
            with self._lock:
                self._busy += 1
                q = self._queues.get(job.target)
                if q is None:
                    q = self._queues[job.target] = queue.Queue()
                    threading.Thread(target=self._work, args=(q,), name=f"saksi-notify-{job.target}",
                                     daemon=True).start()
            q.put(job)

    def _work(self, q: queue.Queue[Job | None]) -> None:
        while (job := q.get()) is not None:
            start = time.monotonic()
            try:
                error = self.transport.send(job.url.reveal(), job.title, job.body, job.timeout, job.kind)
            except Exception as exc:  # noqa: BLE001 - same: the worker must outlive any transport
                error = f"{type(exc).__name__}: {exc}"
            self._outcomes.put(Outcome(job.seq, job.target, error, time.monotonic() - start))
            self.ready.set()
            with self._lock:
                self._busy -= 1
                self._lock.notify_all()

    def drain(self) -> list[Outcome]:
        self.ready.clear()
        out = []
        while True:
            try:
                out.append(self._outcomes.get_nowait())
            except queue.Empty:
                return sorted(out, key=lambda o: o.seq)

    def wait(self, timeout: float) -> bool:
        """Wait until every submitted job finished (or the timeout passed); True when all did."""
        with self._lock:
            return self._lock.wait_for(lambda: self._busy == 0, timeout)

    def close(self) -> None:
        with self._lock:
            queues = list(self._queues.values())
            self._queues.clear()
        for q in queues:
            q.put(None)


def kind_of(transition: str, severity: str) -> str:
    """The apprise notify type of a message: a resolution is a success, a major problem a failure."""
    if transition == "resolved":
        return "success"
    return "failure" if severity in ("major", "critical") else "warning" if severity == "warning" else "info"


def retry_at(now: float, attempts: int, backoff: float, max_backoff: float) -> float:
    """When to try again after `attempts` failures: the back-off doubles each time, up to a ceiling.

    >>> [retry_at(0, n, 30, 600) for n in (1, 2, 3, 6)]
    [30.0, 60.0, 120.0, 600.0]
    """
    return float(now + min(max_backoff, backoff * 2 ** (attempts - 1)))
