"""The embedded default: the same points in a local SQLite file, with a retention period.

With no InfluxDB configured Saksi still keeps its history (the demo runs on it). A point's identity is
InfluxDB's — measurement, tag set, time — so writing one twice stores it once, as InfluxDB would.
Retention counts back from the newest point written, not from the wall clock, so a lab run on a
simulated clock keeps its points exactly as a real site keeps its last N days.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from monitor.timeseries.points import Point, ns
from monitor.timeseries.reader import Row

log = logging.getLogger(__name__)
DEFAULT_RETENTION_S = 30 * 86400.0
PRUNE_EVERY = 10_000  # points written between two retention sweeps

_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    measurement TEXT NOT NULL,
    series TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    device TEXT,
    port TEXT,
    tags TEXT NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (measurement, series, time_ns)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_points_device ON points (measurement, device, port, time_ns);
CREATE INDEX IF NOT EXISTS ix_points_time ON points (time_ns);
"""


class EmbeddedStore:
    """A `PointWriter` and a `PointReader` on one SQLite file; safe to call from several threads."""

    def __init__(self, path: str | Path, retention_s: float = DEFAULT_RETENTION_S) -> None:
        self.path = Path(path)
        self.retention_s = retention_s
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._since_prune = 0
        self.written = 0
        self.pruned = 0

    def write(self, points: Sequence[Point]) -> None:
        rows = [(p.measurement, p.series, p.time_ns, p.tag("device"), p.tag("port"),
                 json.dumps(dict(p.tags), ensure_ascii=False), json.dumps(dict(p.fields), ensure_ascii=False))
                for p in points]
        if not rows:
            return
        with self._lock:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self.written += len(rows)
            self._since_prune += len(rows)
            if self._since_prune >= PRUNE_EVERY:
                self._prune()

    def prune(self) -> int:
        """Delete the points older than the retention period (counted back from the newest point)."""
        with self._lock:
            return self._prune()

    def _prune(self) -> int:
        self._since_prune = 0
        newest = self._db.execute("SELECT max(time_ns) FROM points").fetchone()[0]
        if newest is None:
            return 0
        with self._db:
            cur = self._db.execute("DELETE FROM points WHERE time_ns < ?", (newest - ns(self.retention_s),))
        if cur.rowcount:
            self.pruned += cur.rowcount
            log.info("points store %s: %d points past the %.0f-day retention removed", self.path, cur.rowcount,
                     self.retention_s / 86400)
        return cur.rowcount

    def flush(self, timeout: float | None = None) -> bool:
        return True  # every write is committed before it returns

    def close(self) -> None:
        with self._lock:
            self._prune()
            self._db.close()

    # --- PointReader

    def series(self, measurement: str, start: float, end: float, device: str | None = None,
               port: str | None = None) -> list[Row]:
        sql = "SELECT time_ns, tags, fields FROM points WHERE measurement = ? AND time_ns BETWEEN ? AND ?"
        args: list[object] = [measurement, ns(start), ns(end)]
        if device is not None:
            sql += " AND device = ?"
            args.append(device)
        if port is not None:
            sql += " AND port = ?"
            args.append(port)
        with self._lock:
            found = self._db.execute(sql + " ORDER BY time_ns, series", args).fetchall()
        return [Row(measurement, t / 1e9, json.loads(tags), json.loads(fields)) for t, tags, fields in found]

    def optics(self, device: str, port: str, start: float, end: float) -> list[Row]:
        return self.series("dom", start, end, device, port)

    def events(self, start: float, end: float, device: str | None = None, port: str | None = None) -> list[Row]:
        return self.series("event", start, end, device, port)
