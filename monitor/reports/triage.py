"""Triage before dispatch: what Saksi already knows of the path a customer named, and a verdict in words.

A pure function of the inventory, the last snapshots, the changes and incidents of the site, and `now`:
the state of every device and link on the path (the named port's link and its device's uplinks, the
named device's links, or the whole site), the physical and configuration changes of the last 7 days,
the incident history of that device or port, and one sentence — "port X has been flapping since TIME"
or "the network path looks healthy since TIME: likely not a network problem".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.common.names import canonical_port, port_label
from monitor.inventory import Inventory, Link
from monitor.model import Snapshot
from monitor.witness.changes import Change, ChangeKind
from monitor.witness.incidents import Incident

WINDOW_S = 7 * 86400.0  # how far back changes and incidents are read
FLAP_WINDOW_S = 86400.0  # a port that went down FLAP_COUNT times within this is flapping
FLAP_COUNT = 3
_DOWN = (ChangeKind.PORT_DOWN, ChangeKind.ADMIN_DOWN)


@dataclass(frozen=True, slots=True)
class DeviceState:
    name: str
    state: str  # answering | not answering | never polled
    last_poll: float | None
    since: float | None  # not answering since


@dataclass(frozen=True, slots=True)
class LinkState:
    a: str  # "device port"
    b: str
    role: str
    state: str  # up | down | unknown
    since: float | None  # down since


@dataclass(frozen=True, slots=True)
class PortState:
    device: str
    port: str
    admin: str
    oper: str
    module: str  # "vendor model S/N serial", or "" when the port has none
    optics: str  # "rx -25.1 dBm beyond alarm", or "" when the readings are within thresholds


@dataclass(frozen=True, slots=True)
class Triage:
    site: str
    device: str | None
    port: str | None
    at: float
    healthy: bool
    verdict: str
    devices: tuple[DeviceState, ...] = ()
    links: tuple[LinkState, ...] = ()
    port_state: PortState | None = None
    changes: tuple[dict[str, Any], ...] = ()  # {at, device, port, what, before, after}
    history: tuple[dict[str, Any], ...] = ()  # {id, cause, summary, started_at, resolved_at, resolution}
    problems: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"site": self.site, "device": self.device, "port": self.port, "at": self.at,
                "healthy": self.healthy, "verdict": self.verdict, "problems": list(self.problems),
                "devices": [vars_of(d) for d in self.devices], "links": [vars_of(x) for x in self.links],
                "port_state": vars_of(self.port_state) if self.port_state else None,
                "changes": list(self.changes), "history": list(self.history)}


def vars_of(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__slots__}


def _words(ref: tuple[str, str]) -> str:
    return f"{ref[0]} {port_label(ref[1])}"


def path(inv: Inventory, site: str, device: str | None, port: str | None) -> tuple[list[str], list[Link]]:
    """The devices and links the customer's complaint travels: the named port's link and its device's
    uplinks (every link that is not an access link), the named device's links, or the whole site."""
    at_site = sorted(d.name for d in inv.devices_at(site))
    site_links = [link for link in inv.links if link.a.device in at_site or link.b.device in at_site]
    if device is None:
        return at_site, site_links
    mine = inv.links_of(device)
    if port is not None:
        want = canonical_port(port)
        mine = [link for link in mine if link.role != "access"
                or any(e.device == device and e.port == want for e in (link.a, link.b))]
    devices = {device} | {e.device for link in mine for e in (link.a, link.b) if e.device in inv.devices}
    return sorted(devices), mine


def _device_state(name: str, snap: Snapshot | None, changes: Sequence[Change]) -> DeviceState:
    if snap is None:
        return DeviceState(name, "never polled", None, None)
    if snap.reachable:
        return DeviceState(name, "answering", snap.taken_at, None)
    gone = [c.when for c in changes if c.device == name and c.kind is ChangeKind.UNREACHABLE]
    return DeviceState(name, "not answering", snap.taken_at, max(gone) if gone else snap.taken_at)


def _oper(snaps: dict[str, Snapshot], device: str, port: str) -> str | None:
    snap = snaps.get(device)
    if snap is None or not snap.reachable:
        return None
    p = snap.port(port)
    return None if p is None else ("up" if p.oper == "up" and p.admin == "up" else "down")


