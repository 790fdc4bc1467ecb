"""`saksi check --json` on recordings of real switches, against what LibreNMS derived from them.

Each recording is served by snmpsim over real UDP on 127.0.0.1 and read through the real CLI.
Where Saksi differs from LibreNMS on purpose, the reason is proven from the raw recording below.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

import pytest

from monitor.common.names import canonical_port
from tests.conftest import LIBRENMS, Agent, corpus_devices, run_saksi

pytestmark = pytest.mark.skipif(not corpus_devices(), reason="../shared/corpus/ is absent")

# LibreNMS sensor types that come from the MIBs Saksi reads generically; vendor-specific ones are
# checked by the vendor profile tests.
GENERIC_SENSOR_TYPES = {"cisco-entity-sensor": "cisco-entity-sensor", "entity-sensor": "entity-sensor",
                        "junos": "juniper-dom"}
DOM_CLASSES = {"dbm", "temperature", "voltage", "current", "power"}


@functools.cache
def expected(name: str) -> dict[str, Any]:
    return json.loads((LIBRENMS / f"{name}.json").read_text())


_checks: dict[str, dict[str, Any]] = {}


def check_json(agent: Agent, name: str) -> dict[str, Any]:
    if name not in _checks:
        r = run_saksi("check", "--host", agent.host, "--port", str(agent.port), "--community", name,
                      "--timeout", "5", "--json")
        assert r.returncode in (0, 1), f"{name}: exit {r.returncode}: {r.stderr}"
        _checks[name] = json.loads(r.stdout)
    return _checks[name]


def expected_ports(name: str) -> list[dict[str, Any]]:
    ports = expected(name).get("ports") or {}
    poller = ports.get("poller")
    return (poller if isinstance(poller, dict) else ports.get("discovery") or {}).get("ports", [])


@pytest.mark.parametrize("name", corpus_devices())
def test_every_port_with_names_and_status(snmpsim: Agent, name: str) -> None:
    got = {p["ifindex"]: p for p in check_json(snmpsim, name)["ports"]}
    want = expected_ports(name)
    for e in want:
        p = got.get(e["ifIndex"])
        assert p is not None, f"{name}: ifIndex {e['ifIndex']} ({e['ifName']}) missing"
        where = f"{name} ifIndex {e['ifIndex']}"
        assert p["name"] == canonical_port(e["ifName"] or e["ifDescr"]), where
        assert p["descr"] == (e["ifDescr"] or ""), where
        raw_alias = recording(name).get(f"1.3.6.1.2.1.31.1.1.1.18.{e['ifIndex']}", "")
        assert p["alias"] == raw_alias.strip(), where  # Saksi keeps the device's words
        # LibreNMS shows ifDescr when the device has no ifAlias, and trims backslashes (arista_eos
        # ifIndex 1 states "\\A EDICION-1\\"); its value must still come from the recording.
        if raw_alias.strip("\\ "):
            assert e["ifAlias"] == raw_alias.strip("\\ "), where
        else:
            assert e["ifAlias"] in (e["ifDescr"], e["ifName"], "", None), where
        if e["ifOperStatus"]:
            assert p["oper"] == e["ifOperStatus"], where
        if e["ifAdminStatus"]:
            assert p["admin"] == e["ifAdminStatus"], where
        if e["ifSpeed"]:
            assert p["speed_mbps"] * 1_000_000 == e["ifSpeed"], where
    assert len(got) >= len(want)


def _transceivers(name: str) -> list[dict[str, Any]]:
    return (expected(name).get("transceivers") or {}).get("discovery", {}).get("transceivers", [])


@pytest.mark.parametrize("name", [n for n in corpus_devices() if _transceivers(n)])
def test_every_transceiver_in_its_port(snmpsim: Agent, name: str) -> None:
    got = {p["ifindex"]: p for p in check_json(snmpsim, name)["ports"]}
    for e in _transceivers(name):
        if e["ifIndex"] is None:
            continue  # LibreNMS could not place it either; see test_procurve_unplaced_module
        port = got.get(e["ifIndex"])
        assert port is not None, f"{name}: no port {e['ifIndex']}"
        t = port["transceiver"]
        assert t is not None, f"{name}: no transceiver in {port['name']} (expected {e['model']} {e['serial']})"
        if e["serial"] and e["serial"] != "<private>":
            assert t["serial"] == e["serial"], port["name"]
        if e["model"]:
            assert t["model"] == e["model"], port["name"]
    placed = {e["ifIndex"] for e in _transceivers(name) if e["ifIndex"] is not None}
    unplaced = {(e["model"], e["serial"]) for e in _transceivers(name) if e["ifIndex"] is None}
    listed = {e["ifIndex"] for e in expected_ports(name)}
    extra = [p["name"] for i, p in got.items() if p["transceiver"] and i not in placed and not (
        i not in listed and (p["transceiver"]["model"], p["transceiver"]["serial"]) in unplaced)]
    assert not extra, f"{name}: transceivers LibreNMS does not know of: {extra}"


def _sensor_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for name in corpus_devices():
        for s in (expected(name).get("sensors") or {}).get("discovery", {}).get("sensors", []):
            if s["sensor_type"] == "junos" and s["group"] != "transceiver":
                continue  # Juniper chassis temperatures come from JUNIPER-MIB: hardware health, not DOM
            if s["sensor_class"] in DOM_CLASSES and s["sensor_type"] in GENERIC_SENSOR_TYPES:
                cases.append((name, s))
    return cases


def _to_saksi(cls: str, kind: str, v: float | None) -> float | None:
    """LibreNMS keeps current in A and optical power in W; Saksi keeps mA and dBm."""
    if v is None:
        return None
    if kind == "bias":
        return v * 1000.0
    if cls == "power" and kind in ("rx_power", "tx_power"):
        return -40.0 if v <= 0 else max(-40.0, 10 * math.log10(v * 1000.0))
    return v


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-3)


@pytest.mark.parametrize("name,sensor", _sensor_cases(),
                         ids=[f"{n}:{s['sensor_descr']}" for n, s in _sensor_cases()])
def test_every_dom_reading_and_threshold(snmpsim: Agent, name: str, sensor: dict[str, Any]) -> None:
    data = check_json(snmpsim, name)
    source = GENERIC_SENSOR_TYPES[sensor["sensor_type"]]
    index = sensor["sensor_oid"].rsplit(".", 1)[1]
    if source == "juniper-dom":
        kind = {"dbm": "rx_power" if "Rx" in sensor["sensor_descr"] else "tx_power", "current": "bias",
                "temperature": "temperature", "voltage": "voltage"}[sensor["sensor_class"]]
        matches = [s for s in data["sensors"] if s["id"] == f"juniper-dom:{index}:{kind}"]
    else:
        matches = [s for s in data["sensors"] if s["id"] in (f"{source}:{index}", f"cisco-entity-sensor:{index}")]
    assert len(matches) == 1, f"{name}: sensor {sensor['sensor_descr']} ({sensor['sensor_oid']}) not found"
    got = matches[0]
    conv = functools.partial(_to_saksi, sensor["sensor_class"], got["kind"])
    assert _close(got["value"], conv(sensor["sensor_current"])), (got, sensor["sensor_current"])
    t = got["thresholds"]
    stated = stated_thresholds(name, sensor)
    for ours, theirs in (("high_alarm", "sensor_limit"), ("high_warn", "sensor_limit_warn"),
                         ("low_alarm", "sensor_limit_low"), ("low_warn", "sensor_limit_low_warn")):
        if ours not in stated:
            assert t[ours] is None, f"{ours}: the recording states none (LibreNMS derived {sensor[theirs]})"
            continue
        if stated[ours] == 0 and t[ours] == 0:
            continue  # LibreNMS takes a stated 0 (e.g. nxos 0 °C low warning, row 300052807.4) for "unset"
        assert _close(t[ours], conv(sensor[theirs])), (ours, t[ours], sensor[theirs])
    if sensor.get("entPhysicalIndex_measured") == "ports" or sensor.get("group") == "transceiver":
        assert got["ifindex"] is not None, f"{sensor['sensor_descr']} not placed on a port"
        port = next(p for p in data["ports"] if p["ifindex"] == got["ifindex"])
        assert port["dom"] is not None


@functools.cache
def recording(name: str) -> dict[str, str]:
    out = {}
    for line in (LIBRENMS / f"{name}.snmprec").read_text(errors="replace").splitlines():
        oid, _, rest = line.partition("|")
        tag, _, value = rest.partition("|")
        try:
            out[oid] = bytes.fromhex(value).decode("utf-8", "replace") if tag.endswith("x") else value
        except ValueError:  # a few recorded hex values are truncated
            out[oid] = value
    return out


def stated_thresholds(name: str, sensor: dict[str, Any]) -> dict[str, int]:
    """Which thresholds the raw recording really states for this sensor.

    Where a device states none, LibreNMS derives limits from the current value (the corpus README
    warns of it): e.g. ios_2960x "Gi3/0/52 Module" temperature 31 °C gets limit 51 and low limit -5
    although the recording has no 1.3.6.1.4.1.9.9.91.1.2.1.1.*.3063 row at all, and plain
    ENTITY-SENSOR-MIB (xos_sfp) has no threshold objects. Saksi reports only what the device
    states, so a threshold absent here must be None in Saksi's output.
    """
    rec, index = recording(name), sensor["sensor_oid"].rsplit(".", 1)[1]
    if sensor["sensor_type"] == "junos":
        return {"high_alarm": 1, "high_warn": 1, "low_alarm": 1, "low_warn": 1}
    if sensor["sensor_type"] == "entity-sensor":
        # Arista states "no threshold" as +/-1000000000 ("No thresholds are defined" in column 5).
        arista = "1.3.6.1.4.1.30065.3.12.1.1.1"
        cols = {1: "low_warn", 2: "low_alarm", 3: "high_warn", 4: "high_alarm"}
        return {k: int(rec[f"{arista}.{c}.{index}"]) for c, k in cols.items()
                if abs(int(rec.get(f"{arista}.{c}.{index}", 1000000000))) != 1000000000}
    stated: dict[str, int] = {}
    prefix = f"1.3.6.1.4.1.9.9.91.1.2.1.1.2.{index}."
    for oid, severity in rec.items():
        if oid.startswith(prefix):
            row = oid[len(prefix):]
            relation = int(rec[f"1.3.6.1.4.1.9.9.91.1.2.1.1.3.{index}.{row}"])
            level = {"10": "warn", "20": "alarm", "30": "alarm"}.get(severity)
            side = "low" if relation in (1, 2) else "high" if relation in (3, 4) else None
            if level and side:
                stated[f"{side}_{level}"] = int(rec[f"1.3.6.1.4.1.9.9.91.1.2.1.1.4.{index}.{row}"])
    return stated
