"""Vendor port tables (snmp.yaml `port_tables`) on real recordings, and `parse_port_table` on garbage.

HP-ICF-TRANSCEIVER-MIB (procurve), MIKROTIK-MIB (routeros), HUAWEI-ENTITY-EXTENT-MIB (vrp): every DOM
sensor LibreNMS files under the port's transceiver must be in `saksi check --json` on the same port
with the same reading and, where the recording states one, the same threshold. The MIB columns and
units are written out again here rather than read from snmp.yaml, so a wrong profile fails. Where
LibreNMS differs from the recording, the recording wins and the reason is proven below.
HH3C-TRANSCEIVER-INFO-MIB (comware) has no DOM sensors in LibreNMS's data, so it is checked against
the raw recording; other firmwares of the same vendors come from the snmpsim-data package.
"""

from __future__ import annotations

import bz2
import doctest
import math
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import monitor.collectors.sensors as sensors_module
import monitor.profiles
from monitor.collectors.sensors import parse_port_table
from monitor.collectors.snmp import WalkResult
from monitor.model import SensorKind
from monitor.profiles import PortTable, ReadingSpec, RowFilter, Scale, snmp_profiles
from tests.collectors.test_corpus import check_json, expected, recording
from tests.conftest import Agent, corpus_devices, start_snmpsim

needs_corpus = pytest.mark.skipif(not corpus_devices(), reason="../shared/corpus/ is absent")

HP = "1.3.6.1.4.1.11.2.14.11.5.1.82.1.1.1.1"  # hpicfXcvrInfoEntry
MIKROTIK = "1.3.6.1.4.1.14988.1.1.19.1.1"  # mtxrOpticalTableEntry
HUAWEI = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1"  # hwOpticalModuleInfoEntry
HH3C = "1.3.6.1.4.1.25506.2.70.1.1.1"  # hh3cTransceiverInfoEntry
ALIAS = "1.3.6.1.2.1.47.1.3.2.1.2"  # entAliasMappingIdentifier
IF_INDEX = "1.3.6.1.2.1.2.2.1.1."

# LibreNMS sensor_type -> (Saksi source, table entry, reading column -> kind, index kind), from the MIBs.
VENDORS: dict[str, tuple[str, str, dict[int, str], str]] = {
    "procurve": ("hp-icf-transceiver", HP,
                 {11: "temperature", 12: "voltage", 13: "bias", 14: "tx_power", 15: "rx_power"}, "ifindex"),
    "routeros": ("mikrotik-optical", MIKROTIK,
                 {6: "temperature", 7: "voltage", 8: "bias", 9: "tx_power", 10: "rx_power"}, "ifindex"),
    "vrp": ("huawei-optical", HUAWEI,
            {5: "temperature", 6: "voltage", 7: "bias", 8: "rx_power", 9: "tx_power"}, "entity"),
}
LIMITS = (("high_alarm", "sensor_limit"), ("high_warn", "sensor_limit_warn"),
          ("low_alarm", "sensor_limit_low"), ("low_warn", "sensor_limit_low_warn"))


def _tenth_uw_to_dbm(raw: int) -> float:
    mw = raw * 0.1 / 1000.0
    return -40.0 if mw <= 0 else max(-40.0, 10 * math.log10(mw))


# HP-ICF-TRANSCEIVER-MIB thresholds: (high alarm, low alarm, high warn, low warn) columns, and their unit.
HP_LIMITS = {
    "temperature": ((18, 19, 20, 21), lambda r: r / 1000),  # hpicfXcvrTemp*: thousandths of °C
    "voltage": ((22, 23, 24, 25), lambda r: r / 10000),  # hpicfXcvrVcc*: hundreds of µV
    "bias": ((26, 27, 28, 29), lambda r: r / 1000),  # hpicfXcvrBias*: µA, in mA
    "tx_power": ((30, 31, 32, 33), _tenth_uw_to_dbm),  # hpicfXcvrPwrOut*: tenths of µW
    "rx_power": ((34, 35, 36, 37), _tenth_uw_to_dbm),  # hpicfXcvrRcvPwr*: tenths of µW
}
# HUAWEI-ENTITY-EXTENT-MIB power thresholds, hundredths of dBm, -1 = none. The MIB has no
# temperature, voltage or bias thresholds in this table.
HUAWEI_LIMITS = {
    "rx_power": {"low_alarm": 13, "high_alarm": 14, "low_warn": 20, "high_warn": 21},
    "tx_power": {"low_alarm": 15, "high_alarm": 16, "low_warn": 22, "high_warn": 23},
}

# Thresholds LibreNMS shows that contradict what the recording states (proof in the comment).
LIBRENMS_WRONG = {
    # XGigabitEthernet0/0/4 Rx: LibreNMS's limit -13.098 dBm is 10*log10(49 µW): it took
    # hwEntityOpticalRxHighWarnThreshold (…3.1.21.67469582 = 49, hundredths of dBm, i.e. +0.49 dBm
    # and a *warning*) for microwatts and for the high alarm. The recording's high alarm,
    # hwEntityOpticalRxHighThreshold (…3.1.14.67469582), is 99: +0.99 dBm. With its limit LibreNMS
    # alarms on the healthy -3.40 dBm the port receives.
    ("vrp_5720-32x-ei", ".1.3.6.1.4.1.2011.5.25.31.1.1.3.1.8.67469582", "high_alarm"),
}


