"""A sensor ENTITY-MIB places on no port is placed by its own name, when that name names exactly one port.

Real agents answer sensors whose containment is missing or broken (a trimmed walk, firmware that reports no
parent): Arista's recording in tests/fixtures/librenms/ lists the DOM sensors of Ethernet8-30 without
entPhysicalContainedIn. The matcher is tried on names as vendors write them (Arista, IOS, IOS-XR, a bare
"1/1"), then `place_entity_sensors` on entity trees, then the real CLI on the real recording served by snmpsim,
twice: as recorded, and with two ports sharing one name, where the sensors naming it must stay on no port.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from monitor.collectors.entity import (
    CONTAINER,
    PORT,
    SENSOR,
    Entity,
    EntityTree,
    port_spellings,
    ports_named_in,
)
from monitor.collectors.sensors import CELSIUS, DBM, WATTS, RawSensor, place_entity_sensors
from monitor.model import SensorKind, Thresholds
from tests.conftest import LIBRENMS, Agent, run_saksi, start_snmpsim, stop

EOS = [(1, "Ethernet1"), (10, "Ethernet10"), (49, "Ethernet49"), (999001, "Management1")]
EOS_BREAKOUT = [(1, "Ethernet1"), *((490 + lane, f"Ethernet49/{lane}") for lane in range(1, 5))]
EOS_100G = [(1, "Ethernet1"), (491, "Ethernet49/1")]  # an unbroken QSFP port named after its first lane
IOS = [(49, "Gi1/0/49"), (49, "GigabitEthernet1/0/49"), (4, "Gi1/0/4"), (4, "GigabitEthernet1/0/4"),
       (101, "TenGigabitEthernet1/1/1")]
XR = [(5, "TenGigE0/0/0/0"), (6, "TenGigE0/0/0/1"), (7, "GigabitEthernet0/0/0/0"),
      (80, "TenGigE0/0/1/0/1"), (81, "TenGigE0/0/1/0/2")]  # 80, 81: a breakout of HundredGigE0/0/1/0
BARE = [(1, "1/1"), (2, "1/2"), (11, "1/1/1")]
NUMBERED = [(i, str(i)) for i in range(1, 49)]  # ProCurve: ports "1".."48"
TWINS = [(2101252, "TenGigabitEthernet 1/33"), (2113540, "TenGigabitEthernet 1/33")]  # Dell OS9 (dnos_s4048)


@pytest.mark.parametrize("ports,text,want", [
    # Arista: a port name is a whole word, never the start of a longer one.
    (EOS, "DOM Temperature Sensor for Ethernet1", {1: None}),
    (EOS, "DOM Temperature Sensor for Ethernet10", {10: None}),
    (EOS, "Ethernet10 Rx Power", {10: None}),
    (EOS, "DOM Temperature Sensor for Ethernet100", {}),
    (EOS, "DOM Temperature Sensor for Ethernet1.", {1: None}),
    # Arista's QSFP lanes: "Ethernet49/3" is lane 3 of port Ethernet49, or port Ethernet49/3 when the device has it.
    (EOS, "DOM RX Power Sensor for Ethernet49/3", {49: 3}),
    (EOS, "DOM RX Power Sensor for Ethernet1/1", {1: 1}),
    (EOS, "DOM RX Power Sensor for Ethernet49/9", {}),
    (EOS_BREAKOUT, "DOM RX Power Sensor for Ethernet49/3", {493: None}),
    (EOS_BREAKOUT, "DOM Temperature Sensor for Ethernet49", {}),
    (EOS_100G, "DOM RX Power Sensor for Ethernet49/1", {491: None}),
    (EOS_100G, "DOM RX Power Sensor for Ethernet49/2", {}),
    # IOS: ifName and ifDescr, long and short; "1/0/4" is not "1/0/49".
    (IOS, "GigabitEthernet1/0/49 Transmit Power Sensor", {49: None}),
    (IOS, "Gi1/0/4 Receive Power Sensor", {4: None}),
    (IOS, "Te1/1/1 Receive Power Sensor", {101: None}),
    (IOS, "GigabitEthernet1/0/4.100 Receive Power", {}),
    # IOS-XR: its own short spelling and the canonical one; a breakout port is not lane 1 of its parent.
    (XR, "TenGigE0/0/0/0-Tx Lane Power", {5: None}),
    (XR, "TenGigabitEthernet0/0/0/1 Rx Power", {6: None}),
    (XR, "TenGigE0/0/1/0/1-Rx Lane Power", {80: None}),
    (XR, "TenGigE0/0/1/0-Rx Lane Power", {}),
    (XR, "Voltage Sensor - VP1P8 voltage 0/0/0", {}),
    # Bare names: only a whole one, and only in a text that speaks of a port reading.
    (BARE, "Power RX 1/1", {1: None}),
    (BARE, "Power RX 1/1/1", {11: None}),
    (BARE, "Power sensor for power supply 1/1", {}),
    (BARE, "RPM sensor for fan Tray-1/1/1", {}),
    (NUMBERED, "Fan Tray 1 Fan 1 Sensor 1", {}),
    (NUMBERED, "DOM Rx Power port 1", {}),
    # Several ports: all are returned, so the caller places the sensor on none of them.
    (EOS, "Ethernet1 and Ethernet10 inlet", {1: None, 10: None}),
    (TWINS, "TenGigabitEthernet 1/33 Rx Power", {2101252: None, 2113540: None}),
    (TWINS, "Te1/33 Rx Power", {2101252: None, 2113540: None}),
])
def test_ports_named_in(ports: list[tuple[int, str]], text: str, want: dict[int, int | None]) -> None:
    assert ports_named_in(text, port_spellings(ports)) == want


# --- place_entity_sensors on entity trees ----------------------------------------------------------------------

CHASSIS = Entity(1, cls=3, descr="chassis")
XCVR1 = Entity(100301100, cls=CONTAINER, descr="Xcvr for Ethernet1", contained_in=1, alias="Ethernet1",
               serial="G1904016438", model="SFP-10G-SR", fru=True)
TEMP_LIMITS = Thresholds(low_alarm=-50.0, low_warn=-40.0, high_warn=85.0, high_alarm=100.0)


def _tree(*sensors: Entity, ports: list[tuple[int, str]] = EOS) -> EntityTree:
    names = {label: ifindex for ifindex, label in ports}
    return EntityTree({e.index: e for e in (CHASSIS, XCVR1, *sensors)}, names, ports)


def _raw(index: int, kind: int = CELSIUS, value: float = 36.9, thresholds: Thresholds = TEMP_LIMITS) -> RawSensor:
    return RawSensor(index, kind, value, thresholds, "ok", "entity-sensor", 0)


def test_a_sensor_without_containment_goes_to_the_port_it_names_with_its_thresholds() -> None:
    orphan = Entity(100310201, cls=0, descr="DOM Temperature Sensor for Ethernet10")
    skipped: Counter[str] = Counter()
    (s,) = place_entity_sensors([_raw(orphan.index)], _tree(orphan), skipped)
    assert (s.ifindex, s.kind, s.value, s.thresholds, s.lane) == (10, SensorKind.TEMPERATURE, 36.9, TEMP_LIMITS, None)
    assert not skipped


def test_a_lane_sensor_goes_to_its_qsfp_port_as_that_lane_in_dbm() -> None:
    """Arista states optical power in watts; placed on a port, the reading is an optic's, in dBm."""
    orphan = Entity(100349223, cls=SENSOR, descr="DOM RX Power Sensor for Ethernet49/2")
    (s,) = place_entity_sensors([_raw(orphan.index, WATTS, 0.0005, Thresholds(low_alarm=0.00001))], _tree(orphan))
    assert (s.ifindex, s.lane, s.kind) == (49, 2, SensorKind.RX_POWER)
    assert s.value == pytest.approx(-3.0103, abs=1e-4) and s.thresholds.low_alarm == pytest.approx(-20.0)


