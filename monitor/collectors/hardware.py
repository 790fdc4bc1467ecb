"""Hardware health: power supplies, fans, chassis temperatures, CPU, memory, storage and disks.

The vendor tables are data (`monitor/profiles/hardware.yaml`). `poll_device` asks `next_tables` which
tables to read — for each part still unknown, the device's preferred table — walks them together with one
`collect`, records their health, and repeats until nothing is left to ask (a fallback table is read only
when the preferred one gave nothing). `parse` is pure: recorded rows in, a `Hardware` part out in Saksi's
units. A part whose table did not answer is simply absent (unknown) — never "failed"; a garbage value is
skipped and counted.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from monitor.collectors.decode import as_int, as_oid, as_text
from monitor.collectors.entity import Entity
from monitor.collectors.snmp import SnmpClient, SnmpTarget, Value, WalkResult
from monitor.model import (
    Disk,
    Hardware,
    HardwareUnit,
    MemoryPool,
    Processor,
    Sensor,
    SensorKind,
    Storage,
    Thresholds,
)
from monitor.profiles import RowFilter
from monitor.profiles.hardware import (
    HardwareProfiles,
    HardwareTable,
    HrMemorySpec,
    HrStorageSpec,
    MemorySpec,
    ProcessorSpec,
    TemperatureSpec,
    UnitSpec,
    hardware_profiles,
)

log = logging.getLogger(__name__)
Row = dict[int, Value]
_MOUNTED_ON = re.compile(r"mounted on:\s*(\S.*)$")
_INT32_WRAP = 2**32
# HOST-RESOURCES-MIB hrFSTable: whether a mounted filesystem is read-only, and which hrStorageTable row it is.
# A read-only filesystem (a firmware image, a squashfs, a disk remounted read-only) is full by design.
HR_FS_ACCESS, HR_FS_STORAGE_INDEX = "1.3.6.1.2.1.25.3.8.1.5", "1.3.6.1.2.1.25.3.8.1.7"
HR_FS_READ_ONLY = 2


def plan(sys_object_id: str, profiles: HardwareProfiles | None = None) -> list[HardwareTable]:
    """The tables that may apply to this device, in order of preference."""
    return [t for t in (profiles or hardware_profiles()).tables if t.applies(sys_object_id)]


async def collect(client: SnmpClient, target: SnmpTarget, tables: Sequence[HardwareTable]) -> dict[str, WalkResult]:
    """One walk of every column of these tables at once (GETBULK), split back per table; a storage table
    brings hrFSTable's access and storage-index columns with it, to tell read-only filesystems apart."""
    wanted = {t.name: _columns(t) for t in tables}
    walk = await client.walk(target, list(dict.fromkeys(c for cols in wanted.values() for c in cols)))
    return {t.name: WalkResult(rows={c: walk.rows.get(c, {}) for c in wanted[t.name]}, error=walk.error)
            for t in tables}


def _columns(table: HardwareTable) -> list[str]:
    return table.column_oids() + ([HR_FS_ACCESS, HR_FS_STORAGE_INDEX] if table.storage is not None else [])


def read_only_storage(walk: WalkResult) -> frozenset[str]:
    """The hrStorageIndex (as a row suffix) of every filesystem hrFSTable says is mounted read-only.

    >>> read_only_storage(WalkResult(rows={HR_FS_ACCESS: {"1": 1, "19": 2, "20": b"junk"},
    ...                                    HR_FS_STORAGE_INDEX: {"1": 31, "19": 49, "20": 50}}))
    frozenset({'49'})
    """
    access, index = walk.column(HR_FS_ACCESS), walk.column(HR_FS_STORAGE_INDEX)
    return frozenset(str(i) for fs, a in access.items()
                     if as_int(a) == HR_FS_READ_ONLY and (i := as_int(index.get(fs))) is not None and i > 0)


