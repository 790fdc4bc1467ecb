"""Identity through renumbering and partial answers (issue 9).

Ports and modules are known by canonical port name and serial: a device that renumbers its ifIndex values
after a reboot, answers only some tables, or cuts a walk short never has a module reported removed or moved.
The scenarios (tests/scenarios/identity-*.yaml) carry their own `expect:`/`expected_incidents:`, checked by
test_scenarios/test_incidents; here: that their faults really bit, and the pure pieces on hand-made snapshots.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.common.names import canonical_port
from monitor.lab import scenario
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
from monitor.witness.changes import ChangeKind, detect, doubt_empty, follow_renumbering
from monitor.witness.correlate import Correlator
from monitor.witness.observer import Witness, known_picture
from monitor.witness.topology import Topology
from tests.conftest import SCENARIOS, on_scenario, played, scenario_params

OK, EMPTY, TIMEOUT, PARTIAL = TableStatus.OK, TableStatus.EMPTY, TableStatus.TIMEOUT, TableStatus.PARTIAL
A, B, C = "GigabitEthernet1/0/25", "GigabitEthernet1/0/26", "GigabitEthernet1/0/1"
SFP_A = Transceiver("CISCO", "GLC-LX-SMD", "FNS0001", ifindex=25)
SFP_B = Transceiver("CISCO", "GLC-LX-SMD", "FNS0002", ifindex=26)
MODULE_KINDS = {ChangeKind.TRANSCEIVER_REMOVED, ChangeKind.TRANSCEIVER_INSERTED, ChangeKind.TRANSCEIVER_REPLACED}


def _scenario(stem: str) -> Path:
    return next(p for p in SCENARIOS if p.stem == stem)


RENUMBERED, PARTIAL_ANSWERS, SLOW_INVENTORY = (
    _scenario(s) for s in ("identity-reboot-renumbered", "identity-partial-answers",
                           "identity-renumbered-slow-inventory"))


def ports(numbering: dict[str, int]) -> tuple[Port, ...]:
    return tuple(Port(ifindex=i, name=n, admin="up", oper="up") for n, i in numbering.items())


def snap(t: float, numbering: dict[str, int], modules: tuple[Transceiver, ...], entity: TableStatus = OK,
         uptime: float | None = None, rows: int = 5) -> Snapshot:
    tables = (TableHealth("system", OK, 1), TableHealth("ifTable", OK, len(numbering)),
              TableHealth("ifXTable", OK, len(numbering)),
              TableHealth("entPhysicalTable", entity, rows if entity in (OK, PARTIAL) else 0))
    return Snapshot("sw1", t, True, DeviceFacts(uptime_s=1000 + t if uptime is None else uptime),
                    ports=ports(numbering), transceivers=modules, tables=tables)


BEFORE = {A: 25, B: 26, C: 1}
REVERSED = {A: 26, B: 25, C: 1}  # the two cages swapped numbers: the worst case for anything keyed by ifIndex


# --- pure: detect and the baseline ---------------------------------------------------------------------------
def test_a_renumbered_device_keeps_its_modules_in_their_ports() -> None:
    prev = snap(0, BEFORE, (SFP_A, SFP_B))
    curr = snap(60, REVERSED, (Transceiver("CISCO", "GLC-LX-SMD", "FNS0001", ifindex=26),
                               Transceiver("CISCO", "GLC-LX-SMD", "FNS0002", ifindex=25)), uptime=30)
    assert [c.kind for c in detect(prev, curr, 60)] == [ChangeKind.REBOOTED]


def test_a_module_really_swapped_is_still_seen_after_renumbering() -> None:
    prev = snap(0, BEFORE, (SFP_A, SFP_B))
    same_numbers = snap(60, REVERSED, (Transceiver("CISCO", "GLC-LX-SMD", "FNS0001", ifindex=25),
                                       Transceiver("CISCO", "GLC-LX-SMD", "FNS0002", ifindex=26)), uptime=30)
    got = {(c.kind, c.port) for c in detect(prev, same_numbers, 60) if c.kind in MODULE_KINDS}
    assert got == {(ChangeKind.TRANSCEIVER_REPLACED, A), (ChangeKind.TRANSCEIVER_REPLACED, B)}


@pytest.mark.parametrize(("items", "want"), [
    pytest.param((SFP_A, SFP_B), [26, 25], id="swapped-by-name"),
    pytest.param((Transceiver("X", "Y", "Z", ifindex=99),), [99], id="unknown-port-keeps-its-number"),
    pytest.param((Transceiver("X", "Y", "Z", ifindex=None),), [None], id="unplaced-stays-unplaced"),
    pytest.param((Sensor("s:1", SensorKind.RX_POWER, -3.0, Thresholds(), "t", ifindex=1),), [1], id="unchanged"),
    pytest.param((Neighbor(25, "Gi1/0/25", "core", "Gi1/0/49"),), [26], id="neighbour"),
])
def test_follow_renumbering(items: tuple, want: list[int | None]) -> None:  # type: ignore[type-arg]
    got = follow_renumbering(items, ports(BEFORE), ports(REVERSED))
    assert [x.ifindex for x in got] == want
    assert [getattr(x, "serial", None) for x in got] == [getattr(x, "serial", None) for x in items]


def test_the_baseline_never_mixes_two_numberings() -> None:
    """Modules kept from the last complete poll are re-indexed to the ports of the renumbered one."""
    base = snap(0, BEFORE, (SFP_A, SFP_B))
    after_boot = snap(60, REVERSED, (), entity=TIMEOUT, uptime=30)
    picture = known_picture(base, after_boot)
    assert {picture.port(t.ifindex).name: t.serial for t in picture.transceivers  # type: ignore[union-attr]
            } == {A: "FNS0001", B: "FNS0002"}
    back = snap(120, REVERSED, (Transceiver("CISCO", "GLC-LX-SMD", "FNS0001", ifindex=26),
                                Transceiver("CISCO", "GLC-LX-SMD", "FNS0002", ifindex=25)), uptime=90)
    assert detect(picture, back, 120) == []


def test_an_empty_entity_table_after_rows_is_not_believed() -> None:
    prev = snap(0, BEFORE, (SFP_A, SFP_B))
    curr = snap(60, BEFORE, (), entity=EMPTY)
    assert doubt_empty(prev, curr).table("entPhysicalTable").status is TableStatus.ERROR
    assert "not believed" in (doubt_empty(prev, curr).table("entPhysicalTable").error or "")
    assert not [c for c in detect(prev, curr, 60) if c.kind in MODULE_KINDS]
    assert doubt_empty(snap(0, BEFORE, (), entity=EMPTY), curr) is curr  # never had rows: empty is a fact


def test_a_removal_after_an_empty_answer_is_reported_once_the_table_answers() -> None:
    w = Witness(Correlator(Topology(devices={"sw1"})))
    w.observe([snap(0, BEFORE, (SFP_A, SFP_B))], 0)
    empty = w.observe([snap(60, BEFORE, (), entity=EMPTY)], 60)
    assert not [c for c in empty.changes if c.kind in MODULE_KINDS]
    answered = w.observe([snap(120, BEFORE, (SFP_B,))], 120)
    assert [(c.kind, c.port, c.serial) for c in answered.changes if c.kind in MODULE_KINDS] == [
        (ChangeKind.TRANSCEIVER_REMOVED, A, "FNS0001")]


# --- the lab: the faults bite, and nothing false comes out ------------------------------------------------------
def _ifindex(stem: str, device: str, port: str, at: float) -> int:
    p = played(_scenario(stem)).at(device, at).port(canonical_port(port))
    assert p is not None
    return p.ifindex


@on_scenario(RENUMBERED)
@pytest.mark.parametrize(("device", "port", "at"), [("dist-sw2", "Gi1/0/25", 480), ("dist-sw2", "Gi1/0/1", 480),
                                                    ("leaf-a", "Ethernet1", 780), ("edge-j", "ge-0/0/8", 1080)])
def test_the_renumbering_reboot_gave_new_numbers(device: str, port: str, at: float) -> None:
    assert _ifindex("identity-reboot-renumbered", device, port, at) != \
        _ifindex("identity-reboot-renumbered", device, port, 0)


@on_scenario(RENUMBERED)
def test_leaf_a_handed_its_numbers_out_in_reverse() -> None:
    stem = "identity-reboot-renumbered"
    assert _ifindex(stem, "leaf-a", "Ethernet1", 780) == _ifindex(stem, "leaf-a", "Ethernet8", 0)


@pytest.mark.parametrize("path", scenario_params([RENUMBERED, PARTIAL_ANSWERS, SLOW_INVENTORY]))
def test_no_module_or_port_is_reported_removed_or_moved(path: Path) -> None:
    result = played(path)
    assert not [c for c in result.changes if c["what"].startswith("transceiver") or c["what"] == "entity_changed"]
    assert not [i for i in result.incidents if i["cause"].startswith("transceiver")]


def _status(stem: str, device: str, at: float, table: str) -> TableHealth:
    return played(_scenario(stem)).at(device, at).table(table)


@on_scenario(PARTIAL_ANSWERS)
def test_the_partial_answers_really_were_partial() -> None:
    stem = "identity-partial-answers"
    assert _status(stem, "dist-sw2", 180, "entPhysicalTable").status is TIMEOUT  # silent sub-agent
    assert _status(stem, "dist-sw2", 480, "entPhysicalTable").status is OK  # its time is up
    cut = _status(stem, "core-sw1", 180, "entPhysicalTable")
    assert cut.status is PARTIAL and cut.rows == 12 and "genErr" in (cut.error or "")
    assert _status(stem, "leaf-a", 300, "ifXTable").status is EMPTY
    assert _status(stem, "leaf-a", 600, "lldpRemTable").status is PARTIAL  # no duration: for good


@on_scenario(SLOW_INVENTORY)
def test_the_slow_inventory_was_silent_then_empty_after_the_reboot() -> None:
    stem = "identity-renumbered-slow-inventory"
    assert _status(stem, "dist-sw2", 480, "entPhysicalTable").status is TIMEOUT
    assert _status(stem, "dist-sw2", 600, "entPhysicalTable").status is EMPTY
    assert _status(stem, "dist-sw2", 720, "entPhysicalTable").status is OK


BAD = {
    "renumber": ("{at: 10, do: reboot_device, device: s1, renumber: sideways}",
                 "step 1 (reboot_device): renumber must be true, false, 'reverse' or 'shift' (got 'sideways')"),
    "unknown table": ("{at: 10, do: stop_answering, device: s1, tables: [ifTabel]}",
                      "step 1 (stop_answering): unknown table 'ifTabel' (known: "),
    "no tables": ("{at: 10, do: stop_answering, device: s1}", "step 1 (stop_answering): needs tables"),
    "how": ("{at: 10, do: stop_answering, device: s1, tables: [ifXTable], how: loud}",
            "how must be 'silent' or 'empty' (got 'loud')"),
    "duration": ("{at: 10, do: stop_answering, device: s1, tables: [ifXTable], duration: -5}",
                 "duration must be a positive number of seconds (got -5)"),
    "rows": ("{at: 10, do: cut_table, device: s1, table: ifTable, rows: 0}", "step 1 (cut_table): rows must be"),
    "cut table": ("{at: 10, do: cut_table, device: s1, table: nope, rows: 3}", "unknown table 'nope'"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_malformed_fault_steps_are_rejected(case: str) -> None:
    step, message = BAD[case]
    import yaml

    raw = yaml.safe_load("name: bad\nsite:\n  devices:\n    - {name: s1, platform: cisco_ios, ports: 28}\n"
                         f"steps:\n  - {step}\n")
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.parse(raw, "bad.yaml")
    assert message in str(err.value)
