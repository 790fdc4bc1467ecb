"""The causes correlation can name, as data: each reads like an Alertmanager inhibit rule.

A rule names a cause, the changes that name it (`source`: a module removed), the symptoms it explains (link
down, neighbour lost, the far end's loss of light), what must match for a change to join it (`match`), how
long the change it pairs with is kept for it (`hold_down_s`: a module's removal, for the insertion that makes
a move), its severity, its rank (a firmer cause takes an incident over), and when a source change names it
(`when`: a small pure predicate of the correlator's view, the change and the open incident covering it).

`cause_of` is the dispatch: the rules walked in rank order, the first whose source is the change's kind and
whose predicate holds names the cause. Adding a cause is adding a row (and maybe one predicate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.common.units import NO_LIGHT_DBM
from monitor.model import SensorKind, Snapshot
from monitor.witness.changes import Change
from monitor.witness.changes import ChangeKind as K
from monitor.witness.incidents import Incident
from monitor.witness.topology import end, split

if TYPE_CHECKING:
    from monitor.witness.correlate import Correlator, State

DEAD_TX_DBM = -30.0  # a laser below this is not transmitting

# (correlator, state, change, the open incident covering the change) -> does the change name this rule's cause
When = Callable[["Correlator", "State", Change, "Incident | None"], bool]

# Causes inferred from symptoms, which firmer evidence may overturn; and the stories one cause grows into.
GUESSES = frozenset({"unknown", "cable_unplugged", "device_unreachable"})
STORIES = frozenset({
    ("transceiver_removed", "transceiver_moved"), ("transceiver_removed", "transceiver_replaced"),
    ("transceiver_inserted", "transceiver_moved"), ("device_unreachable", "device_rebooted"),
    ("cable_unplugged", "cable_moved"),
    ("fan_failed", "overheating"),  # a dead fan, then an alarm or a thermal shutdown: one incident
})


# -- when a source change names the cause: pure predicates ----------------------------------------------------
def always(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """The change is the cause whatever else is open."""
    return True


def _heard_of(cx: Correlator, state: State, device: str) -> bool:
    """A silent device no open incident cut off: its silence is its own (else it is a symptom of the cut)."""
    return cx.cut_by(state, device) is None


def overheating(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """A temperature alarm or rise, unless it is a warmer chassis after a fan died (the fan's story until an
    alarm); a silence right after a hot answer is a thermal shutdown."""
    if c.kind is K.UNREACHABLE:
        return c.device in state.trends.hot and _heard_of(cx, state, c.device)
    fans = inc is not None and inc.cause == "fan_failed" and inc.device == c.device
    return c.extra.get("level") == "alarm" or not fans


def power_supply_failed(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """A supply failed; a silence right after an answer on its last supply is that supply gone too."""
    if c.kind is K.UNREACHABLE:
        return c.device in state.trends.last_supply and _heard_of(cx, state, c.device)
    return True


def device_rebooted(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """A reboot, unless it ends a thermal shutdown or a power loss already open (that incident's story)."""
    return inc is None or inc.cause not in ("overheating", "power_supply_failed")


def device_unreachable(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """A silence no open incident's cut explains."""
    return _heard_of(cx, state, c.device)


def _no_removal(state: State, c: Change) -> bool:
    return (c.serial or "") not in state.removals


def transceiver_moved(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """The module removed elsewhere within the hold-down came back in another port (the same one: re-seated)."""
    removal = state.removals.get(c.serial or "")
    return removal is not None and (removal["device"], removal["port"]) != (c.device, c.port)


def transceiver_replaced(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """A swap seen in one poll, or another module inserted where one was removed."""
    if c.kind is K.TRANSCEIVER_REPLACED:
        return True
    return _no_removal(state, c) and inc is not None and inc.cause == "transceiver_removed" \
        and inc.device == c.device and inc.port == c.port


def transceiver_inserted(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """A module nobody removed in this site's memory (a removed one coming back is its removal's story)."""
    return _no_removal(state, c)


def cable_moved(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """The port sees another neighbour than its link says: the cable left it (not a module taking its fibre
    along, which is the move's story)."""
    return not (inc is not None and inc.cause == "transceiver_moved") and cx.repatched(c) is not None


def config_changed(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """A configuration change on its own; beside an open incident its diff is that incident's evidence."""
    return inc is None


# a port that went down: what the optics at both ends say decides, in rank order
@dataclass(frozen=True)
class Light:
    """The optics of a port that went down and of its far end, from the last snapshots."""

    peer: str | None  # the far end ("device:port"), a plain host's name, or None (no link known)
    tx_here: float | None
    rx_here: float | None
    tx_there: float | None
    module_here: bool  # the port has a module the inventory knows


def _dom(snap: Snapshot | None, port: str, kind: SensorKind) -> float | None:
    if snap is None or not snap.reachable:
        return None
    p = snap.port(port)
    if p is None:
        return None
    values = [s.value for s in snap.sensors_of(p.ifindex) if s.kind is kind and s.value is not None]
    return min(values) if values else None


def light(cx: Correlator, state: State, c: Change) -> Light:
    """What the optics of a downed port and its far end read at their last answers."""
    port = c.port or ""
    peer = cx.topology.peer(end(c.device, port))
    peer_dev, peer_port = split(peer) if peer and ":" in peer else (None, None)
    here = state.last.get(c.device)
    there = state.last.get(peer_dev) if peer_dev else None
    p = here.port(port) if here is not None else None
    return Light(peer, _dom(here, port, SensorKind.TX_POWER), _dom(here, port, SensorKind.RX_POWER),
                 _dom(there, peer_port, SensorKind.TX_POWER) if peer_port else None,
                 p is not None and here is not None and here.transceiver_in(p.ifindex) is not None)


def _down_unexplained(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """A port went down that nothing firmer explains: no firm incident covers it (a guess from the far end
    yields to this end's optics), it did not just flap, and the far device is not down, hot or on its last
    power supply (its own incident, or its shutdown, explains this)."""
    if inc is not None and inc.cause not in GUESSES:
        return False
    if c.port is None or c.before == "up" and c.after == "up":
        return False  # a flap: only evidence for whatever else happened
    peer = cx.topology.peer(end(c.device, c.port))
    far = split(peer)[0] if peer and ":" in peer else None
    if far is None:
        return True
    if far in state.last and not state.last[far].reachable:
        return False
    return far not in state.trends.hot and far not in state.trends.last_supply


def _far_laser_alive(cx: Correlator, state: State, c: Change) -> bool:
    """The far end's laser did not die (if it did, its own port-down names it)."""
    tx = light(cx, state, c).tx_there
    return tx is None or tx > DEAD_TX_DBM


def transceiver_failed(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """The module of the downed port stopped transmitting."""
    if not _down_unexplained(cx, state, c, inc):
        return False
    tx = light(cx, state, c).tx_here
    return tx is not None and tx <= DEAD_TX_DBM


def optics_degraded(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """Light arrives, too weak (dirty or bent fibre); no light at all is what a dead link shows, not this."""
    if c.kind is not K.PORT_DOWN:
        return c.extra.get("kind") in ("rx_power", "tx_power") and c.after is not None \
            and c.after > NO_LIGHT_DBM + 1
    if not _down_unexplained(cx, state, c, inc) or not _far_laser_alive(cx, state, c):
        return False
    li = light(cx, state, c)
    return li.rx_here is not None and NO_LIGHT_DBM + 1 < li.rx_here and li.tx_there is not None


def cable_unplugged(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """No light here while the far laser shines; or an access port to a plain host, or a copper port to
    nothing the inventory knows: the cable (or the host) went."""
    if not _down_unexplained(cx, state, c, inc) or not _far_laser_alive(cx, state, c):
        return False
    li = light(cx, state, c)
    if li.rx_here is not None and li.rx_here <= NO_LIGHT_DBM + 1 and li.tx_there is not None:
        return True
    if li.peer is not None:
        return ":" not in li.peer
    return c.device in state.last and state.last[c.device].port(c.port or "") is not None and not li.module_here


def unknown(cx: Correlator, state: State, c: Change, inc: Incident | None) -> bool:
    """A port went down and the evidence names nothing firmer: say so, and what is missing."""
    return _down_unexplained(cx, state, c, inc) and _far_laser_alive(cx, state, c)


@dataclass(frozen=True)
class Rule:
    """One cause and what it explains (see the module's docstring)."""

    cause: str
    source: tuple[K, ...]  # the changes that name the cause (when `when` holds)
    explains: tuple[K, ...]  # symptoms it absorbs
    match: str  # what a change shares to join it: "device" (any port-less change of it), "link" (the port's
    #             link, either end, or the module's serial)
    hold_down_s: float  # how long the change it pairs with is kept for it (a removal, for the insertion that
    #                     makes a move: correlate.observe forgets older removals); 0: it pairs with none
    severity: str
    rank: int  # the dispatch order, and a stronger cause replaces a weaker guess on the same incident
    when: When = always


_LINK_SYMPTOMS = (K.PORT_DOWN, K.PORT_UP, K.NEIGHBOR_LOST, K.NEIGHBOR_FOUND, K.NEIGHBOR_CHANGED, K.DOM_BREACH,
                  K.DOM_RECOVERED, K.DOM_DRIFT, K.ADMIN_UP)
RULES: dict[str, Rule] = {r.cause: r for r in (
    Rule("device_rebooted", (K.REBOOTED,), (*_LINK_SYMPTOMS, K.UNREACHABLE, K.REACHABLE, K.ENTITY_CHANGED),
         "device", 0, "major", 90, device_rebooted),
    Rule("device_unreachable", (K.UNREACHABLE,), (*_LINK_SYMPTOMS, K.REACHABLE), "device", 0, "critical", 40,
         device_unreachable),
    Rule("transceiver_moved", (K.TRANSCEIVER_INSERTED,), _LINK_SYMPTOMS, "link", 1800, "major", 85,
         transceiver_moved),
    Rule("transceiver_replaced", (K.TRANSCEIVER_REPLACED, K.TRANSCEIVER_INSERTED), _LINK_SYMPTOMS, "link", 0,
         "major", 80, transceiver_replaced),
    Rule("transceiver_removed", (K.TRANSCEIVER_REMOVED, K.ENTITY_CHANGED), _LINK_SYMPTOMS, "link", 0, "major", 75),
    Rule("transceiver_inserted", (K.TRANSCEIVER_INSERTED,), _LINK_SYMPTOMS, "link", 0, "info", 70,
         transceiver_inserted),
    Rule("port_shutdown", (K.ADMIN_DOWN,), _LINK_SYMPTOMS, "link", 0, "warning", 72),
    Rule("transceiver_failed", (K.PORT_DOWN,), _LINK_SYMPTOMS, "link", 0, "major", 60, transceiver_failed),
    Rule("cable_moved", (K.NEIGHBOR_CHANGED, K.NEIGHBOR_FOUND), _LINK_SYMPTOMS, "link", 0, "major", 58,
         cable_moved),
    Rule("optics_degraded", (K.DOM_BREACH, K.DOM_DRIFT, K.PORT_DOWN), _LINK_SYMPTOMS, "link", 0, "warning", 55,
         optics_degraded),
    Rule("cable_unplugged", (K.PORT_DOWN,), _LINK_SYMPTOMS, "link", 0, "major", 50, cable_unplugged),
    Rule("config_changed", (K.CONFIG_CHANGED,), _LINK_SYMPTOMS, "link", 0, "info", 45, config_changed),
    Rule("errors_rising", (K.ERRORS_RISING,), (K.ERRORS_RISING,), "link", 0, "warning", 30),
    Rule("unknown", (K.PORT_DOWN,), _LINK_SYMPTOMS, "link", 0, "major", 10, unknown),
    # hardware: device-wide, no hold-down; overheating explains the silence (and links) of a thermal shutdown.
    # Their recoveries name no cause: they are evidence for the open incident they join.
    Rule("overheating", (K.TEMPERATURE_BREACH, K.TEMPERATURE_RISING, K.UNREACHABLE),
         (*_LINK_SYMPTOMS, K.TEMPERATURE_BREACH, K.TEMPERATURE_RISING, K.TEMPERATURE_RECOVERED, K.UNREACHABLE,
          K.REACHABLE, K.REBOOTED), "device", 0, "major", 92, overheating),
    Rule("power_supply_failed", (K.POWER_SUPPLY_FAILED, K.UNREACHABLE),
         (K.POWER_SUPPLY_FAILED, K.POWER_SUPPLY_RECOVERED, K.UNREACHABLE, K.REACHABLE, K.REBOOTED,
          *_LINK_SYMPTOMS), "device", 0, "major", 66, power_supply_failed),
    Rule("fan_failed", (K.FAN_FAILED,), (K.FAN_FAILED, K.FAN_RECOVERED, K.TEMPERATURE_RISING, K.TEMPERATURE_BREACH,
                                          K.TEMPERATURE_RECOVERED, K.UNREACHABLE), "device", 0, "major", 65),
    Rule("storage_failing", (K.STORAGE_FULL, K.STORAGE_FILLING, K.STORAGE_ALLOCATION_FAILED, K.DISK_FAILED),
         (K.STORAGE_FULL, K.STORAGE_FILLING, K.STORAGE_ALLOCATION_FAILED, K.DISK_FAILED, K.STORAGE_RECOVERED,
          K.DISK_RECOVERED), "device", 0, "major", 64),
)}
BY_RANK = tuple(sorted(RULES.values(), key=lambda r: -r.rank))


def cause_of(cx: Correlator, state: State, c: Change, inc: Incident | None, rules: tuple[Rule, ...] = BY_RANK
             ) -> str | None:
    """The cause a change names: the first rule, in rank order, whose source is the change's kind and whose
    predicate holds; None for a change that names no cause (a symptom, a recovery, a kind no rule knows),
    which joins the incident covering it, if any."""
    return next((r.cause for r in rules if c.kind in r.source and r.when(cx, state, c, inc)), None)


def may_become(current: str, new: str) -> bool:
    """A guess gives way to a firmer cause; a firm cause only to the rest of its own story.

    >>> may_become("unknown", "port_shutdown"), may_become("transceiver_removed", "transceiver_moved")
    (True, True)
    >>> may_become("transceiver_removed", "port_shutdown")
    False
    """
    return current in GUESSES or (current, new) in STORIES


def outranks(new: str, old: str) -> bool:
    """A firmer cause takes the incident over; so does a device's own silence or reboot over a guess about
    one of its links, which the other end saw first (polls of the two ends are not simultaneous).

    >>> outranks("transceiver_moved", "transceiver_removed"), outranks("device_unreachable", "cable_unplugged")
    (True, True)
    >>> outranks("cable_unplugged", "transceiver_removed")
    False
    """
    if RULES[new].rank > RULES[old].rank:
        return True
    return old in ("cable_unplugged", "unknown") and RULES[new].match == "device"