def next_tables(plan_: Sequence[HardwareTable], walks: Mapping[str, WalkResult], asked: set[str],
                entities: Mapping[int, Entity], sensors: Sequence[Sensor]) -> list[HardwareTable]:
    """For each part still unknown, the first table of the plan not yet asked that gives it."""
    have = parse(walks, entities, sensors, Counter())
    given = _given(have)
    if not have.disks:
        given.add("disk_detail")  # capacity and removability only matter for disks that are listed
    batch: list[HardwareTable] = []
    for t in plan_:
        if t.name in asked or t in batch:
            continue
        wanted = t.parts - given - {p for b in batch for p in b.parts}
        if wanted and not ("disk_detail" in wanted and "disk" not in given):
            batch.append(t)
    return batch


def not_asked(table: HardwareTable, hw: Hardware) -> str:
    """Why a table of the plan was not read: the parts it gives came from another table (or are moot)."""
    if table.disk_detail is not None:
        return "no disk listed"
    sources = {"power_supply": [u.source for u in hw.power_supplies], "fan": [u.source for u in hw.fans],
               "temperature": [t.source for t in hw.temperatures], "processor": [p.source for p in hw.processors],
               "memory": [m.source for m in hw.memory], "storage": [s.source for s in hw.storage],
               "disk": [d.source for d in hw.disks]}
    found = sorted({s for part in table.parts for s in sources.get(part, ())})
    return f"{', '.join(sorted(table.parts))}: read from {', '.join(found) or 'another table'}"


def _given(hw: Hardware) -> set[str]:
    given = {u.kind.value for u in hw.units}
    for part, items in (("temperature", hw.temperatures), ("processor", hw.processors), ("memory", hw.memory),
                        ("storage", hw.storage), ("disk", hw.disks)):
        if items:
            given.add(part)
    return given


def parse(walks: Mapping[str, WalkResult], entities: Mapping[int, Entity], sensors: Sequence[Sensor],
          skipped: Counter[str], profiles: HardwareProfiles | None = None) -> Hardware:
    """Every part from the first table (in profile order) that gives it; chassis ENTITY-SENSOR
    temperatures win over vendor temperature tables."""
    prof = profiles or hardware_profiles()
    tables = [t for t in prof.tables if t.name in walks]
    rows = {t.name: _rows(t, walks[t.name]) for t in tables}
    units: list[HardwareUnit] = []
    for kind in ("power_supply", "fan"):
        for t in tables:
            spec = next((u for u in t.units if u.kind.value == kind), None)
            found = [] if spec is None else parse_units(t, spec, rows[t.name], entities, skipped)
            if found:
                units += found
                break
    temperatures = chassis_temperatures(sensors, prof, skipped)
    if not temperatures:
        temperatures = _first(tables, lambda t: t.temperature and parse_temperatures(
            t, t.temperature, rows[t.name], prof, skipped))
    processors = _first(tables, lambda t: t.processor and parse_processors(
        t, t.processor, rows[t.name], rows, entities, prof, skipped))
    memory = _first(tables, lambda t: (t.memory and parse_memory(t, t.memory, rows[t.name], entities, skipped))
                    or (t.hr_memory and parse_hr_memory(t, t.hr_memory, rows[t.name], skipped)))
    storage = _first(tables, lambda t: t.storage and parse_storage(t, t.storage, rows[t.name], skipped,
                                                                   read_only_storage(walks[t.name])))
    detail = next((t for t in tables if t.disk_detail is not None), None)
    disks = _first(tables, lambda t: t.disk and parse_disks(t, rows[t.name], detail, rows.get(detail.name, {})
                                                              if detail else {}, skipped))
    return Hardware(units=tuple(units), temperatures=tuple(temperatures), processors=tuple(processors),
                    memory=tuple(memory), storage=tuple(storage), disks=tuple(disks))


def _first(tables: list[HardwareTable], fn):
    for t in tables:
        found = fn(t)
        if found:
            return found
    return []


