"""Triage as a pure function: an inventory, last snapshots, changes and incidents in; a verdict out."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.inventory import Inventory, load_inventory
from monitor.model import Port, Snapshot
from monitor.reports.triage import path, render_triage, triage
from monitor.witness.changes import Change, ChangeKind
from monitor.witness.incidents import Incident

NOW = 1_000_000.0
DAY = 86400.0
UP = "GigabitEthernet1/0/"


def fmt(t: float) -> str:
    return f"t={t:g}"


@pytest.fixture
def inv(tmp_path: Path) -> Inventory:
    f = tmp_path / "inv.yaml"
    f.write_text("""customers: [{name: acme}, {name: other}]
sites:
  - {name: hq, customer: acme}
  - {name: far, customer: other}
credentials: {snmp: {lab: {version: 2c, community: "public-ro"}}}
devices:
  - {name: core-sw1, site: hq, host: 127.0.0.1, port: 1161, platform: cisco_ios, snmp: lab}
  - {name: dist-sw2, site: hq, host: 127.0.0.1, port: 1162, platform: cisco_ios, snmp: lab}
  - {name: acc-sw3, site: hq, host: 127.0.0.1, port: 1163, platform: cisco_ios, snmp: lab}
  - {name: edge-9, site: far, host: 127.0.0.1, port: 1169, platform: cisco_ios, snmp: lab}
links:
  - {a: "core-sw1:Gi1/0/49", b: "dist-sw2:Gi1/0/25", role: backbone}
  - {a: "dist-sw2:Gi1/0/26", b: "acc-sw3:Gi1/0/25", role: uplink}
""")
    return load_inventory(f)


def snap(device: str, *ports: tuple[int, str], reachable: bool = True) -> Snapshot:
    return Snapshot(device, NOW - 30, reachable, ports=tuple(Port(n, f"{UP}{n}", admin="up", oper=oper)
                                                             for n, oper in ports))


def healthy() -> dict[str, Snapshot]:
    return {"core-sw1": snap("core-sw1", (49, "up")), "dist-sw2": snap("dist-sw2", (1, "up"), (25, "up"), (26, "up")),
            "acc-sw3": snap("acc-sw3", (25, "up"), (3, "up")), "edge-9": snap("edge-9", (1, "down"))}


def test_the_path_of_a_port_is_its_link_and_its_device_uplinks(inv: Inventory) -> None:
    devices, links = path(inv, "hq", "acc-sw3", f"{UP}3")
    assert devices == ["acc-sw3", "dist-sw2"]
    assert [(str(x.a), str(x.b)) for x in links] == [(f"dist-sw2:{UP}26", f"acc-sw3:{UP}25")]
    devices, links = path(inv, "hq", None, None)
    assert devices == ["acc-sw3", "core-sw1", "dist-sw2"] and len(links) == 2, "the whole site, and only it"


def test_a_healthy_path_says_so_since_its_last_change(inv: Inventory) -> None:
    changes = [Change(ChangeKind.PORT_UP, "acc-sw3", NOW - 2 * DAY, f"{UP}3"),
               Change(ChangeKind.PORT_DOWN, "edge-9", NOW - 60, f"{UP}1")]  # another site: not read
    t = triage(inv, "hq", "acc-sw3", "Gi1/0/3", healthy(), changes, [], NOW, fmt)
    assert t.healthy
    assert t.verdict == f"the network path looks healthy since t={NOW - 2 * DAY:g}: likely not a network problem"
    text = render_triage(t, fmt)
    assert "edge-9" not in text and "far" not in text
    assert "acc-sw3 GigabitEthernet1/0/3: admin up, oper up, no module" in text


def test_a_flapping_port_is_named_with_when_it_started(inv: Inventory) -> None:
    flaps = [Change(ChangeKind.PORT_DOWN, "acc-sw3", NOW - s, f"{UP}3") for s in (3000.0, 2000.0, 1000.0)]
    t = triage(inv, "hq", "acc-sw3", "Gi1/0/3", healthy(), flaps, [], NOW, fmt)
    assert not t.healthy and t.verdict == f"port acc-sw3 GigabitEthernet1/0/3 has been flapping since t={NOW - 3000:g}"


@pytest.mark.parametrize(("snaps", "incidents", "want"), [
    ({**healthy(), "dist-sw2": snap("dist-sw2", reachable=False)}, [], "dist-sw2 is not answering"),
    ({**healthy(), "core-sw1": snap("core-sw1", (49, "down"))}, [],
     f"the link core-sw1 GigabitEthernet1/0/49 <-> dist-sw2 GigabitEthernet1/0/25 is down since t={NOW - 30:g}"),
    (healthy(), [Incident("k", "transceiver_removed", "core-sw1", f"{UP}49", site="hq", id="SAK-000004",
                          started_at=NOW - 600)],
     f"SAK-000004 (transceiver removed) is open on this path since t={NOW - 600:g}"),
])
def test_what_is_wrong_on_the_site_comes_first(inv: Inventory, snaps: dict[str, Snapshot],
                                              incidents: list[Incident], want: str) -> None:
    t = triage(inv, "hq", None, None, snaps, [], incidents, NOW, fmt)
    assert not t.healthy and t.verdict.startswith(want)


def test_nothing_polled_yet_is_said_plainly(inv: Inventory) -> None:
    t = triage(inv, "hq", None, None, {}, [], [], NOW, fmt)
    assert not t.healthy and "has not polled" in t.verdict
