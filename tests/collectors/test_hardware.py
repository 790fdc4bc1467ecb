"""Hardware health collection: power supplies, fans, temperatures, CPU, memory, storage and disks.

On the LibreNMS recordings `saksi check --json` (real snmpsim, real CLI) must report every power supply,
fan, chassis temperature, processor, memory pool and filesystem LibreNMS derived from the same recording,
with the same reading; the tables and state words are written out again here from the MIBs rather than
read from hardware.yaml, so a wrong profile fails. Where Saksi differs on purpose the recording proves why.
The snmpsim-data walks (other firmwares and Linux/Windows servers) are parsed from their recorded rows;
garbage, absurd readings and partial walks are checked on rows written here.
"""

from __future__ import annotations

import bz2
import doctest
import functools
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import monitor.collectors.hardware as hardware_module
import monitor.witness.trends
from monitor.collectors import hardware
from monitor.collectors.entity import Entity, EntityTree
from monitor.collectors.sensors import parse_entity_sensors, place_entity_sensors
from monitor.collectors.snmp import WalkResult
from monitor.model import Hardware, Sensor, SensorKind, Thresholds
from monitor.profiles import snmp_profiles
from monitor.profiles.hardware import hardware_profiles
from tests.collectors.test_corpus import check_json, expected, recording
from tests.conftest import Agent, corpus_devices, run_saksi

OPTICS = hardware_profiles().optics
needs_corpus = pytest.mark.skipif(not corpus_devices(), reason="tests/fixtures/librenms/ has no recordings")

# LibreNMS state sensor -> (Saksi table, part). From the MIBs: CISCO-ENVMON-MIB ciscoEnvMonSupplyState and
# ciscoEnvMonFanState, CISCO-ENTITY-FRU-CONTROL-MIB cefcFRUPowerOperStatus and cefcFanTrayOperStatus,
# JUNIPER-MIB jnxFruState, ENTITY-STATE-MIB entStateOper.
STATE_SENSORS = {
    "ciscoEnvMonSupplyState": ("ciscoEnvMonSupplyStatusTable", "power_supplies"),
    "ciscoEnvMonFanState": ("ciscoEnvMonFanStatusTable", "fans"),
    "cefcFRUPowerOperStatus": ("cefcFRUPowerStatusTable", "power_supplies"),
    "cefcFanTrayOperStatus": ("cefcFanTrayStatusTable", "fans"),
    "jnxFruTable": ("jnxFruTable", None),
    "entStateOper": ("entStateTable", None),
}
# LibreNMS generic state (0 ok, 1 warning, 2 critical, 3 unknown) -> Saksi's states it may be.
GENERIC = {0: {"ok"}, 1: {"warning", "off"}, 2: {"failed"}, 3: {"unknown", "absent"}}
# On purpose: CISCO-ENVMON shutdown(4) is "the unit was shut down" - no power delivered - so Saksi says failed
# where LibreNMS says unknown (iosxe_c9500h-svl proves it: the same PSU, entity 507, is cefcFRUPowerOperStatus
# failed(8)). ENTITY-STATE-MIB EntityOperState is unknown(1), disabled(2), enabled(3), testing(4); LibreNMS
# reads it as notPresent/unknown/ok/failed, which agrees on enabled(3), the only value in these recordings.
DIFFERS = {("ciscoEnvMonSupplyState", 4): "failed", ("ciscoEnvMonFanState", 4): "failed"}


def _hw(name: str, agent: Agent) -> dict[str, Any]:
    data = check_json(agent, name)
    assert data["hardware"] is not None, f"{name}: no hardware part"
    return data["hardware"]


def _librenms(name: str, module: str) -> list[dict[str, Any]]:
    return (expected(name).get(module) or {}).get("discovery", {}).get(module, [])


def _state_cases() -> list[tuple[str, dict[str, Any]]]:
    return [(n, s) for n in corpus_devices() for s in _librenms(n, "sensors")
            if s["sensor_class"] == "state" and s["sensor_type"] in STATE_SENSORS]


@needs_corpus
@pytest.mark.parametrize("name,sensor", _state_cases(),
                         ids=[f"{n}-{s['sensor_type']}-{s['sensor_index']}" for n, s in _state_cases()])
