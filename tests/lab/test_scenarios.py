"""Every lab action, checked through the real collector: what the simulated devices *show* over SNMP.

Each scenario in tests/scenarios/ carries its own `expect:` list (the runner ignores unknown keys);
this test plays it and checks each expectation against the snapshot the real poller took.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from monitor.check.health import hardware_problems
from monitor.common.names import canonical_port
from monitor.lab import runner, scenario
from monitor.model import Port, Snapshot
from tests.conftest import SCENARIOS, on_scenario, played, run_saksi, scenario_params

DIRTY_FIBRE = next(p for p in SCENARIOS if p.stem == "dirty-fibre")
QUICK = next(p for p in SCENARIOS if p.stem == "sfp-replaced")  # one incident and its page, in a few seconds


def _port(snap: Snapshot, name: str) -> Port:
    p = snap.port(canonical_port(name))
    assert p is not None, f"{snap.device} has no port {name}"
    return p


def _dom(snap: Snapshot, port: Port, kind: str) -> float | None:
    values = [s.value for s in snap.sensors_of(port.ifindex) if s.kind.value == kind]
    return values[0] if values else None


def check(result: runner.RunResult, e: dict[str, Any]) -> None:
    snap = result.at(e["device"], e["at"])
    where = f"t={e['at']} {e['device']} {e.get('port', '')}"
    if "reachable" in e:
        assert snap.reachable is e["reachable"], where
    if "uptime_below" in e:
        assert snap.facts.uptime_s is not None and snap.facts.uptime_s < e["uptime_below"], where
    if "entity_changed" in e:
        before = result.at(e["device"], 0).facts.entity_last_change_s
        assert (snap.facts.entity_last_change_s != before) is e["entity_changed"], where
    _check_hardware(snap, e, where)
    if "port" not in e:
        return
    port = _port(snap, e["port"])
    t = snap.transceiver_in(port.ifindex)
    n = snap.neighbor_on(port.ifindex)
    for key, want in e.items():
        if key == "oper":
            assert port.oper == want, where
        elif key == "admin":
            assert port.admin == want, where
        elif key == "alias":
            assert port.alias == want, where
        elif key == "transceiver":
            if want is None:
                assert t is None, f"{where}: module {t} still seen"
            elif want == "present":
                assert t is not None and t.serial, where
            else:
                assert t is not None and t.serial == want, where
        elif key == "model":
            assert t is not None and t.model == want, where
        elif key == "same_module_as":
            ref = result.at(want.get("device", e["device"]), want["at"])
            ref_t = ref.transceiver_in(_port(ref, want["port"]).ifindex)
            assert ref_t is not None and t is not None and t.identity == ref_t.identity, where
        elif key == "neighbor":
            assert (n.sys_name if n else None) == want, where
        elif key == "neighbor_port":
            assert n is not None and canonical_port(n.port) == canonical_port(want), where
        elif key.endswith(("_below", "_above")) and key.startswith(("rx_dbm", "tx_dbm")):
            value = _dom(snap, port, "rx_power" if key.startswith("rx") else "tx_power")
            assert value is not None, f"{where}: no {key[:6]} reading"
            assert value < e[key] if key.endswith("_below") else value > e[key], f"{where}: {key} {value}"
        elif key == "in_errors_above":
            assert (port.in_errors or 0) > want, where
        elif key == "in_errors_below":
            assert (port.in_errors or 0) < want, where
        elif key == "dom_breach":
            breaches = {s.breach for s in snap.sensors_of(port.ifindex)}
            assert want in breaches, f"{where}: breaches {breaches}"


_HW_COUNTS = {"power_supplies_failed": ("power_supplies", "failed"), "power_supplies_ok": ("power_supplies", "ok"),
              "fans_failed": ("fans", "failed"), "fans_ok": ("fans", "ok"), "disks_failed": ("disks", "failed")}


def _check_hardware(snap: Snapshot, e: dict[str, Any], where: str) -> None:
    """Power, cooling, temperature, storage and disks, as the device's health MIBs show them."""
    if not any(k in e for k in (*_HW_COUNTS, "temperature_above", "temperature_below", "storage_above",
                                "storage_below", "hardware_problem")):
        return
    hw = snap.hardware
    assert hw is not None, f"{where}: no hardware read"
    for key, (part, state) in _HW_COUNTS.items():
        if key in e:
            got = sum(1 for x in getattr(hw, part) if x.state == state)
            assert got == e[key], f"{where}: {key} {got}"
    hottest = max((t.value for t in hw.temperatures if t.value is not None), default=None)
    if "temperature_above" in e:
        assert hottest is not None and hottest > e["temperature_above"], f"{where}: temperature {hottest}"
    if "temperature_below" in e:
        assert hottest is not None and hottest < e["temperature_below"], f"{where}: temperature {hottest}"
    used = {x.name: x.used_pct for x in hw.storage}
    for mount, pct in (e.get("storage_above") or {}).items():
        assert (used.get(mount) or 0) > pct, f"{where}: {mount} {used.get(mount)}%"
    for mount, pct in (e.get("storage_below") or {}).items():
        assert used.get(mount) is not None and used[mount] < pct, f"{where}: {mount} {used.get(mount)}%"
    if "hardware_problem" in e:
        found = hardware_problems(snap)
        assert any(p.startswith(e["hardware_problem"]) for p in found), f"{where}: problems {found}"


