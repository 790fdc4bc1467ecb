"""Vendor profiles: the SNMP tables each vendor exposes, loaded once from `snmp.yaml`."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monitor.model import SensorKind

_HERE = Path(__file__).parent


def _applies(enterprises: tuple[int, ...], sys_object_id: str) -> bool:
    if not enterprises:
        return True
    return any(sys_object_id.startswith(f"1.3.6.1.4.1.{e}.") or sys_object_id == f"1.3.6.1.4.1.{e}"
               for e in enterprises)


@dataclass(frozen=True, slots=True)
class ThresholdTable:
    name: str
    style: str  # "relation" | "columns"
    oid: str
    columns: dict[str, int]
    enterprises: tuple[int, ...] = ()
    warn_severities: tuple[int, ...] = ()
    alarm_severities: tuple[int, ...] = ()
    ignore_values: tuple[int, ...] = ()  # the vendor's way of saying "no threshold"

    def applies(self, sys_object_id: str) -> bool:
        return _applies(self.enterprises, sys_object_id)

    def column_oids(self) -> list[str]:
        return [f"{self.oid}.{c}" for c in self.columns.values()]


@dataclass(frozen=True, slots=True)
class EntitySensorTable:
    name: str
    source: str
    oid: str
    columns: dict[str, int]
    enterprises: tuple[int, ...] = ()
    priority: int = 0
    thresholds: tuple[ThresholdTable, ...] = ()

    def applies(self, sys_object_id: str) -> bool:
        return _applies(self.enterprises, sys_object_id)

    def column_oids(self) -> list[str]:
        return [f"{self.oid}.{c}" for c in self.columns.values()]


# The units a port table may state a reading in, per Saksi unit (the engine converts them).
UNITS = {"dBm": ("dBm", "mW", "uW", "W"), "mA": ("mA", "uA", "A"), "V": ("V", "mV"), "C": ("C",)}


@dataclass(frozen=True, slots=True)
class Scale:
    """Where a number sits and how to read it: raw integer (or decimal text) x factor, in unit."""

    column: int
    factor: float = 1.0
    unit: str = ""


@dataclass(frozen=True, slots=True)
class RowFilter:
    """A column whose value says whether a row counts: in `values`, or not in `absent_values`."""

    column: int
    values: tuple[int, ...] = ()
    absent_values: tuple[int, ...] = ()

    def admits(self, value: int) -> bool:
        return value in self.values if self.values else value not in self.absent_values


@dataclass(frozen=True, slots=True)
class ReadingSpec:
    kind: SensorKind
    column: int
    factor: float = 1.0
    unit: str = ""
    thresholds: dict[str, int] = field(default_factory=dict)  # high_alarm/high_warn/low_alarm/low_warn -> column
    threshold_factor: float | None = None  # thresholds stated in another scale than the reading
    threshold_unit: str | None = None
    prefer: Scale | None = None  # a decimal-text column read first; `column` when it is absent or not one number
    unavailable: tuple[int, ...] = ()  # raw values meaning "no reading" for this reading (beside the table's)

    @property
    def scale(self) -> Scale:
        return Scale(self.column, self.factor, self.unit)

    def threshold_scale(self, column: int) -> Scale:
        return Scale(column, self.factor if self.threshold_factor is None else self.threshold_factor,
                     self.unit if self.threshold_unit is None else self.threshold_unit)


@dataclass(frozen=True, slots=True)
class PortTable:
    name: str
    source: str
    oid: str  # the table's entry OID: a column is <oid>.<column>.<index>
    index: str  # "ifindex" | "entity" | "ifindex.lane"
    readings: tuple[ReadingSpec, ...] = ()
    transceiver: dict[str, int] = field(default_factory=dict)  # vendor/model/serial/type/revision -> column
    enterprises: tuple[int, ...] = ()
    present: RowFilter | None = None  # rows that hold a module; default: rows naming one (vendor/model/serial)
    dom: RowFilter | None = None  # rows whose module has diagnostics; default: every row holding a module
    unavailable: tuple[int, ...] = ()  # raw values the vendor uses for "no reading / no threshold"
    no_light: tuple[int, ...] = ()  # raw optical-power values meaning 0 mW (reported as the -40 dBm floor)

    def applies(self, sys_object_id: str) -> bool:
        return _applies(self.enterprises, sys_object_id)

    def columns(self) -> list[int]:
        cols: set[int] = set(self.transceiver.values())
        for r in self.readings:
            cols.add(r.column)
            cols.update(r.thresholds.values())
            if r.prefer is not None:
                cols.add(r.prefer.column)
        for f in (self.present, self.dom):
            if f is not None:
                cols.add(f.column)
        return sorted(cols)

    def column_oids(self) -> list[str]:
        return [f"{self.oid}.{c}" for c in self.columns()]


@dataclass(frozen=True, slots=True)
class SnmpProfiles:
    entity_sensor_tables: tuple[EntitySensorTable, ...]
    port_tables: tuple[PortTable, ...]


def _threshold(d: dict[str, Any]) -> ThresholdTable:
    return ThresholdTable(
        name=d["name"], style=d["style"], oid=d["oid"], columns=dict(d["columns"]),
        enterprises=tuple(d.get("enterprises", ())), warn_severities=tuple(d.get("warn_severities", ())),
        alarm_severities=tuple(d.get("alarm_severities", ())), ignore_values=tuple(d.get("ignore_values", ())),
    )


def _unit(kind: SensorKind, unit: str, where: str) -> str:
    if unit not in UNITS.get(kind.unit, (kind.unit,)):
        raise ValueError(f"{where}: unit {unit!r} cannot be converted to {kind.unit}")
    return unit


def _row_filter(d: dict[str, Any] | None) -> RowFilter | None:
    if not d:
        return None
    return RowFilter(column=int(d["column"]), values=tuple(int(v) for v in d.get("values", ())),
                     absent_values=tuple(int(v) for v in d.get("absent_values", ())))


def _reading(table: str, kind_name: str, r: dict[str, Any]) -> ReadingSpec:
    kind = SensorKind(kind_name)
    where = f"{table}.{kind_name}"
    unit = _unit(kind, str(r.get("unit", kind.unit)), where)
    t_unit = r.get("threshold_unit")
    prefer = r.get("prefer")
    return ReadingSpec(
        kind=kind, column=int(r["column"]), factor=float(r.get("factor", 1.0)), unit=unit,
        thresholds={str(k): int(v) for k, v in (r.get("thresholds") or {}).items()},
        threshold_factor=None if r.get("threshold_factor") is None else float(r["threshold_factor"]),
        threshold_unit=None if t_unit is None else _unit(kind, str(t_unit), where),
        prefer=None if not prefer else Scale(int(prefer["column"]), float(prefer.get("factor", 1.0)),
                                             _unit(kind, str(prefer.get("unit", unit)), where)),
        unavailable=tuple(int(v) for v in r.get("unavailable", ())),
    )


def _port_table(d: dict[str, Any]) -> PortTable:
    readings = tuple(_reading(d["name"], kind, r) for kind, r in (d.get("readings") or {}).items())
    for r in readings:
        unknown = set(r.thresholds) - {"high_alarm", "high_warn", "low_alarm", "low_warn"}
        if unknown:
            raise ValueError(f"{d['name']}.{r.kind.value}: unknown thresholds {sorted(unknown)}")
    return PortTable(
        name=d["name"], source=d["source"], oid=d["oid"], index=d.get("index", "ifindex"), readings=readings,
        transceiver={str(k): int(v) for k, v in (d.get("transceiver") or {}).items()},
        enterprises=tuple(d.get("enterprises", ())), present=_row_filter(d.get("present")),
        dom=_row_filter(d.get("dom")), unavailable=tuple(int(v) for v in d.get("unavailable", ())),
        no_light=tuple(int(v) for v in d.get("no_light", ())),
    )


@functools.cache
def snmp_profiles(path: Path = _HERE / "snmp.yaml") -> SnmpProfiles:
    data = yaml.safe_load(path.read_text())
    sensor_tables = tuple(
        EntitySensorTable(
            name=d["name"], source=d["source"], oid=d["oid"], columns=dict(d["columns"]),
            enterprises=tuple(d.get("enterprises", ())), priority=int(d.get("priority", 0)),
            thresholds=tuple(_threshold(t) for t in d.get("thresholds", ())),
        )
        for d in data.get("entity_sensor_tables", ())
    )
    return SnmpProfiles(sensor_tables, tuple(_port_table(d) for d in data.get("port_tables", ())))
