"""How an incident ends: a pure function of the incident, the site's last snapshots and this batch's changes.

Only what the devices said closes an incident: an unanswered poll never resolves one, and a link counts as
back only when every end the incident affects is up again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.model import SensorKind
from monitor.witness import hardware as hardware_causes
from monitor.witness.changes import Change
from monitor.witness.changes import ChangeKind as K
from monitor.witness.incidents import Incident
from monitor.witness.topology import end, split

if TYPE_CHECKING:
    from monitor.witness.correlate import Correlator, State


def port_state(state: State, ref: str) -> tuple[bool, str, str, str | None]:
    """(device answered, admin, oper, serial of its module) of one port end, from the last snapshot."""
    dev, port = split(ref)
    s = state.last.get(dev)
    if s is None or not s.reachable:
        return False, "unknown", "unknown", None
    p = s.port(port)
    if p is None:
        return True, "unknown", "unknown", None
    t = s.transceiver_in(p.ifindex)
    return True, p.admin, p.oper, t.serial if t else None


def resolve(cx: Correlator, state: State, inc: Incident, changes: list[Change], polled: set[str],
            now: float) -> bool:
    """Close the incident when the site shows it over; True when it did."""
    why = resolution(cx, state, inc, changes, polled)
    if why is None:
        return False
    inc.resolved_at, inc.resolution, inc.updated_at = now, why, now
    return True


def resolution(cx: Correlator, state: State, inc: Incident, changes: list[Change], polled: set[str]) -> str | None:
    """How the incident ended, in words, or None while the site does not show it over (`polled`: the devices
    this batch heard from: errors stop rising only on a device that answered)."""
    if inc.cause in hardware_causes.CAUSES:
        return hardware_causes.resolution(inc, state.last.get(inc.device), state.trends,
                                          links_up(cx, state, inc), changes)
    if inc.cause in ("device_rebooted", "device_unreachable"):
        devices = [a.split(":", 1)[1] for a in inc.affected if a.startswith("device:")]
        if all(d in state.last and state.last[d].reachable for d in devices) and links_up(cx, state, inc):
            return "device back" + (" after a reboot" if inc.cause == "device_rebooted" else "")
        return None
    if inc.cause == "errors_rising":
        rising = any(c.kind is K.ERRORS_RISING and c.device == inc.device and c.port == inc.port for c in changes)
        seen = inc.device in polled or any(c.device == inc.device for c in changes)
        return None if rising or not seen else "errors stopped rising"
    if inc.port is None:
        return "recorded" if inc.cause == "config_changed" else None
    reachable, admin, oper, serial = port_state(state, end(inc.device, inc.port))
    if not reachable:
        return None
    links = links_up(cx, state, inc)
    behind = [a.split(":", 1)[1] for a in inc.affected if a.startswith("device:")]
    if any(d in state.last and not state.last[d].reachable for d in behind):
        return None
    if inc.cause in ("transceiver_inserted", "config_changed"):
        return "recorded" if oper == "up" or cx.topology.peer(end(inc.device, inc.port)) is None \
            else None
    if inc.cause == "optics_degraded":
        if oper != "up" or breached(state, inc.device, inc.port):
            return None
        return "optics back within thresholds"
    if oper != "up" or admin != "up" or not links:
        return None
    if inc.cause in ("transceiver_removed", "transceiver_moved"):
        if serial is None:
            return None
        if inc.serial is None:
            return "module re-seated"
        return "module re-inserted" if serial == inc.serial else f"a module (S/N {serial}) is back in the port"
    return {"transceiver_replaced": "link up with the new module", "transceiver_failed": "link restored",
            "port_shutdown": "port enabled again", "cable_moved": "cable back in place",
            "cable_unplugged": "cable back", "unknown": "link back up"}.get(inc.cause, "healthy again")


def links_up(cx: Correlator, state: State, inc: Incident) -> bool:
    """Every port end the incident affects is up again (a port a module was moved to may stay down)."""
    for ref in inc.affected:
        if ref.startswith("device:") or ":" not in ref:
            continue
        reachable, _, oper, _ = port_state(state, ref)
        if not reachable or oper != "up":
            if inc.cause in ("transceiver_moved", "cable_moved") and ref != end(inc.device, inc.port or "") \
                    and ref != cx.topology.peer(end(inc.device, inc.port or "")):
                continue  # the port a module was moved to may stay down once it is moved back
            return False
    return True


def breached(state: State, device: str, port: str) -> bool:
    """A port's optics are beyond a threshold, or the port is not known (no claim it is fine)."""
    s = state.last.get(device)
    p = s.port(port) if s is not None else None
    if s is None or p is None:
        return True
    return any(x.breach for x in s.sensors_of(p.ifindex) if x.kind in (SensorKind.RX_POWER, SensorKind.TX_POWER))
