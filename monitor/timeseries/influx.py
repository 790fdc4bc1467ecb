"""InfluxDB: a writer that never loses a poll to an outage, and an InfluxQL reader.

The writer sends line protocol through influxdb-client's write service (`/api/v2/write`: InfluxDB 1.8+,
2.x, 3.x), in batches, each with the client's own `WritesRetry` exponential back-off — a fresh one per
batch, as its batching mode does. One thread ships batches in order; when a batch cannot be delivered
it goes to the disk spool, and from then on every batch goes behind it until the spool has been
replayed, so an outage reorders nothing and loses nothing (within the spool's bound). A batch the
server *rejects* (400: a field type conflict, unparsable data) is dropped and counted: sending it
again would fail again and hold back everything behind it.

The reader speaks InfluxQL over `/query`, the one query language InfluxDB 1.x, 2.x (v1 compatibility
API, DBRP mapping) and 3.x all serve.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import urllib3
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write.retry import WritesRetry
from influxdb_client.client.write_api import WriteOptions
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException
from influxdb_client.service.write_service import WriteService

from monitor.timeseries.points import Point, to_line
from monitor.timeseries.reader import Row, series_rows
from monitor.timeseries.spool import Spool

log = logging.getLogger(__name__)
REJECTED = (400, 422)  # the server read the batch and refused (part of) it: retrying cannot help


@dataclass(frozen=True)
class InfluxSettings:
    url: str
    token: str = ""
    org: str = "-"  # InfluxDB 1.8: "-"
    bucket: str = "saksi"  # InfluxDB 1.8: "database/retention-policy" or "database"
    spool_dir: Path = Path("var/influx-spool")
    spool_max_bytes: int = 256 * 2**20
    batch_size: int = 5000
    flush_interval_s: float = 1.0
    timeout_s: float = 10.0
    retry_interval_s: float = 1.0  # first back-off of a failing batch, doubled each retry
    max_retries: int = 3
    max_retry_time_s: float = 30.0
    probe_max_s: float = 60.0  # longest wait between two attempts to replay the spool during an outage


@dataclass
class WriterStats:
    written: int = 0  # points the server accepted
    spooled: int = 0  # points that went to disk on the way
    replayed: int = 0  # spooled points delivered later
    rejected: int = 0  # points in batches the server refused
    outages: int = 0
    last_error: str = ""


class InfluxWriter:
    """A `PointWriter` for InfluxDB; `write` only queues, a background thread ships."""

    def __init__(self, settings: InfluxSettings) -> None:
        self.settings = s = settings
        self.stats = WriterStats()
        self.spool = Spool(s.spool_dir, s.spool_max_bytes)
        timeout = int(s.timeout_s * 1000)
        self._client = (InfluxDBClient(url=s.url, token=s.token, org=s.org, timeout=timeout) if s.token
                        else InfluxDBClient(url=s.url, org=s.org, timeout=timeout))
        self._service = WriteService(self._client.api_client)
        self._options = WriteOptions(batch_size=s.batch_size, flush_interval=int(s.flush_interval_s * 1000),
                                     retry_interval=int(s.retry_interval_s * 1000), max_retries=s.max_retries,
                                     max_retry_time=int(s.max_retry_time_s * 1000), exponential_base=2,
                                     max_retry_delay=int(s.probe_max_s * 1000))
        self._pending: list[str] = []
        self._cv = threading.Condition()
        self._pending_since = 0.0
        self._busy = self._stop = self._flush_now = False
        self._next_probe = 0.0
        self._backoff = s.retry_interval_s
        self._thread = threading.Thread(target=self._run, name="saksi-influx-writer", daemon=True)
        self._thread.start()

    # --- the caller's side

    def write(self, points: Sequence[Point]) -> None:
        lines = [to_line(p) for p in points]
        with self._cv:
            first = not self._pending
            if first:
                self._pending_since = time.monotonic()
            self._pending.extend(lines)
            if first or len(self._pending) >= self.settings.batch_size:
                self._cv.notify_all()  # the thread times its next flush from the first waiting point

    def flush(self, timeout: float | None = None) -> bool:
        """Ship what is queued now and wait for the spool to be replayed; False if points still wait on disk.

        During an outage that wait lasts until the server is back: give a timeout.
        """
        end = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            self._flush_now = True
            self._cv.notify_all()
            while self._pending or self._busy or len(self.spool):
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cv.wait(0.05 if left is None else min(left, 0.05))
            return not self._pending and not self._busy and not len(self.spool)

    def close(self) -> None:
        """Ship what can be shipped; what cannot stays in the spool for the next start."""
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        self._thread.join()
        self._client.close()

    # --- the shipping thread: the only one that posts or touches the spool's order

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._due():
                    self._cv.wait(self._wait_s())  # recomputed on every wake: a write may bring the flush closer
                batch = self._pending[: self.settings.batch_size]
                del self._pending[: len(batch)]
                if not self._pending:
                    self._flush_now = False
                else:
                    self._pending_since = time.monotonic()
                stopping = self._stop
                self._busy = True
            try:
                if batch:
                    self._ship(batch, stopping)
                elif len(self.spool) and not stopping:
                    self._replay()
            except Exception:  # the shipping thread must survive anything a batch can do to it
                log.exception("influx writer: unexpected error")
            with self._cv:
                self._busy = False
                self._cv.notify_all()
                if stopping and not self._pending:
                    return

    def _due(self) -> bool:
        now, pending = time.monotonic(), len(self._pending)
        if self._stop or pending >= self.settings.batch_size or (pending and self._flush_now):
            return True
        if pending and now - self._pending_since >= self.settings.flush_interval_s:
            return True
        return bool(len(self.spool)) and now >= self._next_probe

    def _wait_s(self) -> float:
        now, waits = time.monotonic(), [3600.0]
        if self._pending:
            waits.append(self._pending_since + self.settings.flush_interval_s - now)
        if len(self.spool):
            waits.append(self._next_probe - now)
        return max(0.01, min(waits))

    def _ship(self, lines: list[str], stopping: bool) -> None:
        if len(self.spool) or time.monotonic() < self._next_probe:  # an outage: queue behind what waits
            self._to_spool(lines)
            if not stopping:
                self._replay()
        elif self._post(lines) == "failed":
            self._to_spool(lines)

    def _to_spool(self, lines: list[str]) -> None:
        self.spool.append(lines)
        self.stats.spooled += len(lines)

    def _replay(self) -> None:
        while not self._stop and time.monotonic() >= self._next_probe:
            segment = self.spool.oldest()
            if segment is None:
                return
            lines = self.spool.read(segment)
            if lines is None:
                continue
            if self._post(lines, retry=False) == "failed":
                return
            self.spool.remove(segment)
            self.stats.replayed += len(lines)
            if not len(self.spool):
                log.info("influx writer: spool replayed, InfluxDB is back")

    def _post(self, lines: list[str], retry: bool = True) -> Literal["written", "rejected", "failed"]:
        """Send one batch: the server took it, refused it for good (counted), or could not be reached.

        A fresh batch gets the client's exponential back-off; a replay during an outage gets one attempt,
        since the spool's own back-off paces those.
        """
        s = self.settings
        retries = self._options.to_retry_strategy() if retry else WritesRetry(total=0, allowed_methods=["POST"])
        try:
            self._service.post_write(org=s.org, bucket=s.bucket, body="\n".join(lines).encode("utf-8"),
                                     precision=WritePrecision.NS, content_type="text/plain; charset=utf-8",
                                     urlopen_kw={"retries": retries})
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:  # the batch did not arrive
            if isinstance(exc, ApiException) and exc.status in REJECTED:
                self.stats.rejected += len(lines)
                self.stats.last_error = _reason(exc)
                log.error("influx writer: the server refused a batch of %d points: %s", len(lines), _reason(exc))
                return "rejected"
            self._down(exc)
            return "failed"
        self.stats.written += len(lines)
        if self._next_probe:
            self._next_probe, self._backoff = 0.0, self.settings.retry_interval_s
        return "written"

    def _down(self, exc: BaseException) -> None:
        if not self._next_probe:
            self.stats.outages += 1
            log.warning("influx writer: InfluxDB unreachable (%s); spooling to %s", _reason(exc),
                        self.settings.spool_dir)
        self.stats.last_error = _reason(exc)
        self._next_probe = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self.settings.probe_max_s)


def _reason(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if body:
        return f"{getattr(exc, 'status', '')} {body if isinstance(body, str) else body.decode(errors='replace')}"
    return f"{type(exc).__name__}: {exc}"[:300]


# --- InfluxQL reader ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]]


class QueryError(Exception):
    pass


class InfluxReader:
    """A `PointReader` over InfluxQL; `query` runs any statement (the dashboards' tests use it)."""

    def __init__(self, url: str, token: str = "", bucket: str = "saksi", timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        db, _, rp = bucket.partition("/")
        self.db, self.rp = db, rp
        self.timeout_s = timeout_s
        self._headers = {"Accept": "application/json"}
        if ":" in token:  # InfluxDB 1.x user:password
            self._headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
        elif token:
            self._headers["Authorization"] = f"Token {token}"

    def query(self, influxql: str, epoch: str = "ns") -> list[Series]:
        """Every series of the first statement; raises QueryError with the server's message."""
        params = {"db": self.db, "q": influxql, "epoch": epoch}
        if self.rp:
            params["rp"] = self.rp
        req = urllib.request.Request(f"{self.url}/query?{urllib.parse.urlencode(params)}", headers=self._headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                data = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise QueryError(f"{exc.code}: {exc.read().decode(errors='replace')}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise QueryError(str(exc)) from None
        results = data.get("results") or [{}]
        if "error" in data or "error" in results[0]:
            raise QueryError(data.get("error") or results[0]["error"])
        return [Series(s.get("name", ""), {k: v for k, v in (s.get("tags") or {}).items() if v != ""},
                       s["columns"], s["values"]) for s in results[0].get("series") or []]

    def series(self, measurement: str, start: float, end: float, device: str | None = None,
               port: str | None = None) -> list[Row]:
        where = [f"time >= {int(start * 1e9)} AND time <= {int(end * 1e9)}"]
        if device is not None:
            where.append(f'"device" = {quote(device)}')
        if port is not None:
            where.append(f'"port" = {quote(port)}')
        q = f'SELECT * FROM {ident(measurement)} WHERE {" AND ".join(where)} GROUP BY *'
        rows = [row for s in self.query(q) for row in series_rows(measurement, s.tags, s.columns, s.values)]
        return sorted(rows, key=lambda r: (r.time, sorted(r.tags.items())))

    def optics(self, device: str, port: str, start: float, end: float) -> list[Row]:
        return self.series("dom", start, end, device, port)

    def events(self, start: float, end: float, device: str | None = None, port: str | None = None) -> list[Row]:
        return self.series("event", start, end, device, port)

    def close(self) -> None:
        pass


def quote(text: str) -> str:
    r"""An InfluxQL string literal.

    >>> quote("it's a\\b")
    "'it\\'s a\\\\b'"
    """
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
