"""Change detection: a pure function of the previous and current snapshot of one device, and `now`.

Only facts produce changes: a table that did not answer (or came back partial) in either poll is
unknown, so nothing it would have told is reported — an unanswered poll is never "module removed".
Ports and modules are compared by canonical port name and serial, never by ifIndex, so a device
that renumbers its interfaces after a reboot keeps their identity.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from monitor.model import DOM_KEYS, SensorKind, Snapshot, Transceiver

ERROR_RATE_PER_S = 1.0  # input errors per second that count as "rising"
DRIFT_DB = 3.0  # an optical reading that moves this much between polls, inside thresholds, is drifting


class ChangeKind(str, enum.Enum):
    TRANSCEIVER_INSERTED = "transceiver_inserted"
    TRANSCEIVER_REMOVED = "transceiver_removed"
    TRANSCEIVER_REPLACED = "transceiver_replaced"
    PORT_DOWN = "port_down"
    PORT_UP = "port_up"
    ADMIN_DOWN = "admin_down"
    ADMIN_UP = "admin_up"
    NEIGHBOR_LOST = "neighbor_lost"
    NEIGHBOR_FOUND = "neighbor_found"
    NEIGHBOR_CHANGED = "neighbor_changed"
    DOM_BREACH = "dom_breach"  # a reading crossed a vendor threshold (or got worse past one)
    DOM_RECOVERED = "dom_recovered"
    DOM_DRIFT = "dom_drift"
    ERRORS_RISING = "errors_rising"
    REBOOTED = "rebooted"
    UNREACHABLE = "unreachable"
    REACHABLE = "reachable"
    CONFIG_CHANGED = "config_changed"
    ENTITY_CHANGED = "entity_changed"  # entLastChangeTime moved with no module difference: re-seated between polls


@dataclass(frozen=True, slots=True)
class Change:
    """One observed difference; `at` is when it was seen, `since` the best estimate of when it happened."""

    kind: ChangeKind
    device: str
    at: float
    port: str | None = None
    source: str = "poll"  # poll | trap | ssh
    since: float | None = None
    before: Any = None
    after: Any = None
    serial: str | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def when(self) -> float:
        return self.since if self.since is not None else self.at

    def evidence(self) -> dict[str, Any]:
        return {"at": self.when, "seen_at": self.at, "source": self.source, "device": self.device,
                "port": self.port, "what": self.kind.value, "before": self.before, "after": self.after,
                "detail": self.detail}


def _known(snap: Snapshot, *names: str) -> bool:
    """Every listed table (that was read) answered completely; an absent table is not a reason to doubt."""
    for t in snap.tables:
        if t.table in names and not t.status.known:
            return False
    return True


_UPTIME_WRAP_S = 2**32 / 100  # sysUpTime wraps after 497 days: that is not a reboot
_PORT_TABLES = ("ifTable", "ifXTable")  # ports are named from both: a partial one renames them
_NON_MODULE_TABLES = frozenset({"system", "ifTable", "ifXTable", "lldpRemTable", "lldpLocPortTable"})


def _modules_known(snap: Snapshot) -> bool:
    """The module picture is a fact only when every table that can hold modules answered completely."""
    return all(t.status.known for t in snap.tables if t.table not in _NON_MODULE_TABLES)


def _xcvr_view(t: Transceiver | None) -> dict[str, str] | None:
    return None if t is None else {"vendor": t.vendor, "model": t.model, "serial": t.serial}


def _event_time(snap: Snapshot, last_change_s: float | None, now: float) -> float | None:
    """When a port last changed, from ifLastChange (seconds of sysUpTime) and the poll time."""
    up = snap.facts.uptime_s
    if last_change_s is None or up is None or last_change_s > up or last_change_s <= 0:
        return None
    return now - (up - last_change_s)


def detect(prev: Snapshot | None, curr: Snapshot, now: float) -> list[Change]:
    """What changed on one device between two polls (prev: the last snapshot that answered)."""
    dev = curr.device
    if prev is None:
        return []
    if not curr.reachable:
        return [Change(ChangeKind.UNREACHABLE, dev, now, detail=curr.error or "no answer")] if prev.reachable else []
    out: list[Change] = []
    if not prev.reachable:
        out.append(Change(ChangeKind.REACHABLE, dev, now))
        return out  # nothing to compare against: the caller compares with the last good snapshot
    up_b, up_a = prev.facts.uptime_s, curr.facts.uptime_s
    if up_b is not None and up_a is not None and up_a < up_b and up_b < _UPTIME_WRAP_S - 3600:
        out.append(Change(ChangeKind.REBOOTED, dev, now, since=now - curr.facts.uptime_s,
                          before=prev.facts.uptime_s, after=curr.facts.uptime_s,
                          detail=f"uptime went back to {curr.facts.uptime_s:.0f}s"))
    if not (_known(prev, *_PORT_TABLES) and _known(curr, *_PORT_TABLES)):
        return out  # without the port tables nothing can be named: compare again next poll
    out += _ports(prev, curr, now)
    if _modules_known(prev) and _modules_known(curr):
        modules = _modules(prev, curr, now)
        out += modules
        b, a = prev.facts.entity_last_change_s, curr.facts.entity_last_change_s
        if not modules and a is not None and b is not None and a != b and not any(
                c.kind is ChangeKind.REBOOTED for c in out):
            out.append(Change(ChangeKind.ENTITY_CHANGED, curr.device, now, since=_event_time(curr, a, now),
                              before=b, after=a, detail="the device's physical inventory changed and changed back"))
    out += _dom(prev, curr, now)
    if _known(prev, "lldpRemTable", "lldpLocPortTable") and _known(curr, "lldpRemTable", "lldpLocPortTable") \
            and prev.table("lldpRemTable").status.known and curr.table("lldpRemTable").status.known:
        out += _neighbors(prev, curr, now)
    return out


def _ports(prev: Snapshot, curr: Snapshot, now: float) -> list[Change]:
    out = []
    before = {p.name: p for p in prev.ports}
    dt = max(1e-9, curr.taken_at - prev.taken_at)
    for p in curr.ports:
        b = before.get(p.name)
        if b is None:
            continue
        since = _event_time(curr, p.last_change_s, now)
        if b.admin != p.admin and "unknown" not in (b.admin, p.admin):
            kind = ChangeKind.ADMIN_DOWN if p.admin == "down" else ChangeKind.ADMIN_UP
            out.append(Change(kind, curr.device, now, p.name, since=since, before=b.admin, after=p.admin))
        if (b.oper == "up") != (p.oper == "up") and "unknown" not in (b.oper, p.oper):
            kind = ChangeKind.PORT_UP if p.oper == "up" else ChangeKind.PORT_DOWN
            out.append(Change(kind, curr.device, now, p.name, since=since, before=b.oper, after=p.oper))
        elif b.oper == "up" and p.oper == "up" and since is not None and since > prev.taken_at:
            # it went down and came back between two polls: a flap the poll alone would have missed
            out.append(Change(ChangeKind.PORT_DOWN, curr.device, now, p.name, since=since, before="up",
                              after="up", detail="flapped between polls (ifLastChange moved)"))
        rate = error_rate(b.in_errors, p.in_errors, dt)
        if rate is not None and rate >= ERROR_RATE_PER_S:
            out.append(Change(ChangeKind.ERRORS_RISING, curr.device, now, p.name, before=b.in_errors,
                              after=p.in_errors, detail=f"{rate:.1f} input errors/s", extra={"rate": rate}))
    return out


def error_rate(before: int | None, after: int | None, dt: float) -> float | None:
    """Input errors per second; None when unknown or the counter went back (wrap, reboot, clear).

    >>> error_rate(100, 700, 60.0), error_rate(700, 100, 60.0), error_rate(None, 5, 60.0)
    (10.0, None, None)
    """
    if before is None or after is None or after < before or dt <= 0:
        return None
    return (after - before) / dt


def _modules(prev: Snapshot, curr: Snapshot, now: float) -> list[Change]:
    out = []
    name_of_prev = {p.ifindex: p.name for p in prev.ports}
    name_of_curr = {p.ifindex: p.name for p in curr.ports}
    before = {name_of_prev.get(t.ifindex, f"ifIndex {t.ifindex}"): t for t in prev.transceivers}
    after = {name_of_curr.get(t.ifindex, f"ifIndex {t.ifindex}"): t for t in curr.transceivers}
    since = curr.facts.entity_last_change_s
    when = _event_time(curr, since, now) if since else None
    for port in sorted(before.keys() | after.keys()):
        b, a = before.get(port), after.get(port)
        if b is not None and a is not None and b.identity == a.identity:
            continue
        if b is not None and a is None:
            kind, serial = ChangeKind.TRANSCEIVER_REMOVED, b.serial
        elif b is None and a is not None:
            kind, serial = ChangeKind.TRANSCEIVER_INSERTED, a.serial
        else:
            kind, serial = ChangeKind.TRANSCEIVER_REPLACED, a.serial if a else None
        out.append(Change(kind, curr.device, now, port, since=when if when and when > prev.taken_at else None,
                          before=_xcvr_view(b), after=_xcvr_view(a), serial=serial))
    return out


def _dom(prev: Snapshot, curr: Snapshot, now: float) -> list[Change]:
    out = []
    name_of = {p.ifindex: p.name for p in curr.ports}
    name_before = {p.ifindex: p.name for p in prev.ports}
    before = {(name_before.get(s.ifindex), s.kind, s.lane): s for s in prev.sensors if s.ifindex is not None}
    rank = {None: 0, "warning": 1, "alarm": 2}
    for s in curr.sensors:
        if s.ifindex is None or s.kind not in DOM_KEYS:
            continue
        port = name_of.get(s.ifindex)
        b = before.get((port, s.kind, s.lane))
        if b is None or b.value is None or s.value is None:
            continue
        xb, xa = prev.transceiver_in(b.ifindex or -1), curr.transceiver_in(s.ifindex)
        if xb is None or xa is None or xb.identity != xa.identity:
            continue  # a different module: its readings are not a trend
        lane = f" lane {s.lane}" if s.lane is not None else ""
        label = f"{DOM_KEYS[s.kind]}{lane}"
        if rank[s.breach] > rank[b.breach]:
            out.append(Change(ChangeKind.DOM_BREACH, curr.device, now, port, before=b.value, after=s.value,
                              serial=xa.serial, detail=f"{label} {s.value:g} {s.kind.unit}: {s.breach}",
                              extra={"kind": s.kind.value, "level": s.breach}))
        elif rank[s.breach] < rank[b.breach]:
            out.append(Change(ChangeKind.DOM_RECOVERED, curr.device, now, port, before=b.value, after=s.value,
                              serial=xa.serial, detail=f"{label} back to {s.value:g} {s.kind.unit}",
                              extra={"kind": s.kind.value}))
        elif s.kind in (SensorKind.RX_POWER, SensorKind.TX_POWER) and s.breach is None \
                and abs(s.value - b.value) >= DRIFT_DB and min(s.value, b.value) > -39:
            out.append(Change(ChangeKind.DOM_DRIFT, curr.device, now, port, before=b.value, after=s.value,
                              serial=xa.serial, detail=f"{label} moved {s.value - b.value:+.1f} dB",
                              extra={"kind": s.kind.value}))
    return out


def _neighbors(prev: Snapshot, curr: Snapshot, now: float) -> list[Change]:
    out = []
    name_b = {p.ifindex: p.name for p in prev.ports}
    name_a = {p.ifindex: p.name for p in curr.ports}
    before = {name_b.get(n.ifindex, n.local_port): n for n in prev.neighbors}
    after = {name_a.get(n.ifindex, n.local_port): n for n in curr.neighbors}
    for port in sorted(before.keys() | after.keys()):
        b, a = before.get(port), after.get(port)
        view_b = None if b is None else {"sys_name": b.sys_name, "port": b.port}
        view_a = None if a is None else {"sys_name": a.sys_name, "port": a.port}
        if view_b == view_a:
            continue
        kind = ChangeKind.NEIGHBOR_LOST if a is None else ChangeKind.NEIGHBOR_FOUND if b is None \
            else ChangeKind.NEIGHBOR_CHANGED
        out.append(Change(kind, curr.device, now, port, before=view_b, after=view_a))
    return out
