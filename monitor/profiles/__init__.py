"""Vendor profiles: the SNMP tables each vendor exposes, loaded once from the files of `snmp/` (one per vendor)."""

from __future__ import annotations

import functools
import re
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
    select: int | None = None  # in a table with a row per reading: the row of this reading kind

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
    select: int | None = None  # a table with a row per reading kind: the index value of this kind's row
    threshold_select: int | None = None  # the row holding its thresholds, when not `select`'s (a joined table)
    lane: int | None = None  # a table with a column per lane: the lane this column holds
    decode: str = "number"  # number | text ("-4.99 dBm normal") | lanes ("-0.43 ,0.01 ,0.30") | first (of lanes)
    threshold_items: dict[str, int] = field(default_factory=dict)  # "[high, low]" cells: which item is which

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
    index: str  # dotted fields of the row index: ifindex | entity | lane | select | port | _ (ignored)
    readings: tuple[ReadingSpec, ...] = ()
    transceiver: dict[str, int] = field(default_factory=dict)  # vendor/model/serial/type/revision -> column
    enterprises: tuple[int, ...] = ()
    present: RowFilter | None = None  # rows that hold a module; default: rows naming one (vendor/model/serial)
    dom: RowFilter | None = None  # rows whose module has diagnostics; default: every row holding a module
    unavailable: tuple[int, ...] = ()  # raw values the vendor uses for "no reading / no threshold"
    no_light: tuple[int, ...] = ()  # raw optical-power values meaning 0 mW (reported as the -40 dBm floor)
    port_name: str | None = None  # the port's name from the index fields, e.g. "{0}/{1}" (instead of an ifIndex)
    mib: str = ""
    joins: tuple[tuple[int, str], ...] = ()  # (offset, entry OID): columns from `offset` up are that table's
    modules: bool = False  # a row with diagnostics holds a module even where the table names none
    port_offset: int = 0  # added to the last port part of the index before it is put in `port_name`
    port_kind: tuple[int, dict[int, str], str] | None = None  # (column, value -> word, default) for {kind}
    sys_descr: re.Pattern[str] | None = None  # asked only of devices whose sysDescr matches (a hardware model)

    def column_oid(self, column: int) -> str:
        """Where a column lives: this table's entry, or a joined table with the same index."""
        for offset, oid in sorted(self.joins, reverse=True):
            if column > offset:
                return f"{oid}.{column - offset}"
        return f"{self.oid}.{column}"

    def applies(self, sys_object_id: str, sys_descr: str = "") -> bool:
        return _applies(self.enterprises, sys_object_id) and (
            self.sys_descr is None or bool(self.sys_descr.search(sys_descr)))

    @property
    def fields(self) -> list[str]:
        return self.index.split(".")

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
        if self.port_kind is not None:
            cols.add(self.port_kind[0])
        return sorted(cols)

    def column_oids(self) -> list[str]:
        return [self.column_oid(c) for c in self.columns()]


@dataclass(frozen=True, slots=True)
class Words:
    """A column of enumerated states and the IF-MIB word for each value; other values are `default`."""

    column: int
    words: dict[int, str]
    default: str = "unknown"


@dataclass(frozen=True, slots=True)
class InterfaceTable:
    """A vendor table whose rows are interfaces IF-MIB does not list (router interfaces of a VRF, say): each row
    becomes a port, keyed by the ifIndex its index names; IF-MIB's own row wins where both name one ifIndex."""

    name: str
    oid: str  # the table's entry OID: a column is <oid>.<column>.<index>
    index: str  # dotted fields of the row index: exactly one ifindex, the rest _ (ignored)
    name_column: int
    descr_columns: tuple[int, ...] = ()  # the first that is not empty is the port's description
    alias_column: int | None = None
    admin: Words | None = None
    oper: Words | None = None
    speed: Scale | None = None  # in the unit "bps", "kbps" or "Mbps"
    enterprises: tuple[int, ...] = ()
    joins: tuple[tuple[int, str], ...] = ()  # (offset, entry OID): columns from `offset` up are that table's
    mib: str = ""

    def applies(self, sys_object_id: str) -> bool:
        return _applies(self.enterprises, sys_object_id)

    def column_oid(self, column: int) -> str:
        """Where a column lives: this table's entry, or a joined table with the same index."""
        for offset, oid in sorted(self.joins, reverse=True):
            if column > offset:
                return f"{oid}.{column - offset}"
        return f"{self.oid}.{column}"

    def columns(self) -> list[int]:
        cols = {self.name_column, *self.descr_columns}
        if self.alias_column is not None:
            cols.add(self.alias_column)
        if self.speed is not None:
            cols.add(self.speed.column)
        cols.update(w.column for w in (self.admin, self.oper) if w is not None)
        return sorted(cols)

    def column_oids(self) -> list[str]:
        return [self.column_oid(c) for c in self.columns()]

    @property
    def ifindex_at(self) -> int:
        return self.index.split(".").index("ifindex")


