"""The InfluxDB writer and reader against a real server (Debian's influxd 1.6.7).

influxdb-client writes to `/api/v2/write`, which 1.6.7 predates: a small test-only adapter
(`tests/timeseries/influxd.py`) forwards it to `/write`. Storage, parsing and InfluxQL are the real
server's. The lab-day fixture (conftest) polled a lab site and wrote every round through the writer,
one of its two servers stopped mid-run and started again.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from monitor.model import DeviceFacts, Port, Sensor, SensorKind, Snapshot, Thresholds, Transceiver
from monitor.timeseries import InfluxReader, InfluxWriter, TimeseriesSink
from monitor.timeseries.influx import QueryError, quote
from monitor.timeseries.points import Point, to_line
from monitor.timeseries.spool import Spool
from tests.timeseries.conftest import LabDay, quick_settings
from tests.timeseries.influxd import InfluxServer, free_tcp_port

MEASUREMENTS = ("device", "interface", "dom", "event")


def stored(reader: InfluxReader, measurement: str) -> dict[tuple[tuple[tuple[str, str], ...], int], dict[str, object]]:
    """(sorted tags, time_ns) → fields, for every point the server holds."""
    out = {}
    for s in reader.query(f'SELECT * FROM "{measurement}" GROUP BY *'):
        for row in s.values:
            out[(tuple(sorted(s.tags.items())), row[0])] = {c: v for c, v in zip(s.columns[1:], row[1:], strict=True)
                                                             if v is not None}
    return out


def expected(points: list[Point], measurement: str) -> dict[tuple[tuple[tuple[str, str], ...], int], dict[str, object]]:
    return {(p.tags, p.time_ns): dict(p.fields) for p in points if p.measurement == measurement}


@pytest.mark.parametrize("measurement", MEASUREMENTS)
def test_every_point_of_the_lab_day_is_stored_as_written(lab_day: LabDay, measurement: str) -> None:
    assert lab_day.influx is not None
    want = expected(lab_day.influx_points, measurement)
    assert want, f"the lab day wrote no {measurement} point"
    assert stored(lab_day.influx, measurement) == want


def test_the_lab_day_covers_every_device_and_link_port(lab_day: LabDay) -> None:
    assert lab_day.influx is not None
    devices = {s.tags["device"] for s in lab_day.influx.query('SELECT last("reachable") FROM "device" GROUP BY "device"')}
    assert devices == set(lab_day.devices)
    ports = {(s.tags["device"], s.tags["port"]) for s in lab_day.influx.query(
        'SELECT last("oper_up") FROM "interface" WHERE "role" != \'\' GROUP BY "device", "port"')}
    assert ports == set(lab_day.link_ports)
    assert lab_day.skipped == {}  # the lab's devices send nothing that has to be dropped


def test_an_outage_mid_run_loses_nothing_repeats_nothing_and_keeps_the_order(lab_day: LabDay) -> None:
    server, writer = lab_day.outage_server, lab_day.outage_writer
    assert server is not None and writer is not None
    assert lab_day.outage_spooled_during > 0, "the server was stopped, yet nothing had to wait on disk"
    assert writer.stats.outages == 1 and writer.stats.replayed == writer.stats.spooled > 0
    assert writer.stats.rejected == 0 and len(writer.spool) == 0
    # what the server accepted, batch after batch, is exactly what was written, once each, in order
    assert server.accepted_lines() == [to_line(p) for p in lab_day.outage_points]
    reader = InfluxReader(server.url, bucket="noc")
    for measurement in MEASUREMENTS:
        assert stored(reader, measurement) == expected(lab_day.outage_points, measurement)


def nasty_snapshot(t: float, octets: int) -> Snapshot:
    """Real-world garbage in one poll: tag values with every special character, a free-text ifAlias,
    readings that are not numbers, a counter near the top of 64 bits."""
    port = Port(1, 'Gi1/0/1 "up,link"=x', alias='to "core-sw1", rack=4 Ääkkönen\r\nkaappi 2 \\ \u2014',
                admin="up", oper="up", speed_mbps=1000, in_octets=octets, out_octets=5, in_errors=0, out_errors=0,
                in_discards=0, out_discards=0)
    th = Thresholds(-20.0, math.nan, -3.0, math.inf)
    sensors = (Sensor("rx", SensorKind.RX_POWER, math.nan, th, "t", ifindex=1),
               Sensor("tx", SensorKind.TX_POWER, math.inf, th, "t", ifindex=1),
               Sensor("temp", SensorKind.TEMPERATURE, -math.inf, th, "t", ifindex=1),
               Sensor("volt", SensorKind.VOLTAGE, 3.3, Thresholds(2.97, 3.13, 3.46, 3.63), "t", ifindex=1))
    return Snapshot('sw 1,core="A"=ü', t, True, DeviceFacts(uptime_s=100.0 + t), (port,),
                    (Transceiver("FINISAR CORP.", "FTLF1318P3BTL", "PQK1,2=3 4", ifindex=1),), sensors)


def test_bad_input_is_stored_exactly_or_skipped_with_a_counted_reason(influx_server: InfluxServer,
                                                                       tmp_path: Path) -> None:
    influx_server.create_database("bad")
    writer = InfluxWriter(quick_settings(influx_server.url, "bad", tmp_path / "spool"))
    reader = InfluxReader(influx_server.url, bucket="bad")
    sink = TimeseriesSink(writer, reader)
    site, customer = "Sité, HQ=1", 'Acme "Oy" Ab'
    top = 2**64 - 5  # a 64-bit counter about to wrap: beyond InfluxDB's signed integers
    polls = ((1_700_000_000.0, 2**63 - 1000), (1_700_000_060.0, top), (1_700_000_120.0, 40), (1_700_000_180.0, 100))
    for t, octets in polls:
        sink.write_snapshot(nasty_snapshot(t, octets), site, customer)
    sink.write_snapshot(Snapshot("trailing\\", 1_700_000_000.0, True), site, customer)
    assert sink.flush(30)
    assert sink.skipped == Counter({"non_finite_value": 3 * len(polls), "counter_beyond_int64": 1,
                                    "tag_ends_with_backslash": 1})
    assert writer.stats.rejected == 0

    device = 'sw 1,core="A"=ü'
    (ifc,) = reader.query(f'SELECT "in_octets", "alias" FROM "interface" WHERE "device" = {quote(device)} GROUP BY *')
    assert ifc.tags == {"site": site, "customer": customer, "device": device, "port": 'Gi1/0/1 "up,link"=x'}
    assert [row[1] for row in ifc.values] == [2**63 - 1000, None, 40, 100]  # raw; the unstorable one left out
    assert ifc.values[0][2] == 'to "core-sw1", rack=4 Ääkkönen kaappi 2 \\ \u2014'
    # the wrap does not become a negative rate: the dashboards' rate is the only one left
    (rate,) = reader.query(f'SELECT non_negative_derivative(last("in_octets"), 1s) FROM "interface" WHERE '
                           f'"device" = {quote(device)} AND time >= 1699999000s GROUP BY time(1m)')
    assert rate.values == [[1_700_000_160 * 10**9, 1.0]]
    (dom,) = reader.optics(device, 'Gi1/0/1 "up,link"=x', 1_699_999_999.0, 1_700_000_200.0)[:1]
    assert dom.tags["serial"] == "PQK1,2=3 4"
    assert dom.fields == {"voltage_v": 3.3, "voltage_v_low_alarm": 2.97, "voltage_v_low_warn": 3.13,
                          "voltage_v_high_warn": 3.46, "voltage_v_high_alarm": 3.63, "breach": 0,
                          "vendor": "FINISAR CORP.", "model": "FTLF1318P3BTL"}
    assert reader.query('SELECT * FROM "device" WHERE "device" = \'trailing\\\\\'') == []
    sink.close()


def test_a_batch_the_server_refuses_is_counted_and_does_not_hold_back_the_rest(influx_server: InfluxServer,
                                                                               tmp_path: Path) -> None:
    influx_server.create_database("refused")
    writer = InfluxWriter(quick_settings(influx_server.url, "refused", tmp_path / "spool"))
    writer.write([Point("m", (("d", "a"),), (("v", 1),), 1)])
    assert writer.flush(30)
    writer.write([Point("m", (("d", "a"),), (("v", "text"),), 2)])  # a field type conflict: 400 for good
    assert writer.flush(30)
    writer.write([Point("m", (("d", "a"),), (("v", 3),), 3)])
    assert writer.flush(30)
    writer.close()
    assert writer.stats.rejected == 1 and writer.stats.written == 2 and len(writer.spool) == 0
    assert "field type conflict" in writer.stats.last_error
    (series,) = InfluxReader(influx_server.url, bucket="refused").query('SELECT "v" FROM "m"')
    assert series.values == [[1, 1], [3, 3]]


def test_the_spool_outlives_the_process_and_is_replayed_at_the_next_start(influx_server: InfluxServer,
                                                                          tmp_path: Path) -> None:
    influx_server.create_database("restart")
    spool = tmp_path / "spool"
    nobody = f"http://127.0.0.1:{free_tcp_port()}"  # InfluxDB is down while the first process runs
    down = InfluxWriter(quick_settings(nobody, "restart", spool))
    points = [Point("m", (("d", "a"),), (("v", i),), i) for i in range(1, 2001)]
    for i in range(0, 2000, 100):
        down.write(points[i:i + 100])
    assert not down.flush(2)
    down.close()
    assert down.stats.written == 0 and down.stats.spooled == 2000 and len(Spool(spool, 2**30)) > 0

    up = InfluxWriter(quick_settings(influx_server.url, "restart", spool))
    assert up.flush(30)
    up.close()
    assert up.stats.replayed == 2000 and len(up.spool) == 0
    (series,) = InfluxReader(influx_server.url, bucket="restart").query('SELECT "v" FROM "m"')
    assert [v for _, v in series.values] == list(range(1, 2001))


def test_the_spool_is_bounded_dropping_the_oldest_and_counting_them(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=4000)
    for batch in range(50):
        spool.append([f"m,d=a v={batch * 100 + i}i {batch * 100 + i}" for i in range(100)])
    assert spool.bytes <= 4000 and spool.dropped_points > 0
    kept = []
    while (segment := spool.oldest()) is not None:
        kept += segment.lines()
        spool.remove(segment)
    assert len(kept) + spool.dropped_points == 5000
    assert kept == [f"m,d=a v={n}i {n}" for n in range(5000 - len(kept), 5000)]  # the newest, in order


def test_a_damaged_spool_file_is_dropped_and_counted_not_retried_forever(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=2**20)
    spool.append(["m v=1i 1"])
    spool.append(["m v=2i 2"])
    first = spool.oldest()
    assert first is not None
    first.path.write_bytes(first.path.read_bytes()[:12])  # cut short, as by a full disk
    reopened = Spool(tmp_path, max_bytes=2**20)  # as at the next start
    segment = reopened.oldest()
    assert segment is not None and reopened.read(segment) is None and reopened.damaged_batches == 1
    segment = reopened.oldest()
    assert segment is not None and reopened.read(segment) == ["m v=2i 2"]


def test_the_reader_reports_a_bad_query(lab_day: LabDay) -> None:
    assert lab_day.influx is not None
    with pytest.raises(QueryError, match="error parsing query"):
        lab_day.influx.query("SELECT FROM WHERE")