def test_containment_wins_over_the_name() -> None:
    """The name is the last resort: a sensor inside Ethernet1's transceiver stays there whatever it says."""
    inside = Entity(100301201, cls=SENSOR, descr="DOM Temperature Sensor for Ethernet10", contained_in=XCVR1.index)
    (s,) = place_entity_sensors([_raw(inside.index)], _tree(inside))
    assert s.ifindex == 1


def test_a_sensor_naming_several_ports_stays_on_none_and_is_counted() -> None:
    twins = Entity(7, cls=SENSOR, descr="TenGigabitEthernet 1/33 Rx Power")
    both = Entity(8, cls=SENSOR, descr="DOM Temperature Sensor for Ethernet1 and Ethernet10")
    skipped: Counter[str] = Counter()
    placed = place_entity_sensors([_raw(7, DBM, -3.1), _raw(8)], _tree(twins, both, ports=EOS + TWINS), skipped)
    assert [(s.ifindex, s.kind) for s in placed] == [(None, SensorKind.RX_POWER), (None, SensorKind.TEMPERATURE)]
    assert skipped == Counter({"entity-sensor: sensor names several ports, placed on none": 2})


def test_a_board_sensor_stays_a_board_sensor_uncounted_an_optic_naming_no_port_is_counted() -> None:
    board = Entity(100006001, cls=SENSOR, descr="Cpu temp sensor")
    optic = Entity(100350201, cls=SENSOR, descr="DOM Temperature Sensor for Ethernet50")
    skipped: Counter[str] = Counter()
    placed = place_entity_sensors([_raw(board.index), _raw(optic.index)], _tree(board, optic), skipped)
    assert [s.ifindex for s in placed] == [None, None]
    assert skipped == Counter({"entity-sensor: optical sensor on no port (its name names none)": 1})