def _link_state(link: Link, snaps: dict[str, Snapshot], changes: Sequence[Change]) -> LinkState:
    ends = [(link.a.device, link.a.port), (link.b.device, link.b.port)]
    states = [s for s in (_oper(snaps, d, p) for d, p in ends) if s is not None]
    state = "unknown" if not states else "down" if "down" in states else "up"
    since = None
    if state == "down":
        downs = [c.when for c in changes if (c.device, c.port) in ends and c.kind in _DOWN]
        since = max(downs) if downs else max(snaps[d].taken_at for d, _ in ends if d in snaps)
    return LinkState(_words(ends[0]), _words(ends[1]), link.role, state, since)


def _port_state(snap: Snapshot | None, device: str, port: str) -> PortState | None:
    p = snap.port(canonical_port(port)) if snap is not None and snap.reachable else None
    if snap is None or p is None:
        return None
    t = snap.transceiver_in(p.ifindex)
    module = f"{t.vendor} {t.model} S/N {t.serial}".strip() if t else ""
    bad = [f"{s.kind.value} {s.value:g} beyond {s.breach}" for s in snap.sensors_of(p.ifindex)
           if s.value is not None and s.breach]
    return PortState(device, p.name, p.admin, p.oper, module, "; ".join(bad))


def flapping(changes: Sequence[Change], device: str, port: str, now: float) -> float | None:
    """When a port started flapping: FLAP_COUNT downs within FLAP_WINDOW_S before `now`; None if it did not.

    >>> down = [Change(ChangeKind.PORT_DOWN, "sw1", t, "Gi1/0/1") for t in (100.0, 400.0, 900.0)]
    >>> flapping(down, "sw1", "Gi1/0/1", 1000.0), flapping(down[:2], "sw1", "Gi1/0/1", 1000.0)
    (100.0, None)
    """
    downs = sorted(c.when for c in changes if c.device == device and c.port == port and c.kind in _DOWN
                   and now - c.when <= FLAP_WINDOW_S)
    return downs[0] if len(downs) >= FLAP_COUNT else None


def _on_path(c_device: str, c_port: str | None, devices: Sequence[str], device: str | None, port: str | None,
             link_ends: set[tuple[str, str]]) -> bool:
    if c_device not in devices:
        return False
    if port is None or c_port is None:
        return True
    return (c_device, c_port) in link_ends or (c_device == device and c_port == canonical_port(port))


def triage(inv: Inventory, site: str, device: str | None, port: str | None, snaps: dict[str, Snapshot],
           changes: Sequence[Change], incidents: Sequence[Incident], now: float,
           fmt: Callable[[float], str]) -> Triage:
    """What Saksi knows of the path, and its verdict (only `site`'s data is read: a customer sees it)."""
    devices, links = path(inv, site, device, port)
    snaps = {d: s for d, s in snaps.items() if d in devices}
    recent = [c for c in changes if now - c.when <= WINDOW_S]
    ends = {(e.device, e.port) for link in links for e in (link.a, link.b)}
    on_path = [c for c in recent if _on_path(c.device, c.port, devices, device, port, ends)]
    dstates = tuple(_device_state(d, snaps.get(d), on_path) for d in devices)
    lstates = tuple(_link_state(link, snaps, on_path) for link in links)
    pstate = _port_state(snaps.get(device or ""), device, port) if device and port else None
    where = set(devices)
    history = [i for i in incidents if i.site == site and (device is None or i.device in where)
               and (i.open or (i.resolved_at or 0) >= now - WINDOW_S)]
    if device and port:
        want = canonical_port(port)
        history = [i for i in history if i.port is None or canonical_port(i.port) == want
                   or any(v.endswith(f":{want}") for v in (i.link or {}).values())]
    named = ends | ({(device, canonical_port(port))} if device and port else set())
    open_here = [i for i in incidents
                 if i.open and i.site == site and _crosses(i, devices, named, port is None)]
    problems = _problems(dstates, lstates, pstate, on_path, open_here, ends, now, fmt, device, port)
    if not snaps:
        verdict = "Saksi has not polled this path yet: it cannot say whether the network is at fault"
    elif problems:
        verdict = problems[0]
    else:
        last = max((c.when for c in on_path), default=None)
        since = last if last is not None else max(now - WINDOW_S, min(s.taken_at for s in snaps.values()))
        verdict = f"the network path looks healthy since {fmt(since)}: likely not a network problem"
    return Triage(site, device, canonical_port(port) if port else None, now, not problems and bool(snaps),
                  verdict, dstates, lstates, pstate,
                  tuple(_change_row(c) for c in on_path), tuple(_history_row(i) for i in history),
                  tuple(problems))