def _rows(table: HardwareTable, walk: WalkResult) -> dict[str, Row]:
    """Cells grouped by row index suffix, rows in index order."""
    out: dict[str, Row] = {}
    for col in table.columns():
        for suffix, value in walk.column(f"{table.oid}.{col}").items():
            out.setdefault(suffix, {})[col] = value
    return dict(sorted(out.items(), key=lambda kv: tuple(int(x) if x.isdigit() else -1 for x in kv[0].split("."))))


def _admits(rule: RowFilter | None, row: Row) -> bool:
    if rule is None:
        return True
    value = as_int(row.get(rule.column))
    return value is not None and rule.admits(value)


def _entity(suffix: str, entities: Mapping[int, Entity]) -> Entity | None:
    first = as_int(suffix.split(".", 1)[0])
    return None if first is None else entities.get(first)


def _name(table: HardwareTable, row: Row, ent: Entity | None, fallback: str) -> str:
    text = as_text(row.get(table.name_column)) if table.name_column is not None else ""
    return text or (ent.name or ent.descr if ent is not None else "") or fallback


def parse_units(table: HardwareTable, spec: UnitSpec, rows: Mapping[str, Row], entities: Mapping[int, Entity],
                skipped: Counter[str]) -> list[HardwareUnit]:
    """Power supplies or fans: Saksi's state beside the device's own word; a garbage state is "unknown"."""
    out = []
    for suffix, row in rows.items():
        ent = _entity(suffix, entities) if table.index == "entity" else None
        if spec.entity_class is not None and (ent is None or ent.cls != spec.entity_class):
            continue
        if not _admits(spec.when, row):
            continue
        raw = as_int(row.get(spec.state))
        if raw is None:
            skipped[f"{table.name}: state missing or not a number"] += 1
            word, state = "", "unknown"
        else:
            word, state = spec.states.get(raw, (str(raw), "unknown"))
        label = "power supply" if spec.kind.value == "power_supply" else "fan"
        out.append(HardwareUnit(unit_id=f"{table.name}:{suffix}", kind=spec.kind,
                                name=_name(table, row, ent, f"{label} {suffix}"), state=state, status_text=word,
                                source=table.name, entity_index=ent.index if ent is not None else None))
    return out


def _in(limits: tuple[float, float], value: float | None) -> bool:
    return value is not None and limits[0] <= value <= limits[1]


def chassis_temperatures(sensors: Sequence[Sensor], profiles: HardwareProfiles | None = None,
                         skipped: Counter[str] | None = None) -> list[Sensor]:
    """Temperature sensors not on a port nor named after optics; an absurd reading becomes unavailable."""
    prof = profiles or hardware_profiles()
    out = []
    for s in sensors:
        if s.kind is not SensorKind.TEMPERATURE or s.ifindex is not None or prof.optics.search(s.descr):
            continue
        if s.value is not None and not _in(prof.temperature_c, s.value):
            if skipped is not None:
                skipped["chassis temperature out of range"] += 1
            s = replace(s, value=None, status="unavailable")
        out.append(s)
    return out


def parse_temperatures(table: HardwareTable, spec: TemperatureSpec, rows: Mapping[str, Row],
                       profiles: HardwareProfiles, skipped: Counter[str]) -> list[Sensor]:
    out = []
    for suffix, row in rows.items():
        value = as_int(row.get(spec.value))
        if value is not None and value in spec.absent_values:
            continue  # the part has no sensor
        status = spec.states.get(as_int(row.get(spec.state)) or -1, ("", "ok"))[1] if spec.state else "ok"
        reading: float | None = None if value is None else float(value)
        if value is None and row.get(spec.value) is not None:
            skipped[f"{table.name}: temperature not a number"] += 1
        elif reading is not None and not _in(profiles.temperature_c, reading):
            skipped[f"{table.name}: temperature out of range"] += 1
            reading = None
        limit = as_int(row.get(spec.high_alarm)) if spec.high_alarm is not None else None
        limit_c = float(limit) if limit is not None and _in(profiles.temperature_c, limit) and limit > 0 else None
        out.append(Sensor(sensor_id=f"{table.name}:{suffix}", kind=SensorKind.TEMPERATURE,
                          value=reading if status == "ok" else None, thresholds=Thresholds(high_alarm=limit_c),
                          source=table.name, descr=_name(table, row, None, f"temperature {suffix}"),
                          status="unavailable" if reading is None and status == "ok" else status))
    return out


