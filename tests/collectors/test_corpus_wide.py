"""Every recording of both corpus folders through `saksi check --json`, scored per device against LibreNMS.

`../shared/corpus/librenms/` (12 devices) and `../shared/corpus/librenms-wide/` (36 devices, 25 operating
systems) are each served by one snmpsim process over real UDP on 127.0.0.1 and read through the real CLI.
A device is scored as `../shared/tools/compare_librenms.py` scores it (a port on canonical name, ifDescr,
states and speed; a transceiver on its port, serial and model; a DOM reading on its port and value within
±0.15 dBm, ±0.6 °C, ±0.03 V, ±2 % bias; a threshold within the same tolerance), with two differences that
are written out below: a LibreNMS sensor is placed on a Saksi port also through its canonical port name
(LibreNMS writes "TenGigE0/0/0/0", "Fo 1/1/1", Saksi "TenGigabitEthernet0/0/0/0"), and a threshold counts
only where the device states it (LibreNMS derives limits from the current value where a device states
none: that is LibreNMS's guess, recorded as such, never expected from Saksi).

Each device's misses are listed in KNOWN with the reason, proven from the raw recording; the test asserts
the exact count, so a fix or a regression both show. The wide folder lives outside the repository: when it
is absent these tests skip with that reason.
"""

from __future__ import annotations

import functools
import json
import math
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from monitor.common.names import canonical_port
from tests.conftest import CORPUS, Agent, run_saksi, start_snmpsim

FOLDERS = {"librenms": CORPUS / "librenms", "librenms-wide": CORPUS / "librenms-wide"}


def devices(folder: str) -> list[str]:
    path = FOLDERS[folder]
    return sorted(p.stem for p in path.glob("*.snmprec")) if path.is_dir() else []


@functools.cache
def expected(folder: str, name: str) -> dict[str, Any]:
    return json.loads((FOLDERS[folder] / f"{name}.json").read_text())


# --- the scorer ---------------------------------------------------------------------------------------

_OPTICAL = re.compile(r"transceiver|sfp|dom\b|xcvr|optic|gbic|qsfp", re.I)
_KIND: dict[str, tuple[str, float]] = {"temperature": ("temperature_c", 0.6), "voltage": ("voltage_v", 0.03),
                                       "current": ("bias_ma", 0.1)}
_PORT_TOKEN = re.compile(r"[A-Za-z][A-Za-z-]*\s?\d+(?:/\d+)+|(?<![\w/])\d+(?:/\d+)+")
LIMITS = (("high_alarm", "sensor_limit"), ("low_alarm", "sensor_limit_low"), ("high_warn", "sensor_limit_warn"),
          ("low_warn", "sensor_limit_low_warn"))


@dataclass
class Score:
    ports: list[int] = field(default_factory=lambda: [0, 0])
    transceivers: list[int] = field(default_factory=lambda: [0, 0])
    dom: list[int] = field(default_factory=lambda: [0, 0])
    thresholds: list[int] = field(default_factory=lambda: [0, 0])  # stated by the device
    guessed: int = 0  # limits LibreNMS derived from the current value (not expected from Saksi)

    def misses(self) -> dict[str, int]:
        return {k: getattr(self, k)[1] - getattr(self, k)[0] for k in ("ports", "transceivers", "dom", "thresholds")}


def librenms_guess(sensor: dict[str, Any], limit: str) -> bool:
    """LibreNMS's default limits where a device states none: temperature +20/-10 °C around the current value,
    voltage ±15 %. (routeros sfp1: 40 °C -> 60/30, 3.302 V -> 3.7973/2.8067; no such rows in the recording.)

    >>> librenms_guess({"sensor_class": "temperature", "sensor_current": 40, "sensor_limit": 60}, "sensor_limit")
    True
    >>> librenms_guess({"sensor_class": "voltage", "sensor_current": 3.302, "sensor_limit_low": 2.8067},
    ...                "sensor_limit_low")
    True
    """
    cur, value = sensor.get("sensor_current"), sensor.get(limit)
    if cur is None or value is None:
        return False
    high = limit in ("sensor_limit", "sensor_limit_warn")
    if sensor["sensor_class"] == "temperature":
        return math.isclose(value, cur + (20 if high else -10), abs_tol=0.01)
    if sensor["sensor_class"] == "voltage":
        return math.isclose(value, cur * (1.15 if high else 0.85), abs_tol=0.001)
    return False


