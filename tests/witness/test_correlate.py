"""Correlation as a pure function of snapshots, topology and `now`, through the witness: no agents, no sockets.

Each case is two polls of sw1 (its Gi1/0/1 cabled to a plain host), and the one incident they must give.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monitor.common.names import port_label
from monitor.model import Snapshot
from monitor.witness.correlate import Correlator
from monitor.witness.incidents import Incident
from monitor.witness.observer import Witness
from monitor.witness.topology import Topology
from tests.witness.test_changes import G1, G2, SFP, port, snap

LINKS = [("sw1:Gi1/0/1", "server1", "access")]
CASES: dict[str, tuple[Snapshot, tuple[str, str, str | None] | None]] = {
    "module pulled": (snap(60, ports=(port(1, oper="down"), port(2)), modules=(), neighbors=()),
                      ("transceiver_removed", "sw1", G1)),
    "module moved to the next port": (snap(60, ports=(port(1, oper="down"), port(2)),
                                           modules=(SFP.__class__(SFP.vendor, SFP.model, SFP.serial, ifindex=2),),
                                           neighbors=()), ("transceiver_moved", "sw1", G1)),
    "shut down by hand": (snap(60, ports=(port(1, admin="down", oper="down"), port(2))),
                          ("port_shutdown", "sw1", G1)),
    "the cable to a host went": (snap(60, ports=(port(1, oper="down"), port(2)), neighbors=()),
                                 ("cable_unplugged", "sw1", G1)),
    "silent": (snap(60, reachable=False), ("device_unreachable", "sw1", None)),
    "errors rising": (snap(60, ports=(port(1, in_errors=6000), port(2))), ("errors_rising", "sw1", G1)),
    "nothing happened": (snap(60), None),
    "a port came up": (snap(60, ports=(port(1), port(2, oper="up"))), None),
}


def witness(config_missing: Callable[[str], str | None] | None = None) -> Witness:
    return Witness(Correlator(Topology.from_links(LINKS, devices=["sw1"]), site="hq",
                              config_missing=config_missing))


def observe(w: Witness, *polls: Snapshot) -> list[tuple[str, str, str | None]]:
    touched = {id(i): i for s in polls for i in w.observe([s], s.taken_at).incidents}
    return [(i.cause, i.device, i.port) for i in touched.values()]


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_one_cause_per_problem(case: str) -> None:
    second, want = CASES[case]
    assert observe(witness(), snap(0), second) == ([want] if want else [])


def test_a_move_without_configuration_history_says_so() -> None:
    moved = CASES["module moved to the next port"][0]
    w = witness(lambda d: f"no SSH credentials for {d}")
    observe(w, snap(0), moved)
    (inc,) = w.state.incidents
    assert "configuration not collected (no SSH credentials for sw1)" in inc.summary, inc.summary
    assert "no configuration change" not in inc.summary
    assert inc.missing == ["configuration not collected (no SSH credentials for sw1)"]

    w = witness(lambda d: None)  # collected, and nothing changed: that may be said
    observe(w, snap(0), moved)
    assert "no configuration change" in w.state.incidents[0].summary


def test_an_unplugged_cable_without_dom_claims_no_light() -> None:
    w = witness()
    observe(w, snap(0), CASES["the cable to a host went"][0])
    (inc,) = w.state.incidents
    assert "still light" not in inc.summary, inc.summary
    assert f"no DOM on the module in sw1 {port_label(G1)}" in inc.missing and inc.confidence == "medium"


def test_the_module_put_back_resolves_its_removal() -> None:
    w = witness()
    observe(w, snap(0), CASES["module pulled"][0], snap(120))
    (inc,) = w.state.incidents
    assert (inc.cause, inc.resolved_at, inc.resolution) == ("transceiver_removed", 120, "module re-inserted")


def test_the_same_problem_seen_again_is_the_same_incident() -> None:
    w = witness()
    down = CASES["module pulled"][0]
    observe(w, snap(0), down, snap(120), snap(180, ports=(port(1, oper="down"), port(2)), modules=(), neighbors=()))
    (inc,) = w.state.incidents
    assert inc.open and inc.flaps == 1, "back within the flap window: reopened, not a second incident"


def test_new_incidents_have_no_reference_until_stored() -> None:
    w = witness()
    assert [i.id for s in (snap(0), CASES["module pulled"][0]) for i in w.observe([s], s.taken_at).incidents] == [""]
    assert G2 not in {i.port for i in w.state.incidents}


def test_an_incident_no_rule_names_is_no_crash_and_no_cover() -> None:
    """A customer's report opens an incident correlation has no rule for (monitor.reports); resumed with the
    site's incidents, it must neither break grouping nor swallow the device's own silence."""
    w = witness()
    observe(w, snap(0))
    w.state.incidents.append(Incident(key="hq/report", cause="customer_report", device="sw1", port=None, site="hq"))
    assert observe(w, CASES["silent"][0]) == [("device_unreachable", "sw1", None)]