def _vendor_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for name in corpus_devices():
        for s in (expected(name).get("sensors") or {}).get("discovery", {}).get("sensors", []):
            measured = s.get("group") == "transceiver" or s.get("entPhysicalIndex_measured") == "ports"
            if measured and s["sensor_type"] in VENDORS:
                cases.append((name, s))
    return cases


def _column_and_index(sensor: dict[str, Any]) -> tuple[int, str]:
    entry = VENDORS[sensor["sensor_type"]][1]
    column, _, index = sensor["sensor_oid"].lstrip(".")[len(entry) + 1:].partition(".")
    return int(column), index


def stated_limits(name: str, sensor: dict[str, Any], kind: str) -> dict[str, float]:
    """The thresholds the raw recording states for this sensor, in Saksi's units."""
    rec, (_, index) = recording(name), _column_and_index(sensor)
    if sensor["sensor_type"] == "procurve":
        cols, unit = HP_LIMITS[kind]
        return {k: unit(int(rec[f"{HP}.{c}.{index}"])) for k, c in zip(
            ("high_alarm", "low_alarm", "high_warn", "low_warn"), cols, strict=True) if f"{HP}.{c}.{index}" in rec}
    if sensor["sensor_type"] == "vrp":
        return {k: int(rec[f"{HUAWEI}.{c}.{index}"]) / 100 for k, c in HUAWEI_LIMITS.get(kind, {}).items()
                if rec.get(f"{HUAWEI}.{c}.{index}", "-1") != "-1"}
    return {}  # MIKROTIK-MIB has no threshold objects at all


def librenms_derived(sensor: dict[str, Any], ours: str) -> bool:
    """LibreNMS's defaults when a device states no limit: temperature +20/-10 °C around the current
    value, voltage +/-15 % of it (vrp GigabitEthernet0/0/1: 45 °C -> 65/35, 3.306 V -> 3.8019/2.8101;
    routeros: 0 °C -> 20/-10, 0 V -> 0/0). A limit that follows from the reading is not the device's."""
    cur, theirs = sensor["sensor_current"], dict(LIMITS)[ours]
    rules = {"temperature": {"high_alarm": cur + 20, "low_alarm": cur - 10},
             "voltage": {"high_alarm": cur * 1.15, "low_alarm": cur * 0.85}}
    want = rules.get(sensor["sensor_class"], {}).get(ours)
    return want is not None and math.isclose(sensor[theirs], want, rel_tol=1e-6, abs_tol=1e-6)


def _to_saksi(sensor: dict[str, Any], v: float | None) -> float | None:
    """LibreNMS keeps current in A (Saksi mA); its `dbm` is dBm."""
    if v is None:
        return None
    return v * 1000.0 if sensor["sensor_class"] == "current" else v


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-3)


def expected_port(name: str, sensor: dict[str, Any]) -> int:
    """The port the sensor's row belongs to, from the recording: the index itself, or the entity's
    entAliasMapping to an ifIndex (checked against LibreNMS's transceiver list)."""
    _, index = _column_and_index(sensor)
    if VENDORS[sensor["sensor_type"]][3] == "ifindex":
        return int(index)
    rec = recording(name)
    mapped = [v for o, v in rec.items() if o.startswith(f"{ALIAS}.{index}.") and v.startswith(IF_INDEX)]
    assert len(mapped) == 1, f"entity {index} maps to {mapped}"
    ifindex = int(mapped[0][len(IF_INDEX):])
    for t in (expected(name).get("transceivers") or {}).get("discovery", {}).get("transceivers", []):
        if str(t["entity_physical_index"]) == index and t["ifIndex"] is not None:
            assert t["ifIndex"] == ifindex
    return ifindex


@needs_corpus
@pytest.mark.parametrize("name,sensor", _vendor_cases(),
                         ids=[f"{n}:{s['sensor_descr']}" for n, s in _vendor_cases()])
