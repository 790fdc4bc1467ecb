"""ENTITY-MIB: find every pluggable transceiver and the port it sits in.

Vendors nest modules differently (Cisco IOS: an SFP is a `port` entity mapped to its ifIndex;
IOS-XE routers: a `module` with a child `port`; NX-OS: a `module` inside a `port`; Arista: a
`container` named after its interface), so placement follows the containment tree and
entAliasMapping rather than any one layout.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor.collectors.decode import as_int, as_oid, as_text
from monitor.collectors.snmp import SnmpClient, SnmpTarget, WalkResult
from monitor.common.names import canonical_port, short_port
from monitor.model import Transceiver

log = logging.getLogger(__name__)

ENT_PHYSICAL = "1.3.6.1.2.1.47.1.1.1.1"
ENT_ALIAS_MAPPING = "1.3.6.1.2.1.47.1.3.2.1.2"
ENT_LAST_CHANGE = "1.3.6.1.2.1.47.1.4.1.0"
IF_INDEX_PREFIX = "1.3.6.1.2.1.2.2.1.1."

_COLUMNS = {2: "descr", 3: "vendor_type", 4: "contained_in", 5: "cls", 7: "name", 8: "hw_rev", 11: "serial",
            12: "mfg", 13: "model", 14: "alias", 16: "fru"}
COLUMNS = [f"{ENT_PHYSICAL}.{c}" for c in _COLUMNS]

OTHER, CONTAINER, SENSOR, MODULE, PORT = 1, 5, 8, 9, 10
# What pluggable optics call themselves (descr, name, model): form factors, media codes, cable types.
_PLUGGABLE = re.compile(
    r"sfp|xfp|qsfp|gbic|cfp|osfp|transceiver|xcvr|optic|\b(dac|aoc)\b|base-?[a-z]|cu\d+m|"
    r"\b(lx|sx|zx|lr|sr|er|zr|lh|ex|bx|lrm|cwdm|dwdm)\d*\b", re.IGNORECASE)
_PLACEABLE = {OTHER, CONTAINER, MODULE, PORT}
_MAX_DEPTH = 12


@dataclass(frozen=True, slots=True)
class Entity:
    index: int
    cls: int = 0
    descr: str = ""
    name: str = ""
    vendor_type: str = ""
    contained_in: int = 0
    hw_rev: str = ""
    serial: str = ""
    mfg: str = ""
    model: str = ""
    alias: str = ""
    fru: bool | None = None  # None when the agent does not say
    ifindex: int | None = None  # from entAliasMapping


class EntityTree:
    """The entPhysicalTable as a tree, with the questions correlation asks of it."""

    def __init__(self, entities: Mapping[int, Entity], port_names: Mapping[str, int],
                 ports: Iterable[tuple[int, str]] | None = None) -> None:
        """`ports`: every (ifIndex, ifName or ifDescr), a label two ports share included; by default the
        labels of `port_names`."""
        self.entities = dict(entities)
        self._port_names = port_names
        self._ports = list(ports) if ports is not None else [(i, n) for n, i in port_names.items()]
        self._spellings: dict[str, frozenset[int]] | None = None
        self._children: dict[int, list[int]] = {}
        self._xcvr: dict[int, bool] = {}
        for e in self.entities.values():
            self._children.setdefault(e.contained_in, []).append(e.index)

    def children(self, index: int) -> list[Entity]:
        return [self.entities[i] for i in self._children.get(index, ())]

    def ancestors(self, index: int) -> list[Entity]:
        out: list[Entity] = []
        seen = {index}
        e = self.entities.get(index)
        while e is not None and e.contained_in and len(out) < _MAX_DEPTH:
            if e.contained_in in seen:
                break
            seen.add(e.contained_in)
            e = self.entities.get(e.contained_in)
            if e is not None:
                out.append(e)
        return out

    def _named_port(self, e: Entity) -> int | None:
        for label in (e.alias, e.name):
            if label and label in self._port_names:
                return self._port_names[label]
        return None

    def _mapped_ports(self, index: int, depth: int = 0) -> set[int]:
        """ifIndexes mapped anywhere below an entity (for telling a line card from a transceiver)."""
        found: set[int] = set()
        for c in self.children(index):
            if c.ifindex is not None:
                found.add(c.ifindex)
            if depth < _MAX_DEPTH:
                found |= self._mapped_ports(c.index, depth + 1)
        return found

    def placement(self, e: Entity) -> int | None:
        """The single port an entity belongs to, or None when it has none or several."""
        if e.ifindex is not None:
            return e.ifindex
        below = self._mapped_ports(e.index)
        if len(below) == 1:
            return next(iter(below))
        if below:
            return None  # a line card or stack member: many ports
        port = self._enclosing_port(e)
        if port is not None:
            placed = port.ifindex if port.ifindex is not None else self._named_port(port)
            if placed is not None:
                return placed
        return self._named_port(e)

    def _enclosing_port(self, e: Entity) -> Entity | None:
        """The port entity a module sits in: its parent (NX-OS), or the port above the empty container the
        module fills (IOS-XR: port > "slot mau" container > "module mau")."""
        for a in self.ancestors(e.index)[:2]:
            if a.cls == PORT:
                return a
            if a.cls != CONTAINER:
                return None
        return None

    def _candidate(self, e: Entity) -> bool:
        """Could be a pluggable module: a replaceable unit with an identity."""
        if e.cls not in _PLACEABLE or not (e.serial or e.model):
            return False
        if e.fru is False:
            return False  # a fixed port or a built-in processor module with a serial is a chassis detail
        return e.fru is True or e.cls == MODULE

    def _looks_pluggable(self, e: Entity) -> bool:
        """Needed only where the layout alone is ambiguous: a module whose one port sits below it is an
        SFP on a router (ISR "GE LX") but also a board whose only port is management (a Comware MPU)."""
        if e.ifindex is not None:
            return True  # the module is itself the port (Cisco IOS SFPs)
        if self._enclosing_port(e) is not None:
            return True  # a module inside a port (NX-OS), directly or through its slot container (IOS-XR)
        return bool(_PLUGGABLE.search(f"{e.descr} {e.name} {e.model}"))

    def is_transceiver(self, e: Entity) -> bool:
        """A candidate placed on exactly one port, not inside another transceiver (lanes, sub-parts)."""
        if e.index not in self._xcvr:
            self._xcvr[e.index] = False  # guards against containment cycles
            self._xcvr[e.index] = (
                self._candidate(e)
                and self.placement(e) is not None
                and self._looks_pluggable(e)
                and not any(self.is_transceiver(a) for a in self.ancestors(e.index))
            )
        return self._xcvr[e.index]

    def transceivers(self) -> list[Transceiver]:
        return [
            Transceiver(vendor=e.mfg, model=e.model, serial=e.serial, type=e.descr, revision=e.hw_rev,
                        ifindex=self.placement(e), entity_index=e.index, source="entity-mib")
            for e in sorted(self.entities.values(), key=lambda x: x.index)
            if self.is_transceiver(e)
        ]

    def port_of_sensor(self, index: int) -> tuple[int | None, int | None]:
        """(ifIndex, transceiver entity) a sensor measures, walking up its containment."""
        e = self.entities.get(index)
        if e is None:
            return None, None
        if e.ifindex is not None:
            return e.ifindex, None
        for a in self.ancestors(index):
            if self.is_transceiver(a):
                return self.placement(a), a.index
            if self._candidate(a) and a.cls != PORT and a.contained_in and not self._mapped_ports(a.index):
                return None, a.index  # a module the device does not place on any port we know
            if a.ifindex is not None:
                return a.ifindex, None
            if a.cls == PORT:
                named = self._named_port(a)
                if named is not None:
                    return named, None
        return None, None

    def ports_named_by(self, index: int) -> dict[int, int | None]:
        """The ports (with lanes) an entity's own entPhysicalDescr and entPhysicalName name: the last resort for
        a sensor its containment and alias mapping place on no port (see `ports_named_in`)."""
        e = self.entities.get(index)
        if e is None:
            return {}
        if self._spellings is None:
            self._spellings = port_spellings(self._ports)
        return ports_named_in(f"{e.descr} {e.name}", self._spellings)


# A port name stands alone: not inside a longer name ("Ethernet1" in "Ethernet10", "1/1" in "1/1/1",
# "0/0/0" in "xe-0/0/0"), nor as a sub-interface ("Gi0/1.100"); "TenGigE0/0/0/0-Tx" still names its port.
_BEFORE = r"(?<![\w/.:-])"
_AFTER = r"(?![\w/]|[.:]\d)"
_LANE_SUFFIX = r"(?:/([1-8]))?"  # Arista's lane sensors: "Ethernet49/2" is lane 2 of the QSFP in Ethernet49
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[a-z]", re.I)
# Said by a reading of a port or its optic. A bare port name ("1/1") also numbers power supplies and fan
# trays ("power supply 1/1"), so it places a sensor only in a text that says this.
_PORT_READING = re.compile(r"rx|tx|receiv|transmi|bias|laser|lane|\bdom\b|ddm|sfp|xfp|transceiver|xcvr|optic|"
                           r"\bport", re.I)


def port_spellings(ports: Iterable[tuple[int, str]]) -> dict[str, frozenset[int]]:
    """Every way a device's port may be written in a sensor's name (as the device spells it, canonical, short),
    lower-cased, with the ports it names: a label two ports share names neither alone. A name without a
    digit ("Port", "mgmt") or made of digits only ("1") names no port in free text.

    >>> sorted(port_spellings([(1, "Ethernet1"), (9, "9"), (7, "Port"), (3, "Gi1/0/3")]))
    ['et1', 'ethernet1', 'gi1/0/3', 'gigabitethernet1/0/3']
    >>> port_spellings([(5, "TenGigabitEthernet 1/33"), (6, "TenGigabitEthernet 1/33")])["te1/33"]
    frozenset({5, 6})
    """
    out: dict[str, set[int]] = {}
    for ifindex, label in ports:
        if not _DIGIT.search(label) or label.strip().isdigit():
            continue
        for spelling in {label.strip(), canonical_port(label), short_port(label)}:
            out.setdefault(spelling.lower(), set()).add(ifindex)
    return {s: frozenset(i) for s, i in out.items()}


def ports_named_in(text: str, spellings: Mapping[str, frozenset[int]]) -> dict[int, int | None]:
    """The ports a sensor's own name or description names as a whole word, each with the lane the name gives.

    For sensors that ENTITY-MIB places on no port (no entPhysicalContainedIn, a broken chain). The caller
    places the sensor only when exactly one port is named. An exact port name wins over a lane of a
    shorter one; "Ethernet49/2" is lane 2 of Ethernet49 only where the device has no port Ethernet49/2.

    >>> eos = port_spellings([(1, "Ethernet1"), (10, "Ethernet10"), (49, "Ethernet49"), (53, "Ethernet50/1")])
    >>> ports_named_in("DOM Temperature Sensor for Ethernet1", eos), ports_named_in("Ethernet10 Rx Power", eos)
    ({1: None}, {10: None})
    >>> ports_named_in("DOM RX Power Sensor for Ethernet49/3", eos), ports_named_in("Xcvr for Ethernet50/1", eos)
    ({49: 3}, {53: None})
    >>> ports_named_in("DOM RX Power Sensor for Ethernet1/2", port_spellings([(1, "Ethernet1"), (12, "Ethernet1/2")]))
    {12: None}
    >>> ports_named_in("Ethernet100 Rx", eos), ports_named_in("Ethernet1 and Ethernet10 inlet", eos)
    ({}, {1: None, 10: None})
    >>> xr = port_spellings([(5, "TenGigE0/0/0/0"), (6, "TenGigE0/0/0/1"), (7, "Gi0/0/0/0")])
    >>> ports_named_in("TenGigE0/0/0/0-Tx Lane Power", xr), ports_named_in("TenGigE0/0/0/0.100 Rx", xr)
    ({5: None}, {})
    >>> ports_named_in("GigabitEthernet0/0/0/0 Transmit Power Sensor", xr)
    {7: None}
    >>> hirschmann = port_spellings([(1, "1/1"), (11, "1/1/1")])
    >>> ports_named_in("Power RX 1/1/1", hirschmann), ports_named_in("SFP 1/1 temperature", hirschmann)
    ({11: None}, {1: None})
    >>> ports_named_in("Power sensor for power supply 1/1", hirschmann)  # a bare name, in no port reading
    {}
    """
    low = text.lower()
    bare_ok = bool(_PORT_READING.search(low))
    exact: dict[tuple[int, int], frozenset[int]] = {}
    lanes: dict[tuple[int, int], tuple[frozenset[int], int]] = {}
    for spelling, ifindexes in spellings.items():
        if spelling not in low or not (bare_ok or _LETTER.search(spelling)):
            continue
        lane_ok = "/" not in spelling  # "1/1/2" is a port of its own, never lane 2 of "1/1"
        pattern = _BEFORE + re.escape(spelling) + (_LANE_SUFFIX if lane_ok else "") + _AFTER
        for m in re.finditer(pattern, low):
            if lane_ok and m.group(1):
                lanes[m.span()] = (ifindexes, int(m.group(1)))
            else:
                exact[m.span()] = ifindexes
    out: dict[int, int | None] = {i: None for ifindexes in exact.values() for i in ifindexes}
    for span, (ifindexes, lane) in lanes.items():
        if span not in exact:  # a lane-shaped name the device has as a port is that port
            for i in ifindexes:
                out[i] = out.get(i) or lane
    return out


def parse_entities(walk: WalkResult, alias_walk: WalkResult | None) -> dict[int, Entity]:
    """entPhysicalTable rows (+ entAliasMapping) -> entities; unparseable rows are skipped."""
    fields: dict[int, dict[str, object]] = {}
    for col, name in _COLUMNS.items():
        for suffix, raw in walk.column(f"{ENT_PHYSICAL}.{col}").items():
            idx = as_int(suffix)
            if idx is None:
                continue
            fields.setdefault(idx, {})[name] = raw
    aliases: dict[int, int] = {}
    if alias_walk is not None:
        for suffix, raw in alias_walk.column(ENT_ALIAS_MAPPING).items():
            ent = as_int(suffix.split(".", 1)[0])
            target = as_oid(raw)
            if ent is None or not target or not target.startswith(IF_INDEX_PREFIX):
                continue
            ifx = as_int(target[len(IF_INDEX_PREFIX):])
            if ifx is not None and ent not in aliases:  # first logical mapping wins (context 0 sorts first)
                aliases[ent] = ifx
    out: dict[int, Entity] = {}
    for idx, f in fields.items():
        out[idx] = Entity(
            index=idx,
            cls=as_int(f.get("cls")) or 0,
            descr=as_text(f.get("descr")),
            name=as_text(f.get("name")),
            vendor_type=as_oid(f.get("vendor_type")) or "",
            contained_in=as_int(f.get("contained_in")) or 0,
            hw_rev=as_text(f.get("hw_rev")),
            serial=as_text(f.get("serial")),
            mfg=as_text(f.get("mfg")),
            model=as_text(f.get("model")),
            alias=as_text(f.get("alias")),
            fru=None if as_int(f.get("fru")) is None else as_int(f.get("fru")) == 1,
            ifindex=aliases.get(idx),
        )
    return out


async def collect(client: SnmpClient, target: SnmpTarget) -> tuple[WalkResult, WalkResult]:
    """Walk entPhysicalTable and entAliasMappingTable (two tables, two health entries)."""
    physical = await client.walk(target, COLUMNS)
    if physical.error is not None and not physical.rows.get(COLUMNS[0]):
        return physical, WalkResult(error=physical.error)
    return physical, await client.walk(target, [ENT_ALIAS_MAPPING])

