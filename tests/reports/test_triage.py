"""Triage as a pure function: an inventory, last snapshots, changes and incidents in; a verdict out."""

from __future__ import annotations

import pytest

from monitor.inventory import Inventory
from monitor.model import Snapshot
from monitor.reports.triage import path, render_triage, triage
from monitor.witness.changes import Change, ChangeKind
from monitor.witness.incidents import Incident
from tests.reports.conftest import DAY, NOW, UP, fmt, healthy, snap


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
