"""The daemon's time-series sink: every snapshot, change and incident transition becomes points.

It implements `monitor.daemon.monitor.SnapshotSink`; where the points go (InfluxDB or the embedded store) is
the writer's business. What could not be stored is counted by reason in `skipped`, never raised.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Protocol

from monitor.model import Snapshot
from monitor.timeseries.points import Point, Roles, event_points, snapshot_points
from monitor.timeseries.reader import PointReader
from monitor.witness.changes import Change
from monitor.witness.incidents import Incident

log = logging.getLogger(__name__)


class PointWriter(Protocol):
    def write(self, points: Sequence[Point]) -> None: ...

    def flush(self, timeout: float | None = None) -> bool: ...

    def close(self) -> None: ...


class TimeseriesSink:
    def __init__(self, writer: PointWriter, reader: PointReader, roles: Roles | None = None) -> None:
        self.writer, self.reader = writer, reader
        self.roles = dict(roles or {})
        self.skipped: Counter[str] = Counter()
        self.points = 0

    def write_snapshot(self, snap: Snapshot, site: str, customer: str) -> None:
        self._write(lambda skipped: snapshot_points(snap, site, customer, self.roles, skipped))

    def write_events(self, changes: list[Change], incidents: list[Incident], site: str, customer: str) -> None:
        if changes or incidents:
            self._write(lambda skipped: event_points(changes, incidents, site, customer, skipped))

    def _write(self, build: Callable[[Counter[str]], list[Point]]) -> None:
        skipped: Counter[str] = Counter()
        points = build(skipped)
        if skipped:
            log.info("time series: skipped %s", ", ".join(f"{n} {why}" for why, n in sorted(skipped.items())))
            self.skipped.update(skipped)
        self.writer.write(points)
        self.points += len(points)

    def flush(self, timeout: float | None = None) -> bool:
        return self.writer.flush(timeout)

    def close(self) -> None:
        self.writer.close()
        if not _same(self.reader, self.writer):
            self.reader.close()


def _same(a: object, b: object) -> bool:
    return a is b


def round_writer(sink: TimeseriesSink, site: str, customer: str = "") -> Callable[[list[Snapshot], float], None]:
    """An `on_round` callback for `monitor.lab.runner.run`: every lab round's snapshots into the sink."""
    def on_round(snapshots: list[Snapshot], now: float) -> None:
        for snap in snapshots:
            sink.write_snapshot(snap, site, customer)
    return on_round