def _saksi_value(sensor: dict[str, Any]) -> tuple[str, float, float] | None:
    cls, cur = sensor["sensor_class"], float(sensor["sensor_current"])
    if cls == "dbm":
        descr = sensor.get("sensor_descr") or ""
        key = "rx_dbm" if re.search(r"\b(rx|receive)", descr, re.I) else "tx_dbm" if re.search(
            r"\b(tx|transmit)", descr, re.I) else None
        return None if key is None else (key, 0.15, cur)
    key, tol = _KIND[cls]
    if cls == "current":
        cur = cur * 1000.0  # LibreNMS keeps amps
        tol = max(0.1, abs(cur) * 0.02)
    return key, tol, cur


def _numbers(dom: Any, key: str) -> list[float]:
    """Every value of `key` in a port's dom block, lanes included (not its thresholds)."""
    out: list[float] = []
    if isinstance(dom, dict):
        for k, v in dom.items():
            if k == key and isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append(float(v))
            elif k != "thresholds":
                out += _numbers(v, key)
    elif isinstance(dom, list):
        for v in dom:
            out += _numbers(v, key)
    return out


def _close(a: float | None, b: float | None, tol: float) -> bool:
    return a is not None and b is not None and abs(a - b) <= tol


def _key(name: str) -> str:
    """A port name as both sides may write it: "Fo 1/1/1", "fortyGigE 1/1/1", "FortyGigabitEthernet1/1/1".

    >>> _key("Fo 1/1/1") == _key("fortyGigE 1/1/1") == _key("FortyGigabitEthernet1/1/1")
    True
    """
    flat = name.replace(" ", "")
    return canonical_port(flat[:1].upper() + flat[1:]).lower()


def _labels(got: dict[int, dict[str, Any]]) -> list[tuple[str, int]]:
    """Every port's name and abbreviated name, longest first (so "Port10" is tried before "Port1")."""
    from netutils.interface import abbreviated_interface_name

    out = {(n, i) for i, p in got.items() if p["name"] for n in (p["name"], abbreviated_interface_name(p["name"]))}
    return sorted(out, key=lambda x: -len(x[0]))


def _place(sensor: dict[str, Any], ent_to_if: dict[str, int | None], got: dict[int, dict[str, Any]],
           by_name: dict[str, int]) -> dict[str, Any] | None:
    """The Saksi port a LibreNMS sensor measures: by its transceiver entity, by its ifIndex, else by the port
    its description names (canonically: "TenGigE0/0/0/0" is "TenGigabitEthernet0/0/0/0")."""
    ifindex = ent_to_if.get(str(sensor.get("entPhysicalIndex")))
    if ifindex is None and sensor.get("entPhysicalIndex_measured") == "ports":
        try:
            ifindex = int(sensor["entPhysicalIndex"])
        except (TypeError, ValueError):
            ifindex = None
    if ifindex in got:
        return got[ifindex]
    descr = sensor.get("sensor_descr") or ""
    for label, i in _labels(got):  # as compare_librenms.py: a port name or its short form, standing alone
        if re.search(r"(?<![\w/.:-])" + re.escape(label) + r"(?![\w/.:])", descr):
            return got[i]
    for token in _PORT_TOKEN.findall(descr):
        if _key(token) in by_name:
            return got[by_name[_key(token)]]
        tail = {i for n, i in by_name.items() if n.endswith("/" + token)}
        if len(tail) == 1:  # hirschmann "Power RX 1/1" is port 1/1/1 of the only unit
            return got[tail.pop()]
    return None


