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


@dataclass(frozen=True, slots=True)
class ReadingSpec:
    kind: SensorKind
    column: int
    factor: float = 1.0
    unit: str = ""
    thresholds: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PortTable:
    name: str
    source: str
    oid: str
    index: str  # "ifindex" | "entity" | "ifindex.lane"
    readings: tuple[ReadingSpec, ...] = ()
    transceiver: dict[str, int] = field(default_factory=dict)  # vendor/model/serial/type/revision -> column
    enterprises: tuple[int, ...] = ()
    present: dict[str, Any] = field(default_factory=dict)  # {column, values}: rows that hold a module

    def applies(self, sys_object_id: str) -> bool:
        return _applies(self.enterprises, sys_object_id)

    def column_oids(self) -> list[str]:
        cols: set[int] = set(self.transceiver.values())
        for r in self.readings:
            cols.add(r.column)
            cols.update(r.thresholds.values())
        if self.present:
            cols.add(int(self.present["column"]))
        return [f"{self.oid}.{c}" for c in sorted(cols)]


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


def _port_table(d: dict[str, Any]) -> PortTable:
    readings = tuple(
        ReadingSpec(kind=SensorKind(kind), column=int(r["column"]), factor=float(r.get("factor", 1.0)),
                    unit=str(r.get("unit", "")), thresholds=dict(r.get("thresholds", {})))
        for kind, r in (d.get("readings") or {}).items()
    )
    return PortTable(
        name=d["name"], source=d["source"], oid=d["oid"], index=d.get("index", "ifindex"), readings=readings,
        transceiver=dict(d.get("transceiver") or {}), enterprises=tuple(d.get("enterprises", ())),
        present=dict(d.get("present") or {}),
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