SPEED_UNITS = {"bps": 1e-6, "kbps": 1e-3, "Mbps": 1.0}  # to Mb/s, Saksi's port speed unit


@dataclass(frozen=True, slots=True)
class SnmpProfiles:
    entity_sensor_tables: tuple[EntitySensorTable, ...]
    port_tables: tuple[PortTable, ...]
    interface_tables: tuple[InterfaceTable, ...] = ()


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
                     absent_values=tuple(int(v) for v in d.get("absent_values", ())),
                     select=None if d.get("select") is None else int(d["select"]))


_INDEX_FIELDS = {"ifindex", "entity", "lane", "select", "port", "_"}
_DECODERS = {"number", "text", "first", "lanes"}
_ITEM = re.compile(r"^(\d+)\[(\d+)\]$")


def _threshold_column(where: str, v: object) -> tuple[int, int | None]:
    """A threshold's place: a column (8), or an item of a "[high, low]" list cell ("8[1]")."""
    if isinstance(v, int):
        return v, None
    m = _ITEM.match(str(v))
    if not m:
        raise ValueError(f"{where}: threshold column {v!r}: expected N or N[i]")
    return int(m.group(1)), int(m.group(2))


def _reading(table: str, kind_name: str, r: dict[str, Any]) -> ReadingSpec:
    kind = SensorKind(kind_name)
    where = f"{table}.{kind_name}"
    unit = _unit(kind, str(r.get("unit", kind.unit)), where)
    t_unit = r.get("threshold_unit")
    prefer = r.get("prefer")
    decode = str(r.get("decode", "number"))
    if decode not in _DECODERS:
        raise ValueError(f"{where}: decode {decode!r}: expected one of {sorted(_DECODERS)}")
    places = {str(k): _threshold_column(where, v) for k, v in (r.get("thresholds") or {}).items()}
    return ReadingSpec(
        kind=kind, column=int(r["column"]), factor=float(r.get("factor", 1.0)), unit=unit,
        thresholds={k: c for k, (c, _) in places.items()},
        threshold_items={k: i for k, (_, i) in places.items() if i is not None},
        select=None if r.get("select") is None else int(r["select"]),
        threshold_select=None if r.get("threshold_select") is None else int(r["threshold_select"]),
        lane=None if r.get("lane") is None else int(r["lane"]), decode=decode,
        threshold_factor=None if r.get("threshold_factor") is None else float(r["threshold_factor"]),
        threshold_unit=None if t_unit is None else _unit(kind, str(t_unit), where),
        prefer=None if not prefer else Scale(int(prefer["column"]), float(prefer.get("factor", 1.0)),
                                             _unit(kind, str(prefer.get("unit", unit)), where)),
        unavailable=tuple(int(v) for v in r.get("unavailable", ())),
    )


