"""Hardware health profiles: the tables each vendor states power, cooling, temperature, CPU, memory and
storage in, loaded once from `hardware.yaml` and checked strictly (a typo fails at load, not at 3 a.m.)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monitor.model import UNIT_STATES, Thresholds, UnitKind
from monitor.profiles import RowFilter, _applies

_HERE = Path(__file__).parent
PARTS = ("power_supply", "fan", "temperature", "processor", "memory", "storage", "disk", "disk_detail")
SENSOR_STATUSES = ("ok", "unavailable", "nonoperational")

States = dict[int, tuple[str, str]]  # raw value -> (the device's word, Saksi's state)


@dataclass(frozen=True, slots=True)
class UnitSpec:
    kind: UnitKind
    state: int
    states: States
    entity_class: int | None = None  # only rows whose entity is of this entPhysicalClass
    when: RowFilter | None = None


@dataclass(frozen=True, slots=True)
class TemperatureSpec:
    value: int
    high_alarm: int | None = None
    state: int | None = None
    states: States = field(default_factory=dict)  # raw -> (word, sensor status)
    absent_values: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ProcessorSpec:
    load: int
    entity: int | None = None  # the column holding the CPU's entPhysicalIndex
    names: tuple[str, int] | None = None  # (table, column) naming the CPU at the same index
    when: RowFilter | None = None


@dataclass(frozen=True, slots=True)
class MemorySpec:
    used: int | None = None
    free: int | None = None
    used_hc: int | None = None  # 64-bit columns, read first
    free_hc: int | None = None
    used_pct: int | None = None
    total: int | None = None
    unit: int = 1  # bytes per raw unit
    when: RowFilter | None = None
    entity_prefix: bool = False  # the index starts with an entPhysicalIndex whose name prefixes the pool's


@dataclass(frozen=True, slots=True)
class HrMemorySpec:
    types: tuple[str, ...]
    reclaimable: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class HrStorageSpec:
    types: dict[str, str]  # hrStorageType OID -> Saksi's kind
    ignore_mounts: re.Pattern[str]  # pseudo and read-only filesystems, by mount point
    ignore_descr: re.Pattern[str]  # ... and by what they say they are
    thresholds: Thresholds


@dataclass(frozen=True, slots=True)
class DiskSpec:
    types: tuple[str, ...]
    columns: dict[str, int]
    states: States


@dataclass(frozen=True, slots=True)
class DiskDetailSpec:
    removable: int
    capacity_kb: int


@dataclass(frozen=True, slots=True)
class HardwareTable:
    name: str
    mib: str
    oid: str  # the table's entry OID
    enterprises: tuple[int, ...] = ()
    index: str = "own"  # own | entity
    name_column: int | None = None
    units: tuple[UnitSpec, ...] = ()
    temperature: TemperatureSpec | None = None
    processor: ProcessorSpec | None = None
    memory: MemorySpec | None = None
    storage_columns: dict[str, int] = field(default_factory=dict)
    hr_memory: HrMemorySpec | None = None
    storage: HrStorageSpec | None = None
    disk: DiskSpec | None = None
    disk_detail: DiskDetailSpec | None = None

    def applies(self, sys_object_id: str) -> bool:
        return _applies(self.enterprises, sys_object_id)

    @property
    def parts(self) -> frozenset[str]:
        found = {u.kind.value for u in self.units}
        for part, spec in (("temperature", self.temperature), ("processor", self.processor),
                           ("memory", self.memory or self.hr_memory), ("storage", self.storage),
                           ("disk", self.disk), ("disk_detail", self.disk_detail)):
            if spec is not None:
                found.add(part)
        return frozenset(found)

    def columns(self) -> list[int]:
        cols: set[int] = set(self.storage_columns.values())
        if self.name_column is not None:
            cols.add(self.name_column)
        for u in self.units:
            cols.add(u.state)
            if u.when is not None:
                cols.add(u.when.column)
        t, p, m = self.temperature, self.processor, self.memory
        if t is not None:
            cols.update(c for c in (t.value, t.high_alarm, t.state) if c is not None)
        if p is not None:
            cols.update(c for c in (p.load, p.entity, p.when and p.when.column) if c)
        if m is not None:
            cols.update(c for c in (m.used, m.free, m.used_hc, m.free_hc, m.used_pct, m.total,
                                    m.when and m.when.column) if c)
        if self.disk is not None:
            cols.update(self.disk.columns.values())
        if self.disk_detail is not None:
            cols.update((self.disk_detail.removable, self.disk_detail.capacity_kb))
        return sorted(cols)

    def column_oids(self) -> list[str]:
        return [f"{self.oid}.{c}" for c in self.columns()]


@dataclass(frozen=True, slots=True)
class HardwareProfiles:
    tables: tuple[HardwareTable, ...]
    temperature_c: tuple[float, float]
    load_pct: tuple[float, float]
    optics: re.Pattern[str]

    def table(self, name: str) -> HardwareTable:
        return next(t for t in self.tables if t.name == name)


def _states(where: str, raw: dict[Any, Any], allowed: tuple[str, ...]) -> States:
    out: States = {}
    for k, v in raw.items():
        if not (isinstance(v, list) and len(v) == 2 and isinstance(v[0], str)) or str(v[1]) not in allowed:
            raise ValueError(f"hardware.yaml: {where}: state {k}: expected [word, one of {', '.join(allowed)}]")
        out[int(k)] = (str(v[0]), str(v[1]))
    return out


def _filter(d: dict[str, Any] | None) -> RowFilter | None:
    if not d:
        return None
    return RowFilter(int(d["column"]), tuple(int(v) for v in d.get("values", ())),
                     tuple(int(v) for v in d.get("absent_values", ())))


_KNOWN = {"name", "mib", "oid", "enterprises", "index", "name_column", "storage_columns", *PARTS}


def _table(d: dict[str, Any]) -> HardwareTable:
    name = str(d["name"])
    unknown = set(d) - _KNOWN
    if unknown:
        raise ValueError(f"hardware.yaml: {name}: unknown keys {sorted(unknown)}")
    units = tuple(
        UnitSpec(UnitKind(kind), int(u["state"]), _states(f"{name}.{kind}", u["states"], UNIT_STATES),
                 None if u.get("entity_class") is None else int(u["entity_class"]), _filter(u.get("when")))
        for kind in ("power_supply", "fan") if (u := d.get(kind)) is not None
    )
    t = d.get("temperature")
    p = d.get("processor")
    m = d.get("memory")
    hr = "types" in (m or {})
    s = d.get("storage")
    k = d.get("disk")
    dd = d.get("disk_detail")
    return HardwareTable(
        name=name, mib=str(d.get("mib", "")), oid=str(d["oid"]), enterprises=tuple(d.get("enterprises", ())),
        index=str(d.get("index", "own")), name_column=d.get("name_column"), units=units,
        temperature=None if t is None else TemperatureSpec(
            int(t["value"]), t.get("high_alarm"), t.get("state"),
            _states(f"{name}.temperature", t.get("states") or {}, SENSOR_STATUSES),
            tuple(int(v) for v in t.get("absent_values", ()))),
        processor=None if p is None else ProcessorSpec(
            int(p["load"]), p.get("entity"),
            None if not p.get("names") else (str(p["names"]["table"]), int(p["names"]["column"])),
            _filter(p.get("when"))),
        memory=None if m is None or hr else MemorySpec(
            m.get("used"), m.get("free"), m.get("used_hc"), m.get("free_hc"), m.get("used_pct"), m.get("total"),
            int(m.get("unit", 1)), _filter(m.get("when")), bool(m.get("entity_prefix", False))),
        storage_columns={str(c): int(v) for c, v in (d.get("storage_columns") or {}).items()},
        hr_memory=None if not hr or m is None else HrMemorySpec(tuple(str(x) for x in m["types"]),
                                                                re.compile(m["reclaimable"])),
        storage=None if s is None else HrStorageSpec({str(o): str(kind) for o, kind in s["types"].items()},
                                                     re.compile(s["ignore_mounts"]), re.compile(s["ignore_descr"]),
                                                     Thresholds(**s["thresholds"])),
        disk=None if k is None else DiskSpec(tuple(str(x) for x in k["types"]),
                                             {str(c): int(v) for c, v in k["columns"].items()},
                                             _states(f"{name}.disk", k["states"], UNIT_STATES)),
        disk_detail=None if dd is None else DiskDetailSpec(int(dd["removable"]), int(dd["capacity_kb"])),
    )


@functools.cache
def hardware_profiles(path: Path = _HERE / "hardware.yaml") -> HardwareProfiles:
    data = yaml.safe_load(path.read_text())
    limits = data["limits"]
    tables = tuple(_table(d) for d in data["tables"])
    names = [t.name for t in tables]
    if len(set(names)) != len(names):
        raise ValueError("hardware.yaml: a table is listed twice")
    return HardwareProfiles(tables, tuple(limits["temperature_c"]), tuple(limits["load_pct"]),
                            re.compile(data["optics_pattern"]))