def test_every_power_supply_and_fan_state(snmpsim: Agent, name: str, sensor: dict[str, Any]) -> None:
    hw = _hw(name, snmpsim)
    table, _ = STATE_SENSORS[sensor["sensor_type"]]
    index = sensor["sensor_oid"].split(f".{STATE_COLUMNS[sensor['sensor_type']]}.", 1)[1]
    units = {u["id"]: u for u in hw["power_supplies"] + hw["fans"]}
    unit = units.get(f"{table}:{index}")
    if unit is None:
        # Not a power supply or a fan (jnxFru, entState and cefcFRUPower list every FRU: FPCs, linecards, the
        # chassis), or a table Saksi did not need: the same units came from a preferred table the device answered.
        rec = recording(name)
        not_a_unit = (table == "jnxFruTable" and rec.get(f"1.3.6.1.4.1.2636.3.1.15.1.6.{index}") not in ("7", "13")) \
            or (table in ("cefcFRUPowerStatusTable", "entStateTable")
                and rec.get(f"1.3.6.1.2.1.47.1.1.1.1.5.{index}") not in ("6", "7"))
        read = {u["source"] for u in units.values()}
        health = next((t for t in check_json(snmpsim, name)["tables"] if t["table"] == table), None)
        assert not_a_unit or (table not in read and units), f"{name}: {sensor['sensor_descr']} missing ({health})"
        return
    raw = int(sensor["sensor_current"])
    generic = next(s["state_generic_value"] for s in expected(name)["sensors"]["discovery"]["state_indexes"]
                   if s["state_name"] == sensor["sensor_type"] and s["state_value"] == raw)
    want = {DIFFERS[(sensor["sensor_type"], raw)]} if (sensor["sensor_type"], raw) in DIFFERS else GENERIC[generic]
    assert unit["state"] in want, (unit, sensor["sensor_descr"], raw)
    if table.startswith("ciscoEnvMon") or table == "jnxFruTable":
        assert unit["name"] == sensor["sensor_descr"]


# The state column in LibreNMS's sensor_oid, which ends <column>.<index>.
STATE_COLUMNS = {"ciscoEnvMonSupplyState": "9.9.13.1.5.1.3", "ciscoEnvMonFanState": "9.9.13.1.4.1.3",
                 "cefcFRUPowerOperStatus": "9.9.117.1.1.2.1.2", "cefcFanTrayOperStatus": "9.9.117.1.4.1.1.1",
                 "jnxFruTable": "2636.3.1.15.1.8", "entStateOper": "2.1.131.1.1.1.3"}


@needs_corpus
def test_a_failed_power_supply_in_a_real_recording(snmpsim: Agent) -> None:
    """The Catalyst 9500 pair recorded with switch 2's second PSU down: ENVMON shutdown(4), FRU failed(8)."""
    hw = _hw("iosxe_c9500h-svl", snmpsim)
    failed = [u for u in hw["power_supplies"] if u["state"] == "failed"]
    assert [(u["name"], u["status"]) for u in failed] == [("Switch 2 Power Supply Module 1", "shutdown")]
    assert {u["state"] for u in hw["power_supplies"]} == {"ok", "failed"} and len(hw["fans"]) == 23
    data = check_json(snmpsim, "iosxe_c9500h-svl")
    assert "power supply Switch 2 Power Supply Module 1: failed (shutdown)" in data["problems"]
    assert data["healthy"] is False


def _temperature_cases() -> list[tuple[str, dict[str, Any]]]:
    return [(n, s) for n in corpus_devices() for s in _librenms(n, "sensors")
            if s["sensor_class"] == "temperature" and s["sensor_type"] in ("cisco", "junos", "cisco-entity-sensor",
                                                                           "entity-sensor")
            and s.get("entPhysicalIndex_measured") != "ports" and s.get("group") not in ("transceiver", "SFPs")
            and "DOM" not in s["sensor_descr"]]


@needs_corpus
@pytest.mark.parametrize("name,sensor", _temperature_cases(),
                         ids=[f"{n}-{s['sensor_index']}" for n, s in _temperature_cases()])
