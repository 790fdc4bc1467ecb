"""The stages' pure decisions, table by table: what transition, which incident explains which, which
window covers what, who is next on duty."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from monitor.alerts import config, delivery, oncall
from monitor.alerts.config import Route
from monitor.alerts.inhibit import explained_by
from monitor.alerts.model import AlertRow
from monitor.alerts.pipeline import transition
from monitor.alerts.silence import covers
from monitor.alerts.state import Window
from monitor.witness.incidents import Incident

GI49, GI25 = "GigabitEthernet1/0/49", "GigabitEthernet1/0/25"
ROUTE = Route("r", "network", escalate_after=300, repeat_interval=1000)


@pytest.mark.parametrize("module", [config, delivery, oncall], ids=lambda m: m.__name__)
def test_doctests(module: ModuleType) -> None:
    assert doctest.testmod(module).failed == 0


def inc(**kw: object) -> Incident:
    fields: dict[str, object] = {"key": "k", "cause": "transceiver_removed", "device": "core-sw1", "port": GI49, "site": "hq",
                                     "detected_at": 100.0, "id": "SAK-000001"}
    fields.update(kw)
    return Incident(**fields)  # type: ignore[arg-type]


PAGED = {"paged_at": 100.0, "last_page_at": 100.0, "assigned_at": 100.0, "owner": "alice", "tier": 1}
TRANSITIONS = [
    # (incident, row, now, timed) -> transition
    ("new", {}, {}, 100, False, ("opened", 1)),
    ("new, seen by the clock", {}, {}, 100, True, ("opened", 1)),
    ("new symptom", {}, PAGED, 150, False, ("updated", 1)),
    ("quiet", {}, PAGED, 150, True, None),
    ("unacknowledged too long", {}, PAGED, 400, True, ("escalated", 2)),
    ("no tier after the last", {}, {**PAGED, "tier": 2}, 400, True, None),
    ("reminder at the last tier", {}, {**PAGED, "tier": 2}, 1100, True, ("reminder", 2)),
    ("acknowledged", {}, {**PAGED, "acked_at": 120.0}, 5000, True, None),
    ("a person escalated", {}, {**PAGED, "tier": 2, "pending": "escalated"}, 150, False, ("escalated", 2)),
    ("resolved after a page", {"resolved_at": 200.0}, PAGED, 200, False, ("resolved", 1)),
    ("resolved, told", {"resolved_at": 200.0}, {**PAGED, "resolved_notified": True}, 300, True, None),
    ("resolved, never paged", {"resolved_at": 200.0}, {}, 200, False, ("resolved", 0)),
    ("back after its resolution was sent", {"flaps": 1}, {**PAGED, "resolved_notified": True}, 900, False,
     ("opened", 1)),
]


@pytest.mark.parametrize("case", TRANSITIONS, ids=[c[0] for c in TRANSITIONS])
def test_transition(case: tuple) -> None:  # type: ignore[type-arg]
    _, incident, row, now, timed, want = case
    assert transition(inc(**incident), AlertRow("SAK-000001", **row), ROUTE, 2, now, timed) == want


LINK = inc(link={"a": f"core-sw1:{GI49}", "b": f"dist-sw2:{GI25}"},
           affected=[f"core-sw1:{GI49}", f"dist-sw2:{GI25}", "device:acc-sw3"])
INHIBIT = [
    ("device behind the link", inc(id="SAK-2", cause="device_unreachable", device="acc-sw3", port=None,
                                   detected_at=130.0), "device_behind"),
    ("far end raised alone", inc(id="SAK-2", cause="unknown", device="dist-sw2", port=GI25, detected_at=130.0),
     "port_covered"),
    ("same link twice", inc(id="SAK-2", cause="cable_unplugged", device="dist-sw2", port="Gi1/0/25",
                            link=LINK.link, affected=[f"dist-sw2:{GI25}"], detected_at=130.0), "port_covered"),
    ("unrelated", inc(id="SAK-2", cause="unknown", device="acc-sw9", port=GI25, detected_at=130.0), None),
    ("explains the later one, not the earlier", inc(id="SAK-0", cause="unknown", device="dist-sw2", port=GI25,
                                                     link=LINK.link, affected=[f"dist-sw2:{GI25}",
                                                                               f"core-sw1:{GI49}"],
                                                     detected_at=50.0), None),
]


@pytest.mark.parametrize("case", INHIBIT, ids=[c[0] for c in INHIBIT])
def test_inhibit(case: tuple) -> None:  # type: ignore[type-arg]
    _, target, rule = case
    found = explained_by(target, [LINK, target])
    assert (found[1] if found else None) == rule
    if found:
        assert found[0] is LINK


def test_a_resolved_incident_explains_nothing() -> None:
    gone = inc(affected=["device:acc-sw3"], resolved_at=200.0)
    assert explained_by(inc(id="SAK-2", cause="device_unreachable", device="acc-sw3", port=None), [gone]) is None


def window(site: str | None = "hq", device: str | None = None, port: str | None = None) -> Window:
    return Window(1, site, device, port, 0.0, 100.0, "work", "aino")


COVERS = [
    ("the site", window(), True),
    ("another site", window("branch"), False),
    ("the device", window(device="core-sw1"), True),
    ("the far end's device", window(device="dist-sw2"), True),
    ("a device dark behind it (not the cause)", window(device="acc-sw3"), False),
    ("another device", window(device="acc-sw9"), False),
    ("the port, as typed", window(device="core-sw1", port="gi1/0/49"), True),
    ("the far end's port", window(device="dist-sw2", port="Gi1/0/25"), True),
    ("another port", window(device="core-sw1", port="Gi1/0/50"), False),
    ("a device window with no site", window(site=None, device="core-sw1"), True),
]


@pytest.mark.parametrize("case", COVERS, ids=[c[0] for c in COVERS])
def test_maintenance_covers(case: tuple) -> None:  # type: ignore[type-arg]
    _, w, want = case
    assert covers(w, LINK) is want


def test_a_window_is_active_from_its_start_to_its_end() -> None:
    w = window()
    assert [w.active(t) for t in (-1, 0, 99.9, 100)] == [False, True, True, False]
