"""What the pages and the API show, built from the inventory, the store and the config history.

Plain functions from records to small dataclasses: the templates and the JSON routes both read these,
so a page and its API answer always agree. Nothing here checks access: callers pass only what
`monitor.web.access` let through.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.check.watch import IGNORED, UNUSED, WatchRule, watched_ports
from monitor.common.names import canonical_port, port_label, short_port
from monitor.confighist.history import ConfigHistory, ConfigHistoryError, ConfigVersion, unified
from monitor.inventory import Device, Inventory, Site
from monitor.model import Snapshot
from monitor.timeseries.reader import PointReader
from monitor.web import optics
from monitor.witness.incidents import SEVERITIES, Incident

log = logging.getLogger(__name__)


# --- time -----------------------------------------------------------------------------------------


def words(cause: str) -> str:
    """A cause as words.

    >>> words("transceiver_moved")
    'Transceiver moved'
    """
    return cause.replace("_", " ").capitalize()


def show(v: Any) -> str:
    """A before/after value of the evidence as one short phrase."""
    if v is None:
        return "-"
    if isinstance(v, dict):
        return " ".join(port_label(str(x)) if k == "port" else str(x)
                        for k, x in v.items() if x not in (None, "")) or "-"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def endpoint(ref: str) -> str:
    """A link end as people write it.

    >>> endpoint("core-sw1:GigabitEthernet1/0/49"), endpoint("pc-101")
    ('core-sw1:GigabitEthernet1/0/49', 'pc-101')
    """
    device, _, port = ref.partition(":")
    return f"{device}:{port_label(port)}" if port else device


# --- site -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceRow:
    name: str
    description: str
    platform: str
    state: str  # up | down | unknown
    polled_at: float | None
    poll_status: str
    ports_up: int
    ports_physical: int
    modules: int
    error: str


@dataclass(frozen=True)
class LinkRow:
    a: str
    b: str
    role: str
    media: str
    state: str  # up | down | unknown
    source: str  # inventory | lldp
    detail: str


@dataclass(frozen=True)
class ModuleRow:
    device: str
    port: str
    vendor: str
    model: str
    serial: str
    oper: str
    series: list[optics.Series]

    @property
    def state(self) -> str:
        levels = [s.state for s in self.series]
        return "alarm" if "alarm" in levels else "warning" if "warning" in levels else "ok"


@dataclass(frozen=True)
class SiteView:
    site: Site
    customer: str
    health: str  # ok | degraded | down | unknown
    headline: str
    devices: list[DeviceRow]
    links: list[LinkRow]
    modules: list[ModuleRow]
    open_incidents: list[Incident]
    updated_at: float | None


def device_row(d: Device, snap: Snapshot | None) -> DeviceRow:
    if snap is None:
        return DeviceRow(d.name, d.description or "", d.platform, "unknown", None, "never polled", 0, 0, 0, "")
    physical = [p for p in snap.ports if p.is_physical]
    return DeviceRow(d.name, d.description or snap.facts.sys_descr.split("\n")[0][:80], d.platform,
                     "up" if snap.reachable else "down", snap.taken_at, snap.poll_status.replace("_", " "),
                     sum(p.oper == "up" for p in physical), len(physical), len(snap.transceivers), snap.error or "")


def _oper(snaps: dict[str, Snapshot], device: str, port: str) -> str:
    snap = snaps.get(device)
    if snap is None or not snap.reachable:
        return "unknown"
    p = snap.port(canonical_port(port))
    return "unknown" if p is None else p.oper


def links(inv: Inventory, site: str, snaps: dict[str, Snapshot]) -> list[LinkRow]:
    """The inventory's links of the site, then the links LLDP shows between its devices that the inventory lacks."""
    names = {d.name for d in inv.devices_at(site)}
    out, known = [], set()
    for link in inv.links:
        if link.a.device not in names:
            continue
        ends = [(e.device, e.port, _oper(snaps, e.device, e.port)) for e in (link.a, link.b)]
        known.update({(e.device, e.port) for e in (link.a, link.b)})
        out.append(_link(ends, link.role, link.media or "", "inventory"))
    sys_names = {s.facts.sys_name: d for d, s in snaps.items() if s.facts.sys_name} | {n: n for n in names}
    for d, s in sorted(snaps.items()):
        if not s.reachable:
            continue
        for n in s.neighbors:
            other, local_port = sys_names.get(n.sys_name), s.port(n.ifindex) if n.ifindex is not None else None
            if other is None or local_port is None or (d, local_port.name) in known:
                continue
            far = canonical_port(n.port)
            known.update({(d, local_port.name), (other, far)})
            out.append(_link([(d, local_port.name, local_port.oper), (other, far, _oper(snaps, other, far))],
                             "seen by LLDP", "", "lldp"))
    return out


