"""Reports into a real SQLite store: joined to the open incident with its owner and latest public note,
or opening a customer_report incident with a triage; never naming another site's device or port."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.alerts.people import Desk
from monitor.inventory import Inventory
from monitor.model import Port, Snapshot
from monitor.reports import ReportBook, ReportError, receive
from monitor.state.store import Store
from monitor.witness.incidents import Incident
from tests.reports.conftest import NOW, UP, fmt, healthy
from tests.state.seed import seed


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'saksi.db'}")
    for name, snap in healthy().items():
        seed(s, "far" if name == "edge-9" else "hq", [snap])
    return s


def backbone(store: Store) -> Incident:
    return store.upsert_incident(Incident(
        "k", "transceiver_removed", "core-sw1", f"{UP}49", site="hq", customer="acme", detected_at=NOW - 300,
        started_at=NOW - 310, link={"a": f"core-sw1:{UP}49", "b": f"dist-sw2:{UP}25"},
        affected=[f"core-sw1:{UP}49", f"dist-sw2:{UP}25"]))


@pytest.mark.parametrize(("site", "device", "port", "why"), [
    ("hq", "edge-9", None, "no device 'edge-9' at site hq"),  # another customer's device
    ("hq", "core-sw1", "Gi1/0/7", "no port 'Gi1/0/7' on core-sw1"),  # not a port Saksi knows there
    ("hq", None, "Gi1/0/49", "a port needs its device"),
    ("nowhere", None, None, "unknown site 'nowhere'"),
])
def test_a_report_names_only_the_reporters_own_places(store: Store, inv: Inventory, site: str,
                                                      device: str | None, port: str | None, why: str) -> None:
    with pytest.raises(ReportError, match=why):
        receive(store, inv, site, device, port, "it is broken", "ann", "web", NOW, fmt)
    assert ReportBook(store).since(0) == [], "nothing is kept of a refused report"


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_a_report_is_a_few_words(store: Store, inv: Inventory, text: str) -> None:
    with pytest.raises(ReportError):
        receive(store, inv, "hq", None, None, text, "ann", "web", NOW, fmt)


def test_three_reports_of_one_problem_join_one_incident_with_its_owner(store: Store, inv: Inventory
                                                                       ) -> None:
    inc = backbone(store)
    desk = Desk(store)
    desk.ack(inc.id, "aino", NOW - 200)
    desk.note(inc.id, "aino", "internal: the fibre tray of cust B is a mess", NOW - 150)
    desk.note(inc.id, "aino", "A technician is on the way with a spare module", NOW - 100, public=True)
    replies = [receive(store, inv, "hq", d, p, text, who, "web", NOW + n, fmt) for n, (d, p, text, who) in enumerate([
        (None, None, "nothing works", "ann"), ("dist-sw2", None, "the printers are gone", "bob"),
        ("dist-sw2", "Gi1/0/25", "this port is dark", "cid")])]
    assert {(r.incident.id, r.attached, r.owner) for r in replies} == {(inc.id, True, "aino")}
    assert replies[0].words(fmt) == f"Already being handled by aino since t={NOW - 200:g} ({inc.id})."
    assert replies[0].note is not None and replies[0].note["text"] == "A technician is on the way with a spare module"
    assert [r.by for r in ReportBook(store).for_incident(inc.id)] == ["ann", "bob", "cid"]
    assert len(store.incidents()) == 1


def test_a_report_nothing_covers_opens_a_customer_report_incident_with_a_triage(store: Store,
                                                                                inv: Inventory) -> None:
    backbone(store)  # open, but on another path than the customer's port
    first = receive(store, inv, "hq", "acc-sw3", "Gi1/0/3", "my PC has no network", "ann", "web", NOW, fmt)
    assert not first.attached and first.incident.cause == "customer_report"
    assert first.triage is not None and first.triage.healthy
    assert "likely not a network problem" in first.incident.summary
    assert first.incident.port is None and first.incident.affected == [], "correlation has nothing to fold into it"
    again = receive(store, inv, "hq", "acc-sw3", "Gi1/0/3", "still nothing", "ann", "phone", NOW + 5, fmt)
    assert again.attached and again.incident.id == first.incident.id
    assert [i.cause for i in store.open_incidents("hq")] == ["transceiver_removed", "customer_report"]


def test_a_down_port_the_customer_names_is_the_verdict(store: Store, inv: Inventory) -> None:
    seed(store, "hq", [Snapshot("acc-sw3", NOW - 10, True, ports=(Port(3, f"{UP}3", admin="up", oper="down"),
                                                                  Port(25, f"{UP}25", admin="up", oper="up")))])
    reply = receive(store, inv, "hq", "acc-sw3", "Gi1/0/3", "no network", "ann", "web", NOW, fmt)
    assert reply.triage is not None and not reply.triage.healthy
    assert reply.triage.verdict == "port acc-sw3 GigabitEthernet1/0/3 is down (admin up)"
