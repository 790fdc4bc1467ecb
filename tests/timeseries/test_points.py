"""Snapshots, changes and incidents → points → line protocol: pure, table-driven."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from monitor.model import (
    DeviceFacts,
    Port,
    Sensor,
    SensorKind,
    Snapshot,
    TableHealth,
    TableStatus,
    Thresholds,
    Transceiver,
)
from monitor.timeseries.points import (
    INT64_MAX,
    Point,
    event_points,
    incident_state,
    separate,
    snapshot_points,
    to_line,
)
from monitor.witness.changes import Change, ChangeKind
from monitor.witness.incidents import Incident

TH = Thresholds(-20.0, -19.0, -3.0, -2.0)


def snap(**kw: object) -> Snapshot:
    ports = (Port(7, "GigabitEthernet1/0/7", alias="to core", admin="up", oper="up", speed_mbps=1000,
                  in_octets=10, out_octets=20, in_errors=0, out_errors=0, in_discards=0, out_discards=0),)
    values: dict[str, object] = {
        "device": "sw1", "taken_at": 1000.0, "reachable": True, "facts": DeviceFacts(uptime_s=50.0), "ports": ports,
        "transceivers": (Transceiver("CISCO", "GLC-LX-SMD", "FNS1", ifindex=7),),
        "sensors": (Sensor("s:1", SensorKind.RX_POWER, -7.5, TH, "t", ifindex=7),
                    Sensor("s:2", SensorKind.TEMPERATURE, 33.0, Thresholds(-5, 0, 70, 75), "t", ifindex=7),
                    Sensor("chassis", SensorKind.TEMPERATURE, 40.0, Thresholds(), "t")),
        "tables": (TableHealth("ifTable", TableStatus.OK, 1),), "duration_s": 0.5}
    values.update(kw)
    return Snapshot(**values)  # type: ignore[arg-type]


def by_measurement(points: list[Point]) -> dict[str, list[Point]]:
    out: dict[str, list[Point]] = {}
    for p in points:
        out.setdefault(p.measurement, []).append(p)
    return out


def test_a_poll_becomes_device_interface_and_dom_points() -> None:
    points = by_measurement(snapshot_points(snap(), "hq", "acme", {("sw1", "GigabitEthernet1/0/7"): "backbone"}))
    assert sorted(points) == ["device", "dom", "interface"]
    (dev,), (ifc,), (dom,) = points["device"], points["interface"], points["dom"]
    assert dev.tags == (("customer", "acme"), ("device", "sw1"), ("site", "hq"))
    assert dict(dev.fields) == {"reachable": 1, "poll_status": "answered", "poll_duration_s": 0.5, "uptime_s": 50.0,
                                "tables_failed": 0, "values_skipped": 0}
    assert ifc.tag("port") == "GigabitEthernet1/0/7" and ifc.tag("role") == "backbone"
    assert ifc.field("in_octets") == 10 and ifc.field("oper_up") == 1 and ifc.field("alias") == "to core"
    assert dom.tag("serial") == "FNS1" and dom.tag("lane") is None
    assert dict(dom.fields) == {
        "rx_dbm": -7.5, "rx_dbm_low_alarm": -20.0, "rx_dbm_low_warn": -19.0, "rx_dbm_high_warn": -3.0,
        "rx_dbm_high_alarm": -2.0, "temperature_c": 33.0, "temperature_c_low_alarm": -5.0,
        "temperature_c_low_warn": 0.0, "temperature_c_high_warn": 70.0, "temperature_c_high_alarm": 75.0,
        "breach": 0, "vendor": "CISCO", "model": "GLC-LX-SMD"}
    assert dev.time_ns == 1000 * 10**9


def test_lanes_are_separate_points_and_the_worst_breach_counts() -> None:
    sensors = (Sensor("a", SensorKind.RX_POWER, -19.5, TH, "t", ifindex=7, lane=1),
               Sensor("b", SensorKind.RX_POWER, -25.0, TH, "t", ifindex=7, lane=2),
               Sensor("c", SensorKind.TX_POWER, -6.0, TH, "t", ifindex=7, lane=2))
    dom = {p.tag("lane"): p for p in snapshot_points(snap(sensors=sensors), "hq", "") if p.measurement == "dom"}
    assert set(dom) == {"1", "2"}
    assert dom["1"].field("breach") == 1 and dom["2"].field("breach") == 2
    assert dom["2"].field("tx_dbm") == -6.0 and dom["1"].field("tx_dbm") is None


@pytest.mark.parametrize(("value", "expected"), [
    (math.nan, {"non_finite_value": 3}), (math.inf, {"non_finite_value": 3}), (-math.inf, {"non_finite_value": 3}),
    (None, {"dom_unavailable": 1, "non_finite_value": 2})])  # 2: the bias sensor's NaN and infinite thresholds
def test_garbage_readings_are_skipped_and_counted(value: float | None, expected: dict[str, int]) -> None:
    skipped: Counter[str] = Counter()
    sensors = (Sensor("a", SensorKind.RX_POWER, value, TH, "t", ifindex=7),
               Sensor("b", SensorKind.BIAS, 6.0, Thresholds(math.nan, 3.0, 10.0, math.inf), "t", ifindex=7))
    (dom,) = [p for p in snapshot_points(snap(sensors=sensors), "hq", "", skipped=skipped) if p.measurement == "dom"]
    assert dom.field("rx_dbm") is None and dom.field("bias_ma") == 6.0
    assert dom.field("bias_ma_low_warn") == 3.0 and dom.field("bias_ma_low_alarm") is None
    assert skipped == Counter(expected)


@pytest.mark.parametrize(("octets", "stored"), [
    (INT64_MAX, INT64_MAX), (0, 0), (2**64 - 5, None), (2**63, None)])
def test_counters_stay_raw_within_int64(octets: int, stored: int | None) -> None:
    skipped: Counter[str] = Counter()
    port = Port(7, "Gi7", in_octets=octets, out_octets=1)
    (ifc,) = [p for p in snapshot_points(snap(ports=(port,)), "hq", "", skipped=skipped) if p.measurement == "interface"]
    assert ifc.field("in_octets") == stored and ifc.field("out_octets") == 1
    assert skipped["counter_beyond_int64"] == (stored is None)


@pytest.mark.parametrize(("device", "reason"), [("sw\n1", "tag_with_newline"), ("sw1\\", "tag_ends_with_backslash")])
def test_a_tag_line_protocol_cannot_carry_skips_the_point(device: str, reason: str) -> None:
    skipped: Counter[str] = Counter()
    assert snapshot_points(snap(device=device, ports=(), sensors=()), "hq", "", skipped=skipped) == []
    assert skipped == Counter({reason: 1})


def test_an_unanswered_poll_is_a_device_point_only() -> None:
    s = Snapshot("sw1", 5.0, False, error="timeout\nafter 2 retries")
    (p,) = snapshot_points(s, "hq", "acme")
    assert dict(p.fields) == {"reachable": 0, "poll_status": "timed_out", "poll_duration_s": 0.0, "tables_failed": 0,
                              "values_skipped": 0, "error": "timeout after 2 retries"}


@pytest.mark.parametrize(("point", "line"), [
    (Point("m", (("t", "a b,c=d"),), (("f", 1),), 5), r"m,t=a\ b\,c\=d f=1i 5"),
    (Point("m", (("t", 'say "hi"'),), (("s", 'x "y" \\ z'),), 5), 'm,t=say\\ "hi" s="x \\"y\\" \\\\ z" 5'),
    (Point("m", (("t", "ääkkönen"),), (("f", -7.25), ("g", 1e-05)), 5), "m,t=ääkkönen f=-7.25,g=1e-05 5"),
    (Point("m", (("t", "a\\b"),), (("b", True),), 5), "m,t=a\\b b=true 5"),
    (Point("my m", (), (("f", 2**63 - 1),), 0), r"my\ m f=9223372036854775807i 0"),
])
def test_line_protocol(point: Point, line: str) -> None:
    assert to_line(point) == line


def test_changes_and_incident_transitions_become_events() -> None:
    changes = [Change(ChangeKind.TRANSCEIVER_REMOVED, "sw1", 100.0, "Gi1/0/49", since=90.0,
                      before={"vendor": "CISCO", "model": "GLC", "serial": "FNS1"}, serial="FNS1"),
               Change(ChangeKind.DOM_BREACH, "sw1", 100.0, "Gi1/0/49", before=-7.0, after=-40.0, detail="rx alarm"),
               Change(ChangeKind.DOM_BREACH, "sw1", 100.0, "Gi1/0/49", before=30.0, after=80.0, detail="temp alarm")]
    inc = Incident("k", "transceiver_removed", "sw1", "Gi1/0/49", site="hq", id="SAK-000001", started_at=90.0,
                   detected_at=100.0, updated_at=100.0, summary="SFP removed", serial="FNS1")
    points = event_points(changes, [inc], "hq", "acme")
    assert [p.tag("type") for p in points] == ["change", "change", "change", "incident"]
    removed, rx, temp, opened = points
    assert removed.time_ns == 90 * 10**9 and removed.tag("serial") == "FNS1"
    assert removed.field("title") == "transceiver removed: sw1 Gi1/0/49"
    assert removed.field("text") == "CISCO GLC FNS1" and removed.field("tags") == "change,transceiver_removed,sw1,Gi1/0/49"
    assert (rx.series, temp.series) == (rx.series, rx.series) and temp.time_ns == rx.time_ns + 1  # both kept
    assert opened.tag("state") == "opened" and opened.tag("incident") == "SAK-000001" and opened.field("open") == 1
    assert opened.time_ns == 90 * 10**9


@pytest.mark.parametrize(("kw", "state", "at"), [
    ({"detected_at": 10, "updated_at": 10, "started_at": 8}, "opened", 8),
    ({"detected_at": 10, "updated_at": 70}, "updated", 70),
    ({"detected_at": 10, "updated_at": 130, "resolved_at": 130}, "resolved", 130)])
def test_incident_state(kw: dict[str, float], state: str, at: float) -> None:
    assert incident_state(Incident("k", "unknown", "d", None, **kw)) == (state, at)  # type: ignore[arg-type]


def test_separate_keeps_other_series_untouched() -> None:
    a = Point("event", (("device", "a"),), (("title", "x"),), 5)
    b = Point("event", (("device", "b"),), (("title", "y"),), 5)
    assert separate([a, b, a]) == [a, b, Point("event", a.tags, a.fields, 6)]