def test_every_chassis_temperature(snmpsim: Agent, name: str, sensor: dict[str, Any]) -> None:
    temps = _hw(name, snmpsim)["temperatures"]
    index = sensor["sensor_oid"].rsplit(".", 1)[1] if sensor["sensor_type"] != "junos" else \
        sensor["sensor_oid"].split(".2636.3.1.13.1.7.", 1)[1]
    ids = {"cisco": f"ciscoEnvMonTemperatureStatusTable:{index}", "junos": f"jnxOperatingTable:{index}",
           "cisco-entity-sensor": f"cisco-entity-sensor:{index}", "entity-sensor": f"entity-sensor:{index}"}
    got = {t["id"]: t for t in temps}.get(ids[sensor["sensor_type"]])
    placed = next((x for x in check_json(snmpsim, name)["sensors"] if x["id"] == ids[sensor["sensor_type"]]), None)
    if got is None and placed is not None and (placed["ifindex"] is not None or OPTICS.search(placed["descr"])):
        return  # a transceiver's sensor (xos_sfp: "1:1 SFP Temperature"), not the chassis'
    if got is None:
        # ENVMON temperatures are read only where ENTITY-SENSOR states none (iosxe_c9500h-svl has both).
        assert sensor["sensor_type"] == "cisco" and any(t["source"] == "cisco-entity-sensor" for t in temps), sensor
        return
    assert got["value"] == pytest.approx(sensor["sensor_current"]), sensor["sensor_descr"]
    if sensor["sensor_type"] == "cisco":  # ciscoEnvMonTemperatureThreshold, as LibreNMS's limit
        assert got["thresholds"]["high_alarm"] == sensor["sensor_limit"]
    if sensor["sensor_type"] == "junos":  # jnxOperatingTable states no threshold; LibreNMS derives current+20
        assert got["thresholds"]["high_alarm"] is None and sensor["sensor_limit"] == sensor["sensor_current"] + 20


# LibreNMS processor type -> (Saksi table, column whose index LibreNMS's oid carries)
PROCESSORS = {"cpm": ("cpmCPUTotalTable", "1.3.6.1.4.1.9.9.109.1.1.1.1.8."),
              "hr": ("hrProcessorTable", "1.3.6.1.2.1.25.3.3.1.2."),
              "junos": ("jnxOperatingTable", "1.3.6.1.4.1.2636.3.1.13.1.8.")}


def _processor_cases() -> list[tuple[str, dict[str, Any]]]:
    return [(n, p) for n in corpus_devices() for p in _librenms(n, "processors")]


@needs_corpus
@pytest.mark.parametrize("name,proc", _processor_cases(),
                         ids=[f"{n}-{p['processor_index']}" for n, p in _processor_cases()])
def test_every_processor(snmpsim: Agent, name: str, proc: dict[str, Any]) -> None:
    got = {p["id"]: p for p in _hw(name, snmpsim)["processors"]}
    spec = PROCESSORS.get(proc["processor_type"])
    oid = proc["processor_oid"].lstrip(".")
    if spec is None or not oid.startswith(spec[1]):
        # Vendor CPU tables Saksi does not read (HP, Comware, VRP, RouterOS-only, Extreme) and Cisco's per-core
        # cpmCore table (iosxe_c9500h-svl): Saksi reads the CPU totals beside them instead.
        pytest.skip(f"{proc['processor_type']} ({oid}) is not a table Saksi reads")
    p = got.get(f"{spec[0]}:{oid[len(spec[1]):]}")
    assert p is not None, f"{name}: {proc['processor_descr']} missing"
    assert p["load_pct"] == proc["processor_usage"]


def _mempool_cases() -> list[tuple[str, dict[str, Any]]]:
    return [(n, m) for n in corpus_devices() for m in _librenms(n, "mempools")
            if m["mempool_type"] in ("cmp", "cemp", "junos") or m["mempool_descr"] in ("RAM", "main memory")]


@needs_corpus
@pytest.mark.parametrize("name,pool", _mempool_cases(),
                         ids=[f"{n}-{m['mempool_type']}-{m['mempool_index']}" for n, m in _mempool_cases()])