def test_vendor_dom_reading_and_thresholds(snmpsim: Agent, name: str, sensor: dict[str, Any]) -> None:
    data = check_json(snmpsim, name)
    source, entry, kinds, _ = VENDORS[sensor["sensor_type"]]
    column, index = _column_and_index(sensor)
    kind = kinds[column]
    matches = [s for s in data["sensors"] if s["id"] == f"{source}:{index}:{kind}"]
    assert len(matches) == 1, f"{name}: {sensor['sensor_descr']} ({sensor['sensor_oid']}) not found"
    got = matches[0]
    rec = recording(name)

    if sensor["sensor_type"] == "vrp" and kind in ("rx_power", "tx_power"):
        # Saksi reads hwEntityOpticalLaneRx/TxPower (MIB: hundredths of dBm; "-1104.03" here); LibreNMS
        # the integer hwEntityOpticalRx/TxPower, which this S5720 fills with whole µW (78) against the
        # MIB's "dBm x 100". Both state one power: the µW column, cut to an integer, is within
        # 1 µW (and the two samples' timing) of the lane column. Saksi keeps the 0.01 dB one.
        lane = float(rec[f"{entry}.{32 if kind == 'rx_power' else 33}.{index}"]) / 100
        assert math.isclose(got["value"], lane, abs_tol=1e-9)
        uw = int(rec[f"{entry}.{column}.{index}"])
        assert math.isclose(sensor["sensor_current"], 10 * math.log10(uw / 1000), abs_tol=1e-6)
        assert abs(got["value"] - sensor["sensor_current"]) <= 10 * math.log10((uw + 1) / uw) + 0.02
    elif sensor["sensor_type"] == "vrp" and kind == "bias":
        # Saksi reads hwEntityOpticalLaneBiasCurrent (mA as text, "22.24"); LibreNMS the integer
        # hwEntityOpticalBiasCurrent, in µA on this S5720 (22236) where the MIB says mA. They agree to
        # 0.01 mA on every row but GigabitEthernet0/0/3, whose two columns were caught at different
        # moments: …3.1.7.67436750 = 27468 µA, …3.1.31.67436750 = "26.81" mA.
        lane = float(rec[f"{entry}.31.{index}"])
        assert got["value"] == lane
        assert math.isclose(sensor["sensor_current"], int(rec[f"{entry}.{column}.{index}"]) / 1e6, abs_tol=1e-9)
        assert abs(got["value"] - sensor["sensor_current"] * 1000) <= (0.7 if index == "67436750" else 0.005)
    else:
        assert _close(got["value"], _to_saksi(sensor, sensor["sensor_current"])), (got, sensor["sensor_current"])

    stated = stated_limits(name, sensor, kind)
    for ours, theirs in LIMITS:
        if ours not in stated:
            assert got["thresholds"][ours] is None, f"{ours}: not in the recording (LibreNMS: {sensor[theirs]})"
            if sensor[theirs] is not None:
                assert librenms_derived(sensor, ours), f"{ours}: LibreNMS {sensor[theirs]} from where?"
            continue
        assert _close(got["thresholds"][ours], stated[ours]), (ours, got["thresholds"][ours], stated[ours])
        if sensor[theirs] is not None and (name, sensor["sensor_oid"], ours) not in LIBRENMS_WRONG:
            assert _close(_to_saksi(sensor, sensor[theirs]), stated[ours]), (ours, sensor[theirs], stated[ours])
        # LibreNMS None with a stated limit: it keeps no power limits for vrp's GigabitEthernet ports,
        # although e.g. hwEntityOpticalRxLowThreshold.67436622 = -2697 (-26.97 dBm) is recorded.

    assert got["ifindex"] == expected_port(name, sensor), sensor["sensor_descr"]
    port = next((p for p in data["ports"] if p["ifindex"] == got["ifindex"]), None)
    if port is not None:  # procurve's ifIndex 49 is not in the recording: test_procurve_unplaced_module
        assert port["dom"] is not None and port["transceiver"] is not None


@needs_corpus
def test_every_librenms_vendor_dom_sensor_is_covered() -> None:
    """The parametrised test above sees every vendor this file knows, for all their DOM kinds."""
    seen = {(n, s["sensor_type"]) for n, s in _vendor_cases()}
    assert {t for _, t in seen} == set(VENDORS)
    kinds = {VENDORS[s["sensor_type"]][2][_column_and_index(s)[0]] for _, s in _vendor_cases()}
    assert kinds == {"temperature", "voltage", "bias", "tx_power", "rx_power"}


@needs_corpus
def test_procurve_unplaced_module(snmpsim: Agent) -> None:
    """HP-ICF-TRANSCEIVER-MIB is indexed by ifIndex, so the J4859C in row 49 is on ifIndex 49, but the
    recording has no IF-MIB row 49 (LibreNMS left it unplaced): the device answers ifIndex 49, so Saksi
    shows it as a port of unknown state holding the module and its DOM, and the module on no other port.
    Its Rx is -99999999, the MIB's "-inf dBm (0 microwatts)": no light, Saksi's -40 dBm floor (LibreNMS
    dropped the sensor)."""
    rec, data = recording("procurve"), check_json(snmpsim, "procurve")
    assert rec[f"{HP}.3.49"] == "J4859C" and rec[f"{HP}.15.49"] == "-99999999"
    assert not [o for o in rec if o.startswith("1.3.6.1.2.1.2.2.1.") and o.endswith(".49")]
    assert not [o for o in rec if o.startswith("1.3.6.1.2.1.31.1.1.1.") and o.endswith(".49")]
    unplaced = [t for t in expected("procurve")["transceivers"]["discovery"]["transceivers"] if t["ifIndex"] is None]
    assert [t["model"] for t in unplaced] == ["J4859C"]
    port = next(p for p in data["ports"] if p["ifindex"] == 49)
    assert (port["admin"], port["oper"], port["transceiver"]["model"]) == ("unknown", "unknown", "J4859C")
    assert [p["ifindex"] for p in data["ports"] if p["transceiver"] and p["transceiver"]["model"] == "J4859C"] == [49]
    assert not [p for p in data["problems"] if port["name"] in p]  # unknown state is no problem
    dom = {s["kind"]: s for s in data["sensors"] if s["source"] == "hp-icf-transceiver" and s["ifindex"] == 49}
    assert set(dom) == {"temperature", "voltage", "bias", "tx_power", "rx_power"}
    assert dom["rx_power"]["value"] == -40.0 and dom["rx_power"]["status"] == "ok"