def _link(ends: list[tuple[str, str, str]], role: str, media: str, source: str) -> LinkRow:
    opers = [o for _, _, o in ends]
    state = "up" if all(o == "up" for o in opers) else "unknown" if "unknown" in opers else "down"
    detail = ", ".join(f"{d} {port_label(p)} {o}" for d, p, o in ends if o not in ("up", "unknown"))
    a, b = (f"{d}:{port_label(p)}" for d, p, _ in ends)
    return LinkRow(a, b, role, media, state, source, detail)


def modules(snaps: dict[str, Snapshot], reader: PointReader | None, site: str, window_s: float) -> list[ModuleRow]:
    out = []
    for d, s in sorted(snaps.items()):
        names = {p.ifindex: p for p in s.ports}
        for t in sorted(s.transceivers, key=lambda t: (t.ifindex or 0)):
            port = names.get(t.ifindex) if t.ifindex is not None else None
            if port is None:
                continue
            series = optics.history(reader, s, d, port.name, s.taken_at - window_s, s.taken_at, site)
            out.append(ModuleRow(d, port.name, t.vendor, t.model, t.serial, port.oper, series))
    return out


def site_view(inv: Inventory, site: Site, snaps: dict[str, Snapshot], open_incidents: list[Incident],
              reader: PointReader | None, window_s: float) -> SiteView:
    devices = [device_row(d, snaps.get(d.name)) for d in sorted(inv.devices_at(site.name), key=lambda d: d.name)]
    link_rows = links(inv, site.name, snaps)
    mods = modules(snaps, reader, site.name, window_s)
    health, headline = _health(devices, link_rows, mods, open_incidents)
    customer = inv.customers[site.customer].display_name if site.customer in inv.customers else site.customer
    times = [d.polled_at for d in devices if d.polled_at is not None]
    return SiteView(site, customer, health, headline, devices, link_rows, mods, open_incidents,
                    max(times) if times else None)


def _health(devices: list[DeviceRow], links: list[LinkRow], mods: list[ModuleRow],
            incidents: list[Incident]) -> tuple[str, str]:
    """One word and one sentence a customer reads first."""
    if not devices or all(d.state == "unknown" for d in devices):
        return "unknown", "No device of this site has been polled yet."
    down = [d.name for d in devices if d.state == "down"]
    links_down = [f"{link.a} ↔ {link.b}" for link in links if link.state == "down"]
    alarms = [f"{m.device} {port_label(m.port)}" for m in mods if m.state == "alarm"]
    parts = []
    if down:
        parts.append(f"{len(down)} device{'s' if len(down) > 1 else ''} not answering ({', '.join(down)})")
    if links_down:
        parts.append(f"{len(links_down)} link{'s' if len(links_down) > 1 else ''} down ({', '.join(links_down)})")
    if alarms:
        parts.append(f"optics in alarm on {', '.join(alarms)}")
    if incidents:
        parts.append(f"{len(incidents)} open incident{'s' if len(incidents) > 1 else ''}")
    worst = max((SEVERITIES.index(i.severity) for i in incidents if i.severity in SEVERITIES), default=-1)
    if down or worst >= SEVERITIES.index("critical"):
        health = "down"
    elif parts:
        health = "degraded"
    else:
        return "ok", f"All {len(devices)} devices answer and every link is up."
    text = "; ".join(parts)
    return health, text[:1].upper() + text[1:] + "."


# --- device ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortRow:
    name: str
    short: str
    alias: str
    admin: str
    oper: str
    speed_mbps: int | None
    module: str
    serial: str
    neighbor: str
    optics: str  # ok | warning | alarm | "" (no module)
    watch: str = ""  # monitor.check.watch verdict ("" when not computed)

    @property
    def state(self) -> str:
        """What the page shows: a down port nobody watches is "unused", as `saksi check` says."""
        return "unused" if self.oper != "up" and self.watch in (UNUSED, IGNORED) else self.oper


