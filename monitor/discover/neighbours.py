"""Who is on the other end of each port, and at which management address: LLDP, or CDP on Cisco-only sites.

The walks are a few lines; everything else is pure functions of walked rows, tested on recordings of real
devices. Ports are canonical on both ends, as the inventory and the collectors write them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from monitor.collectors.decode import as_int, as_mac, as_text
from monitor.collectors.snmp import SnmpClient, SnmpTarget, Value, WalkResult
from monitor.common.names import canonical_port
from monitor.discover.identify import under

LLDP_REM = "1.0.8802.1.1.2.1.4.1.1"  # lldpRemEntry
LLDP_LOC_PORT = "1.0.8802.1.1.2.1.3.7.1"  # lldpLocPortEntry
LLDP_REM_MAN_ADDR = "1.0.8802.1.1.2.1.4.2.1"  # lldpRemManAddrEntry: the address is in the index
CDP_CACHE = "1.3.6.1.4.1.9.9.23.1.2.1.1"  # cdpCacheEntry (CISCO-CDP-MIB), index ifIndex.deviceIndex
IF_NAME, IF_DESCR = "1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.2.2.1.2"
CISCO = "1.3.6.1.4.1.9"

REM_COLUMNS = [f"{LLDP_REM}.{c}" for c in (4, 5, 6, 7, 8, 9)]
LOC_COLUMNS = [f"{LLDP_LOC_PORT}.{c}" for c in (2, 3, 4)]
MAN_ADDR_COLUMNS = [f"{LLDP_REM_MAN_ADDR}.3"]  # lldpRemManAddrIfSubtype: the first readable column
CDP_COLUMNS = [f"{CDP_CACHE}.{c}" for c in (3, 4, 6, 7)]
_PORT_SUBTYPE_MAC, _PORT_SUBTYPE_NAME, _PORT_SUBTYPE_LOCAL = 3, 5, 7
_CHASSIS_SUBTYPE_MAC = 4


@dataclass(frozen=True, slots=True)
class Neighbour:
    """One neighbour seen on one local port; `addresses` are where it says it can be managed (IPv4)."""

    local_port: str  # canonical
    name: str  # the neighbour's sysName (LLDP) or device ID (CDP)
    port: str  # the neighbour's port, canonical; "" when it did not say
    addresses: tuple[str, ...]
    chassis: str = ""
    protocol: str = "lldp"


def usable_address(text: str) -> str | None:
    """An IPv4 unicast address worth trying; None for 0.0.0.0, broadcast, multicast and garbage.

    >>> usable_address("10.1.1.1"), usable_address("0.0.0.0"), usable_address("224.0.0.5"), usable_address("x")
    ('10.1.1.1', None, None, None)
    """
    try:
        ip = ipaddress.IPv4Address(text)
    except ValueError:
        return None
    if ip.is_unspecified or ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255"):
        return None
    return str(ip)


def if_names(names: WalkResult) -> dict[int, str]:
    """ifIndex -> canonical port name, from ifName where the device has it, else ifDescr."""
    out: dict[int, str] = {}
    for column in (IF_DESCR, IF_NAME):  # ifName last: it wins
        for index, value in names.column(column).items():
            text, ifindex = as_text(value), as_int(index)
            if text and ifindex is not None:
                out[ifindex] = canonical_port(text)
    return out


def local_ports(loc: WalkResult, ports: dict[int, str]) -> dict[int, str]:
    """lldpLocPortNum -> canonical local port: by the port's ID or description when the device has such a
    port, else by the number as an ifIndex (what most agents use), else whatever label the agent gave.

    >>> loc = WalkResult({f"{LLDP_LOC_PORT}.2": {"3": 7}, f"{LLDP_LOC_PORT}.3": {"3": b"3"},
    ...                   f"{LLDP_LOC_PORT}.4": {"3": b"uplink to core"}})
    >>> local_ports(loc, {3: "GigabitEthernet1/0/3"})
    {3: 'GigabitEthernet1/0/3'}
    """
    known = set(ports.values())
    out: dict[int, str] = {}
    numbers = {as_int(i) for c in LOC_COLUMNS for i in loc.column(c)} - {None}
    for num in sorted(n for n in numbers if n is not None):
        key = str(num)
        subtype = as_int(loc.column(f"{LLDP_LOC_PORT}.2").get(key))
        pid = loc.column(f"{LLDP_LOC_PORT}.3").get(key)
        pid_text = "" if subtype == _PORT_SUBTYPE_MAC else as_text(pid)
        descr = as_text(loc.column(f"{LLDP_LOC_PORT}.4").get(key))
        label = next((canonical_port(c) for c in (pid_text, descr) if c and canonical_port(c) in known), None)
        if label is None and pid_text.isdigit() and int(pid_text) in ports:
            label = ports[int(pid_text)]
        if label is None:
            label = ports.get(num) or canonical_port(pid_text or descr or key)
        out[num] = label
    return out


def _index_address(suffix: str) -> tuple[tuple[int, int], str] | None:
    """lldpRemManAddr index -> ((localPortNum, remIndex), IPv4), or None for another address family.

    >>> _index_address("0.47.2.1.4.172.20.21.194"), _index_address("0.48.1.2.16.42.4.65.192.0.0.0.0.0.0.0.0.0.0.0.1")
    (((47, 2), '172.20.21.194'), None)
    """
    parts = suffix.split(".")
    if len(parts) < 8 or not all(p.isdigit() for p in parts) or parts[3] != "1":
        return None
    octets = parts[5:9] if parts[4] == "4" and len(parts) == 9 else parts[4:8] if len(parts) == 8 else None
    if octets is None or any(int(o) > 255 for o in octets):
        return None
    address = usable_address(".".join(octets))
    return None if address is None else ((int(parts[1]), int(parts[2])), address)


def _remote_port(subtype: int | None, pid: Value | None, descr: str) -> str:
    """The neighbour's port: its interface name when it gives one, else its description (an alias, subtype 1,
    is a person's text; a MAC, subtype 3, names no port).

    >>> _remote_port(5, b"Te1/3", ""), _remote_port(1, b"to core", "TenGigabitEthernet1/0/1"), _remote_port(3, b"x", "")
    ('TenGigabitEthernet1/3', 'TenGigabitEthernet1/0/1', '')
    """
    text = "" if subtype == _PORT_SUBTYPE_MAC else as_text(pid)
    if subtype in (_PORT_SUBTYPE_NAME, _PORT_SUBTYPE_LOCAL) and text and not text.isdigit():
        return canonical_port(text)
    return canonical_port(descr or text) if (descr or text) else ""


def parse_lldp(rem: WalkResult, loc: WalkResult, man: WalkResult, ports: dict[int, str]) -> list[Neighbour]:
    """Neighbours from lldpRemTable, with their local ports and their management addresses."""
    col = {c: rem.column(f"{LLDP_REM}.{c}") for c in (4, 5, 6, 7, 8, 9)}
    addresses: dict[tuple[int, int], list[str]] = {}
    for suffix in man.column(MAN_ADDR_COLUMNS[0]):
        found = _index_address(suffix)
        if found is not None and found[1] not in addresses.setdefault(found[0], []):
            addresses[found[0]].append(found[1])
    local = local_ports(loc, ports)
    out = []
    for suffix in sorted(col[9].keys() | col[7].keys() | col[5].keys()):
        parts = suffix.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            continue
        num, index = int(parts[1]), int(parts[2])
        chassis = col[5].get(suffix)
        out.append(Neighbour(
            local_port=local.get(num) or ports.get(num) or str(num),
            name=as_text(col[9].get(suffix)),
            port=_remote_port(as_int(col[6].get(suffix)), col[7].get(suffix), as_text(col[8].get(suffix))),
            addresses=tuple(addresses.get((num, index), ())),
            chassis=as_mac(chassis) if as_int(col[4].get(suffix)) == _CHASSIS_SUBTYPE_MAC else as_text(chassis),
        ))
    return out


def cdp_device_name(device_id: str) -> str:
    """CDP's device ID without the serial some platforms append in parentheses.

    >>> cdp_device_name("nx-core-1(FOX1234ABCD)"), cdp_device_name("acme-fr-s-001")
    ('nx-core-1', 'acme-fr-s-001')
    """
    return device_id.split("(", 1)[0].strip() if device_id.endswith(")") else device_id.strip()


def parse_cdp(cache: WalkResult, ports: dict[int, str]) -> list[Neighbour]:
    """Neighbours from cdpCacheTable; the local port is the row's ifIndex."""
    col = {c: cache.column(f"{CDP_CACHE}.{c}") for c in (3, 4, 6, 7)}
    out = []
    for suffix in sorted(col[6].keys() | col[4].keys()):
        parts = suffix.split(".")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            continue
        raw = col[4].get(suffix)
        address = None
        if as_int(col[3].get(suffix)) == 1 and isinstance(raw, bytes) and len(raw) == 4:
            address = usable_address(".".join(str(b) for b in raw))
        port = as_text(col[7].get(suffix))
        out.append(Neighbour(
            local_port=ports.get(int(parts[0]), parts[0]),
            name=cdp_device_name(as_text(col[6].get(suffix))),
            port=canonical_port(port) if port else "",
            addresses=(address,) if address else (),
            protocol="cdp",
        ))
    return out