def test_every_memory_pool(snmpsim: Agent, name: str, pool: dict[str, Any]) -> None:
    got = {m["id"]: m for m in _hw(name, snmpsim)["memory"]}
    table = {"cmp": "ciscoMemoryPoolTable", "cemp": "cempMemPoolTable", "junos": "jnxOperatingTable",
             "hrstorage": "hrStorageTable"}[pool["mempool_type"]]
    m = got.get(f"{table}:{pool['mempool_index']}")
    assert m is not None, f"{name}: {pool['mempool_descr']} missing"
    assert m["total_bytes"] == pool["mempool_total"]
    # LibreNMS rounds Junos's buffer-percent x MB; RAM on EOS and RouterOS is used minus buffers and cache.
    assert m["used_bytes"] == pytest.approx(pool["mempool_used"], abs=1)


def _storage_cases() -> list[tuple[str, dict[str, Any]]]:
    return [(n, s) for n in corpus_devices() for s in _librenms(n, "storage") if s["type"] == "hrstorage"]


@needs_corpus
@pytest.mark.parametrize("name,store", _storage_cases(),
                         ids=[f"{n}-{s['storage_index']}" for n, s in _storage_cases()])
def test_every_filesystem(snmpsim: Agent, name: str, store: dict[str, Any]) -> None:
    got = {s["id"]: s for s in _hw(name, snmpsim)["storage"]}
    s = got.get(f"hrStorageTable:{store['storage_index']}")
    assert s is not None, f"{name}: {store['storage_descr']} missing"
    assert (s["size_bytes"], s["used_bytes"]) == (store["storage_size"], store["storage_used"])
    assert s["name"] == hardware.mount_point(store["storage_descr"])
    assert round(s["used_pct"]) == pytest.approx(store["storage_perc"], abs=1)


@needs_corpus
def test_no_pseudo_or_read_only_filesystem_is_watched(snmpsim: Agent) -> None:
    """Junos lists its read-only package images (/packages/mnt/...) and devfs/procfs: always "full", never
    storage to watch; exactly the nine filesystems LibreNMS keeps remain."""
    names = {s["name"] for s in _hw("junos_qfx5100", snmpsim)["storage"]}
    assert names == {"/", "/config", "/var", "/tmp", "/var/tmp", "/var/log", "/altconfig", "/user", "/var/rundb"}


@needs_corpus
def test_check_hardware_through_the_cli(snmpsim: Agent) -> None:
    r = run_saksi("check", "--host", snmpsim.host, "--port", str(snmpsim.port), "--community", "ios_2960x",
                  "--timeout", "5", "--hardware")
    assert r.returncode in (0, 1), r.stderr
    for text in ("power and cooling", "Sw1, PS1 Normal, RPS NotExist", "Switch#1, Fan#1", "temperatures",
                 "SW#1, Sensor#1, GREEN", "memory", "Processor", "cpu"):
        assert text in r.stdout, text
    plain = run_saksi("check", "--host", snmpsim.host, "--port", str(snmpsim.port), "--community", "ios_2960x",
                      "--timeout", "5")
    assert "power and cooling" not in plain.stdout


@needs_corpus
def test_table_health_of_hardware_tables(snmpsim: Agent) -> None:
    """Every table of the plan is listed: read (ok/empty) or skipped with the reason."""
    data = check_json(snmpsim, "ios_2960x")
    tables = {t["table"]: t for t in data["tables"]}
    for t in hardware_profiles().tables:
        if t.applies("1.3.6.1.4.1.9.1.1208"):
            assert t.name in tables, t.name
    assert tables["ciscoEnvMonSupplyStatusTable"]["status"] == "ok"
    assert tables["cefcFRUPowerStatusTable"]["status"] == "skipped"
    assert "ciscoEnvMonSupplyStatusTable" in tables["cefcFRUPowerStatusTable"]["error"]


# --- snmpsim-data walks: other firmwares, servers, parsed from their recorded rows -------------------------

def _snmpsim_data() -> Path | None:
    try:
        import snmpsim_data
    except ImportError:
        return None
    return Path(snmpsim_data.__file__).parent / "data"


_TAGS_INT = {"2", "65", "66", "67", "70"}


