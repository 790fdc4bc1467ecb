"""Change detection as a pure function of two snapshots and `now`: table-driven, no agents, no sockets."""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.model import DeviceFacts, Neighbor, Port, Snapshot, TableHealth, TableStatus, Transceiver
from monitor.witness.changes import Change, detect
from monitor.witness.changes import ChangeKind as K

OK, PARTIAL, TIMEOUT = TableStatus.OK, TableStatus.PARTIAL, TableStatus.TIMEOUT
G1, G2 = "GigabitEthernet1/0/1", "GigabitEthernet1/0/2"
SFP = Transceiver("CISCO", "GLC-LX-SMD", "FNS0001", ifindex=1)
OTHER = Transceiver("CISCO", "GLC-LX-SMD", "FNS0002", ifindex=1)
FAR = Neighbor(1, G1, "dist-sw2", "Gi1/0/25")


def snap(t: float = 0.0, *, ports: tuple[Port, ...] | None = None, modules: tuple[Transceiver, ...] = (SFP,),
         neighbors: tuple[Neighbor, ...] = (FAR,), uptime: float | None = None,
         status: dict[str, TableStatus] | None = None, reachable: bool = True) -> Snapshot:
    """One poll of sw1: two ports up, a module in Gi1/0/1 and its LLDP neighbour, every table answered."""
    names = ("system", "ifTable", "ifXTable", "entPhysicalTable", "lldpRemTable", "lldpLocPortTable")
    tables = tuple(TableHealth(n, (status or {}).get(n, OK), 1) for n in names)
    ports = ports if ports is not None else (Port(1, G1, admin="up", oper="up", in_errors=0),
                                              Port(2, G2, admin="up", oper="up", in_errors=0))
    return Snapshot("sw1", t, reachable, DeviceFacts(uptime_s=10_000 + t if uptime is None else uptime),
                    ports=ports, transceivers=modules, neighbors=neighbors, tables=tables if reachable else (),
                    error=None if reachable else "timeout")


def port(n: int, **kw: object) -> Port:
    return replace(Port(n, G1 if n == 1 else G2, admin="up", oper="up", in_errors=0), **kw)  # type: ignore[arg-type]


CASES: dict[str, tuple[Snapshot, list[tuple[K, str | None]]]] = {
    "nothing changed": (snap(60), []),
    "a port went down": (snap(60, ports=(port(1, oper="down"), port(2))), [(K.PORT_DOWN, G1)]),
    "shut down by hand": (snap(60, ports=(port(1, admin="down", oper="down"), port(2))),
                          [(K.ADMIN_DOWN, G1), (K.PORT_DOWN, G1)]),
    "flapped between polls": (snap(60, ports=(port(1, last_change_s=10_030.0), port(2))), [(K.PORT_DOWN, G1)]),
    "oper unknown is no change": (snap(60, ports=(port(1, oper="unknown"), port(2))), []),
    "module removed": (snap(60, modules=()), [(K.TRANSCEIVER_REMOVED, G1)]),
    "module replaced": (snap(60, modules=(OTHER,)), [(K.TRANSCEIVER_REPLACED, G1)]),
    "module moved to the next port": (snap(60, modules=(replace(SFP, ifindex=2),)),
                                      [(K.TRANSCEIVER_REMOVED, G1), (K.TRANSCEIVER_INSERTED, G2)]),
    "partial module table: unknown, not removed": (snap(60, modules=(), status={"entPhysicalTable": PARTIAL}), []),
    "port table timed out: nothing can be named": (
        snap(60, ports=(port(1, oper="down"),), status={"ifTable": TIMEOUT}), []),
    "neighbour lost": (snap(60, neighbors=()), [(K.NEIGHBOR_LOST, G1)]),
    "LLDP did not answer: no neighbour lost": (snap(60, neighbors=(), status={"lldpRemTable": TIMEOUT}), []),
    "errors rising": (snap(60, ports=(port(1, in_errors=6000), port(2))), [(K.ERRORS_RISING, G1)]),
    "rebooted": (snap(60, uptime=30.0), [(K.REBOOTED, None)]),
    "no answer": (snap(60, reachable=False), [(K.UNREACHABLE, None)]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_detect(case: str) -> None:
    curr, want = CASES[case]
    assert [(c.kind, c.port) for c in detect(snap(0), curr, 60.0)] == want


def test_the_first_poll_is_a_baseline_not_a_change() -> None:
    assert detect(None, snap(0), 0.0) == []


def test_silence_after_silence_is_said_once() -> None:
    assert detect(snap(0, reachable=False), snap(60, reachable=False), 60.0) == []


def test_a_removal_names_the_module_that_left() -> None:
    (c,) = detect(snap(0), snap(60, modules=()), 60.0)
    assert (c.serial, c.before, c.after) == ("FNS0001", {"vendor": "CISCO", "model": "GLC-LX-SMD",
                                                         "serial": "FNS0001"}, None)


def test_a_renumbered_device_keeps_its_ports_and_modules() -> None:
    """After a reboot a device may number its interfaces anew: names and serials, not ifIndex, are identity."""
    renumbered = snap(60, ports=(replace(port(1), ifindex=11), replace(port(2), ifindex=12)),
                      modules=(replace(SFP, ifindex=11),), neighbors=(replace(FAR, ifindex=11),))
    assert detect(snap(0), renumbered, 60.0) == []


def test_evidence_is_what_an_incident_keeps() -> None:
    c = Change(K.PORT_DOWN, "sw1", 60.0, G1, since=55.0, before="up", after="down")
    assert c.when == 55.0 and c.evidence() == {
        "at": 55.0, "seen_at": 60.0, "source": "poll", "device": "sw1", "port": G1, "what": "port_down",
        "before": "up", "after": "down", "detail": ""}
