"""One poll of one device: run the SNMP collectors and assemble their parts into a `Snapshot`.

Collectors return raw walks; this module records each table's health and hands the rows to the
pure parsers. A device that stops answering mid-poll gives a snapshot whose unread tables are
marked unknown, so nothing downstream mistakes silence for removal.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from monitor.collectors import entity, hardware, interfaces, lldp, sensors, system
from monitor.collectors.snmp import SnmpClient, SnmpTarget, WalkResult
from monitor.common.errors import SnmpError, SnmpTimeout
from monitor.model import Sensor, Snapshot, TableHealth, TableStatus, Transceiver
from monitor.profiles import snmp_profiles

log = logging.getLogger(__name__)
T = TypeVar("T")
_GIVE_UP_AFTER = 2  # consecutive tables without any answer before the rest of the poll is skipped


def confirming(target: SnmpTarget) -> SnmpTarget:
    """The second, patient ask of a device that did not answer: twice the timeout, at least one retry.

    >>> t = confirming(SnmpTarget("h", timeout=1.0, retries=0)); (t.timeout, t.retries)
    (2.0, 1)
    """
    return replace(target, timeout=target.timeout * 2, retries=max(1, target.retries))


def table_health(name: str, walk: WalkResult) -> TableHealth:
    rows = walk.row_count
    if walk.error is None:
        return TableHealth(name, TableStatus.OK if rows else TableStatus.EMPTY, rows)
    if rows:
        return TableHealth(name, TableStatus.PARTIAL, rows, str(walk.error))
    status = TableStatus.TIMEOUT if isinstance(walk.error, SnmpTimeout) else TableStatus.ERROR
    return TableHealth(name, status, 0, str(walk.error))


class _Tables:
    """Records table health and stops asking a device that has gone silent."""

    def __init__(self) -> None:
        self.health: list[TableHealth] = []
        self._silent = 0

    @property
    def gave_up(self) -> bool:
        return self._silent >= _GIVE_UP_AFTER

    def record(self, name: str, walk: WalkResult) -> WalkResult | None:
        """The walk when its rows can be used (complete, or partial), else None."""
        h = table_health(name, walk)
        self.health.append(h)
        self._silent = self._silent + 1 if h.status is TableStatus.TIMEOUT else 0
        if h.status in (TableStatus.OK, TableStatus.EMPTY, TableStatus.PARTIAL):
            return walk
        return None

    def skip(self, name: str, why: str) -> None:
        self.health.append(TableHealth(name, TableStatus.SKIPPED, 0, why))

    async def run(self, names: list[str], fn: Callable[[], Awaitable[T]]) -> T | None:
        if self.gave_up:
            for n in names:
                self.skip(n, "device stopped answering during this poll")
            return None
        return await fn()


async def poll_device(name: str, target: SnmpTarget, client: SnmpClient,
                      now: Callable[[], float] = time.time, *, confirm: bool = True) -> Snapshot:
    """`confirm`: the daemon asks a silent device once more, patiently (see `confirming`), before it calls
    it unreachable; `saksi check` passes False so that --timeout and --retries mean exactly what they say."""
    started, cpu0 = now(), time.perf_counter()
    try:
        try:
            facts = await system.collect(client, target)
        except SnmpTimeout:
            if not confirm:
                raise
            # Confirm before calling a device unreachable: on a lossy path one unanswered request is noise.
            patient = confirming(target)
            try:
                facts = await system.collect(client, patient)
            except SnmpTimeout as silent:
                return await _degraded_or_unreachable(name, patient, client, started, cpu0, silent)
            target = patient  # a slow device: the rest of this poll waits as long as the answer needed
    except SnmpError as exc:
        log.info("%s: not polled: %s", name, exc)
        return Snapshot(device=name, taken_at=started, reachable=False, error=str(exc),
                        tables=(TableHealth("system", TableStatus.TIMEOUT if isinstance(exc, SnmpTimeout)
                                            else TableStatus.ERROR, 0, str(exc)),),
                        duration_s=time.perf_counter() - cpu0)
    tables = _Tables()
    tables.health.append(TableHealth("system", TableStatus.OK, 1))
    skipped: Counter[str] = Counter()
    profiles = snmp_profiles()

    walks = await tables.run(["ifTable", "ifXTable"], lambda: interfaces.collect(client, target))
    if_walk = tables.record("ifTable", walks[0]) if walks else None
    ifx_walk = tables.record("ifXTable", walks[1]) if walks and if_walk is not None else None
    if walks and if_walk is None:
        tables.skip("ifXTable", "ifTable did not answer")
    ports = interfaces.parse_interfaces(if_walk, ifx_walk, skipped) if if_walk is not None else []
    for itable in profiles.interface_tables if if_walk is not None and if_walk.error is None else ():
        if not itable.applies(facts.sys_object_id):  # IF-MIB answered in full: what it lacks, the vendor names
            continue
        got_if = await tables.run([itable.name], functools.partial(client.walk, target, itable.column_oids()))
        if got_if is not None and (if_rows := tables.record(itable.name, got_if)) is not None:
            ports += interfaces.parse_interface_table(itable, if_rows, ports, skipped)

    ent_walks = await tables.run(["entPhysicalTable", "entAliasMappingTable"],
                                 lambda: entity.collect(client, target))
    phys = tables.record("entPhysicalTable", ent_walks[0]) if ent_walks else None
    alias = tables.record("entAliasMappingTable", ent_walks[1]) if ent_walks and phys is not None else None
    if ent_walks and phys is None:
        tables.skip("entAliasMappingTable", "entPhysicalTable did not answer")
    port_names: dict[str, int] = {}
    for p in ports:
        for label in (p.descr, p.name):
            port_names.setdefault(label, p.ifindex)
    tree = entity.EntityTree(entity.parse_entities(phys, alias) if phys is not None else {}, port_names,
                             [(p.ifindex, label) for p in ports for label in {p.descr, p.name} if label])
    transceivers: list[Transceiver] = tree.transceivers()

    raw_sensors: list[sensors.RawSensor] = []
    for spec in profiles.entity_sensor_tables:
        if not spec.applies(facts.sys_object_id):
            continue
        names = [spec.name, *(t.name for t in spec.thresholds if t.applies(facts.sys_object_id))]
        got = await tables.run(names, functools.partial(
            sensors.collect_entity_sensors, client, target, spec, facts.sys_object_id))
        if got is None:
            continue
        walk = tables.record(spec.name, got[0])
        for tname, twalk in got[1].items():
            tables.record(tname, twalk)
        if got[0].error is not None:  # thresholds are only read after a complete sensor walk
            for tname in names[1:]:
                tables.skip(tname, f"{spec.name} did not answer completely")
        if walk is not None:
            raw_sensors += sensors.parse_entity_sensors(spec, walk, got[1], skipped)
    found_sensors: list[Sensor] = sensors.place_entity_sensors(raw_sensors, tree, skipped)

    entity_ports = {e.index: ifx for e in tree.entities.values() if (ifx := tree.placement(e)) is not None}
    for ptable in profiles.port_tables:
        if not ptable.applies(facts.sys_object_id, facts.sys_descr):
            continue
        got_walk = await tables.run([ptable.name], functools.partial(client.walk, target, ptable.column_oids()))
        if got_walk is None or (walk := tables.record(ptable.name, got_walk)) is None:
            continue
        more_sensors, more_modules = sensors.parse_port_table(ptable, walk, skipped, port_names)
        if ptable.index == "entity":
            more_sensors = sensors.with_ifindex(more_sensors, entity_ports)
            more_modules = [_place(m, entity_ports) for m in more_modules]
        found_sensors += more_sensors
        transceivers = _merge_modules(transceivers, more_modules)

    if if_walk is not None and if_walk.error is None:  # IF-MIB answered in full: what it lacks, others name
        named = Counter(e.name for e in tree.entities.values())  # "Port" on every ProCurve port names none
        port_of_entity = {ifx: e.name for e in tree.entities.values()
                          if (ifx := e.ifindex) is not None and e.name and named[e.name] == 1}
        ports += interfaces.ports_named_elsewhere(
            ports, [s.ifindex for s in found_sensors] + [t.ifindex for t in transceivers], port_of_entity)

    lldp_walks = await tables.run(["lldpRemTable", "lldpLocPortTable"], lambda: lldp.collect(client, target))
    rem = tables.record("lldpRemTable", lldp_walks[0]) if lldp_walks else None
    loc = tables.record("lldpLocPortTable", lldp_walks[1]) if lldp_walks and rem is not None and rem.row_count \
        else None
    if lldp_walks and rem is None:
        tables.skip("lldpLocPortTable", "lldpRemTable did not answer")
    neighbors = lldp.parse_lldp(rem, loc, ports) if rem is not None else []

    hw_walks: dict[str, WalkResult] = {}  # power, cooling, temperatures, CPU, memory, storage (hardware.yaml)
    hw_plan, hw_asked = hardware.plan(facts.sys_object_id), set[str]()
    while batch := hardware.next_tables(hw_plan, hw_walks, hw_asked, tree.entities, found_sensors):
        hw_asked.update(t.name for t in batch)
        hw_got = await tables.run([t.name for t in batch], functools.partial(hardware.collect, client, target, batch))
        if hw_got is None:
            continue
        for t in batch:
            if (hw_walk := tables.record(t.name, hw_got[t.name])) is not None:
                hw_walks[t.name] = hw_walk
    found_hardware = hardware.parse(hw_walks, tree.entities, found_sensors, skipped)
    for t in hw_plan:
        if t.name not in hw_asked:
            tables.skip(t.name, hardware.not_asked(t, found_hardware))

    return Snapshot(
        device=name, taken_at=started, reachable=True, facts=facts, ports=tuple(ports),
        transceivers=tuple(transceivers), sensors=tuple(found_sensors), neighbors=tuple(neighbors),
        tables=tuple(tables.health), duration_s=time.perf_counter() - cpu0,
        skipped=tuple(sorted(skipped.items())),
        hardware=found_hardware,
    )


_UNREAD = ("entPhysicalTable", "entAliasMappingTable", "lldpRemTable", "lldpLocPortTable")


async def _degraded_or_unreachable(name: str, target: SnmpTarget, client: SnmpClient, started: float,
                                   cpu0: float, silent: SnmpTimeout) -> Snapshot:
    """The system group went unanswered even when asked patiently: ask the interfaces once before calling the
    device unreachable. A lossy management path loses some GETs of a device that answers most of them; only
    a device that answers nothing is unreachable. Without sysObjectID the vendor tables cannot be chosen, so
    an answering device gets a snapshot of its ports only, the rest unknown (never "removed")."""
    system_health = TableHealth("system", TableStatus.TIMEOUT, 0, str(silent))
    walks = await interfaces.collect(client, target)
    health = [table_health("ifTable", walks[0]), table_health("ifXTable", walks[1])]
    if health[0].status not in (TableStatus.OK, TableStatus.EMPTY, TableStatus.PARTIAL):
        log.info("%s: not polled: %s", name, silent)
        return Snapshot(device=name, taken_at=started, reachable=False, error=str(silent), tables=(system_health,),
                        duration_s=time.perf_counter() - cpu0)
    log.info("%s: the system group did not answer but the interfaces did: a lossy path, ports only", name)
    skipped: Counter[str] = Counter()
    ifx = walks[1] if health[1].status in (TableStatus.OK, TableStatus.EMPTY, TableStatus.PARTIAL) else None
    ports = interfaces.parse_interfaces(walks[0], ifx, skipped)
    why = "the system group did not answer: read at the next poll"
    return Snapshot(device=name, taken_at=started, reachable=True, ports=tuple(ports),
                    tables=(system_health, *health, *(TableHealth(t, TableStatus.SKIPPED, 0, why) for t in _UNREAD)),
                    duration_s=time.perf_counter() - cpu0, skipped=tuple(sorted(skipped.items())))


def _place(m: Transceiver, entity_ports: dict[int, int]) -> Transceiver:
    from dataclasses import replace

    return replace(m, entity_index=m.ifindex, ifindex=entity_ports.get(m.ifindex or -1))


def _merge_modules(have: list[Transceiver], more: list[Transceiver]) -> list[Transceiver]:
    """ENTITY-MIB first; a vendor table fills ports it left empty or serial-less."""
    by_port = {t.ifindex: t for t in have}
    for m in more:
        cur = by_port.get(m.ifindex)
        if cur is None or (not cur.serial and m.serial):
            by_port[m.ifindex] = m
    return sorted(by_port.values(), key=lambda t: (t.ifindex or 0, t.serial))