@pytest.mark.parametrize("path", scenario_params(SCENARIOS))
def test_scenario_expectations(path: Path) -> None:
    raw = scenario.load(path).raw
    assert raw.get("expect"), f"{path.name} states no expectation"
    result = played(path)
    for e in raw["expect"]:
        check(result, e)


def test_every_action_is_covered() -> None:
    used = {step.do for p in SCENARIOS for step in scenario.load(p).steps}
    assert scenario.ACTIONS == used, scenario.ACTIONS - used


@on_scenario(DIRTY_FIBRE)
def test_runs_are_deterministic() -> None:
    a = asyncio.run(runner.run(scenario.load(DIRTY_FIBRE)))  # a second play of its own, to compare
    b = played(DIRTY_FIBRE)
    for device in a.snapshots:
        assert [s.ports for s in a.snapshots[device]] == [s.ports for s in b.snapshots[device]]
        assert [s.sensors for s in a.snapshots[device]] == [s.sensors for s in b.snapshots[device]]


@on_scenario(QUICK)
def test_lab_run_json_through_the_cli() -> None:
    """What users run reports what the daemon's cycle found: the same incidents and pages as the play here."""
    r = run_saksi("lab", "run", str(QUICK), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["scenario"] == scenario.load(QUICK).name
    assert out["polls"] >= 1 and [i["cause"] for i in out["incidents"]] == ["transceiver_replaced"]
    assert {(n["transition"], n["incident"]) for n in out["notifications"]} == {("opened", "SAK-000001")}
    # the same report to the byte: the lab's clock waits for each delivery, so not even the moment a page was
    # recorded hangs on how fast the machine or the local receiver answered
    assert out == played(QUICK).to_json()


BAD = {
    "unknown action": ("- {at: 10, do: juggle, device: s1, port: Gi1/0/1}", "step 1: unknown action 'juggle'"),
    "unknown port": ("- {at: 10, do: shutdown_port, device: s1, port: Gi1/0/99}", "s1 has no port 'Gi1/0/99'"),
    "before time 0": ("- {at: -5, do: shutdown_port, device: s1, port: Gi1/0/1}", "step 1: 'at' must be"),
    "unknown device": ("- {at: 5, do: shutdown_port, device: nope, port: Gi1/0/1}", "unknown device 'nope'"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_malformed_scenario_is_rejected_before_anything_starts(tmp_path: Path, case: str) -> None:
    step, message = BAD[case]
    f = tmp_path / "bad.yaml"
    f.write_text("name: bad\nsite:\n  devices:\n    - {name: s1, platform: cisco_ios, ports: 28}\n"
                 f"steps:\n  {step}\n")
    r = run_saksi("lab", "run", str(f), "--json")
    assert r.returncode == 2
    assert str(f) in r.stderr and message in r.stderr and "Traceback" not in r.stderr


def test_cable_between_two_cabled_ports_is_rejected(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("""name: bad
site:
  devices:
    - {name: s1, platform: cisco_ios, ports: 28}
    - {name: s2, platform: cisco_ios, ports: 28}
  links:
    - {a: s1:Gi1/0/25, b: s2:Gi1/0/25, media: 1000base-lx}
    - {a: s1:Gi1/0/25, b: s2:Gi1/0/26, media: 1000base-lx}
""")
    with pytest.raises(scenario.ScenarioError, match=r"GigabitEthernet1/0/25 is already cabled"):
        scenario.load(f)


def test_unknown_keys_are_ignored(tmp_path: Path) -> None:
    f = tmp_path / "extra.yaml"
    f.write_text("name: extra\nauthor: someone\nsite:\n  devices:\n    - {name: s1, ports: 28, colour: blue}\n"
                 "steps:\n  - {at: 0, do: shutdown_port, device: s1, port: Gi1/0/1, why: test}\n"
                 "expected_incidents: [{cause: port_shutdown}]\nrun_until: 60\n")
    assert scenario.load(f).steps[0].do == "shutdown_port"