def score(folder: str, name: str, snap: dict[str, Any]) -> Score:
    d, s = expected(folder, name), Score()
    got = {p["ifindex"]: p for p in snap.get("ports", [])}
    ports = d.get("ports") or {}
    src: dict[str, Any] = ports["poller"] if isinstance(ports.get("poller"), dict) else ports.get("discovery") or {}
    for e in src.get("ports", []):
        s.ports[1] += 1
        g = got.get(e["ifIndex"])
        if g is None:
            continue
        ok = canonical_port(g["name"]) == canonical_port(e["ifName"] or "") and g["descr"] == (e["ifDescr"] or "")
        for ek, gk in (("ifOperStatus", "oper"), ("ifAdminStatus", "admin")):
            if e.get(ek) is not None:
                ok &= str(g[gk]).lower() == str(e[ek]).lower()
        if e.get("ifSpeed"):
            ok &= g["speed_mbps"] is not None and abs(g["speed_mbps"] * 1e6 - e["ifSpeed"]) <= max(1e6, 1e-3 * e["ifSpeed"])
        s.ports[0] += ok
    ent_to_if: dict[str, int | None] = {}
    for t in (d.get("transceivers") or {}).get("discovery", {}).get("transceivers", []):
        s.transceivers[1] += 1
        ent_to_if[str(t.get("entity_physical_index"))] = t.get("ifIndex")
        pool = [got.get(t["ifIndex"]) or {}] if t.get("ifIndex") is not None else list(got.values())
        want_serial, want_model = (t.get("serial") or "").strip(), (t.get("model") or "").strip()
        found = [p for p in pool if (x := p.get("transceiver")) and (not want_serial or x["serial"].strip() ==
                 want_serial) and (not want_model or x["model"].strip() == want_model)]
        s.transceivers[0] += bool(found)
        if t.get("ifIndex") is None and len(found) == 1:  # LibreNMS could not place it; Saksi did (ir1101)
            ent_to_if[str(t.get("entity_physical_index"))] = found[0]["ifindex"]
    by_name = {_key(n): i for i, p in got.items() for n in (p["name"], p["descr"]) if n}
    for sensor in (d.get("sensors") or {}).get("discovery", {}).get("sensors", []):
        if sensor["sensor_class"] not in ("dbm", "temperature", "voltage", "current") or not (
                sensor.get("entPhysicalIndex_measured") in ("ports", "port") or sensor["sensor_class"] == "dbm"
                or _OPTICAL.search(f"{sensor.get('group') or ''} {sensor.get('sensor_descr') or ''}")):
            continue
        value = _saksi_value(sensor) if sensor.get("sensor_current") is not None else None
        if value is None:
            continue
        key, tol, cur = value
        s.dom[1] += 1
        port = _place(sensor, ent_to_if, got, by_name)
        dom = (port or {}).get("dom") or {}
        s.dom[0] += any(_close(v, cur, tol) for v in _numbers(dom, key))
        limits = (dom.get("thresholds") or {}).get(key) or {}
        for ours, theirs in LIMITS:
            if sensor.get(theirs) is None:
                continue
            if librenms_guess(sensor, theirs):
                s.guessed += 1
                continue
            want = sensor[theirs] * (1000.0 if sensor["sensor_class"] == "current" else 1.0)
            s.thresholds[1] += 1
            s.thresholds[0] += _close(limits.get(ours), want, tol)
    return s


# --- serving and checking -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Agent]]:
    """One snmpsim per corpus folder, serving every recording of it (copied to a temp dir)."""
    procs: list[subprocess.Popen[bytes]] = []
    out: dict[str, Agent] = {}
    try:
        for folder in FOLDERS:
            names = devices(folder)
            if not names:
                continue
            work = tmp_path_factory.mktemp(f"snmpsim-{folder}")
            data = work / "data"
            data.mkdir()
            for n in names:
                shutil.copy(FOLDERS[folder] / f"{n}.snmprec", data / f"{n}.snmprec")
            agent, proc = start_snmpsim(data, work, names[0])
            procs.append(proc)
            out[folder] = agent
        yield out
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


