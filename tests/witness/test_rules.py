"""The rules table is the dispatch: a change's kind, the rules' rank order and their predicates name the cause.

Pure: a correlator over an empty topology and a hand-made state, no agents, no clock.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.witness.changes import Change
from monitor.witness.changes import ChangeKind as K
from monitor.witness.correlate import Correlator, State
from monitor.witness.incidents import Incident
from monitor.witness.rules import BY_RANK, GUESSES, RULES, STORIES, Rule, always, cause_of
from monitor.witness.topology import Topology

CX = Correlator(Topology())
G1, G2 = "GigabitEthernet1/0/1", "GigabitEthernet1/0/2"


def change(kind: K, port: str | None = G1, **kw: object) -> Change:
    return Change(kind, "sw1", 60.0, port, **kw)  # type: ignore[arg-type]


def incident(cause: str, port: str | None = G1, device: str = "sw1") -> Incident:
    return Incident(key=f"hq/{device}/{cause}", cause=cause, device=device, port=port)


def never(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    return False


def test_the_first_rule_in_rank_order_whose_source_and_predicate_hold_names_the_cause() -> None:
    low = Rule("low", (K.PORT_DOWN,), (), "link", 0, "major", 10)
    high = Rule("high", (K.PORT_DOWN,), (), "link", 0, "major", 90)
    c = change(K.PORT_DOWN)
    assert cause_of(CX, State(), c, None, (high, low)) == "high"
    assert cause_of(CX, State(), c, None, (replace(high, when=never), low)) == "low", "a predicate declines"
    assert cause_of(CX, State(), c, None, (replace(high, source=(K.ADMIN_DOWN,)), low)) == "low", "not its source"
    assert cause_of(CX, State(), c, None, (replace(low, when=never),)) is None, "no rule holds: no cause"


def test_the_table_is_walked_by_rank_and_ranks_are_distinct() -> None:
    assert [r.rank for r in BY_RANK] == sorted((r.rank for r in RULES.values()), reverse=True)
    assert len({r.rank for r in RULES.values()}) == len(RULES), "equal ranks would leave the order to chance"
    assert all(r.cause == name for name, r in RULES.items())
    assert GUESSES <= set(RULES) and {c for story in STORIES for c in story} <= set(RULES)
    assert {r.match for r in RULES.values()} == {"device", "link"}


UNNAMED = sorted((k for k in K if not any(k in r.source for r in RULES.values())), key=lambda k: k.value)


@pytest.mark.parametrize("kind", UNNAMED, ids=[k.value for k in UNNAMED])
def test_a_kind_no_rule_names_yields_no_cause(kind: K) -> None:
    assert cause_of(CX, State(), change(kind), None) is None
    assert cause_of(CX, State(), change(kind), incident("transceiver_removed")) is None  # it joins what covers it


def test_every_rule_can_be_named_by_some_change() -> None:
    assert all(r.source for r in RULES.values())
    assert K.PORT_UP in UNNAMED and K.NEIGHBOR_LOST in UNNAMED and K.FAN_RECOVERED in UNNAMED


REMOVAL = {"at": 0.0, "key": "hq/sw1/transceiver_removed", "device": "sw1", "port": G1}


@pytest.mark.parametrize(("removals", "port", "cover", "want"), [
    ({"S1": REMOVAL}, G2, None, "transceiver_moved"),
    ({"S1": REMOVAL}, G1, incident("transceiver_removed"), None),  # back where it was: the removal's story
    ({}, G1, incident("transceiver_removed"), "transceiver_replaced"),  # another module where one was pulled
    ({}, G2, incident("transceiver_removed"), "transceiver_inserted"),
    ({}, G2, None, "transceiver_inserted"),
], ids=["moved", "re-seated", "replaced", "beside a removal", "new"])
def test_an_insertion_is_named_by_the_first_of_moved_replaced_inserted_that_holds(
        removals: dict[str, dict[str, object]], port: str, cover: Incident | None, want: str | None) -> None:
    state = State(removals=removals)
    assert cause_of(CX, state, change(K.TRANSCEIVER_INSERTED, port, serial="S1"), cover) == want


def test_a_silence_after_a_hot_answer_or_on_the_last_supply_is_the_hardware() -> None:
    silent = change(K.UNREACHABLE, None)
    state = State()
    assert cause_of(CX, state, silent, None) == "device_unreachable"
    state.trends.last_supply["sw1"] = "PS2 failed"
    assert cause_of(CX, state, silent, None) == "power_supply_failed"
    state.trends.hot["sw1"] = "CPU at 95 C"
    assert cause_of(CX, state, silent, None) == "overheating", "overheating ranks above the supply"


def test_a_warmer_chassis_after_a_dead_fan_is_the_fans_story_until_an_alarm() -> None:
    fan = incident("fan_failed", None)
    assert cause_of(CX, State(), change(K.TEMPERATURE_RISING, None), fan) is None
    alarm = change(K.TEMPERATURE_BREACH, None, extra={"level": "alarm"})
    assert cause_of(CX, State(), alarm, fan) == "overheating"
    assert cause_of(CX, State(), change(K.TEMPERATURE_RISING, None), None) == "overheating"


def test_a_reboot_ends_a_thermal_shutdown_rather_than_opening_its_own() -> None:
    reboot = change(K.REBOOTED, None)
    assert cause_of(CX, State(), reboot, incident("overheating", None)) is None
    assert cause_of(CX, State(), reboot, incident("device_unreachable", None)) == "device_rebooted"


@pytest.mark.parametrize(("cover", "want"), [(None, "config_changed"),
                                              (incident("port_shutdown"), None)])
def test_a_configuration_diff_beside_an_open_incident_is_its_evidence(cover: Incident | None, want: str) -> None:
    assert cause_of(CX, State(), change(K.CONFIG_CHANGED), cover) == want


@pytest.mark.parametrize(("after", "want"), [(-12.5, "optics_degraded"), (-40.0, None)])
def test_weak_light_is_degraded_optics_and_no_light_is_not(after: float, want: str | None) -> None:
    c = change(K.DOM_BREACH, after=after, extra={"kind": "rx_power"})
    assert cause_of(CX, State(), c, None) == want


def test_a_port_down_under_a_firm_cause_is_its_symptom_and_under_a_guess_is_reread() -> None:
    down = change(K.PORT_DOWN, before="up", after="down")
    assert cause_of(CX, State(), down, incident("port_shutdown")) is None
    assert cause_of(CX, State(), down, incident("unknown")) == "unknown", "nothing firmer: still unknown"
    assert cause_of(CX, State(), replace(down, after="up"), None) is None, "a flap names nothing"


def test_rules_without_a_predicate_always_hold() -> None:
    assert RULES["port_shutdown"].when is always
    assert cause_of(CX, State(), change(K.ADMIN_DOWN), incident("unknown")) == "port_shutdown"