def _port_table(d: dict[str, Any]) -> PortTable:
    readings = tuple(_reading(d["name"], kind, one) for kind, r in (d.get("readings") or {}).items()
                     for one in (r if isinstance(r, list) else [r]))
    index = str(d.get("index", "ifindex"))
    fields = index.split(".")
    if set(fields) - _INDEX_FIELDS or fields.count("ifindex") + fields.count("entity") + min(1, fields.count(
            "port")) != 1:
        raise ValueError(f"{d['name']}: index {index!r}: dotted fields of {sorted(_INDEX_FIELDS)}, with exactly "
                         "one ifindex or entity, or port fields")
    if ("port" in fields) != bool(d.get("port_name")):
        raise ValueError(f"{d['name']}: an index with a `port` field needs `port_name`, and only it")
    if any(r.select is not None for r in readings) != ("select" in fields):
        raise ValueError(f"{d['name']}: readings name a `select` row exactly when the index has a select field")
    for r in readings:
        unknown = set(r.thresholds) - {"high_alarm", "high_warn", "low_alarm", "low_warn"}
        if unknown:
            raise ValueError(f"{d['name']}.{r.kind.value}: unknown thresholds {sorted(unknown)}")
    return PortTable(
        name=d["name"], source=d["source"], oid=d["oid"], index=index, readings=readings,
        transceiver={str(k): int(v) for k, v in (d.get("transceiver") or {}).items()},
        enterprises=tuple(d.get("enterprises", ())), present=_row_filter(d.get("present")),
        dom=_row_filter(d.get("dom")), unavailable=tuple(int(v) for v in d.get("unavailable", ())),
        no_light=tuple(int(v) for v in d.get("no_light", ())),
        port_name=None if not d.get("port_name") else str(d["port_name"]), mib=str(d.get("mib", "")),
        joins=tuple(sorted((int(k), str(v)) for k, v in (d.get("joins") or {}).items())),
        modules=bool(d.get("modules", False)), port_offset=int(d.get("port_offset", 0)),
        port_kind=None if not d.get("port_kind") else (
            int(d["port_kind"]["column"]), {int(k): str(v) for k, v in d["port_kind"]["words"].items()},
            str(d["port_kind"].get("default", ""))),
        sys_descr=None if not d.get("sys_descr") else re.compile(str(d["sys_descr"])),
    )


def _words(d: dict[str, Any] | None) -> Words | None:
    if not d:
        return None
    return Words(column=int(d["column"]), words={int(k): str(v) for k, v in d["words"].items()},
                 default=str(d.get("default", "unknown")))


def _interface_table(d: dict[str, Any]) -> InterfaceTable:
    index = str(d.get("index", "ifindex"))
    if set(index.split(".")) - {"ifindex", "_"} or index.split(".").count("ifindex") != 1:
        raise ValueError(f"{d['name']}: index {index!r}: dotted fields of ifindex and _, with exactly one ifindex")
    speed = d.get("speed")
    if speed and str(speed.get("unit", "bps")) not in SPEED_UNITS:
        raise ValueError(f"{d['name']}: speed unit {speed.get('unit')!r}: expected one of {sorted(SPEED_UNITS)}")
    descr = d.get("descr", ())
    return InterfaceTable(
        name=d["name"], oid=d["oid"], index=index, name_column=int(d["name_column"]),
        descr_columns=tuple(int(c) for c in (descr if isinstance(descr, list) else [descr])),
        alias_column=None if d.get("alias") is None else int(d["alias"]),
        admin=_words(d.get("admin")), oper=_words(d.get("oper")),
        speed=None if not speed else Scale(int(speed["column"]), SPEED_UNITS[str(speed.get("unit", "bps"))],
                                           "Mbps"),
        enterprises=tuple(d.get("enterprises", ())), mib=str(d.get("mib", "")),
        joins=tuple(sorted((int(k), str(v)) for k, v in (d.get("joins") or {}).items())),
    )


def _documents(path: Path) -> list[dict[str, Any]]:
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    out = []
    for f in files:
        data = yaml.safe_load(f.read_text()) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{f.name}: expected a mapping of entity_sensor_tables, port_tables, interface_tables")
        out.append(data)
    return out


@functools.cache
def snmp_profiles(path: Path = _HERE / "snmp") -> SnmpProfiles:
    """Every vendor's tables: a folder of YAML files (read in name order), or one file."""
    docs = _documents(path)
    sensor_tables = tuple(
        EntitySensorTable(
            name=d["name"], source=d["source"], oid=d["oid"], columns=dict(d["columns"]),
            enterprises=tuple(d.get("enterprises", ())), priority=int(d.get("priority", 0)),
            thresholds=tuple(_threshold(t) for t in d.get("thresholds", ())),
        )
        for data in docs for d in data.get("entity_sensor_tables", ())
    )
    port_tables = tuple(_port_table(d) for data in docs for d in data.get("port_tables", ()))
    interface_tables = tuple(_interface_table(d) for data in docs for d in data.get("interface_tables", ()))
    names = [t.name for t in sensor_tables] + [t.name for t in port_tables] + [t.name for t in interface_tables]
    if len(set(names)) != len(names):
        raise ValueError(f"snmp profiles: a table is listed twice: {sorted({n for n in names if names.count(n) > 1})}")
    return SnmpProfiles(sensor_tables, port_tables, interface_tables)