@needs_corpus
def test_comware_dom_from_the_recording(snmpsim: Agent) -> None:
    """HH3C-TRANSCEIVER-INFO-MIB: hundredths of dBm / V / mA and whole °C; 2147483647 is "no value";
    hh3cTransceiverDiagnostic false(2) (the FINISAR modules) means no DOM at all. The threshold
    columns (18-37) are not in this recording, so every threshold is None."""
    rec, data = recording("comware"), check_json(snmpsim, "comware")
    assert not [o for o in rec if o.startswith(f"{HH3C}.") and int(o[len(HH3C) + 1:].split(".")[0]) >= 18]
    rows = sorted(int(o.rsplit(".", 1)[1]) for o in rec if o.startswith(f"{HH3C}.4."))
    assert len(rows) == 27
    ports = {p["ifindex"]: p for p in data["ports"]}
    checked = 0
    for ifindex in rows:
        got = {s["kind"]: s for s in data["sensors"] if s["source"] == "hh3c-transceiver" and s["ifindex"] == ifindex}
        assert ports[ifindex]["transceiver"]["vendor"] == rec[f"{HH3C}.4.{ifindex}"]
        if rec[f"{HH3C}.8.{ifindex}"] != "1":
            assert got == {} and ports[ifindex]["dom"] is None
            continue
        for column, kind, divisor in ((9, "tx_power", 100), (12, "rx_power", 100), (15, "temperature", 1),
                                      (16, "voltage", 100), (17, "bias", 100)):
            raw, s = int(rec[f"{HH3C}.{column}.{ifindex}"]), got[kind]
            if raw == 2147483647:  # PROLINE and Ligent modules: diagnostics claimed, none given
                assert s["value"] is None and s["status"] == "unavailable"
            else:
                assert math.isclose(s["value"], raw / divisor, abs_tol=1e-9), (ifindex, kind)
                checked += 1
            assert all(v is None for v in s["thresholds"].values())
        assert ports[ifindex]["dom"] is not None
    assert checked == 22 * 5
    assert data["skipped"] == {}


@needs_corpus
def test_arubaos_cx_inventory(snmpsim: Agent) -> None:
    """ARUBAWIRED-PM-MIB arubaWiredPmXcvrTable: Description as type, ProductNum as model; no readings."""
    data = check_json(snmpsim, "arubaos-cx_10.15-transceivers")
    entry = "1.3.6.1.4.1.47196.4.1.1.3.27.1.1.1.1"
    rec = recording("arubaos-cx_10.15-transceivers")
    got = {p["ifindex"]: p["transceiver"] for p in data["ports"] if p["transceiver"]}
    assert sorted(got) == [1, 2, 27]
    for ifindex, t in got.items():
        assert (t["type"], t["model"], t["serial"]) == tuple(rec[f"{entry}.{c}.{ifindex}"] for c in (3, 4, 5))
    assert not [s for s in data["sensors"] if s["source"] == "aruba-pm-xcvr"]


# --- other firmwares of the same vendors: snmpsim-data walks, cut to the tables Saksi reads ------------

_MORE = {
    "huawei-s12704": "network/switch/huawei-s12704",  # S-series: µW/µA in the integer columns
    "huawei-unknown-002": "network/router/huawei-unknown-002",  # router: the MIB's dBm x 100 and mA
    "h3c-comware-7-1-075": "network/switch/h3c-comware-7-1-075",  # Comware 7 with DOM thresholds
}
_KEEP = tuple(p.encode() for p in ("1.3.6.1.2.1.1.", "1.3.6.1.2.1.2.2.1.", "1.3.6.1.2.1.31.1.1.1.",
                                     "1.3.6.1.2.1.47.1.", f"{HUAWEI}.", f"{HH3C}."))


def _snmpsim_data() -> Path | None:
    try:
        import snmpsim_data
    except ImportError:
        return None
    return Path(snmpsim_data.__file__).parent / "data"


@pytest.fixture(scope="module")
def more(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Agent, dict[str, dict[str, str]]]]:
    """snmpsim on three snmpsim-data walks, keeping their own lines for system, IF-MIB, ENTITY-MIB and
    the vendor tables (the full walks take minutes to index)."""
    base = _snmpsim_data()
    if base is None or not all((base / f"{rel}.snmprec.bz2").is_file() for rel in _MORE.values()):
        pytest.skip("snmpsim-data is not installed")
    work = tmp_path_factory.mktemp("snmpsim-more")
    data = work / "data"
    data.mkdir()
    recs: dict[str, dict[str, str]] = {}
    for name, rel in _MORE.items():
        rec = recs.setdefault(name, {})
        with bz2.open(base / f"{rel}.snmprec.bz2") as src, open(data / f"{name}.snmprec", "wb") as out:
            for line in src:
                if line.startswith(_KEEP):
                    out.write(line)
                    oid, _, rest = line.decode("latin-1").rstrip("\r\n").partition("|")
                    tag, _, value = rest.partition("|")
                    rec[oid] = bytes.fromhex(value).decode("latin-1") if tag.endswith("x") else value
    agent, proc = start_snmpsim(data, work, "huawei-s12704")
    yield agent, recs
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _one_number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None and "," not in text else None
    except ValueError:
        return None


