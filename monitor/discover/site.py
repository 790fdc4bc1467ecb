"""From what discovery found to a site's devices and links, with link roles inferred: pure functions of data.

A link is written when both ends are devices discovery reached (the inventory only links its own devices);
each end's port is taken from that end's own view when it has one, so a neighbour that describes its port
loosely does not invent a port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from monitor.discover.crawl import Discovery, Found


@dataclass(frozen=True, slots=True)
class DraftDevice:
    name: str
    host: str
    platform: str
    snmp: str  # credential name
    depth: int
    network: bool
    problems: tuple[str, ...] = ()  # neighbour tables that did not answer: its links are unknown, not absent


@dataclass(frozen=True, slots=True)
class DraftLink:
    a: str  # DEVICE:PORT
    b: str
    role: str
    protocol: str


@dataclass
class Draft:
    """The site as discovery sees it, and the neighbours it could not turn into links (with why)."""

    devices: list[DraftDevice] = field(default_factory=list)
    links: list[DraftLink] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def device_name(sys_name: str, address: str) -> str:
    """An inventory name from sysName: no ':' (links use DEVICE:PORT), no spaces; the address when unnamed.

    >>> device_name("core-sw1", "10.0.0.1"), device_name("", "10.0.0.2"), device_name("lab sw:3", "x")
    ('core-sw1', '10-0-0-2', 'lab-sw-3')
    """
    name = re.sub(r"[\s:]+", "-", sys_name.strip()).strip("-")
    return name or address.replace(".", "-").replace(":", "-")


def link_role(depth_a: int, depth_b: int, network_a: bool = True, network_b: bool = True) -> str:
    """Between two network devices: backbone at the seed (the core) or between peers of one depth, uplink
    from one depth to the next; to a server: access.

    >>> link_role(0, 1), link_role(1, 2), link_role(2, 2), link_role(1, 2, network_b=False)
    ('backbone', 'uplink', 'backbone', 'access')
    """
    if not (network_a and network_b):
        return "access"
    return "backbone" if min(depth_a, depth_b) == 0 or depth_a == depth_b else "uplink"


def _key(name: str) -> str:
    """Names compared without case or domain, as LLDP may give an FQDN where sysName is short."""
    return name.strip().lower().split(".")[0] if name.strip() and not name.strip()[0].isdigit() else name.lower()


def draft(discovery: Discovery) -> Draft:
    """Devices (in the order found) and the links between them, each once, each port in at most one link."""
    out = Draft()
    named: dict[str, Found] = {}
    names: dict[int, str] = {}
    for f in discovery.found:
        name = device_name(f.sys_name, f.address)
        while name in named:  # two devices with one sysName: keep both, told apart by address
            name = f"{name}-{f.address.replace('.', '-')}"
        named[name] = f
        names[id(f)] = name
        out.devices.append(DraftDevice(name, f.address, f.identity.platform, f.credential, f.depth,
                                       f.identity.network, f.tables.problems))
    by_address = {f.address: names[id(f)] for f in discovery.found}
    by_name = {_key(f.sys_name): names[id(f)] for f in discovery.found if f.sys_name}
    halves: list[tuple[str, str, str, str, str]] = []  # (device, port, peer, peer's port as told, protocol)
    for f in discovery.found:
        for n in f.tables.neighbours:
            peer = next((by_address[a] for a in n.addresses if a in by_address), None) or by_name.get(_key(n.name))
            if peer is not None and peer != names[id(f)]:
                halves.append((names[id(f)], n.local_port, peer, n.port, n.protocol))
    used: dict[str, str] = {}
    seen: set[frozenset[str]] = set()
    device = {d.name: d for d in out.devices}
    for a, pa, b, pb, protocol in halves:
        back = next((h for h in halves if h[0] == b and h[2] == a and (h[3] == pa or (pb and h[1] == pb))), None)
        port_b = back[1] if back is not None else pb
        if not port_b:
            out.skipped.append(f"{a}:{pa} -> {b}: the neighbour did not say which port")
            continue
        ends = (f"{a}:{pa}", f"{b}:{port_b}")
        if frozenset(ends) in seen:
            continue
        clash = next((e for e in ends if e in used), None)
        if clash is not None:
            out.skipped.append(f"{ends[0]} -> {ends[1]}: {clash} is already linked to {used[clash]}")
            continue
        seen.add(frozenset(ends))
        used[ends[0]], used[ends[1]] = ends[1], ends[0]
        da, db = device[a], device[b]
        out.links.append(DraftLink(*ends, link_role(da.depth, db.depth, da.network, db.network), protocol))
    return out