_checks: dict[tuple[str, str], dict[str, Any]] = {}


def _check_one(agent: Agent, name: str) -> dict[str, Any]:
    r = run_saksi("check", "--host", agent.host, "--snmp-port", str(agent.port), "--community", name,
                  "--timeout", "5", "--json")
    assert r.returncode in (0, 1) and r.stdout.lstrip().startswith("{"), f"{name}: exit {r.returncode}: {r.stderr}"
    return dict(json.loads(r.stdout))


def check(agents: dict[str, Agent], folder: str, name: str) -> dict[str, Any]:
    """`saksi check --json` of one recording; the folder's checks run four at a time on first use (each is a
    process that mostly waits for snmpsim), so the suite is not the sum of 48 CLI start-ups."""
    if (folder, name) not in _checks:
        with ThreadPoolExecutor(max_workers=4) as pool:
            names = devices(folder)
            for n, snap in zip(names, pool.map(lambda n: _check_one(agents[folder], n), names), strict=True):
                _checks[(folder, n)] = snap
    return _checks[(folder, name)]


def _cases() -> list[Any]:
    out = []
    for folder in FOLDERS:
        names = devices(folder)
        if not names:
            out.append(pytest.param(folder, "", marks=pytest.mark.skip(
                reason=f"{FOLDERS[folder]} is absent (the real-device corpus lives outside the repository)")))
        out += [pytest.param(folder, n, id=f"{folder}:{n}") for n in names]
    return out


# --- every honest difference, per device --------------------------------------------------------------
# (category: (misses, why)). A category not listed must have no miss.
_LOW_TEMP = ("LibreNMS's default low temperature limits (-5 °C alarm, -1 °C warn) where the module's "
             "CISCO-ENTITY-SENSOR rows state no low-side threshold")
_VRP_RX = ("LibreNMS's rx high limit -13.098 dBm is 10*log10(0.049 mW): it read hwEntityOpticalRxHighWarnThreshold "
           "(hundredths of dBm) as µW; Saksi reads the stated limit (see test_vendor_profiles.LIBRENMS_WRONG)")
_TIMOS_QUOTES = ("ifDescr ends in the port's description between two backslashes ('2/1/1, 10-Gig Ethernet, "
                 "\\transit: \\'): evidently the residue of the double quotes TiMOS puts around it (net-snmp "
                 "prints them \\\", LibreNMS's capture dropped the quote and kept the escape; each pair brackets "
                 "the port's ifAlias). snmpsim serves the backslash bytes and Saksi reports them as "
                 "served; LibreNMS's own parser trims the trailing ' \\'")