def port_rows(snap: Snapshot | None, rule: WatchRule | None = None) -> list[PortRow]:
    if snap is None:
        return []
    verdicts = {} if rule is None else watched_ports(snap, rule)
    out = []
    for p in snap.ports:
        if not p.is_physical:
            continue
        t, n = snap.transceiver_in(p.ifindex), snap.neighbor_on(p.ifindex)
        breaches = [s.breach for s in snap.sensors_of(p.ifindex)]
        level = "alarm" if "alarm" in breaches else "warning" if "warning" in breaches else "ok" if t else ""
        out.append(PortRow(p.name, port_label(p.name), p.alias, p.admin, p.oper, p.speed_mbps,
                           f"{t.vendor} {t.model}".strip() if t else "", t.serial if t else "",
                           f"{n.sys_name} {port_label(n.port)}".strip() if n else "", level,
                           verdicts.get(p.name, "")))
    return out


# --- incidents ------------------------------------------------------------------------------------


def incident_state(inc: Incident) -> str:
    return inc.state  # the one state the CLI and the API show too (monitor.witness.incidents)


def matches(inc: Incident, q: str) -> bool:
    """A plain, case-insensitive substring search over what a person would look for (no query language)."""
    if not q:
        return True
    ports = (port_label(inc.port), short_port(inc.port)) if inc.port else ()  # shown long, often typed short
    hay = " ".join(str(x) for x in (inc.id, inc.cause, words(inc.cause), inc.device, inc.port or "", *ports,
                                    inc.summary, inc.serial or "", inc.owner or "", inc.resolution,
                                    *(n.get("text", "") for n in inc.notes)))
    return q.casefold() in hay.casefold()


# --- configuration change log ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigChange:
    device: str
    commit: str
    at: float
    source: str
    diff: str  # unified diff from the previous version ("" for the first one)
    first: bool
    lines: list[tuple[str, str]] = field(default_factory=list)  # (css class, text) for display


def config_log(site: str, devices: list[str], root: Path | None, page: int = 1,
               per_page: int = 20) -> tuple[list[ConfigChange], bool]:
    """One page of the devices' configuration versions, newest first, and whether older ones exist. Only
    the versions on the page are read and diffed: the work of a page does not grow with the history."""
    history = ConfigHistory(site, root)
    try:
        entries: list[tuple[ConfigVersion | None, ConfigVersion]] = []
        for device in devices:
            versions = _versions(history, device)
            entries += zip([None, *versions[:-1]], versions, strict=False)
        entries.sort(key=lambda e: e[1].at, reverse=True)
        start = (page - 1) * per_page
        return [_change(history, prev, ver) for prev, ver in entries[start:start + per_page]], (
            len(entries) > start + per_page)
    finally:
        history.close()


def config_change(site: str, device: str, commit: str, root: Path | None) -> ConfigChange | None:
    """One version of a device by its commit, diffed against the version before it only; None when the
    device has no such version."""
    history = ConfigHistory(site, root)
    try:
        versions = _versions(history, device)
        for prev, ver in zip([None, *versions[:-1]], versions, strict=False):
            if ver.commit == commit:
                return _change(history, prev, ver)
        return None
    finally:
        history.close()


def _versions(history: ConfigHistory, device: str) -> list[ConfigVersion]:
    try:
        return history.versions(device)
    except (ConfigHistoryError, KeyError, OSError) as exc:
        log.warning("config history of %s: %s", device, exc)
        return []


def _change(history: ConfigHistory, prev: ConfigVersion | None, ver: ConfigVersion) -> ConfigChange:
    d = ver.device
    diff = "" if prev is None else unified(history.text(prev), history.text(ver), f"{d} {prev.short}",
                                           f"{d} {ver.short}")
    return ConfigChange(d, ver.commit, ver.at, ver.source, diff, prev is None,
                        [(_diff_class(line), line) for line in diff.splitlines()])


def _diff_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "diff-file"
    return {"+": "diff-add", "-": "diff-del", "@": "diff-hunk"}.get(line[:1], "diff-ctx")


