"""The store's JSON shape: exact round trips of real lab snapshots, of changes, and of generated snapshots."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.lab import runner, scenario
from monitor.model import (
    DeviceFacts,
    Neighbor,
    Port,
    Sensor,
    SensorKind,
    Snapshot,
    TableHealth,
    TableStatus,
    Thresholds,
    Transceiver,
)
from monitor.state.serialize import change_from_dict, change_to_dict, snapshot_from_dict, snapshot_to_dict
from monitor.witness.changes import Change, ChangeKind, detect

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def through_json(d: dict) -> dict:
    """What a JSON column gives back; strict JSON, as PostgreSQL wants it."""
    return json.loads(json.dumps(d, allow_nan=False))


@pytest.fixture(scope="module")
def lab_snapshots() -> dict[str, list[Snapshot]]:
    res = asyncio.run(runner.run(scenario.load(SCENARIOS / "sfp-moved-on-core.yaml")))
    return res.snapshots


def test_lab_snapshots_round_trip_exactly(lab_snapshots: dict[str, list[Snapshot]]) -> None:
    count = 0
    for snaps in lab_snapshots.values():
        for s in snaps:
            assert snapshot_from_dict(through_json(snapshot_to_dict(s))) == s
            count += 1
    assert count >= 30
    s = lab_snapshots["core-sw1"][0]
    assert s.transceivers and s.sensors and s.neighbors and s.tables  # the round trip covered every part
    d = snapshot_to_dict(s)
    assert d["tables"][0]["status"] == "ok" and d["sensors"][0]["kind"] in {k.value for k in SensorKind}


def test_lab_changes_round_trip(lab_snapshots: dict[str, list[Snapshot]]) -> None:
    changes = [c for snaps in lab_snapshots.values() for a, b in itertools.pairwise(snaps)
               for c in detect(a, b, b.taken_at)]
    assert {ChangeKind.TRANSCEIVER_REMOVED, ChangeKind.TRANSCEIVER_INSERTED} <= {c.kind for c in changes}
    for c in changes:
        back = change_from_dict(through_json(change_to_dict(c)))
        assert back == c and back.extra == c.extra


def test_unknown_keys_are_ignored_and_missing_optional_keys_take_defaults() -> None:
    s = Snapshot("sw1", 60.0, True, facts=DeviceFacts(sys_name="sw1", uptime_s=12.5),
                 ports=(Port(1, "GigabitEthernet1/0/1", oper="up"),),
                 tables=(TableHealth("ifTable", TableStatus.OK, 1),))
    d = snapshot_to_dict(s)
    d["added_by_a_newer_saksi"] = {"x": 1}
    d["ports"][0]["poe_watts"] = 4.2
    d["facts"]["serial"] = "ABC"
    assert snapshot_from_dict(d) == s
    old = {"device": "sw1", "taken_at": 60.0, "reachable": False, "error": "timeout"}  # an older writer
    assert snapshot_from_dict(old) == Snapshot("sw1", 60.0, False, error="timeout")
    with pytest.raises(ValueError, match="taken_at"):
        snapshot_from_dict({"device": "sw1", "reachable": True})
    c = change_from_dict({"kind": "port_down", "device": "sw1", "at": 5.0, "port": "Gi1/0/1", "future": 1})
    assert c == Change(ChangeKind.PORT_DOWN, "sw1", 5.0, "Gi1/0/1")


def test_non_finite_readings_are_strict_json() -> None:
    s = Snapshot("sw1", 1.0, True, sensors=(
        Sensor("x:1", SensorKind.RX_POWER, -math.inf, Thresholds(low_alarm=math.inf), "dom", ifindex=1),
        Sensor("x:2", SensorKind.TEMPERATURE, math.nan, Thresholds(), "dom"),
    ))
    back = snapshot_from_dict(through_json(snapshot_to_dict(s)))
    assert back.sensors[0] == s.sensors[0]
    assert math.isnan(back.sensors[1].value or 0.0)
    assert dataclasses.replace(back.sensors[1], value=None) == dataclasses.replace(s.sensors[1], value=None)


# --- generated snapshots ---------------------------------------------------------------------------

floats = st.floats(allow_nan=False, allow_infinity=True)
opt_floats = st.none() | floats
opt_ints = st.none() | st.integers(-(2**63), 2**64)
text = st.text(max_size=12)
thresholds = st.builds(Thresholds, opt_floats, opt_floats, opt_floats, opt_floats)
sensors = st.builds(Sensor, sensor_id=text, kind=st.sampled_from(SensorKind), value=opt_floats,
                    thresholds=thresholds, source=text, descr=text, ifindex=opt_ints,
                    lane=st.none() | st.integers(0, 8), entity_index=opt_ints, status=text)
transceivers = st.builds(Transceiver, vendor=text, model=text, serial=text, type=text, revision=text,
                         ifindex=opt_ints, entity_index=opt_ints, source=text)
neighbors = st.builds(Neighbor, ifindex=opt_ints, local_port=text, sys_name=text, port=text, port_descr=text,
                      chassis_id=text)
ports = st.builds(Port, ifindex=st.integers(0, 2**31), name=text, descr=text, alias=text,
                  if_type=st.integers(0, 300), admin=text, oper=text, speed_mbps=opt_ints,
                  mtu=opt_ints, mac=text, last_change_s=opt_floats, in_octets=opt_ints, out_octets=opt_ints,
                  counters_64bit=st.booleans(), in_errors=opt_ints, out_errors=opt_ints,
                  in_discards=opt_ints, out_discards=opt_ints)
tables = st.builds(TableHealth, table=text, status=st.sampled_from(TableStatus), rows=st.integers(0, 10**6),
                   error=st.none() | text)
facts = st.builds(DeviceFacts, sys_name=text, sys_descr=text, sys_object_id=text, uptime_s=opt_floats,
                  entity_last_change_s=opt_floats)
snapshots = st.builds(
    Snapshot, device=text, taken_at=floats, reachable=st.booleans(), facts=facts,
    ports=st.lists(ports, max_size=4).map(tuple), transceivers=st.lists(transceivers, max_size=3).map(tuple),
    sensors=st.lists(sensors, max_size=4).map(tuple), neighbors=st.lists(neighbors, max_size=3).map(tuple),
    tables=st.lists(tables, max_size=4).map(tuple), duration_s=floats, error=st.none() | text,
    skipped=st.lists(st.tuples(text, st.integers(0, 1000)), max_size=3).map(tuple),
)
json_values = st.none() | st.booleans() | st.integers(-1000, 1000) | st.floats(allow_nan=False, allow_infinity=False) \
    | text | st.dictionaries(text, text, max_size=3)
changes = st.builds(Change, kind=st.sampled_from(ChangeKind), device=text, at=floats, port=st.none() | text,
                    source=text, since=opt_floats, before=json_values, after=json_values, serial=st.none() | text,
                    detail=text, extra=st.dictionaries(text, json_values, max_size=3))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots)
def test_generated_snapshots_round_trip(s: Snapshot) -> None:
    assert snapshot_from_dict(through_json(snapshot_to_dict(s))) == s


@settings(max_examples=150, deadline=None)
@given(changes)
def test_generated_changes_round_trip(c: Change) -> None:
    back = change_from_dict(through_json(change_to_dict(c)))
    assert back == c and back.extra == c.extra