@dataclass(frozen=True, slots=True)
class NeighbourTables:
    """What one device said about its neighbours, and what it failed to say (a table that did not answer)."""

    neighbours: tuple[Neighbour, ...]
    protocol: str  # lldp | cdp | none
    problems: tuple[str, ...] = ()


async def collect(client: SnmpClient, target: SnmpTarget, sys_object_id: str) -> NeighbourTables:
    """Walk LLDP; on a Cisco device with no LLDP neighbour, walk CDP instead."""
    problems: list[str] = []
    rem = await client.walk(target, REM_COLUMNS)
    if rem.error is not None:
        problems.append(f"lldpRemTable: {rem.error}")
    if rem.row_count:
        loc, man, names = (await client.walk(target, LOC_COLUMNS), await client.walk(target, MAN_ADDR_COLUMNS),
                           await client.walk(target, [IF_DESCR, IF_NAME]))
        problems += [f"{what}: {w.error}" for what, w in (("lldpLocPortTable", loc), ("lldpRemManAddrTable", man),
                                                          ("ifName", names)) if w.error is not None]
        return NeighbourTables(tuple(parse_lldp(rem, loc, man, if_names(names))), "lldp", tuple(problems))
    if under(sys_object_id, CISCO):
        cache = await client.walk(target, CDP_COLUMNS)
        if cache.error is not None:
            problems.append(f"cdpCacheTable: {cache.error}")
        if cache.row_count:
            names = await client.walk(target, [IF_DESCR, IF_NAME])
            if names.error is not None:
                problems.append(f"ifName: {names.error}")
            return NeighbourTables(tuple(parse_cdp(cache, if_names(names))), "cdp", tuple(problems))
    return NeighbourTables((), "none", tuple(problems))
