"""A lab switch speaks a vendor's transceiver table from the very profile Saksi's collector reads it with.

A platform whose `dom:` is `profile:<table name>` (monitor/lab/platforms.yaml) serves that table of
monitor/profiles/snmp/: identity columns from the module, each reading encoded back into the vendor's own
unit and scale, and the thresholds the module states. Adding a lab vendor is then a platform entry, and a
mistake in a profile shows up as a lab scenario that names the wrong thing, not as two copies that agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from pysnmp.proto import rfc1902

from monitor.common.units import NO_LIGHT_DBM
from monitor.lab.model import LabDevice, LabPort, LabSite, Module
from monitor.profiles import PortTable, snmp_profiles

PREFIX = "profile:"
_INT32 = 2**31 - 1
_THRESHOLD_ORDER = ("low_alarm", "low_warn", "high_warn", "high_alarm")  # Module.thresholds' order


def _dbm_to_mw(dbm: float) -> float:
    return 0.0 if dbm <= NO_LIGHT_DBM else 10 ** (dbm / 10)


# From Saksi's unit to the one a vendor states: the inverse of the collector's conversions.
_FROM_CANONICAL: dict[tuple[str, str], Callable[[float], float]] = {
    ("dBm", "mW"): _dbm_to_mw, ("dBm", "uW"): lambda v: _dbm_to_mw(v) * 1000.0,
    ("dBm", "W"): lambda v: _dbm_to_mw(v) / 1000.0,
    ("mA", "uA"): lambda v: v * 1000.0, ("mA", "A"): lambda v: v / 1000.0,
    ("V", "mV"): lambda v: v * 1000.0,
}


def encode(value: float, canonical: str, unit: str, factor: float) -> int:
    """The raw integer a device states for `value` (in Saksi's unit) when it speaks `unit` × `factor`.

    >>> encode(-3.21, "dBm", "dBm", 0.01), encode(6.5, "mA", "uA", 1), encode(3.3, "V", "mV", 1)
    (-321, 6500, 3300)
    >>> encode(-3.0, "dBm", "uW", 0.1)  # 0.501 mW = 501.2 µW, in tenths
    5012
    """
    convert = _FROM_CANONICAL.get((canonical, unit), lambda v: v)
    return round(convert(value) / factor)


def table_named(name: str) -> PortTable:
    """The profile table a lab platform names; an unknown name is a platform file error, said at once."""
    for table in snmp_profiles().port_tables:
        if table.name == name:
            return table
    raise ValueError(f"lab platform names profile table {name!r}, which no file of monitor/profiles/snmp/ has")


def _value(raw: int) -> rfc1902.Integer32 | rfc1902.Gauge32:
    return rfc1902.Gauge32(raw) if raw > _INT32 else rfc1902.Integer32(raw)


def _text(text: str) -> rfc1902.OctetString:
    return rfc1902.OctetString(text.encode())


def _identity(m: Module) -> dict[str, str]:
    return {"vendor": m.vendor, "model": m.model, "serial": m.serial, "type": m.type_name, "revision": "01"}


def rows(table: PortTable, site: LabSite, d: LabDevice, now: float, index_of: Callable[[LabPort], int],
         values_of: Callable[[LabSite, LabPort, float], dict[str, float]]) -> Iterator[tuple[tuple[int, ...], object]]:
    """One row per cage, as the vendor lists them: an empty cage with the vendor's own "nothing here" values."""
    if table.index not in ("ifindex", "entity"):
        raise ValueError(f"{table.name}: the lab renders tables indexed by ifindex or entity, not {table.index!r}")
    base = tuple(int(x) for x in table.oid.split("."))

    def cell(column: int, idx: int) -> tuple[int, ...]:
        return (*tuple(int(x) for x in table.column_oid(column).split(".")), idx) if table.joins else \
            (*base, column, idx)

    for p in d.ports.values():
        if not p.cage:
            continue
        idx = p.ifindex if table.index == "ifindex" else index_of(p)
        m = p.module
        if m is None:
            if table.present is not None and table.present.absent_values:  # the cage is listed, marked empty
                yield cell(table.present.column, idx), _value(table.present.absent_values[0])
            elif table.unavailable:  # every column "not available", identity empty
                for column in table.transceiver.values():
                    yield cell(column, idx), _text("")
                for spec in table.readings:
                    yield cell(spec.column, idx), _value(table.unavailable[0])
            continue
        identity = _identity(m)
        for field_name, column in table.transceiver.items():
            yield cell(column, idx), _text(identity.get(field_name, ""))
        if table.dom is not None and table.dom.values:
            yield cell(table.dom.column, idx), _value(table.dom.values[0])
        measured = values_of(site, p, now)
        for spec in table.readings:
            kind = spec.kind.value
            if kind not in measured or spec.lane not in (None, 1) or spec.select is not None:
                continue
            canonical = spec.kind.unit
            yield cell(spec.column, idx), _value(encode(measured[kind], canonical, spec.unit, spec.factor))
            limits = m.thresholds.get(kind)
            if not limits or not spec.thresholds:
                continue
            t_unit = spec.threshold_unit or spec.unit
            t_factor = spec.threshold_factor if spec.threshold_factor is not None else spec.factor
            for name, limit in zip(_THRESHOLD_ORDER, limits, strict=True):
                t_column = spec.thresholds.get(name)
                if t_column is not None and math.isfinite(limit) and abs(limit) < 1e5:
                    yield cell(t_column, idx), _value(encode(limit, canonical, t_unit, t_factor))