@pytest.mark.parametrize("name", ["huawei-s12704", "huawei-unknown-002"])
def test_huawei_units_on_both_firmware_families(more: tuple[Agent, dict[str, dict[str, str]]], name: str) -> None:
    """The S12704 puts µW/µA in hwEntityOpticalRx/TxPower/BiasCurrent (331, 30120) and the MIB's units
    in the hwEntityOpticalLane* text ("-480.00", "30.24"); the router follows the MIB in the integer
    columns (RxPower -801 = -8.01 dBm, BiasCurrent 30 mA) and has no lane bias column. Saksi reads the
    lane text first, so both give dBm and mA, and every reading lands on a port."""
    agent, recs = more
    rec, data = recs[name], check_json(agent, name)
    ports = {p["ifindex"]: p for p in data["ports"]}
    rows = [o.rsplit(".", 1)[1] for o in rec if o.startswith(f"{HUAWEI}.4.") and rec[o].strip()]
    assert rows
    for index in rows:
        got = {s["kind"]: s for s in data["sensors"] if s["id"].startswith(f"huawei-optical:{index}:")}
        for kind, column, lane_column in (("rx_power", 8, 32), ("tx_power", 9, 33), ("bias", 7, 31)):
            lane = _one_number(rec.get(f"{HUAWEI}.{lane_column}.{index}"))
            raw = int(rec[f"{HUAWEI}.{column}.{index}"])
            want = lane / 100 if lane is not None and kind != "bias" else lane if lane is not None \
                else raw / 100 if kind != "bias" else float(raw)
            assert math.isclose(got[kind]["value"], want, abs_tol=1e-9), (index, kind)
        assert -40 <= got["rx_power"]["value"] <= 10 and -40 <= got["tx_power"]["value"] <= 10
        assert 0 <= got["bias"]["value"] <= 200
        for kind in ("rx_power", "tx_power"):
            stated = {ours: rec.get(f"{HUAWEI}.{column}.{index}", "-1") for ours, column in HUAWEI_LIMITS[kind].items()}
            for level in ("alarm", "warn"):  # a low/high pair that is one number is no band: no threshold
                if stated[f"low_{level}"] == stated[f"high_{level}"]:  # (huawei-unknown-002: rx 816 and 816)
                    stated[f"low_{level}"] = stated[f"high_{level}"] = "-1"
            for ours, raw_limit in stated.items():
                want_limit = None if raw_limit == "-1" else int(raw_limit) / 100
                assert got[kind]["thresholds"][ours] == want_limit, (index, kind, ours)
        ifindex = got["rx_power"]["ifindex"]
        assert ifindex in ports and ports[ifindex]["transceiver"]["source"] == "huawei-optical"
    assert data["skipped"] == {}


def test_comware7_thresholds(more: tuple[Agent, dict[str, dict[str, str]]]) -> None:
    """Comware 7 states the DOM thresholds, each in its own MIB unit: 0.001 °C, 100 µV, µA, 0.1 µW."""
    agent, recs = more
    rec, data = recs["h3c-comware-7-1-075"], check_json(agent, "h3c-comware-7-1-075")
    limits = {"temperature": ((18, 19, 20, 21), lambda r: r / 1000), "voltage": ((22, 23, 24, 25), lambda r: r / 10000),
              "bias": ((26, 27, 28, 29), lambda r: r / 1000), "tx_power": ((30, 31, 32, 33), _tenth_uw_to_dbm),
              "rx_power": ((34, 35, 36, 37), _tenth_uw_to_dbm)}
    rows = [o.rsplit(".", 1)[1] for o in rec if o.startswith(f"{HH3C}.5.")]
    with_dom = [i for i in rows if rec[f"{HH3C}.8.{i}"] == "1"]
    assert len(with_dom) >= 15 and len(with_dom) < len(rows)
    for index in rows:
        got = {s["kind"]: s for s in data["sensors"] if s["id"].startswith(f"hh3c-transceiver:{index}:")}
        if index not in with_dom:
            assert got == {}  # hh3cTransceiverDiagnostic false(2): its zeros are no thresholds
            continue
        for kind, (cols, unit) in limits.items():
            names = ("high_alarm", "low_alarm", "high_warn", "low_warn")
            want = {k: unit(int(rec[f"{HH3C}.{c}.{index}"])) for k, c in zip(names, cols, strict=True)}
            for k in names:
                assert _close(got[kind]["thresholds"][k], want[k]), (index, kind, k)
    first = {s["kind"]: s for s in data["sensors"] if s["id"].startswith("hh3c-transceiver:1:")}
    assert first["temperature"]["thresholds"] == {"low_alarm": -3.0, "low_warn": 0.0, "high_warn": 70.0,
                                                  "high_alarm": 73.0}
    assert first["bias"]["thresholds"]["high_alarm"] == 9.35 and first["voltage"]["value"] == 3.34
    assert data["skipped"] == {}


