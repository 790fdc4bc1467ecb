"""Shared services of the time-series tests: a real InfluxDB server, and one lab day written through
every backend at once.

`lab_day` polls the `noc-day.yaml` lab site once (real SNMP agents, the real poller, the real
witness) and writes every round, as the daemon does, through three sinks: InfluxDB (the dashboards'
data), the embedded SQLite store, and a second InfluxDB server that is stopped in the middle of the
run and started again later (the outage test). The lab's simulated seconds are laid onto the last
hour of the wall clock, so Grafana's default range (`now() - 6h`) covers them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.lab import runner, scenario
from monitor.model import Snapshot
from monitor.timeseries import (
    EmbeddedStore,
    InfluxReader,
    InfluxSettings,
    InfluxWriter,
    Point,
    TimeseriesSink,
)
from monitor.timeseries.points import role_map
from monitor.timeseries.sink import PointWriter
from monitor.witness.changes import Change
from monitor.witness.incidents import Incident
from tests.timeseries.influxd import INFLUXD, InfluxServer

HERE = Path(__file__).parent
SCENARIO = HERE / "noc-day.yaml"
CUSTOMER = "acme"
OUTAGE_ROUNDS = (4, 8)  # the outage server is stopped before round 4 is written and back before round 8


def quick_settings(url: str, bucket: str, spool: Path, **kw: object) -> InfluxSettings:
    """Production logic with test-sized waits: short flush interval and back-off."""
    values: dict[str, object] = {"url": url, "bucket": bucket, "spool_dir": spool, "flush_interval_s": 0.2,
                                 "retry_interval_s": 0.2, "max_retries": 2, "max_retry_time_s": 5,
                                 "probe_max_s": 0.5, "timeout_s": 5}
    values.update(kw)
    return InfluxSettings(**values)  # type: ignore[arg-type]


class Recording:
    """A real writer with a log of what it was given, so a test knows what should have arrived."""

    def __init__(self, inner: PointWriter) -> None:
        self.inner = inner
        self.points: list[Point] = []

    def write(self, points: Sequence[Point]) -> None:
        self.points += points
        self.inner.write(points)

    def flush(self, timeout: float | None = None) -> bool:
        return self.inner.flush(timeout)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="session")
def influx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    if not Path(INFLUXD).exists():
        pytest.fail("influxd is missing: scripts/setup.sh installs Debian's influxdb package")
    server = InfluxServer(tmp_path_factory.mktemp("influxd"))
    server.start()
    yield server
    server.stop()


@dataclass
class LabDay:
    scn: scenario.Scenario
    base: float  # wall-clock epoch of the lab's second 0
    site: str
    devices: list[str]
    link_ports: list[tuple[str, str]]  # (device, canonical port) of every inventory link end
    snapshots: list[Snapshot] = field(default_factory=list)
    influx: InfluxReader | None = None
    influx_points: list[Point] = field(default_factory=list)
    influx_writer: InfluxWriter | None = None
    embedded: EmbeddedStore | None = None
    outage_server: InfluxServer | None = None
    outage_points: list[Point] = field(default_factory=list)
    outage_writer: InfluxWriter | None = None
    outage_spooled_during: int = 0  # points that waited on disk while the server was down
    skipped: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="session")
def lab_day(influx_server: InfluxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabDay]:
    tmp = tmp_path_factory.mktemp("lab-day")
    scn = scenario.load(SCENARIO)
    links = [(link["a"], link["b"], link.get("role", "access")) for link in scn.site["links"]]
    roles = role_map(links)
    day = LabDay(scn, base=float(int(time.time()) - 3600), site=scn.name,
                 devices=[d["name"] for d in scn.site["devices"]], link_ports=sorted(roles))

    influx_server.create_database("noc")
    influx = Recording(InfluxWriter(quick_settings(influx_server.url, "noc", tmp / "spool-a")))
    day.influx = InfluxReader(influx_server.url, bucket="noc")
    day.embedded = EmbeddedStore(tmp / "points.db")
    outage = InfluxServer(tmp / "outage-influxd")
    outage.start()
    outage.create_database("noc")
    day.outage_server = outage
    outage_writer = Recording(InfluxWriter(quick_settings(outage.url, "noc", tmp / "spool-c")))
    sinks = [TimeseriesSink(influx, day.influx, roles), TimeseriesSink(day.embedded, day.embedded, roles),
             TimeseriesSink(outage_writer, InfluxReader(outage.url, bucket="noc"), roles)]
    first = day.devices[0]

    class Day:
        """Beside the daemon's own sinks: what it polls and finds, moved to an hour ago, into every sink here.
        The outage server stops before round OUTAGE_ROUNDS[0] (counted by the first device's polls)."""

        rounds = 0

        def write_snapshot(self, snap: Snapshot, site: str, customer: str) -> None:
            if snap.device == first:
                self.rounds += 1
                if self.rounds == OUTAGE_ROUNDS[0]:
                    outage.stop()
                if self.rounds == OUTAGE_ROUNDS[1]:
                    day.outage_spooled_during = outage_writer.inner.stats.spooled  # type: ignore[attr-defined]
                    outage.start()
            shifted = dataclasses.replace(snap, taken_at=day.base + snap.taken_at)
            day.snapshots.append(shifted)
            for sink in sinks:
                sink.write_snapshot(shifted, day.site, CUSTOMER)

        def write_events(self, changes: list[Change], incidents: list[Incident], site: str, customer: str) -> None:
            moved = [dataclasses.replace(c, at=day.base + c.at, since=None if c.since is None else day.base + c.since)
                     for c in changes]
            for sink in sinks:
                sink.write_events(moved, [_shifted(i, day.base) for i in incidents], day.site, CUSTOMER)

    asyncio.run(runner.run(scn, sinks=[Day()]))  # the daemon's cycle on the lab's clock
    assert sinks[0].flush(60) and sinks[2].flush(60), "the writers could not deliver everything"
    day.influx_points, day.outage_points = influx.points, outage_writer.points
    day.influx_writer, day.outage_writer = influx.inner, outage_writer.inner  # type: ignore[assignment]
    day.skipped = dict(sinks[0].skipped)
    yield day
    for sink in sinks:
        sink.close()
    outage.stop()


def _shifted(inc: Incident, base: float) -> Incident:
    """A copy of the incident with its times moved by `base` (the lab's clock starts at 0)."""
    out = Incident.from_json(inc.to_json())
    out.started_at, out.detected_at, out.updated_at = base + inc.started_at, base + inc.detected_at, \
        base + inc.updated_at
    out.resolved_at = None if inc.resolved_at is None else base + inc.resolved_at
    return out