def test_without_a_port_list_the_names_of_the_mapping_are_used() -> None:
    orphan = Entity(9, cls=PORT, descr="DOM TX Bias Sensor for Ethernet10")
    tree = EntityTree({9: orphan}, {"Ethernet10": 10, "Ethernet1": 1})
    assert tree.ports_named_by(9) == {10: None} and tree.ports_named_by(404) == {}


# --- the real recording, through the real CLI ------------------------------------------------------------------

ARISTA = LIBRENMS / "arista_eos.snmprec"
TWIN = "arista_twin"  # the same recording with port 10 renamed Ethernet9: two ports share one name
_FOR_PORT = re.compile(r"for Ethernet(\d+)$")


@pytest.fixture(scope="module")
def arista(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    if not ARISTA.is_file():
        pytest.skip(f"{ARISTA} is absent")
    work = tmp_path_factory.mktemp("snmpsim-arista")
    data = work / "data"
    data.mkdir()
    shutil.copy(ARISTA, data / "arista_eos.snmprec")
    if_names = r"^(1\.3\.6\.1\.2\.1\.(?:2\.2\.1\.2|31\.1\.1\.1\.1)\.(?:9|10)\|4\|)"  # ifDescr, ifName of 9 and 10
    renamed = re.sub(if_names + "Ethernet10$", r"\1Ethernet9", ARISTA.read_text(), flags=re.M)
    assert len(re.findall(if_names + "Ethernet9$", renamed, flags=re.M)) == 4
    (data / f"{TWIN}.snmprec").write_text(renamed)
    agent, proc = start_snmpsim(data, work, "arista_eos")
    try:
        yield {name: _check(agent, name) for name in ("arista_eos", TWIN)}
    finally:
        stop(proc)


def _check(agent: Agent, community: str) -> dict[str, Any]:
    r = run_saksi("check", "--host", agent.host, "--snmp-port", str(agent.port), "--community", community,
                  "--timeout", "5", "--json")
    assert r.returncode in (0, 1) and r.stdout.lstrip().startswith("{"), f"exit {r.returncode}: {r.stderr}"
    return dict(json.loads(r.stdout))


def _recorded(column: int, index: int) -> str:
    """One cell of the raw recording (entPhysicalTable or aristaEntSensorThresholdTable)."""
    oid = f"1.3.6.1.2.1.47.1.1.1.1.{column}.{index}|" if column < 100 else \
        f"1.3.6.1.4.1.30065.3.12.1.1.1.{column - 100}.{index}|"
    line = next(x for x in ARISTA.read_text().splitlines() if x.startswith(oid))
    return line.split("|", 2)[2]


def test_the_trimmed_recording_really_lacks_the_containment() -> None:
    """What the test below relies on: Ethernet1's sensors have a parent, Ethernet8's have none."""
    if not ARISTA.is_file():
        pytest.skip(f"{ARISTA} is absent")
    assert _recorded(4, 100301201) == "100301100"
    with pytest.raises(StopIteration):
        _recorded(4, 100308201)


def test_arista_dom_of_every_module_is_on_the_port_it_names(arista: dict[str, dict[str, Any]]) -> None:
    snap = arista["arista_eos"]
    with_dom = {p["name"] for p in snap["ports"] if p["dom"]}
    assert with_dom == {f"Ethernet{n}" for n in (*range(1, 31), 43, 44, 46, 47, 48)}
    placed = [s for s in snap["sensors"] if s["ifindex"] is not None]
    assert len(placed) == 35 * 5
    for s in placed:  # never on another port than its own name says
        assert (m := _FOR_PORT.search(s["descr"])) and int(m.group(1)) == s["ifindex"], s
    assert all(s["ifindex"] is None for s in snap["sensors"] if not _FOR_PORT.search(s["descr"]))
    # Ethernet8's temperature and limits, as recorded: 369 tenths of °C; aristaEntSensorThreshold -500/-400/850/1000.
    e8 = next(p for p in snap["ports"] if p["name"] == "Ethernet8")["dom"]
    assert (_recorded(2, 100308201), _recorded(102, 100308201), _recorded(104, 100308201)) == (
        "DOM Temperature Sensor for Ethernet8", "-500", "1000")
    assert e8["temperature_c"] == 36.9 and e8["thresholds_stated"]
    assert e8["thresholds"]["temperature_c"] == {"low_alarm": -50.0, "low_warn": -40.0, "high_warn": 85.0,
                                                 "high_alarm": 100.0}
    assert set(e8["thresholds"]) == {"temperature_c", "voltage_v", "bias_ma", "tx_dbm", "rx_dbm"}
    assert not {k: v for k, v in snap["skipped"].items() if "port" in k}


def test_arista_sensors_naming_a_shared_port_name_stay_on_no_port(arista: dict[str, dict[str, Any]]) -> None:
    """Ports 9 and 10 both called Ethernet9 (Dell OS9 answers such twins): "for Ethernet9" names two ports and
    "for Ethernet10" none, so neither module's readings go anywhere; both are counted."""
    twin = arista[TWIN]
    by_port = {p["ifindex"]: p for p in twin["ports"]}
    assert by_port[9]["name"] == by_port[10]["name"] == "Ethernet9"
    assert by_port[9]["dom"] is None and by_port[10]["dom"] is None
    for n in (9, 10):
        stray = [s for s in twin["sensors"] if s["descr"].endswith(f"for Ethernet{n}")]
        assert len(stray) == 5 and all(s["ifindex"] is None for s in stray)
    assert twin["skipped"]["entity-sensor: sensor names several ports, placed on none"] == 5
    assert twin["skipped"]["entity-sensor: optical sensor on no port (its name names none)"] == 5
    assert next(p for p in twin["ports"] if p["name"] == "Ethernet8")["dom"]["temperature_c"] == 36.9
    assert sum(1 for p in twin["ports"] if p["dom"]) == 33
