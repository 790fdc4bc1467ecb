"""Hardware health downstream of collection: changes, trends and the four hardware causes.

Pure logic is checked on snapshots written here (table-driven); the lab scenarios tests/scenarios/hw-*.yaml
play every hardware action through the real poller, and their stories are checked below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import pytest

from monitor.lab import scenario
from monitor.model import (
    Disk,
    Hardware,
    HardwareUnit,
    Sensor,
    SensorKind,
    Snapshot,
    Storage,
    TableHealth,
    TableStatus,
    Thresholds,
    UnitKind,
)
from monitor.witness.changes import ChangeKind, detect
from monitor.witness.correlate import Correlator
from monitor.witness.observer import Witness
from monitor.witness.topology import Topology
from monitor.witness.trends import TrendConfig, TrendState, observe
from tests.conftest import SCENARIOS, on_scenario, played

ENVMON = "ciscoEnvMonSupplyStatusTable"
PCT = Thresholds(high_warn=90.0, high_alarm=95.0)


def psu(n: int, state: str = "ok") -> HardwareUnit:
    return HardwareUnit(f"{ENVMON}:{n}", UnitKind.POWER_SUPPLY, f"PS{n}", state,
                        {"ok": "normal", "failed": "critical", "unknown": ""}.get(state, state), ENVMON)


def temp(value: float | None, warn: float = 60.0, alarm: float = 68.0) -> Sensor:
    return Sensor("cisco-entity-sensor:30001", SensorKind.TEMPERATURE, value, Thresholds(high_warn=warn, high_alarm=alarm),
                  "cisco-entity-sensor", descr="Chassis Temperature Sensor")


def fs(name: str, pct: float, failures: int = 0) -> Storage:
    return Storage(f"hrStorageTable:{name}", name, "fixed_disk", 1000 * 4096, int(pct * 10) * 4096, failures, PCT,
                   "hrStorageTable")


def snap(t: float, hw: Hardware | None = None, reachable: bool = True, tables: Iterable[tuple[str, TableStatus]] = (),
         device: str = "sw1") -> Snapshot:
    health = tuple(TableHealth(n, s, 1) for n, s in dict(((ENVMON, TableStatus.OK), *tables)).items())
    return Snapshot(device, t, reachable, tables=health if reachable else (), hardware=hw if reachable else None,
                    error=None if reachable else "timeout")


# --- changes -----------------------------------------------------------------------------------------------

CASES = {
    "psu fails": (Hardware(units=(psu(1), psu(2))), Hardware(units=(psu(1), psu(2, "failed"))), (),
                  [ChangeKind.POWER_SUPPLY_FAILED]),
    "psu back": (Hardware(units=(psu(1), psu(2, "failed"))), Hardware(units=(psu(1), psu(2))), (),
                 [ChangeKind.POWER_SUPPLY_RECOVERED]),
    "psu gone from a complete table": (Hardware(units=(psu(1), psu(2))), Hardware(units=(psu(1),)), (),
                                       [ChangeKind.POWER_SUPPLY_FAILED]),
    "psu gone from a partial walk": (Hardware(units=(psu(1), psu(2))), Hardware(units=(psu(1),)),
                                     ((ENVMON, TableStatus.PARTIAL),), []),
    "psu table timed out": (Hardware(units=(psu(1), psu(2))), Hardware(), ((ENVMON, TableStatus.TIMEOUT),), []),
    "unknown then failed: not a fact it was working": (Hardware(units=(psu(1, "unknown"),)),
                                                       Hardware(units=(psu(1, "failed"),)), (), []),
    "warm, within thresholds": (Hardware(temperatures=(temp(40.0),)), Hardware(temperatures=(temp(55.0),)), (), []),
    "temperature crosses warn": (Hardware(temperatures=(temp(55.0),)), Hardware(temperatures=(temp(61.0),)), (),
                                 [ChangeKind.TEMPERATURE_BREACH]),
    "temperature back": (Hardware(temperatures=(temp(70.0),)), Hardware(temperatures=(temp(50.0),)), (),
                         [ChangeKind.TEMPERATURE_RECOVERED]),
    "temperature unavailable": (Hardware(temperatures=(temp(55.0),)), Hardware(temperatures=(temp(None),)), (), []),
    "filesystem crosses 90%": (Hardware(storage=(fs("/var", 85.0),)), Hardware(storage=(fs("/var", 91.0),)), (),
                               [ChangeKind.STORAGE_FULL]),
    "filesystem cleaned": (Hardware(storage=(fs("/var", 96.0),)), Hardware(storage=(fs("/var", 40.0),)), (),
                           [ChangeKind.STORAGE_RECOVERED]),
    "allocation failures": (Hardware(storage=(fs("/var", 50.0, 2),)), Hardware(storage=(fs("/var", 50.0, 9),)), (),
                            [ChangeKind.STORAGE_ALLOCATION_FAILED]),
    "disk fails": (Hardware(disks=(Disk("d:1", "sdb", "ok", "running"),)),
                   Hardware(disks=(Disk("d:1", "sdb", "failed", "down"),)), (), [ChangeKind.DISK_FAILED]),
    "disk status unknown": (Hardware(disks=(Disk("d:1", "sdb", "unknown"),)),
                            Hardware(disks=(Disk("d:1", "sdb", "failed", "down"),)), (), []),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_hardware_changes(case: str) -> None:
    before, after, tables, want = CASES[case]
    got = [c.kind for c in detect(snap(0, before), snap(60, after, tables=tables), 60.0)]
    assert got == want


def test_a_failed_unit_names_itself_and_its_state() -> None:
    (c,) = detect(snap(0, Hardware(units=(psu(1), psu(2)))), snap(60, Hardware(units=(psu(1), psu(2, "failed")))), 60.0)
    assert c.port is None and c.before["state"] == "ok" and c.after == {"id": f"{ENVMON}:2", "name": "PS2",
                                                                       "state": "failed", "status": "critical"}


def test_no_hardware_read_means_no_change() -> None:
    assert detect(snap(0, Hardware(units=(psu(1),))), snap(60, None), 60.0) == []


# --- trends --------------------------------------------------------------------------------------------------

def _series(values: list[float], step: float = 60.0, kind: str = "storage") -> list[list[Snapshot]]:
    out = []
    for n, v in enumerate(values):
        hw = Hardware(storage=(fs("/var", v),)) if kind == "storage" else Hardware(temperatures=(temp(v),))
        out.append([snap(n * step, hw)])
    return out


def _play(batches: list[list[Snapshot]], cfg: TrendConfig | None = None) -> list[tuple[float, ChangeKind]]:
    state, seen, cfg = TrendState(), [], cfg or TrendConfig()
    for batch in batches:
        now = batch[0].taken_at
        seen += [(now, c.kind) for c in observe(state, batch, now, cfg)]
    return seen


@pytest.mark.parametrize("values,want", [
    ([40, 41, 42, 43, 44, 45, 46, 47], [(180.0, ChangeKind.STORAGE_FILLING)]),  # 1%/min: full in ~1 h
    ([40, 40, 40, 40, 40, 40], []),
    ([40, 45, 38, 46, 39, 44, 40], []),  # noise, not a trend
    ([40, 39, 38, 37, 36, 35], []),  # shrinking
])
def test_storage_trend(values: list[float], want: list[tuple[float, ChangeKind]]) -> None:
    assert _play(_series(values)) == want


def test_slow_growth_beyond_the_horizon_is_no_warning() -> None:
    """1% an hour with 55% free: full in more than two days, past a one-day horizon."""
    values = [45 + n / 60 for n in range(30)]
    assert _play(_series(values), TrendConfig(storage_horizon_s=86400.0)) == []
    assert _play(_series(values), TrendConfig(storage_horizon_s=7 * 86400.0))


def test_temperature_trend_needs_a_sustained_climb() -> None:
    steady = [38 + 2 * n for n in range(10)]  # 2 C a minute towards 60 C
    found = _play(_series(steady, kind="temperature"))
    assert found and found[0][1] is ChangeKind.TEMPERATURE_RISING and found[0][0] >= 480
    dead_fan = [38, 38, 40, 42, 44, 44, 44, 44, 44, 44, 44, 44]  # a few degrees, then flat: not a trend
    assert _play(_series(dead_fan, kind="temperature")) == []
    daily = [25 + n * 0.02 for n in range(60)]  # the building warming by day: 1.2 C/h
    assert _play(_series(daily, kind="temperature")) == []


def test_a_trend_is_reported_once_while_it_lasts() -> None:
    values = [40 + n for n in range(20)]
    assert len(_play(_series(values))) == 1


# --- correlation ---------------------------------------------------------------------------------------------

def _witness() -> Witness:
    return Witness(Correlator(Topology.from_links([], devices=["sw1"])))


def _run(w: Witness, snaps: list[Snapshot]) -> None:
    for s in snaps:
        w.observe([s], s.taken_at)


def test_silence_after_heat_is_overheating() -> None:
    w = _witness()
    _run(w, [snap(n * 60, Hardware(temperatures=(temp(v),))) for n, v in enumerate([50, 55, 62, 66, 70])]
         + [snap(300, reachable=False)])
    (inc,) = [i for i in w.state.incidents]
    assert inc.cause == "overheating" and inc.severity == "critical" and "thermal shutdown" in inc.summary
    assert [e["what"] for e in inc.evidence] == ["temperature_breach", "temperature_breach", "unreachable"]


def test_silence_without_heat_is_unreachable() -> None:
    w = _witness()
    _run(w, [snap(n * 60, Hardware(temperatures=(temp(40.0),))) for n in range(3)] + [snap(180, reachable=False)])
    assert [i.cause for i in w.state.incidents] == ["device_unreachable"]


def test_silence_on_the_last_power_supply() -> None:
    w = _witness()
    _run(w, [snap(0, Hardware(units=(psu(1), psu(2)))), snap(60, Hardware(units=(psu(1, "failed"), psu(2)))),
             snap(120, reachable=False)])
    (inc,) = w.state.incidents
    assert inc.cause == "power_supply_failed" and inc.confidence == "medium" and inc.missing
    assert "last power supply" in inc.summary


def test_one_incident_per_device_and_cause() -> None:
    w = _witness()
    _run(w, [snap(0, Hardware(units=(psu(1), psu(2), psu(3)))), snap(60, Hardware(units=(psu(1), psu(2, "failed"), psu(3)))),
             snap(120, Hardware(units=(psu(1), psu(2, "failed"), psu(3, "failed"))))])
    (inc,) = w.state.incidents
    assert "PS2 and PS3" in inc.summary and inc.resolved_at is None
    _run(w, [snap(180, Hardware(units=(psu(1), psu(2), psu(3, "failed")))),
             snap(240, Hardware(units=(psu(1), psu(2), psu(3))))])
    assert inc.resolved_at == 240 and inc.resolution == "power supply working again"


def test_storage_warning_before_any_threshold_then_major() -> None:
    w = _witness()
    _run(w, [snap(n * 60, Hardware(storage=(fs("/var", 80 + n),))) for n in range(12)])
    (inc,) = w.state.incidents
    assert inc.cause == "storage_failing" and inc.evidence[0]["what"] == "storage_filling"
    assert inc.severity == "major" and "full in" in inc.summary  # 91% at the 12th poll: past warn


def test_hardware_incidents_survive_a_json_round_trip() -> None:
    from monitor.witness.incidents import Incident

    w = _witness()
    _run(w, [snap(0, Hardware(units=(psu(1), psu(2)))), snap(60, Hardware(units=(psu(1), psu(2, "failed"))))])
    (inc,) = w.state.incidents
    assert Incident.from_json(inc.to_json()) == inc


# --- the lab --------------------------------------------------------------------------------------------------

HW_SCENARIOS = {p.stem: p for p in SCENARIOS if p.stem.startswith("hw-")}


def test_every_hardware_action_and_cause_has_a_scenario() -> None:
    actions = {s.do for p in HW_SCENARIOS.values() for s in scenario.load(p).steps}
    assert {"fail_power_supply", "fail_fan", "overheat", "fill_storage", "fail_disk"} <= actions
    causes = {e["cause"] for p in HW_SCENARIOS.values() for e in scenario.load(p).raw["expected_incidents"]}
    assert causes == {"power_supply_failed", "fan_failed", "overheating", "storage_failing"}


@on_scenario(HW_SCENARIOS["hw-overheat-shutdown"])
def test_a_thermal_shutdown_is_one_overheating_incident() -> None:
    result = played(HW_SCENARIOS["hw-overheat-shutdown"])
    (inc,) = [i for i in result.incidents if i["device"] == "dist-sw2"]
    assert inc["cause"] == "overheating" and inc["severity"] == "critical" and inc["confidence"] == "high"
    whats = [e["what"] for e in inc["evidence"]]
    assert whats[0] == "temperature_rising" and "temperature_breach" in whats and "unreachable" in whats
    rising = inc["evidence"][0]
    assert rising["at"] < next(e["at"] for e in inc["evidence"] if e["what"] == "temperature_breach")
    assert "thermal shutdown" in inc["summary"] and inc["resolution"].startswith("cooled down")
    assert not [i for i in result.incidents if i["cause"] in ("device_unreachable", "device_rebooted")]


@on_scenario(HW_SCENARIOS["hw-overheat-shutdown"])
def test_a_warming_that_stops_short_is_a_warning_that_resolves() -> None:
    result = played(HW_SCENARIOS["hw-overheat-shutdown"])
    (inc,) = [i for i in result.incidents if i["device"] == "dist-sw3"]
    assert inc["severity"] == "warning" and inc["resolution"] == "temperature back within thresholds"
    assert [e["what"] for e in inc["evidence"]] == ["temperature_rising"]


@on_scenario(HW_SCENARIOS["hw-power-supply-failed"])
def test_a_redundant_power_supply_keeps_the_device_up() -> None:
    result = played(HW_SCENARIOS["hw-power-supply-failed"])
    assert all(s.reachable for s in result.snapshots["core-sw1"])
    inc = next(i for i in result.incidents if i["device"] == "core-sw1")
    assert "no redundancy left" in inc["summary"] and "PS2" in inc["summary"]


@on_scenario(HW_SCENARIOS["hw-storage-filling"])
def test_storage_filling_is_a_warning_first() -> None:
    result = played(HW_SCENARIOS["hw-storage-filling"])
    inc = next(i for i in result.incidents if i["device"] == "web-01")
    first = inc["evidence"][0]
    assert first["what"] == "storage_filling" and first["after"] < 90  # before any threshold
    assert "storage_full" in [e["what"] for e in inc["evidence"]] and inc["resolution"]
    direct = next(i for i in result.incidents if i["device"] == "web-02")
    assert [e["what"] for e in direct["evidence"]] == ["storage_full"] and direct["severity"] == "major"


BAD = {
    "unknown unit": ("- {at: 10, do: fail_power_supply, device: s1, unit: PS9}", "fail_power_supply needs unit"),
    "no psu on the platform": ("- {at: 10, do: fail_power_supply, device: srv, unit: 1}",
                               "linux_server shows no power supplies"),
    "overheat without celsius": ("- {at: 10, do: overheat, device: s1}", "overheat needs celsius"),
    "unknown mount": ("- {at: 10, do: fill_storage, device: srv, mount: /nope, percent: 90}", "fill_storage needs mount"),
    "percent out of range": ("- {at: 10, do: fill_storage, device: srv, mount: /var, percent: 140}", "percent (0 to 100)"),
    "unknown disk": ("- {at: 10, do: fail_disk, device: srv, disk: sdz}", "fail_disk needs disk"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_malformed_hardware_steps_are_rejected(tmp_path: Path, case: str) -> None:
    step, message = BAD[case]
    f = tmp_path / "bad.yaml"
    f.write_text("name: bad\nsite:\n  devices:\n    - {name: s1, platform: cisco_ios, ports: 28}\n"
                 f"    - {{name: srv, platform: linux_server, ports: 2}}\nsteps:\n  {step}\n")
    with pytest.raises(scenario.ScenarioError, match="step 1") as err:
        scenario.load(f)
    assert message in str(err.value)


@on_scenario(HW_SCENARIOS["hw-disk-failed"])
def test_hardware_snapshots_round_trip_through_the_store_codec() -> None:
    from monitor.state.serialize import snapshot_from_dict, snapshot_to_dict

    result = played(HW_SCENARIOS["hw-disk-failed"])
    for s in result.snapshots["vmhost-1"][-2:]:
        assert s.hardware is not None and s.hardware.disks and s.hardware.storage
        assert snapshot_from_dict(snapshot_to_dict(s)) == s
    assert dataclasses.fields(Snapshot)[-1].name == "hardware"