def parse_processors(table: HardwareTable, spec: ProcessorSpec, rows: Mapping[str, Row],
                     all_rows: Mapping[str, Mapping[str, Row]], entities: Mapping[int, Entity],
                     profiles: HardwareProfiles, skipped: Counter[str]) -> list[Processor]:
    out = []
    names = all_rows.get(spec.names[0], {}) if spec.names else {}
    for suffix, row in rows.items():
        if not _admits(spec.when, row):
            continue
        raw = as_int(row.get(spec.load))
        load = None if raw is None else float(raw)
        if load is not None and not _in(profiles.load_pct, load):
            skipped[f"{table.name}: load out of range"] += 1
            load = None
        ent = entities.get(as_int(row.get(spec.entity)) or -1) if spec.entity is not None else None
        named = as_text(names.get(suffix, {}).get(spec.names[1])) if spec.names else ""
        out.append(Processor(proc_id=f"{table.name}:{suffix}", load_pct=load, source=table.name,
                             name=named or _name(table, row, ent, f"CPU {suffix}"),
                             entity_index=ent.index if ent is not None else None))
    return out


def _counter(row: Row, *columns: int | None) -> int | None:
    """The first column that holds a non-negative integer (64-bit columns are listed first)."""
    for c in columns:
        v = as_int(row.get(c)) if c is not None else None
        if v is not None and v >= 0:
            return v
    return None


def parse_memory(table: HardwareTable, spec: MemorySpec, rows: Mapping[str, Row], entities: Mapping[int, Entity],
                 skipped: Counter[str]) -> list[MemoryPool]:
    out = []
    for suffix, row in rows.items():
        if not _admits(spec.when, row):
            continue
        used, free = _counter(row, spec.used_hc, spec.used), _counter(row, spec.free_hc, spec.free)
        total = None
        if used is not None and free is not None:
            total = used + free
        elif spec.total is not None and spec.used_pct is not None:
            t, pct = _counter(row, spec.total), as_int(row.get(spec.used_pct))
            if t is not None and pct is not None and 0 <= pct <= 100:
                total, used = t * spec.unit, round(t * spec.unit * pct / 100)
        if total is None or used is None:
            skipped[f"{table.name}: memory figures missing or not numbers"] += 1
            continue
        ent = _entity(suffix, entities) if spec.entity_prefix else None
        name = _name(table, row, None, f"memory {suffix}")
        if ent is not None and (ent.name or ent.descr):
            name = f"{ent.name or ent.descr} - {name}"
        out.append(MemoryPool(pool_id=f"{table.name}:{suffix}", name=name, used_bytes=used, total_bytes=total,
                              source=table.name))
    return out


def _hr_cells(table: HardwareTable, row: Row) -> tuple[str | None, str, int | None, int | None, int | None]:
    """(type OID, description, size, used, allocation failures), sizes in bytes; Integer32 wraps undone."""
    c = table.storage_columns
    units = as_int(row.get(c["units"]))
    size, used = as_int(row.get(c["size"])), as_int(row.get(c["used"]))
    if units is None or units <= 0 or size is None or used is None:
        return as_oid(row.get(c["type"])), as_text(row.get(c["descr"])), None, None, None
    size, used = (v + _INT32_WRAP if v < 0 else v for v in (size, used))  # net-snmp: hrStorageSize is Integer32
    failures = as_int(row.get(c["failures"])) if "failures" in c else None
    return as_oid(row.get(c["type"])), as_text(row.get(c["descr"])), size * units, used * units, failures