# --- parse_port_table on hand-written rows ----------------------------------------------------------

ENTRY = "1.3.6.1.4.1.99999.1.1.1"
TABLE = PortTable(
    name="testXcvrTable", source="test-xcvr", oid=ENTRY, index="ifindex",
    transceiver={"vendor": 2, "serial": 3},
    present=RowFilter(column=1, values=(1,)),
    dom=RowFilter(column=4, values=(1,)),
    unavailable=(2147483647,), no_light=(-99999999,),
    readings=(
        ReadingSpec(SensorKind.RX_POWER, column=5, factor=0.001, unit="dBm",
                    thresholds={"high_alarm": 6, "low_alarm": 7}, threshold_factor=0.1, threshold_unit="uW"),
        ReadingSpec(SensorKind.BIAS, column=8, factor=1, unit="uA"),
        ReadingSpec(SensorKind.TX_POWER, column=9, factor=0.01, unit="dBm", prefer=Scale(10, 0.01, "dBm")),
    ),
)


def _walk(rows: dict[str, dict[int, object]], entry: str = ENTRY) -> WalkResult:
    out: dict[str, dict[str, object]] = {}
    for suffix, cells in rows.items():
        for column, value in cells.items():
            out.setdefault(f"{entry}.{column}", {})[suffix] = value
    return WalkResult(rows=out)  # type: ignore[arg-type]


def _by_id(sensors: list[Any]) -> dict[str, Any]:
    return {s.sensor_id: s for s in sensors}


def test_parse_port_table_good_row_in_saksi_units() -> None:
    skipped: Counter[str] = Counter()
    sensors, modules = parse_port_table(TABLE, _walk({"7": {
        1: 1, 2: b"ACME  ", 3: b"S1\x00", 4: 1, 5: -5840, 6: 10000, 7: 229, 8: 20504, 9: -541, 10: b"-559.00"}}),
        skipped)
    got = _by_id(sensors)
    assert [(m.vendor, m.serial, m.ifindex, m.source) for m in modules] == [("ACME", "S1", 7, "test-xcvr")]
    rx = got["test-xcvr:7:rx_power"]
    assert (rx.value, rx.ifindex, rx.status) == (-5.84, 7, "ok")
    assert rx.thresholds.high_alarm == 0.0  # 10000 x 0.1 µW = 1 mW
    assert round(rx.thresholds.low_alarm, 2) == -16.4 and rx.thresholds.low_warn is None
    assert got["test-xcvr:7:bias"].value == 20.504  # µA -> mA
    assert got["test-xcvr:7:tx_power"].value == -5.59  # the preferred text column wins over -541
    assert skipped == Counter()


def test_parse_port_table_skips_and_counts_garbage() -> None:
    skipped: Counter[str] = Counter()
    rows: dict[str, dict[int, object]] = {
        "1": {1: 1, 2: b"ACME", 3: b"S1", 4: 1, 5: b"n/a", 6: b"x", 7: 229, 8: 2147483647, 9: -300, 10: b"-1.0,-2.0"},
        "2": {1: 1, 2: b"ACME", 3: b"S2", 4: 1, 5: -99999999, 9: 12},  # no bias cell; Rx "0 µW"
        "3": {1: 2, 2: b"OLD", 3: b"S3", 4: 1, 5: -5000, 8: 100, 9: 1},  # presence says: empty cage
        "4": {1: 1, 2: b"ACME", 3: b"S4", 4: 2, 5: -5000, 8: 100, 9: 1},  # a module without diagnostics
        "5": {1: b"?", 2: b"ACME", 3: b"S5", 4: 1, 5: -5000},  # presence cell is garbage
        "abc": {1: 1, 2: b"ACME", 3: b"S6", 4: 1, 5: -5000},  # non-numeric index
        "6": {1: 1, 2: b"\xff\xfe", 3: None, 4: 1, 5: b"9" * 400, 8: b"1e400", 9: b"nan", 10: b"inf"},
    }
    sensors, modules = parse_port_table(TABLE, _walk(rows), skipped)
    got = _by_id(sensors)
    assert sorted(m.serial for m in modules) == ["", "S1", "S2", "S4"]  # row 6 is named by its vendor only
    rx1 = got["test-xcvr:1:rx_power"]
    assert (rx1.value, rx1.status, rx1.thresholds.high_alarm) == (None, "unavailable", None)
    assert round(rx1.thresholds.low_alarm, 2) == -16.4
    assert got["test-xcvr:1:bias"].value is None  # 2147483647: the vendor's "no value", not garbage
    assert got["test-xcvr:1:tx_power"].value == -3.0  # a lane list is no single reading: integer column
    assert got["test-xcvr:2:rx_power"].value == -40.0  # no light
    assert "test-xcvr:2:bias" not in got
    assert not [s for s in sensors if s.sensor_id.startswith(("test-xcvr:3:", "test-xcvr:4:", "test-xcvr:5:"))]
    assert all(s.value is None for s in sensors if s.sensor_id.startswith("test-xcvr:6:"))
    assert skipped == Counter({
        "testXcvrTable: rx_power not a number": 2,  # row 1 "n/a", row 6 a 400-digit number
        "testXcvrTable: rx_power high_alarm not a number": 1,
        "testXcvrTable: bias missing": 1,
        "testXcvrTable: presence column missing or not a number": 1,
        "testXcvrTable: row with a non-numeric index": 1,
        "testXcvrTable: bias not a number": 1,
        "testXcvrTable: tx_power not a number": 1,
    })


