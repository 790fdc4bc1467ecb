"""The embedded default: the same points in SQLite, with a retention period, behind the same reader."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.model import Snapshot
from monitor.timeseries import EmbeddedStore, InfluxWriter, TimeseriesSettings, from_settings
from monitor.timeseries.points import Point
from monitor.timeseries.sink import TimeseriesSink, round_writer
from tests.timeseries.conftest import LabDay

DAY = 86400.0


def point(t: float, value: int = 1, device: str = "sw1") -> Point:
    return Point("interface", (("device", device), ("port", "Gi1/0/1")), (("in_octets", value),), round(t * 1e9))


@pytest.mark.parametrize("kind", ["optics", "events"])
def test_the_embedded_store_answers_like_influxdb(lab_day: LabDay, kind: str) -> None:
    """Same lab day, written through both backends: the reader gives the same rows, field for field."""
    assert lab_day.influx is not None and lab_day.embedded is not None
    start, end = lab_day.base - 1, lab_day.base + lab_day.scn.run_until + 1
    compared = 0
    for device, port in lab_day.link_ports:
        if kind == "optics":
            a, b = lab_day.influx.optics(device, port, start, end), lab_day.embedded.optics(device, port, start, end)
        else:
            a, b = lab_day.influx.events(start, end, device, port), lab_day.embedded.events(start, end, device, port)
        assert [(r.time, r.tags, r.fields) for r in a] == [(r.time, r.tags, r.fields) for r in b]
        compared += len(a)
    assert compared > 20


def test_retention_counts_back_from_the_newest_point(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "p.db", retention_s=30 * DAY)
    store.write([point(t * DAY) for t in range(41)])
    assert store.prune() == 10  # days 0..9 are more than 30 days older than day 40
    rows = store.series("interface", 0, 41 * DAY)
    assert [r.time for r in rows] == [t * DAY for t in range(10, 41)]
    store.close()


def test_a_point_written_twice_is_stored_once_like_influxdb(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "p.db")
    store.write([point(100.0, 1), point(100.0, 1, device="sw2")])
    store.write([point(100.0, 2)])  # same series and time: the later write wins
    rows = store.series("interface", 0, 200, device="sw1")
    assert [(r.time, r.fields) for r in rows] == [(100.0, {"in_octets": 2})]
    store.close()
    with sqlite3.connect(tmp_path / "p.db") as db:
        assert db.execute("SELECT count(*) FROM points").fetchone() == (2,)


def test_no_influxdb_configured_means_the_embedded_store(tmp_path: Path) -> None:
    sink = from_settings(TimeseriesSettings(points_db=tmp_path / "var" / "saksi-points.db"))
    assert isinstance(sink.writer, EmbeddedStore) and sink.reader is sink.writer
    sink.close()
    sink = from_settings(TimeseriesSettings(influx_url="http://127.0.0.1:9", spool_dir=tmp_path / "spool"))
    assert isinstance(sink.writer, InfluxWriter)
    sink.close()


def test_a_lab_run_can_record_its_rounds(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "p.db")
    on_round = round_writer(TimeseriesSink(store, store), "lab")
    on_round([Snapshot("sw1", 60.0, True), Snapshot("sw2", 60.0, False)], 60.0)
    assert [(r.tags["device"], r.fields["reachable"]) for r in store.series("device", 0, 120)] == [
        ("sw1", 1), ("sw2", 0)]
    store.close()