KNOWN: dict[str, dict[str, tuple[int, str]]] = {
    "librenms:arista_eos": {
        "dom": (1, "'PwrCon1 Rail14 POS3V3_SFP' is the board's 3.3 V rail for the SFP cages: a board sensor whose "
                   "name names no port (LibreNMS files it with the optics by the word SFP)"),
        "thresholds": (24, "aristaEntSensorThresholdTable has no rows for the modules in Ethernet43, 44 and 46: the "
                           "device states no limit there, LibreNMS shows 0 for their bias limits and voltage and "
                           "temperature warnings"),
    },
    "librenms:ios_2960x": {"thresholds": (2, _LOW_TEMP)},
    "librenms:iosxe_c9500h-svl": {"thresholds": (6, _LOW_TEMP)},
    "librenms:nxos_n9k-c93180yc-fx3": {
        "thresholds": (4, "the module states a 0 °C low warning; LibreNMS takes 0 for unset and shows -1")},
    "librenms:routeros_crs317": {
        "dom": (1, "LibreNMS's 'sfp-temperature' is the switch's SFP-cage board sensor (MIKROTIK-MIB health "
                   "table), not a module reading")},
    "librenms:vrp_5720-32x-ei": {
        "dom": (2, "GigabitEthernet0/0/3/0/0/4: LibreNMS reads the integer µA/µW columns, Saksi the decimal lane "
                   "columns of the same row (test_vendor_profiles proves the S-series units)"),
        "thresholds": (1, _VRP_RX)},
    "librenms-wide:aos7": {
        "dom": (30, "ddmTxBiasCurrent is in thousandths of mA (4466 = 4.466 mA); LibreNMS divides by 1000 and stores "
                    "amps, so it shows 4.466 A"),
        "thresholds": (120, "the same unit slip on the 4 bias limits of each of the 30 modules")},
    "librenms-wide:iosxe_c9500x-svl": {"thresholds": (8, _LOW_TEMP)},
    "librenms-wide:iosxe_ir1101": {
        "dom": (5, "LibreNMS lists each of the module's 5 readings twice (CISCO-ENTITY-SENSOR and ENTITY-SENSOR rows "
                   "of the same entities); the ENTITY-SENSOR copies name no port, Saksi keeps one reading each")},
    "librenms-wide:iosxr_asr9001": {
        "dom": (5, "Gi0/0/1/3 holds a copper SFP-GE-T: its 'current' is -32768 (no value: Saksi skips and counts it), "
                   "its 0 W powers are no light (-40 dBm) where LibreNMS shows 0; two PSU module currents name no port"),
        "thresholds": (6, "the same copper module's unset limits, shown by LibreNMS as 0")},
    "librenms-wide:iosxr_ncs55a2": {
        "dom": (2, "0/RP0 motherboard SFP-rail sensors (P3V3_SFP) are board sensors on no port"),
        "thresholds": (20, "GigabitEthernet0/0/0/6 (copper) states every limit as 0: a band of no width is no "
                           "threshold, LibreNMS shows 0/0")},
    "librenms-wide:junos_ber": {
        "ports": (148, "100 xe-, 17 et-, 5 ae- and 26 internal (lsi, lt, irb, ...) ports answer ifSpeed 4294967295 "
                       "(saturated) and the recording has no ifHighSpeed at all: the speed is unknown (above "
                       "4.29 Gb/s) and Saksi says so; LibreNMS shows the saturated number. Name, ifDescr and both "
                       "states match on every one")},
    "librenms-wide:moxa-etherdevice_edsg512e": {
        "thresholds": (16, "LibreNMS's own constants (voltage 3.13-3.47 V, temperature low -40 °C, rx high -3 dBm): "
                           "the device states only temperature high, tx high/low and rx low")},
    "librenms-wide:timos": {
        "ports": (4, _TIMOS_QUOTES + " (2/1/1 and lag-1..3)")},
    "librenms-wide:timos_7705": {
        "ports": (7, _TIMOS_QUOTES + " (PtP-OC-Loopback and six 1/3/x ports). The VPRN router interfaces and "
                     "'management' are read from vRtrIfTable; to-PakiPlaza-LTE-AWS-Main (VPRN 2) and "
                     "TEST-CISCO-2911 (VPRN 5) share their vRtrIfIndex (5, 2) with Base interfaces that IF-MIB "
                     "lists: neither side shows them (Saksi skips and counts them, LibreNMS overwrites them)")},
    "librenms-wide:vrp_5720": {"thresholds": (3, _VRP_RX)},
    "librenms-wide:vrp_ar169sfp": {
        "dom": (1, "LibreNMS takes the integer bias column (µA on this firmware) as its 'current' sensor twice")},
    "librenms-wide:yunshan_s5735-v2": {
        "dom": (12, "every reading is -1, HUAWEI-ENTITY-EXTENT's 'not available'; LibreNMS shows -0.01 dBm"),
        "thresholds": (24, "the stated limits are -1 (not available) or a 0/0 band; LibreNMS shows them as values")},
    "librenms-wide:zynos_xgs4600": {
        "ports": (60, "the device names its ports swp00..swp93 (ifName and ifDescr); LibreNMS renames them 1/01.. "
                      "with a fixed formula on the name (includes/discovery/ports/zynos.inc.php: swp<50 -> 1/n+1, "
                      "swp64..127 -> 2/n-63), backed by no answer of the device: the recording has no ENTITY-MIB "
                      "and no Zyxel table that maps an index to a slot/port label (lldpLocPortId says 1..30, "
                      "65..94). Saksi keeps the device's own names")},
}