def parse_hr_memory(table: HardwareTable, spec: HrMemorySpec, rows: Mapping[str, Row],
                    skipped: Counter[str]) -> list[MemoryPool]:
    pools: list[MemoryPool] = []
    reclaimable = 0
    for suffix, row in rows.items():
        kind, descr, size, used, _ = _hr_cells(table, row)
        if spec.reclaimable.search(descr):
            reclaimable += used or 0
            continue
        if kind not in spec.types:
            continue
        if size is None or used is None or used > size:
            skipped[f"{table.name}: memory figures missing or not numbers"] += 1
            continue
        pools.append(MemoryPool(f"{table.name}:{suffix}", descr or f"memory {suffix}", used, size, table.name))
    if len(pools) == 1 and reclaimable:
        p = pools[0]
        pools = [replace(p, used_bytes=max(0, (p.used_bytes or 0) - reclaimable))]
    return pools


def mount_point(descr: str) -> str:
    """The mount point in a HOST-RESOURCES description ("/dev/ad1s1f: var..., mounted on: /var" on Junos).

    >>> mount_point("/dev/ad1s1f: var file system, mounted on: /var"), mount_point("/srv")
    ('/var', '/srv')
    """
    m = _MOUNTED_ON.search(descr)
    return m.group(1).strip() if m else descr


def parse_storage(table: HardwareTable, spec: HrStorageSpec, rows: Mapping[str, Row],
                  skipped: Counter[str], read_only: frozenset[str] = frozenset()) -> list[Storage]:
    """Filesystems to watch for fill; pseudo filesystems (by name) and read-only ones (by hrFSAccess, or by
    name where the device has no hrFSTable) are full by design and left out."""
    out = []
    for suffix, row in rows.items():
        kind, descr, size, used, failures = _hr_cells(table, row)
        if kind not in spec.types:
            continue
        name = mount_point(descr)
        if spec.ignore_mounts.search(name) or spec.ignore_descr.search(descr):
            continue
        if suffix in read_only:
            log.debug("%s: %s is mounted read-only (hrFSAccess): not watched for fill", table.name, name)
            skipped[f"{table.name}: read-only filesystem, not watched for fill"] += 1
            continue
        if size is not None and used is not None and used > size:
            skipped[f"{table.name}: more used than the filesystem holds"] += 1
            size = used = None
        out.append(Storage(storage_id=f"{table.name}:{suffix}", name=name or f"storage {suffix}",
                           kind=spec.types[kind], size_bytes=size, used_bytes=used, allocation_failures=failures,
                           thresholds=spec.thresholds, source=table.name))
    return out


def parse_disks(table: HardwareTable, rows: Mapping[str, Row], detail: HardwareTable | None,
                detail_rows: Mapping[str, Row], skipped: Counter[str]) -> list[Disk]:
    """Fixed disks (hrDeviceDiskStorage) with their hrDeviceStatus; removable media are not watched."""
    spec = table.disk
    assert spec is not None
    c = spec.columns
    out = []
    for suffix, row in rows.items():
        if as_oid(row.get(c["type"])) not in spec.types:
            continue
        extra = detail_rows.get(suffix, {})
        if detail is not None and detail.disk_detail is not None:
            if as_int(extra.get(detail.disk_detail.removable)) == 1:
                continue
            kb = as_int(extra.get(detail.disk_detail.capacity_kb))
        else:
            kb = None
        raw = as_int(row.get(c["status"]))
        word, state = ("", "unknown") if raw is None else spec.states.get(raw, (str(raw), "unknown"))
        if raw is None and row.get(c["status"]) is not None:
            skipped[f"{table.name}: status not a number"] += 1
        errors = as_int(row.get(c["errors"]))
        out.append(Disk(disk_id=f"{table.name}:{suffix}", name=as_text(row.get(c["descr"])) or f"disk {suffix}",
                        state=state, status_text=word, errors=errors if errors is not None and errors >= 0 else None,
                        capacity_bytes=kb * 1024 if kb is not None and kb > 0 else None, source=table.name))
    return out