def _crosses(inc: Incident, devices: Sequence[str], ends: set[tuple[str, str]], any_port: bool) -> bool:
    """An open incident is on the path: on one of its devices as a whole (or any port, when no port was
    named), or on a port at either end of one of its links (the customer's uplink is down)."""
    refs = [(inc.device, canonical_port(inc.port) if inc.port else None)]
    refs += [(d, canonical_port(p)) for d, _, p in (r.partition(":") for r in (inc.link or {}).values()) if p]
    return any(d in devices and (p is None or any_port or (d, p) in ends) for d, p in refs)


def _problems(dstates: Sequence[DeviceState], lstates: Sequence[LinkState], pstate: PortState | None,
              on_path: Sequence[Change], open_incidents: Sequence[Incident], ends: set[tuple[str, str]],
              now: float, fmt: Callable[[float], str], device: str | None, port: str | None) -> list[str]:
    """Everything wrong on the path, the most telling first."""
    out = [f"{d.name} is not answering since {fmt(d.since or 0.0)}"
           for d in dstates if d.state == "not answering"]
    out += [f"{i.id} ({i.cause.replace('_', ' ')}) is open on this path since {fmt(i.started_at)}"
            for i in open_incidents if i.cause != "customer_report"]
    out += [f"the link {x.a} <-> {x.b} is down since {fmt(x.since or 0.0)}"
            for x in lstates if x.state == "down"]
    if pstate is not None and (pstate.admin != "up" or pstate.oper != "up"):
        out.append(f"port {pstate.device} {port_label(pstate.port)} is {pstate.oper} (admin {pstate.admin})")
    watched = set(ends)
    if device and port:
        watched.add((device, canonical_port(port)))
    for dev, p in sorted(watched):
        since = flapping(on_path, dev, p, now)
        if since is not None:
            out.append(f"port {dev} {port_label(p)} has been flapping since {fmt(since)}")
    if pstate is not None and pstate.optics:
        out.append(f"the optics of {pstate.device} {port_label(pstate.port)} are beyond their thresholds "
                   f"({pstate.optics})")
    return out


def _change_row(c: Change) -> dict[str, Any]:
    return {"at": c.when, "device": c.device, "port": c.port, "what": c.kind.value, "before": c.before,
            "after": c.after}


def _history_row(i: Incident) -> dict[str, Any]:
    return {"id": i.id, "cause": i.cause, "summary": i.summary, "started_at": i.started_at,
            "resolved_at": i.resolved_at, "resolution": i.resolution}


def _value(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, dict):
        return " ".join(str(x) for x in v.values() if x not in (None, "")) or "-"
    return f"{v:g}" if isinstance(v, float) else str(v)


def render_triage(t: Triage, fmt: Callable[[float], str]) -> str:
    """The summary as plain text: `saksi triage` and `saksi report` print it, the reporter's page shows it."""
    named = f"site {t.site}" + (f", device {t.device}" if t.device else "") + (
        f", port {port_label(t.port)}" if t.port else "")
    out = [f"Triage of {named} at {fmt(t.at)}", f"Verdict: {t.verdict[0].upper()}{t.verdict[1:]}."]
    if len(t.problems) > 1:
        out += ["Also:", *(f"  {p}" for p in t.problems[1:])]
    out += ["", "Devices:"]
    out += [f"  {d.name:<20} {d.state}" + (f" since {fmt(d.since)}" if d.since is not None else "")
            + (f" (last poll {fmt(d.last_poll)})" if d.last_poll is not None else "") for d in t.devices]
    links = [f"  {x.a} <-> {x.b}  {x.role}  {x.state}" + (f" since {fmt(x.since)}" if x.since is not None else "")
             for x in t.links]
    out += ["", "Links:", *(links or ["  none in the inventory"])]
    if t.port is not None:
        p = t.port_state
        out += ["", "Port:", f"  {t.device} {port_label(t.port)}: " + (
            f"admin {p.admin}, oper {p.oper}" + (f", module {p.module}" if p.module else ", no module")
            + (f", optics {p.optics}" if p.optics else "") if p else "not seen in the last poll")]
    out += ["", f"Changes ({WINDOW_S / 86400:g} days):"] + ([
        f"  {fmt(c['at'])}  {c['device']} {port_label(c['port']) if c['port'] else ''}  {c['what']}  "
        f"{_value(c['before'])} -> {_value(c['after'])}" for c in t.changes] or ["  none"])
    out += ["", "Incident history:"] + ([
        f"  {h['id']}  {h['cause']}  started {fmt(h['started_at'])}  " + (
            f"resolved {fmt(h['resolved_at'])}: {h['resolution'] or '-'}" if h["resolved_at"] is not None
            else "open") for h in t.history] or ["  none"])
    return "\n".join(out) + "\n"
