"""The witness compares each poll with the last *known* picture of a device, aspect by aspect."""

from __future__ import annotations

from monitor.model import DeviceFacts, Port, Snapshot, TableHealth, TableStatus, Transceiver
from monitor.witness.changes import ChangeKind
from monitor.witness.correlate import Correlator
from monitor.witness.observer import Witness
from monitor.witness.topology import Topology

OK, PARTIAL = TableStatus.OK, TableStatus.PARTIAL
PORT = Port(ifindex=1, name="GigabitEthernet1/0/1", admin="up", oper="up")
SFP = Transceiver("CISCO", "GLC-LX-SMD", "FNS0001", ifindex=1)


def snap(t: float, modules: TableStatus, transceivers: tuple[Transceiver, ...], oper: str = "up") -> Snapshot:
    tables = (TableHealth("system", OK, 1), TableHealth("ifTable", OK, 1), TableHealth("ifXTable", OK, 1),
              TableHealth("entPhysicalTable", modules, 3))
    return Snapshot("sw1", t, True, DeviceFacts(uptime_s=1000 + t), ports=(Port(1, PORT.name, admin="up", oper=oper),),
                    transceivers=transceivers, tables=tables)


def test_a_removal_during_a_partial_poll_is_reported_at_the_next_complete_one() -> None:
    w = Witness(Correlator(Topology(devices={"sw1"})))
    w.observe([snap(0, OK, (SFP,))], 0)
    partial = w.observe([snap(60, PARTIAL, ())], 60)  # removed meanwhile, but the table did not answer in full
    assert not [c for c in partial.changes if c.kind is ChangeKind.TRANSCEIVER_REMOVED]
    seen = w.observe([snap(120, OK, ())], 120)
    removed = [c for c in seen.changes if c.kind is ChangeKind.TRANSCEIVER_REMOVED]
    assert [(c.device, c.port, c.serial, c.at) for c in removed] == [("sw1", PORT.name, "FNS0001", 120)]


def test_a_partial_poll_never_reports_a_removal() -> None:
    w = Witness(Correlator(Topology(devices={"sw1"})))
    seen = [w.observe([snap(t, OK if t in (0, 240) else PARTIAL, (SFP,) if t in (0, 240) else ())], t)
            for t in (0, 60, 120, 180, 240)]
    assert not [c for o in seen for c in o.changes if c.kind.value.startswith("transceiver")]
    assert not [i for o in seen for i in o.incidents]