@functools.cache
def recorded(rel: str) -> dict[str, Any]:
    """OID -> value of a snmpsim-data walk, as the SNMP client would hand them over (int, bytes, OID text).
    Lines that are snmpsim variation-module directives (`2:numeric|...`) are not device data: skipped."""
    base = _snmpsim_data()
    if base is None or not (base / f"{rel}.snmprec.bz2").is_file():
        pytest.skip("snmpsim-data is not installed")
    out: dict[str, Any] = {}
    with bz2.open(base / f"{rel}.snmprec.bz2") as f:
        for raw in f:
            parts = raw.decode("latin-1").rstrip("\r\n").split("|", 2)
            if len(parts) != 3 or ":" in parts[1]:
                continue
            oid, tag, value = parts
            data = bytes.fromhex(value) if tag.endswith("x") else value.encode("latin-1")
            tag = tag.rstrip("x")
            if tag in _TAGS_INT:
                try:
                    out[oid] = int(data.decode())
                except ValueError:
                    continue
            elif tag in ("6", "64"):
                out[oid] = data.decode("latin-1")
            elif tag in ("4", "68"):
                out[oid] = data
    return out


def walks_of(rec: dict[str, Any]) -> dict[str, WalkResult]:
    """Each hardware table as a complete walk of its recorded rows."""
    out = {}
    for t in hardware_profiles().tables:
        rows: dict[str, dict[str, Any]] = {}
        for col in t.column_oids():
            prefix = col + "."
            rows[col] = {o[len(prefix):]: v for o, v in rec.items() if o.startswith(prefix)}
        out[t.name] = WalkResult(rows=rows)
    return out


def entities_of(rec: dict[str, Any]) -> dict[int, Entity]:
    ents: dict[int, Entity] = {}
    for oid, v in rec.items():
        if oid.startswith("1.3.6.1.2.1.47.1.1.1.1.5."):
            idx = int(oid.rsplit(".", 1)[1])
            name, descr = (rec.get(f"1.3.6.1.2.1.47.1.1.1.1.{c}.{idx}", b"") for c in (7, 2))
            ents[idx] = Entity(idx, cls=int(v), name=name.decode("latin-1") if isinstance(name, bytes) else "",
                               descr=descr.decode("latin-1") if isinstance(descr, bytes) else "")
    return ents


def parsed(rel: str) -> tuple[Hardware, Counter[str]]:
    rec = recorded(rel)
    skipped: Counter[str] = Counter()
    sys_oid = str(rec.get("1.3.6.1.2.1.1.2.0", ""))
    walks = {n: w for n, w in walks_of(rec).items() if hardware_profiles().table(n).applies(sys_oid)}
    return hardware.parse(walks, entities_of(rec), [], skipped), skipped


SERVERS = ["os/linux/slackware", "os/linux/unknown-001", "os/linux/unknown-003", "os/linux/unknown-004",
           "os/linux/unknown-006", "os/linux/unknown-007", "os/linux/ibm-power-chrp", "os/windows/XP",
           "os/windows/server-2003-5-2", "storage/isilon-onefs", "network/router/vyatta-unknown",
           "network/appliance/nsfocus-ads", "network/firewall/paloalto-pa-5000"]


@pytest.mark.parametrize("rel", SERVERS)
def test_servers_parse_host_resources(rel: str) -> None:
    """Every server walk: its CPUs, its RAM, its fixed filesystems with sane figures; no pseudo filesystem."""
    hw, skipped = parsed(rel)
    loads = [o for o in recorded(rel) if o.startswith("1.3.6.1.2.1.25.3.3.1.2.")]  # some walks hold none
    assert len(hw.processors) == len(loads) and all(0 <= (p.load_pct or 0) <= 100 for p in hw.processors)
    assert hw.memory and all(0 < (m.total_bytes or 0) and 0 <= (m.used_pct or 0) <= 100 for m in hw.memory)
    assert hw.storage, rel
    for s in hw.storage:
        assert s.name.split("/")[1:2] not in (["proc"], ["sys"], ["run"]) and s.name not in ("/dev", "/dev/shm"), s
        assert s.used_pct is None or 0 <= s.used_pct <= 100, s
    assert not hw.units and not [k for k in skipped if "state" in k]