@pytest.mark.parametrize("folder,name", _cases())
def test_device_against_librenms(agents: dict[str, Agent], folder: str, name: str) -> None:
    s = score(folder, name, check(agents, folder, name))
    known = KNOWN.get(f"{folder}:{name}", {})
    assert s.misses() == {k: known.get(k, (0, ""))[0] for k in ("ports", "transceivers", "dom", "thresholds")}, (
        f"{folder}:{name}: ports {s.ports}, transceivers {s.transceivers}, DOM {s.dom}, stated thresholds "
        f"{s.thresholds} (LibreNMS guesses {s.guessed}); known: {known}")


def test_known_differences_name_real_devices() -> None:
    for key, why in KNOWN.items():
        folder, name = key.split(":")
        if FOLDERS[folder].is_dir():
            assert name in devices(folder), key
        assert all(n > 0 and len(reason) > 20 for n, reason in why.values()), key


@pytest.mark.skipif(not devices("librenms-wide"), reason="../shared/corpus/librenms-wide is absent")
def test_no_invented_thresholds(agents: dict[str, Agent]) -> None:
    """Edgecore's optical table states no limits: every module says so, and none is judged; Alcatel states them."""
    edgecore = check(agents, "librenms-wide", "edgecos_ecs4120-28fv2")
    doms = [p["dom"] for p in edgecore["ports"] if p["dom"]]
    assert len(doms) == 25
    assert all(not d["thresholds_stated"] and d["note"] == "no thresholds stated by the device" for d in doms)
    assert all(v is None for d in doms for t in d["thresholds"].values() for v in t.values())
    assert not [p for p in edgecore["problems"] if "threshold" in p]
    alcatel = [p["dom"] for p in check(agents, "librenms-wide", "aos7")["ports"] if p["dom"]]
    assert alcatel and all(d["thresholds_stated"] and "note" not in d for d in alcatel)


@pytest.mark.skipif(not devices("librenms-wide"), reason="../shared/corpus/librenms-wide is absent")
def test_sentinels_are_skipped_and_counted_never_alarmed(agents: dict[str, Agent]) -> None:
    """IOS-XR's copper SFP answers -32768 for its laser readings and YunShan -1/-255 for an idle module: no
    value, counted in the snapshot's skip counters, no alarm, and the module is still there (not removed)."""
    asr = check(agents, "librenms-wide", "iosxr_asr9001")
    gi = next(p for p in asr["ports"] if p["name"] == "GigabitEthernet0/0/1/3")
    assert gi["transceiver"]["serial"] == "T1510200002"
    assert (gi["dom"]["temperature_c"], gi["dom"]["voltage_v"], gi["dom"]["bias_ma"]) == (None, None, None)
    assert asr["skipped"]["cisco-entity-sensor: temperature out of range"] >= 1
    assert not [p for p in asr["problems"] if "GigabitEthernet0/0/1/3" in p and "threshold" in p]
    yunshan = check(agents, "librenms-wide", "yunshan_s5735-v2")
    port = next(p for p in yunshan["ports"] if p["transceiver"])
    assert port["dom"]["rx_dbm"] is None and port["dom"]["note"] == "no thresholds stated by the device"
    assert not [p for p in yunshan["problems"] if "threshold" in p]