@pytest.mark.parametrize("cell", [None, b"", b"\x00" * 8, "1.3.6.1", -2**63, 2**64, b"-", b"1.", b" 12 "])
def test_parse_port_table_never_raises(cell: object) -> None:
    skipped: Counter[str] = Counter()
    rows = {"1": {c: cell for c in range(1, 11)}, "2.3": {5: cell}, "": {5: cell}}
    parse_port_table(TABLE, _walk(rows), skipped)
    lane_table = PortTable(name="laneTable", source="lane", oid=ENTRY, index="ifindex.lane",
                           readings=(ReadingSpec(SensorKind.RX_POWER, column=5, factor=0.01, unit="dBm"),))
    parse_port_table(lane_table, _walk(rows), skipped)


def test_parse_port_table_lanes_entities_and_identity_presence() -> None:
    skipped: Counter[str] = Counter()
    lanes = PortTable(name="laneTable", source="lane", oid=ENTRY, index="ifindex.lane",
                      readings=(ReadingSpec(SensorKind.RX_POWER, column=5, factor=0.01, unit="dBm"),))
    sensors, modules = parse_port_table(lanes, _walk({"9.1": {5: -100}, "9.2": {5: -250}, "9.x": {5: 1}}), skipped)
    assert [(s.ifindex, s.lane, s.value) for s in sensors] == [(9, 1, -1.0), (9, 2, -2.5)] and modules == []
    assert skipped == Counter({"laneTable: row with a non-numeric index": 1})

    entity = PortTable(name="entTable", source="ent", oid=ENTRY, index="entity", transceiver={"serial": 4},
                       unavailable=(-1,), readings=(ReadingSpec(SensorKind.TEMPERATURE, column=5, unit="C"),))
    sensors, modules = parse_port_table(entity, _walk({
        "67436622": {4: b"S1703243262", 5: 45}, "67437134": {4: b"", 5: -255}}), skipped)
    assert [(m.serial, m.ifindex) for m in modules] == [("S1703243262", 67436622)]  # the cage row is empty
    assert [(s.entity_index, s.ifindex, s.value) for s in sensors] == [(67436622, 67436622, 45.0)]


def test_profile_loader_rejects_what_it_cannot_convert(tmp_path: Path) -> None:
    bad_unit = tmp_path / "unit.yaml"
    bad_unit.write_text(yaml.safe_dump({"port_tables": [{
        "name": "t", "source": "s", "oid": "1.3", "readings": {"bias": {"column": 1, "unit": "dBm"}}}]}))
    with pytest.raises(ValueError, match="cannot be converted to mA"):
        snmp_profiles(bad_unit)
    bad_limit = tmp_path / "limit.yaml"
    bad_limit.write_text(yaml.safe_dump({"port_tables": [{
        "name": "t", "source": "s", "oid": "1.3",
        "readings": {"voltage": {"column": 1, "unit": "mV", "thresholds": {"highest": 2}}}}]}))
    with pytest.raises(ValueError, match="unknown thresholds"):
        snmp_profiles(bad_limit)


def test_every_port_table_names_its_mib_and_loads() -> None:
    folder = Path(monitor.profiles.__file__).parent / "snmp"
    entries = [e for f in sorted(folder.glob("*.yaml")) for e in (yaml.safe_load(f.read_text()) or {}).get(
        "port_tables", ())]
    for entry in entries:
        assert entry.get("mib"), entry["name"]
        assert entry.get("enterprises"), f"{entry['name']}: a vendor table is asked of its vendor's devices only"
    loaded = {t.name: t for t in snmp_profiles().port_tables}
    assert {"hh3cTransceiverInfoTable", "hpicfXcvrInfoTable", "hwOpticalModuleInfoTable", "mtxrOpticalTable",
            "arubaWiredPmXcvrTable", "jnxDomCurrentTable"} <= set(loaded)
    assert len({t.source for t in loaded.values()}) == len(loaded)


def test_sensor_doctests() -> None:
    assert doctest.testmod(sensors_module).failed == 0


# --- the table shapes of the wide corpus, on hand-written rows -----------------------------------------