def test_net_snmp_memory_is_used_minus_buffers_and_cache() -> None:
    """slackware: Physical memory 958176 of 1021976 KiB "used", of which 23900 buffers and 207040 cache."""
    hw, _ = parsed("os/linux/slackware")
    (ram,) = hw.memory
    assert ram.name == "Physical memory" and ram.total_bytes == 1021976 * 1024
    assert ram.used_bytes == (958176 - 23900 - 207040) * 1024


def test_disks_without_a_status_are_unknown_not_failed() -> None:
    """net-snmp lists disks in hrDeviceTable without hrDeviceStatus (slackware: 1552, 1553); the CD-ROM is
    removable (hrDiskStorageRemoveble true) and not watched. Windows states its disk running."""
    hw, _ = parsed("os/linux/slackware")
    assert [(d.name, d.state) for d in hw.disks] == [("SCSI disk (/dev/sda)", "unknown"),
                                                    ("SCSI disk (/dev/sdb)", "unknown")]
    assert hw.disks[0].capacity_bytes is not None
    win, _ = parsed("os/windows/server-2003-5-2")
    assert [(d.state, d.status_text) for d in win.disks] == [("ok", "running")]


@pytest.mark.parametrize("rel,psus,fans", [  # at least this many fans
    ("network/switch/cisco-c3560", 1, 1), ("network/switch/cisco-c3750", 1, 1),
    ("network/appliance/cisco-unknown-01", 2, 3), ("network/router/juniper-mx960-16-1r6-7-a", 4, 1),
    ("network/router/juniper-mx960-12-3r6-6", 4, 1), ("cloud/arista-dcs-7150s-52-cl", 2, 4),
])
def test_other_firmwares_power_and_cooling(rel: str, psus: int, fans: int) -> None:
    """Catalyst 3560/3750 and a Catalyst 6500 (ENVMON), MX960s on Junos 12.3 and 16.1 (jnxFruTable: PEMs and
    fan trays), an Arista 7150S (ENTITY-STATE-MIB, names from ENTITY-MIB)."""
    hw, skipped = parsed(rel)
    assert len(hw.power_supplies) == psus and all(u.state == "ok" for u in hw.power_supplies), hw.power_supplies
    assert len(hw.fans) >= fans and all(u.state in ("ok", "absent") for u in hw.fans), hw.fans
    assert hw.processors and hw.memory
    assert not skipped


def test_arista_7150_units_are_named_from_entity_mib() -> None:
    hw, _ = parsed("cloud/arista-dcs-7150s-52-cl")
    assert [u.name for u in hw.power_supplies] == ["PowerSupply1", "PowerSupply2"]
    assert [u.name for u in hw.fans] == [*(f"Fan Tray {n} Fan 1" for n in range(1, 5)), "PowerSupply1 Fan 1",
                                         "PowerSupply2 Fan 1"]
    assert {u.status_text for u in hw.units} == {"enabled"}


# --- bad input, on rows written here -----------------------------------------------------------------------

ENVMON = "1.3.6.1.4.1.9.9.13.1"
SUPPLY = hardware_profiles().table("ciscoEnvMonSupplyStatusTable")
TEMP = hardware_profiles().table("ciscoEnvMonTemperatureStatusTable")


def _walk(entry: str, cells: dict[tuple[int, str], Any]) -> WalkResult:
    rows: dict[str, dict[str, Any]] = {}
    for (col, index), value in cells.items():
        rows.setdefault(f"{entry}.{col}", {})[index] = value
    return WalkResult(rows=rows)


def test_garbage_and_unknown_unit_states_are_unknown() -> None:
    skipped: Counter[str] = Counter()
    walk = _walk(f"{ENVMON}.5.1", {(2, "1"): b"PS1", (3, "1"): b"not a number", (2, "2"): b"PS2", (3, "2"): 99,
                                   (2, "3"): b"PS3", (3, "3"): 1, (2, "4"): b"PS4"})
    hw = hardware.parse({SUPPLY.name: walk}, {}, [], skipped)
    assert [(u.name, u.state, u.status_text) for u in hw.units] == [
        ("PS1", "unknown", ""), ("PS2", "unknown", "99"), ("PS3", "ok", "normal"), ("PS4", "unknown", "")]
    assert skipped["ciscoEnvMonSupplyStatusTable: state missing or not a number"] == 2


