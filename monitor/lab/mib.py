"""Render a lab device as the MIB a real switch of its platform would serve, at the simulated time.

The OIDs are the ones Saksi's collectors read (IF-MIB, ENTITY-MIB, the platform's DOM MIB,
LLDP-MIB), so a lab poll exercises the same code as a poll of real hardware.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pysnmp.proto import rfc1902

from monitor.common.units import NO_LIGHT_DBM
from monitor.lab import hardware, vendor_dom
from monitor.lab.agent import MibView, Oid
from monitor.lab.model import LabDevice, LabPort, LabSite, Module, jitter

Row = tuple[Oid, object]


@functools.lru_cache(maxsize=4096)
def _base(text: str) -> Oid:
    return tuple(int(x) for x in text.split("."))


def _oid(text: str, *suffix: int) -> Oid:
    return _base(text) + suffix


@functools.lru_cache(maxsize=65536)
def _v(cls: Callable[[Any], object], value: Any) -> Any:
    """A pyasn1 value, built once: each render re-creates thousands of identical ones (names, states, types)."""
    return cls(value)


def ticks(seconds: float) -> int:
    return max(0, int(seconds * 100)) % 2**32


def _s(text: str) -> rfc1902.OctetString:
    return _v(rfc1902.OctetString, text.encode())


def _mac(device: str, n: int) -> bytes:
    seed = int(abs(jitter(device, 1.0)) * 0xFFFFFF)
    return bytes([0x00, 0x1B, 0x54, (seed >> 16) & 0xFF, (seed >> 8) & 0xFF, n & 0xFF])


def _system(d: LabDevice, now: float) -> Iterator[Row]:
    p = d.profile
    yield _oid("1.3.6.1.2.1.1.1.0"), _s(str(p["sys_descr"]))
    yield _oid("1.3.6.1.2.1.1.2.0"), _v(rfc1902.ObjectIdentifier, str(p["sys_object_id"]))
    yield _oid("1.3.6.1.2.1.1.3.0"), _v(rfc1902.TimeTicks, ticks(now - d.booted_at))
    yield _oid("1.3.6.1.2.1.1.5.0"), _s(d.name)
    yield _oid("1.3.6.1.2.1.47.1.4.1.0"), _v(rfc1902.TimeTicks, ticks(d.entity_changed_at - d.booted_at))
    if str(p["sys_object_id"]).startswith("1.3.6.1.4.1.9."):  # Cisco: CISCO-CONFIG-MAN-MIB
        yield _oid("1.3.6.1.4.1.9.9.43.1.1.1.0"), _v(rfc1902.TimeTicks, ticks(d.config_changed_at - d.booted_at))


def _interfaces(site: LabSite, d: LabDevice) -> Iterator[Row]:
    speed = int(d.profile.get("speed_mbps", 1000))  # type: ignore[call-overload]
    for p in d.ports.values():
        i = p.ifindex
        descr = next((line[len("description "):] for line in d.interface_config(p.name)
                      if line.startswith("description ")), "")
        t, x = "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1"
        yield _oid(t, 1, i), _v(rfc1902.Integer32, i)
        yield _oid(t, 2, i), _s(p.name)
        yield _oid(t, 3, i), _v(rfc1902.Integer32, 6)
        yield _oid(t, 4, i), _v(rfc1902.Integer32, 1500)
        yield _oid(t, 5, i), _v(rfc1902.Gauge32, min(speed * 1_000_000, 2**32 - 1))
        yield _oid(t, 6, i), _v(rfc1902.OctetString, _mac(d.name, p.index))
        yield _oid(t, 7, i), _v(rfc1902.Integer32, 1 if p.admin_up else 2)
        yield _oid(t, 8, i), _v(rfc1902.Integer32, 1 if p.oper_up else 2)
        yield _oid(t, 9, i), _v(rfc1902.TimeTicks, ticks(p.last_change - d.booted_at))
        yield _oid(t, 10, i), _v(rfc1902.Counter32, p.in_octets % 2**32)
        yield _oid(t, 13, i), _v(rfc1902.Counter32, 0)
        yield _oid(t, 14, i), _v(rfc1902.Counter32, p.in_errors % 2**32)
        yield _oid(t, 16, i), _v(rfc1902.Counter32, p.out_octets % 2**32)
        yield _oid(t, 19, i), _v(rfc1902.Counter32, 0)
        yield _oid(t, 20, i), _v(rfc1902.Counter32, 0)
        yield _oid(x, 1, i), _s(p.short)
        yield _oid(x, 6, i), _v(rfc1902.Counter64, p.in_octets % 2**64)
        yield _oid(x, 10, i), _v(rfc1902.Counter64, p.out_octets % 2**64)
        yield _oid(x, 15, i), _v(rfc1902.Gauge32, speed)
        yield _oid(x, 18, i), _s(descr)


def dom_values(site: LabSite, p: LabPort, now: float) -> dict[str, float]:
    """What the module in this cage measures now (with a little per-module noise)."""
    m = p.module
    assert m is not None
    key = f"{m.serial}:{int(now)}"
    lit = not m.failed and p.device.alive(now) and p.admin_up
    rx = site.rx_dbm(p)
    return {
        "rx_power": rx if rx <= NO_LIGHT_DBM else round(rx + jitter(key + "rx", 0.05), 2),
        "tx_power": round(m.tx_dbm + jitter(key + "tx", 0.05), 2) if lit else NO_LIGHT_DBM,
        "temperature": round(m.temperature_c + jitter(key + "t", 0.3), 1),
        "voltage": round(m.voltage_v + jitter(key + "v", 0.01), 2),
        "bias": round(m.bias_ma + jitter(key + "b", 0.1), 1) if lit else 0.0,
    }


_SENSOR_NAMES = {"temperature": "Module Temperature Sensor", "voltage": "Supply Voltage Sensor",
                 "bias": "Bias Current Sensor", "tx_power": "Transmit Power Sensor",
                 "rx_power": "Receive Power Sensor"}
_SENSOR_ORDER = ("temperature", "voltage", "bias", "tx_power", "rx_power")


def _entity_base(p: LabPort) -> int:
    return 1000 + p.index * 10


def _entities(site: LabSite, d: LabDevice, now: float) -> Iterator[Row]:
    e, a = "1.3.6.1.2.1.47.1.1.1.1", "1.3.6.1.2.1.47.1.3.2.1.2"
    style = str(d.profile["dom"])

    def row(idx: int, cls: int, descr: str, name: str, parent: int, serial: str = "", model: str = "",
            mfg: str = "", rev: str = "", fru: int = 2, alias: str = "") -> Iterator[Row]:
        for col, val in ((2, _s(descr)), (3, _v(rfc1902.ObjectIdentifier, "0.0")), (4, _v(rfc1902.Integer32, parent)),
                         (5, _v(rfc1902.Integer32, cls)), (7, _s(name)), (8, _s(rev)), (11, _s(serial)),
                         (12, _s(mfg)), (13, _s(model)), (14, _s(alias)), (16, _v(rfc1902.Integer32, fru))):
            yield _oid(e, col, idx), val

    yield from row(1, 3, f"{d.platform} chassis", d.name, 0, serial=f"FOC{abs(int(jitter(d.name, 1e7))):07d}",
                   model=str(d.profile.get("chassis_model", d.platform)), fru=2)
    for p in d.ports.values():
        if not p.cage:
            continue
        base = _entity_base(p)
        yield from row(base, 5, f"{p.name} Container", f"{p.short} Container", 1)
        m = p.module
        if m is None:
            continue
        if style == "entity-sensor-watts":  # Arista: the module is a container named after its port
            yield from row(base + 1, 5, f"Xcvr for {p.name}", "", base, serial=m.serial, model=m.model,
                           mfg=m.vendor, rev="0002", fru=1, alias=p.name)
        else:  # Cisco IOS style: the module is a port entity mapped to its ifIndex
            yield from row(base + 1, 10, m.type_name, p.name, base, serial=m.serial, model=m.model,
                           mfg=m.vendor, rev="V01", fru=1)
            yield _oid(a, base + 1, 0), _v(rfc1902.ObjectIdentifier, f"1.3.6.1.2.1.2.2.1.1.{p.ifindex}")
        if style == "juniper-dom" or style.startswith(vendor_dom.PREFIX):  # readings live in the vendor table
            continue
        for k, kind in enumerate(_SENSOR_ORDER):
            yield from row(base + 2 + k, 8, f"{p.name} {_SENSOR_NAMES[kind]}",
                           f"{p.short} {_SENSOR_NAMES[kind]}", base + 1)


# (entity-sensor type, scale, precision) per kind, Cisco style; Arista reports optical power in watts.
_CISCO_SENSOR = {"temperature": (8, 9, 1), "voltage": (4, 9, 2), "bias": (5, 8, 1), "tx_power": (14, 9, 1),
                 "rx_power": (14, 9, 1)}


def _raw(value: float, precision: int) -> int:
    return round(value * 10**precision)


def _cisco_sensors(site: LabSite, d: LabDevice, now: float) -> Iterator[Row]:
    v, t = "1.3.6.1.4.1.9.9.91.1.1.1.1", "1.3.6.1.4.1.9.9.91.1.2.1.1"
    for p in d.ports.values():
        if p.module is None:
            continue
        values = dom_values(site, p, now)
        for k, kind in enumerate(_SENSOR_ORDER):
            idx = _entity_base(p) + 2 + k
            stype, scale, prec = _CISCO_SENSOR[kind]
            yield _oid(v, 1, idx), _v(rfc1902.Integer32, stype)
            yield _oid(v, 2, idx), _v(rfc1902.Integer32, scale)
            yield _oid(v, 3, idx), _v(rfc1902.Integer32, prec)
            yield _oid(v, 4, idx), _v(rfc1902.Integer32, _raw(values[kind], prec))
            yield _oid(v, 5, idx), _v(rfc1902.Integer32, 1)
            la, lw, hw, ha = _thresholds(p.module, kind)
            for row, (sev, rel, val) in enumerate(((20, 3, ha), (10, 3, hw), (10, 1, lw), (20, 1, la)), 1):
                yield _oid(t, 2, idx, row), _v(rfc1902.Integer32, sev)
                yield _oid(t, 3, idx, row), _v(rfc1902.Integer32, rel)
                yield _oid(t, 4, idx, row), _v(rfc1902.Integer32, _raw(val, prec))


def _thresholds(m: Module, kind: str) -> tuple[float, float, float, float]:
    return m.thresholds.get(kind, (-1e6, -1e6, 1e6, 1e6))


def _watts(dbm: float) -> float:
    return 0.0 if dbm <= NO_LIGHT_DBM else 10 ** (dbm / 10) / 1000.0


def _arista_sensors(site: LabSite, d: LabDevice, now: float) -> Iterator[Row]:
    v, t = "1.3.6.1.2.1.99.1.1.1", "1.3.6.1.4.1.30065.3.12.1.1.1"
    spec = {"temperature": (8, 9, 1, lambda x: x), "voltage": (4, 9, 2, lambda x: x),
            "bias": (5, 8, 2, lambda x: x), "tx_power": (6, 8, 4, lambda x: _watts(x) * 1000),
            "rx_power": (6, 8, 4, lambda x: _watts(x) * 1000)}
    for p in d.ports.values():
        if p.module is None:
            continue
        values = dom_values(site, p, now)
        for k, kind in enumerate(_SENSOR_ORDER):
            idx = _entity_base(p) + 2 + k
            stype, scale, prec, conv = spec[kind]
            yield _oid(v, 1, idx), _v(rfc1902.Integer32, stype)
            yield _oid(v, 2, idx), _v(rfc1902.Integer32, scale)
            yield _oid(v, 3, idx), _v(rfc1902.Integer32, prec)
            yield _oid(v, 4, idx), _v(rfc1902.Integer32, round(conv(values[kind]) * 10**prec))
            yield _oid(v, 5, idx), _v(rfc1902.Integer32, 1)
            for col, val in zip((2, 1, 3, 4), _thresholds(p.module, kind), strict=True):
                yield _oid(t, col, idx), _v(rfc1902.Integer32, round(conv(val) * 10**prec))


def _juniper_dom(site: LabSite, d: LabDevice, now: float) -> Iterator[Row]:
    t = "1.3.6.1.4.1.2636.3.60.1.1.1.1"
    layout = {"rx_power": (5, 100, (10, 12, 11, 9)), "bias": (6, 1000, (14, 16, 15, 13)),
              "tx_power": (7, 100, (18, 20, 19, 17)), "temperature": (8, 1, (22, 24, 23, 21))}
    for p in d.ports.values():
        if p.module is None:
            continue
        values = dom_values(site, p, now)
        for kind, (col, factor, tcols) in layout.items():
            yield _oid(t, col, p.ifindex), _v(rfc1902.Integer32, round(values[kind] * factor))
            for tc, val in zip(tcols, _thresholds(p.module, kind), strict=True):
                yield _oid(t, tc, p.ifindex), _v(rfc1902.Integer32, round(val * factor))


def _lldp(site: LabSite, d: LabDevice, addresses: Mapping[str, str]) -> Iterator[Row]:
    """lldpLocPortTable, lldpRemTable, and lldpRemManAddrTable for neighbours whose address is known (IPv4)."""
    loc, rem, man = "1.0.8802.1.1.2.1.3.7.1", "1.0.8802.1.1.2.1.4.1.1", "1.0.8802.1.1.2.1.4.2.1"
    for p in d.ports.values():
        yield _oid(loc, 2, p.ifindex), _v(rfc1902.Integer32, 5)
        yield _oid(loc, 3, p.ifindex), _s(p.short)
        yield _oid(loc, 4, p.ifindex), _s(p.name)
        if not p.oper_up:
            continue
        peer = site.port_of_socket(site.peer_of(p))
        if peer is None:
            continue
        idx = (0, p.ifindex, 1)
        yield _oid(rem, 4, *idx), _v(rfc1902.Integer32, 4)
        yield _oid(rem, 5, *idx), _v(rfc1902.OctetString, _mac(peer.device.name, 0))
        yield _oid(rem, 6, *idx), _v(rfc1902.Integer32, 5)
        yield _oid(rem, 7, *idx), _s(peer.short)
        yield _oid(rem, 8, *idx), _s(peer.name)
        yield _oid(rem, 9, *idx), _s(peer.device.name)
        address = addresses.get(peer.device.name)
        if address is not None:  # index: the neighbour's, then subtype ipV4(1), length 4, the address
            octets = tuple(int(o) for o in address.split("."))
            yield _oid(man, 3, *idx, 1, 4, *octets), _v(rfc1902.Integer32, 2)  # lldpRemManAddrIfSubtype: ifIndex
            yield _oid(man, 4, *idx, 1, 4, *octets), _v(rfc1902.Integer32, 0)  # lldpRemManAddrIfId: not known
            yield _oid(man, 5, *idx, 1, 4, *octets), _v(rfc1902.ObjectIdentifier, "0.0")  # lldpRemManAddrOID


_DOM_RENDERERS = {"cisco-entity-sensor": _cisco_sensors, "entity-sensor-watts": _arista_sensors,
                  "juniper-dom": _juniper_dom, "none": lambda site, d, now: iter(())}


# The tables a scenario can break (stop_answering, cut_table), by the name `saksi check` reports them under:
# each one's entry OID, so a row is entry.column.index.
TABLES = {
    "ifTable": "1.3.6.1.2.1.2.2.1", "ifXTable": "1.3.6.1.2.1.31.1.1.1",
    "entPhysicalTable": "1.3.6.1.2.1.47.1.1.1.1", "entAliasMappingTable": "1.3.6.1.2.1.47.1.3.2.1",
    "lldpRemTable": "1.0.8802.1.1.2.1.4.1.1", "lldpLocPortTable": "1.0.8802.1.1.2.1.3.7.1",
    "entSensorValueTable": "1.3.6.1.4.1.9.9.91.1.1.1.1", "entPhySensorTable": "1.3.6.1.2.1.99.1.1.1",
    "jnxDomCurrentTable": "1.3.6.1.4.1.2636.3.60.1.1.1.1",
}


def _in(oid: Oid, entry: Oid) -> bool:
    return oid[:len(entry)] == entry


def _with_faults(rows: list[Row], d: LabDevice, now: float) -> MibView:
    """The MIB as a misbehaving agent serves it: silent tables, empty ones, and walks that end in genErr."""
    silent: list[Oid] = []
    broken: set[Oid] = set()
    for table, fault in d.faults(now).items():
        entry = _oid(TABLES[table])
        if fault.how == "silent":
            silent.append(entry)
        if fault.how in ("silent", "empty"):
            rows = [r for r in rows if not _in(r[0], entry)]
        elif fault.how == "cut":
            mine = [oid for oid, _ in rows if _in(oid, entry)]
            kept = sorted({oid[len(entry) + 1:] for oid in mine})[:fault.rows]
            broken |= {oid for oid in mine if oid[len(entry) + 1:] not in kept}
    return MibView(rows, silent=silent, broken=frozenset(broken))


def render(site: LabSite, d: LabDevice, now: float, addresses: Mapping[str, str] | None = None) -> MibView:
    """`addresses`: each device's management address, which LLDP neighbours advertise (lldpRemManAddrTable)."""
    rows: list[Row] = []
    rows += _system(d, now)
    rows += _interfaces(site, d)
    if d.profile.get("entity_mib", True):
        rows += _entities(site, d, now)
    style = str(d.profile["dom"])
    if style.startswith(vendor_dom.PREFIX):  # a vendor table, encoded from the collector's own profile
        table = vendor_dom.table_named(style.removeprefix(vendor_dom.PREFIX))
        rows += vendor_dom.rows(table, site, d, now, lambda p: _entity_base(p) + 1, dom_values)
    else:
        rows += _DOM_RENDERERS[style](site, d, now)
    rows += _lldp(site, d, addresses or {})
    rows += hardware.render(d, now)  # power, cooling, temperature, CPU, memory, storage (monitor.lab.hardware)
    return _with_faults(rows, d, now) if d.table_faults else MibView(rows)
