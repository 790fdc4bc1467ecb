"""Change detection: a pure function of the previous and current snapshot of one device, and `now`.

Only facts produce changes: a table that did not answer (or came back partial) in either poll is
unknown, so nothing it would have told is reported — an unanswered poll is never "module removed".
Ports and modules are compared by canonical port name and serial, never by ifIndex, so a device
that renumbers its interfaces after a reboot keeps their identity.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from monitor.common.names import canonical_port
from monitor.model import (
    DOM_KEYS,
    DeviceFacts,
    Disk,
    HardwareUnit,
    Port,
    SensorKind,
    Snapshot,
    TableHealth,
    TableStatus,
    Transceiver,
    UnitKind,
)
from monitor.profiles import snmp_profiles
from monitor.profiles.hardware import hardware_profiles

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
    # hardware health (before/after of a unit or disk: {"id", "name", "state", "status"})
    POWER_SUPPLY_FAILED = "power_supply_failed"  # failed, or no longer listed by a table that answered
    POWER_SUPPLY_RECOVERED = "power_supply_recovered"
    FAN_FAILED = "fan_failed"
    FAN_RECOVERED = "fan_recovered"
    TEMPERATURE_BREACH = "temperature_breach"  # a chassis temperature crossed a threshold the device states
    TEMPERATURE_RECOVERED = "temperature_recovered"
    TEMPERATURE_RISING = "temperature_rising"  # trend: will reach its threshold within the horizon
    STORAGE_FULL = "storage_full"  # a filesystem crossed a fill threshold (or got worse past one)
    STORAGE_RECOVERED = "storage_recovered"
    STORAGE_FILLING = "storage_filling"  # trend: will be full within the horizon at its current growth
    STORAGE_ALLOCATION_FAILED = "storage_allocation_failed"  # hrStorageAllocationFailures went up
    DISK_FAILED = "disk_failed"
    DISK_RECOVERED = "disk_recovered"


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
PORT_TABLES = ("ifTable", "ifXTable")  # ports are named from both: a partial one renames them
NON_MODULE_TABLES = frozenset({"system", "ifTable", "ifXTable", "lldpRemTable", "lldpLocPortTable"})
NON_MODULE_TABLES |= {t.name for t in hardware_profiles().tables}  # power, cooling, CPU, storage: no modules
NON_MODULE_TABLES |= {t.name for t in snmp_profiles().interface_tables}  # vendor interface tables: ports only


# Tables that cannot empty out on a device that keeps answering: the chassis is always an entity and a switch
# always has an interface. An empty answer after rows is an agent still starting (some switches serve ENTITY-MIB
# empty for minutes after boot), not every module pulled at once.
_NEVER_EMPTY = ("entPhysicalTable", "ifTable")


def doubt_empty(prev: Snapshot | None, curr: Snapshot) -> Snapshot:
    """`curr` with each never-empty table that answered empty, after `prev` had rows in it, marked unknown."""
    if prev is None or not prev.reachable:
        return curr
    held = {t.table: t.rows for t in prev.tables if t.table in _NEVER_EMPTY and t.status is TableStatus.OK}
    doubted = {t.table for t in curr.tables if t.status is TableStatus.EMPTY and held.get(t.table)}
    if not doubted:
        return curr
    tables = tuple(TableHealth(t.table, TableStatus.ERROR, 0, f"answered empty after {held[t.table]} rows: "
                               "not believed") if t.table in doubted else t for t in curr.tables)
    return replace(curr, tables=tables)


class _OnPort(Protocol):
    @property
    def ifindex(self) -> int | None: ...


P = TypeVar("P", bound=_OnPort)


def follow_renumbering(items: Sequence[P], numbered_by: Sequence[Port], onto: Sequence[Port]) -> tuple[P, ...]:
    """Items read against one poll's ifIndex numbering, re-indexed to another poll's by port name.

    A baseline that keeps one aspect from an older poll (modules, while ENTITY-MIB did not answer) must not mix
    two numberings after a device renumbered its interfaces; a port either side does not name keeps its number.
    """
    if numbered_by is onto:
        return tuple(items)
    name_of = {p.ifindex: p.name for p in numbered_by}
    index_of = {p.name: p.ifindex for p in onto}
    out = []
    for x in items:
        new = index_of.get(name_of.get(x.ifindex, "")) if x.ifindex is not None else None
        out.append(x if new is None or new == x.ifindex else replace(x, ifindex=new))  # type: ignore[type-var]
    return tuple(out)


def _modules_known(snap: Snapshot) -> bool:
    """The module picture is a fact only when every table that can hold modules answered completely."""
    return all(t.status.known for t in snap.tables if t.table not in NON_MODULE_TABLES)


def _xcvr_view(t: Transceiver | None) -> dict[str, str] | None:
    return None if t is None else {"vendor": t.vendor, "model": t.model, "serial": t.serial}


def _event_time(snap: Snapshot, last_change_s: float | None, now: float) -> float | None:
    """When a port last changed, from ifLastChange (seconds of sysUpTime) and the poll time."""
    up = snap.facts.uptime_s
    if last_change_s is None or up is None or last_change_s > up or last_change_s <= 0:
        return None
    return now - (up - last_change_s)


def _went_back(before: float | None, after: float | None) -> bool:
    return before is not None and after is not None and after < before and before < _UPTIME_WRAP_S - 3600


def rebooted(before: DeviceFacts, after: DeviceFacts) -> str | None:
    """Why the device itself restarted between two polls, or None: a restarted SNMP agent resets sysUpTime
    (and counts snmpEngineBoots) but not the host's hrSystemUptime, so where the host gives its uptime only
    that one going back is a reboot.

    >>> rebooted(DeviceFacts(uptime_s=476.92, host_uptime_s=900.0, engine_boots=3),
    ...          DeviceFacts(uptime_s=4.61, host_uptime_s=960.0, engine_boots=4)) is None  # snmpd restarted
    True
    >>> rebooted(DeviceFacts(uptime_s=476.92, host_uptime_s=900.0), DeviceFacts(uptime_s=4.61, host_uptime_s=30.0))
    'host uptime went back to 30s'
    >>> rebooted(DeviceFacts(uptime_s=476.92), DeviceFacts(uptime_s=4.61))  # no host uptime: the agent's
    'uptime went back to 5s'
    >>> rebooted(DeviceFacts(uptime_s=476.92, engine_boots=7), DeviceFacts(uptime_s=4.61, engine_boots=7)) is None
    True
    """
    if before.host_uptime_s is not None and after.host_uptime_s is not None:
        went_back = _went_back(before.host_uptime_s, after.host_uptime_s)
        return f"host uptime went back to {after.host_uptime_s:.0f}s" if went_back else None
    if not _went_back(before.uptime_s, after.uptime_s):
        return None
    if before.engine_boots is not None and before.engine_boots == after.engine_boots:
        return None  # the agent did not even restart (snmpEngineBoots unchanged): its sysUpTime is not the device's
    return f"uptime went back to {after.uptime_s:.0f}s"


def detect(prev: Snapshot | None, curr: Snapshot, now: float) -> list[Change]:
    """What changed on one device between two polls (prev: the last snapshot that answered)."""
    dev = curr.device
    if prev is None:
        return []
    curr = doubt_empty(prev, curr)
    if not curr.reachable:
        return [Change(ChangeKind.UNREACHABLE, dev, now, detail=curr.error or "no answer")] if prev.reachable else []
    out: list[Change] = []
    if not prev.reachable:
        out.append(Change(ChangeKind.REACHABLE, dev, now))
        return out  # nothing to compare against: the caller compares with the last good snapshot
    if (why := rebooted(prev.facts, curr.facts)) is not None:
        up_a = curr.facts.device_uptime_s or 0.0
        out.append(Change(ChangeKind.REBOOTED, dev, now, since=now - up_a,
                          before=prev.facts.device_uptime_s, after=up_a, detail=why))
    if not (_known(prev, *PORT_TABLES) and _known(curr, *PORT_TABLES)):
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
    out += _hardware(prev, curr, now)
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
    name_of_prev: dict[int | None, str] = {p.ifindex: p.name for p in prev.ports}
    name_of_curr: dict[int | None, str] = {p.ifindex: p.name for p in curr.ports}
    before = {name_of_prev.get(t.ifindex, f"ifIndex {t.ifindex}"): t for t in prev.transceivers}
    after = {name_of_curr.get(t.ifindex, f"ifIndex {t.ifindex}"): t for t in curr.transceivers}
    since = curr.facts.entity_last_change_s
    when = _event_time(curr, since, now) if since else None
    for port in sorted(before.keys() | after.keys()):
        b, a = before.get(port), after.get(port)
        if b is not None and a is not None and b.identity == a.identity:
            continue
        serial: str | None
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
    name_b: dict[int | None, str] = {p.ifindex: p.name for p in prev.ports}
    name_a: dict[int | None, str] = {p.ifindex: p.name for p in curr.ports}
    before = {name_b.get(n.ifindex, n.local_port): n for n in prev.neighbors}
    after = {name_a.get(n.ifindex, n.local_port): n for n in curr.neighbors}
    for port in sorted(before.keys() | after.keys()):
        b, a = before.get(port), after.get(port)
        # the far end's port as LLDP announced it (often short: Gi1/0/25), compared and shown canonical
        view_b = None if b is None else {"sys_name": b.sys_name, "port": canonical_port(b.port)}
        view_a = None if a is None else {"sys_name": a.sys_name, "port": canonical_port(a.port)}
        if view_b == view_a:
            continue
        kind = ChangeKind.NEIGHBOR_LOST if a is None else ChangeKind.NEIGHBOR_FOUND if b is None \
            else ChangeKind.NEIGHBOR_CHANGED
        out.append(Change(kind, curr.device, now, port, before=view_b, after=view_a))
    return out


# --- hardware health ---------------------------------------------------------------------------------
_BAD_UNIT = {"failed", "absent"}
_GOOD_UNIT = {"ok", "warning", "off"}
_UNIT_CHANGE = {UnitKind.POWER_SUPPLY: (ChangeKind.POWER_SUPPLY_FAILED, ChangeKind.POWER_SUPPLY_RECOVERED),
                UnitKind.FAN: (ChangeKind.FAN_FAILED, ChangeKind.FAN_RECOVERED)}


def _unit_view(u: HardwareUnit | Disk | None, gone: str = "absent") -> dict[str, Any]:
    if u is None:
        return {"state": gone, "status": "no longer listed"}
    return {"id": u.unit_id if isinstance(u, HardwareUnit) else u.disk_id, "name": u.name, "state": u.state,
            "status": u.status_text}


def _hardware(prev: Snapshot, curr: Snapshot, now: float) -> list[Change]:
    """Power supplies, fans and disks that failed or came back, temperatures and filesystems that crossed
    a threshold. A unit missing from a table that did not answer completely is unknown, not failed."""
    a, b = prev.hardware, curr.hardware
    if a is None or b is None:
        return []
    out: list[Change] = []
    dev = curr.device
    after = {u.unit_id: u for u in b.units}
    for u in a.units:
        failed_kind, recovered_kind = _UNIT_CHANGE[u.kind]
        v = after.get(u.unit_id)
        if v is None and not curr.table(u.source).status.known:
            continue
        state = "absent" if v is None else v.state
        what = u.kind.value.replace("_", " ")
        if u.state in _GOOD_UNIT and state in _BAD_UNIT:
            word = "no longer listed" if v is None else v.status_text
            out.append(Change(failed_kind, dev, now, before=_unit_view(u), after=_unit_view(v),
                              detail=f"{what} {(v or u).name}: {state} ({word})", extra={"unit": u.unit_id}))
        elif u.state in _BAD_UNIT and state == "ok" and v is not None:
            out.append(Change(recovered_kind, dev, now, before=_unit_view(u), after=_unit_view(v),
                              detail=f"{what} {v.name} back: {v.status_text}", extra={"unit": u.unit_id}))
    rank = {None: 0, "warning": 1, "alarm": 2}
    temps = {t.sensor_id: t for t in a.temperatures}
    for t in b.temperatures:
        old = temps.get(t.sensor_id)
        if old is None or old.value is None or t.value is None or rank[t.breach] == rank[old.breach]:
            continue
        kind = ChangeKind.TEMPERATURE_BREACH if rank[t.breach] > rank[old.breach] else ChangeKind.TEMPERATURE_RECOVERED
        out.append(Change(kind, dev, now, before=old.value, after=t.value,
                          detail=f"{t.descr} {t.value:g} C" + (f": {t.breach}" if t.breach else " back within thresholds"),
                          extra={"sensor": t.sensor_id, "level": t.breach, "thresholds": {
                              "high_warn": t.thresholds.high_warn, "high_alarm": t.thresholds.high_alarm}}))
    stores = {s.name: s for s in a.storage}
    for s in b.storage:
        old_s = stores.get(s.name)
        if old_s is None or old_s.used_pct is None or s.used_pct is None:
            continue
        if rank[s.breach] != rank[old_s.breach]:
            kind = ChangeKind.STORAGE_FULL if rank[s.breach] > rank[old_s.breach] else ChangeKind.STORAGE_RECOVERED
            out.append(Change(kind, dev, now, before=old_s.used_pct, after=s.used_pct,
                              detail=f"{s.name} {s.used_pct:g}% used" + (f": {s.breach}" if s.breach else ""),
                              extra={"storage": s.name, "level": s.breach}))
        if old_s.allocation_failures is not None and s.allocation_failures is not None \
                and s.allocation_failures > old_s.allocation_failures:
            out.append(Change(ChangeKind.STORAGE_ALLOCATION_FAILED, dev, now, before=old_s.allocation_failures,
                              after=s.allocation_failures, extra={"storage": s.name},
                              detail=f"{s.name}: {s.allocation_failures - old_s.allocation_failures} "
                                     f"allocation failures since the last poll"))
    disks = {d.name: d for d in b.disks}
    for d in a.disks:
        e = disks.get(d.name)
        if e is None:
            continue
        if d.state in _GOOD_UNIT and e.state == "failed":
            out.append(Change(ChangeKind.DISK_FAILED, dev, now, before=_unit_view(d), after=_unit_view(e),
                              detail=f"disk {e.name}: {e.status_text}", extra={"disk": e.name}))
        elif d.state == "failed" and e.state == "ok":
            out.append(Change(ChangeKind.DISK_RECOVERED, dev, now, before=_unit_view(d), after=_unit_view(e),
                              detail=f"disk {e.name} back: {e.status_text}", extra={"disk": e.name}))
    return out