@pytest.mark.parametrize("raw,value,status", [
    (44, 44.0, "ok"), (4294967295, None, "unavailable"), (-200, None, "unavailable"), (b"hot", None, "unavailable"),
    (0, 0.0, "ok"),
])
def test_absurd_temperatures_are_not_facts(raw: Any, value: float | None, status: str) -> None:
    skipped: Counter[str] = Counter()
    walk = _walk(f"{ENVMON}.3.1", {(2, "1008"): b"SW#1, Sensor#1", (3, "1008"): raw, (4, "1008"): 68, (6, "1008"): 1})
    (t,) = hardware.parse({TEMP.name: walk}, {}, [], skipped).temperatures
    assert (t.value, t.status) == (value, status)
    assert t.thresholds == Thresholds(high_alarm=68.0)
    assert bool(skipped) is (value is None)


def test_a_chassis_sensor_with_an_unknown_scale() -> None:
    """entSensorScale 99 is no SI prefix: the reading is taken as units (sensors.py), so a millidegree agent
    reads 45000 C - absurd, so the chassis temperature is unavailable, never an alarm."""
    spec = snmp_profiles().entity_sensor_tables[0]
    walk = _walk(spec.oid, {(1, "5"): 8, (2, "5"): 99, (3, "5"): 0, (4, "5"): 45000, (5, "5"): 1})
    raw = parse_entity_sensors(spec, walk, {}, Counter())
    placed = place_entity_sensors(raw, EntityTree({5: Entity(5, cls=8, descr="Chassis Temperature")}, {}))
    skipped: Counter[str] = Counter()
    (t,) = hardware.parse({}, {}, placed, skipped).temperatures
    assert t.value is None and t.status == "unavailable" and t.breach is None
    assert skipped["chassis temperature out of range"] == 1


def test_optics_are_not_chassis_temperatures() -> None:
    sensors = [Sensor("x:1", SensorKind.TEMPERATURE, 35.0, Thresholds(), "entity-sensor",
                      descr="DOM Temperature Sensor for Ethernet8"),
               Sensor("x:2", SensorKind.TEMPERATURE, 40.0, Thresholds(), "entity-sensor", descr="Cpu temp sensor"),
               Sensor("x:3", SensorKind.TEMPERATURE, 30.0, Thresholds(), "entity-sensor", descr="Gi1/0/1", ifindex=3)]
    assert [t.sensor_id for t in hardware.chassis_temperatures(sensors)] == ["x:2"]


HR = "1.3.6.1.2.1.25.2.3.1"
HR_STORAGE = hardware_profiles().table("hrStorageTable")
FIXED = "1.3.6.1.2.1.25.2.1.4"


def test_storage_figures() -> None:
    """Integer32 hrStorageSize wraps negative on big filesystems (undone); more used than the size, or no
    allocation unit, is garbage; pseudo filesystems are not storage."""
    rows = {}
    for idx, (descr, units, size, used) in enumerate([
            ("/", 4096, 1000, 250), ("/big", 4096, -1294967296, 100), ("/broken", 4096, 10, 20),
            ("/nounits", 0, 10, 5), ("/dev/shm", 4096, 10, 0), ("/snap/core/1", 4096, 10, 10)], 31):
        for col, v in ((2, FIXED), (3, descr.encode()), (4, units), (5, size), (6, used), (7, 0)):
            rows[(col, str(idx))] = v
    skipped: Counter[str] = Counter()
    hw = hardware.parse({HR_STORAGE.name: _walk(HR, rows)}, {}, [], skipped)
    got = {s.name: (s.size_bytes, s.used_pct) for s in hw.storage}
    assert got == {"/": (4096000, 25.0), "/big": (3000000000 * 4096, round(100 * 100 / 3000000000, 2)),
                   "/broken": (None, None), "/nounits": (None, None)}
    assert skipped["hrStorageTable: more used than the filesystem holds"] == 1


def test_storage_thresholds_are_saksis_own() -> None:
    rows = {(2, "31"): FIXED, (3, "31"): b"/var", (4, "31"): 4096, (5, "31"): 1000, (6, "31"): 960, (7, "31"): 3}
    (s,) = hardware.parse({HR_STORAGE.name: _walk(HR, rows)}, {}, [], Counter()).storage
    assert s.thresholds == Thresholds(high_warn=90.0, high_alarm=95.0)
    assert s.breach == "alarm" and s.allocation_failures == 3