def test_row_per_reading_kind_with_thresholds_from_a_joined_table() -> None:
    """rlPhyTest (Cisco SB, Eltex): ifIndex.testType rows, a module only where its temperature is not 0;
    Eltex's thresholds sit in a joined table whose own parameter numbers differ (threshold_select)."""
    joined = "1.3.6.1.4.1.99999.2.1"
    table = PortTable(
        name="rowsTable", source="rows", oid=ENTRY, index="ifindex.select", joins=((200, joined),),
        present=RowFilter(column=3, select=5, absent_values=(0,)),
        readings=(ReadingSpec(SensorKind.TEMPERATURE, column=3, select=5, unit="C", threshold_select=0,
                              thresholds={"high_alarm": 203, "low_alarm": 206}),
                  ReadingSpec(SensorKind.RX_POWER, column=3, select=9, factor=0.001, unit="dBm")))
    walk = _walk({"105.5": {3: 39}, "105.9": {3: -22292}, "49.5": {3: 0}, "49.9": {3: 0}})
    walk.rows.update(_walk({"105.0": {3: 90, 6: -10}}, joined).rows)
    skipped: Counter[str] = Counter()
    sensors, _ = parse_port_table(table, walk, skipped)
    got = {(s.ifindex, s.kind.value): s for s in sensors}
    assert set(got) == {(105, "temperature"), (105, "rx_power")}  # port 49: temperature 0, no module
    assert got[(105, "rx_power")].value == -22.292
    assert (got[(105, "temperature")].thresholds.high_alarm, got[(105, "temperature")].thresholds.low_alarm) == (
        90.0, -10.0)
    assert skipped == Counter()


def test_text_readings_lane_lists_and_limit_lists() -> None:
    table = PortTable(
        name="textTable", source="text", oid=ENTRY, index="ifindex",
        readings=(ReadingSpec(SensorKind.TEMPERATURE, column=2, unit="C", decode="text",  # "6[0]" in YAML
                              thresholds={"high_alarm": 6}, threshold_items={"high_alarm": 0}),
                  ReadingSpec(SensorKind.TX_POWER, column=5, unit="dBm", decode="lanes",  # "8[0]", "8[1]"
                              thresholds={"high_alarm": 8, "low_alarm": 8},
                              threshold_items={"high_alarm": 0, "low_alarm": 1})))
    skipped: Counter[str] = Counter()
    sensors, _ = parse_port_table(table, _walk({
        "1": {2: b"41.00 degrees C normal", 6: b"[85.0]", 5: b"-0.43 ,0.01  ,0.30", 8: b"[-3.0, -9.0]"},
        "2": {2: b"N/A", 5: b"N/A"},  # an empty cage: no reading, nothing counted
        "3": {2: b"hot", 5: b"x"},  # garbage: counted, no value
    }), skipped)
    one = [s for s in sensors if s.ifindex == 1]
    temp = next(s for s in one if s.kind is SensorKind.TEMPERATURE)
    assert (temp.value, temp.thresholds.high_alarm) == (41.0, 85.0)
    tx = sorted((s.lane, s.value, s.thresholds.high_alarm, s.thresholds.low_alarm) for s in one
                if s.kind is SensorKind.TX_POWER)
    assert tx == [(1, -0.43, -3.0, -9.0), (2, 0.01, -3.0, -9.0), (3, 0.3, -3.0, -9.0)]
    assert not [s for s in sensors if s.ifindex == 2]
    assert all(s.value is None for s in sensors if s.ifindex == 3)
    assert skipped == Counter({"textTable: temperature not a number": 1, "textTable: tx_power not a number": 1})


def test_ports_named_by_index_parts_kind_and_offset() -> None:
    """OcNOS: a slot is no ifIndex; the port is <kind><slot + offset> on a given hardware model."""
    table = PortTable(name="slotTable", source="slot", oid=ENTRY, index="_.port", port_name="{kind}{0}",
                      port_offset=-1, port_kind=(2, {1: "xe", 2: "ce"}, "ge"), transceiver={"serial": 35})
    skipped: Counter[str] = Counter()
    _, modules = parse_port_table(table, _walk({"1.11": {2: 1, 35: b"S1"}, "1.2": {2: 2, 35: b"S2"},
                                                "1.40": {2: 1, 35: b"S3"}}), skipped,
                                  {"xe10": 10031, "ce1": 10009})
    assert sorted((m.serial, m.ifindex) for m in modules) == [("S1", 10031), ("S2", 10009)]
    assert skipped == Counter({"slotTable: no port named xe39": 1})  # never a guess at the wrong port


def test_lane_table_shares_its_ports_thresholds_and_zero_bands_are_none() -> None:
    port_entry = "1.3.6.1.4.1.99999.3.1"
    table = PortTable(name="laneDom", source="lane-dom", oid=ENTRY, index="ifindex.lane", joins=((100, port_entry),),
                      readings=(ReadingSpec(SensorKind.RX_POWER, column=12, unit="mW", decode="text",
                                            thresholds={"high_alarm": 128, "low_alarm": 129},
                                            threshold_unit="mW"),))
    walk = _walk({"27.1": {12: b"0.5537"}, "27.2": {12: b"0.5"}})
    walk.rows.update(_walk({"27": {28: b"1.2589", 29: b"0.0316"}}, port_entry).rows)
    sensors, _ = parse_port_table(table, walk, Counter())
    assert [(s.lane, round(s.value or 0, 2), round(s.thresholds.high_alarm or 0, 2)) for s in sensors] == [
        (1, -2.57, 1.0), (2, -3.01, 1.0)]
    assert sensors_module.banded(sensors_module.Thresholds(low_alarm=0.0, high_alarm=0.0)).is_empty()