def test_fru_tables_need_entity_mib_to_name_a_power_supply() -> None:
    """cefcFRUPowerStatusTable lists every FRU; without ENTITY-MIB nothing says which rows are power supplies:
    no power supply (unknown), never a failed one."""
    fru = hardware_profiles().table("cefcFRUPowerStatusTable")
    walk = _walk(fru.oid, {(2, "470"): 2, (2, "471"): 8, (2, "22"): 2})
    assert hardware.parse({fru.name: walk}, {}, [], Counter()).units == ()
    ents = {470: Entity(470, cls=6, name="PowerSupply-1"), 471: Entity(471, cls=6, name="PowerSupply-2"),
            22: Entity(22, cls=9, name="Module-1")}
    units = hardware.parse({fru.name: walk}, ents, [], Counter()).units
    assert [(u.name, u.state, u.status_text) for u in units] == [("PowerSupply-1", "ok", "on"),
                                                                 ("PowerSupply-2", "failed", "failed")]


def test_a_fallback_table_is_asked_only_when_the_preferred_gave_nothing() -> None:
    plan = hardware.plan("1.3.6.1.4.1.9.1.1208")
    first = hardware.next_tables(plan, {}, set(), {}, [])
    names = [t.name for t in first]
    assert "ciscoEnvMonSupplyStatusTable" in names and "cefcFRUPowerStatusTable" not in names
    assert "ciscoMemoryPoolTable" not in names and "hrDiskStorageTable" not in names
    empty = {t.name: WalkResult(rows={c: {} for c in t.column_oids()}) for t in first}
    second = [t.name for t in hardware.next_tables(plan, empty, set(names), {}, [])]
    assert {"cefcFRUPowerStatusTable", "cefcFanTrayStatusTable", "ciscoMemoryPoolTable"} <= set(second)
    assert "ciscoEnvMonSupplyStatusTable" not in second


def test_doctests() -> None:
    for module in (hardware_module, monitor.witness.trends):
        assert doctest.testmod(module).failed == 0


# --- a real net-snmp snmpd: read-only filesystems (hrFSAccess) ---------------------------------------------

def _fill_tmpfs(path: Path, read_only: bool) -> str:
    mode = f" && mount -o remount,ro {path}" if read_only else ""
    return (f"mkdir -p {path} && mount -t tmpfs -o size=1m tmpfs {path} && "
            f"(dd if=/dev/zero of={path}/fill bs=64k 2>/dev/null || true){mode}")


def test_a_full_read_only_filesystem_is_not_beyond_alarm(tmp_path: Path) -> None:
    """Two full filesystems on a real snmpd, one remounted read-only: hrFSAccess says which is which, so only
    the writable one is watched (and is 100 % used); the read-only one is counted as skipped, not alarmed.
    The mount points say nothing (no path pattern can tell them apart)."""
    import asyncio

    from monitor.collectors.poll import poll_device
    from monitor.collectors.snmp import PysnmpClient, SnmpTarget
    from tests.conftest import start_snmpd, stop

    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        pytest.skip("no private mount namespace here (unshare -m) to mount a read-only filesystem in")
    rw, ro = tmp_path / "data-a", tmp_path / "data-b"
    port, proc = start_snmpd(tmp_path, "rotest",
                             namespace_setup=f"{_fill_tmpfs(rw, False)} && {_fill_tmpfs(ro, True)}")

    async def poll() -> Any:
        client = PysnmpClient()
        try:
            return await poll_device("server", SnmpTarget("127.0.0.1", port, community="rotest", timeout=5), client)
        finally:
            client.close()

    try:
        snap = asyncio.run(poll())
    finally:
        stop(proc)
    assert snap.hardware is not None
    watched = {s.name: s for s in snap.hardware.storage}
    assert str(rw) in watched and str(ro) not in watched, sorted(watched)
    assert watched[str(rw)].used_bytes == watched[str(rw)].size_bytes  # full, and rightly watched
    assert dict(snap.skipped).get("hrStorageTable: read-only filesystem, not watched for fill", 0) >= 1
