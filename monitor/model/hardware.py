"""Hardware health: power, cooling, temperatures, CPU, memory, storage and disks, normalised at the edge."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from monitor.model.readings import Sensor, Thresholds

# --- Hardware health --------------------------------------------------------------------------------
# Power supplies, fans, chassis temperatures, CPU, memory, and (servers) storage and disks, normalised
# at the edge like everything else: a unit's `state` is one of UNIT_STATES whatever the vendor's words
# (kept in `status_text`); sizes are bytes, loads and fill levels are percent. `source` names the table
# a part was read from, so its health (a table that did not answer is unknown) is in Snapshot.tables.

UNIT_STATES = ("ok", "warning", "failed", "absent", "off", "unknown")  # off: switched off by an operator


class UnitKind(str, enum.Enum):
    POWER_SUPPLY = "power_supply"
    FAN = "fan"


@dataclass(frozen=True, slots=True)
class HardwareUnit:
    """A power supply or a fan; its identity is `unit_id` ("<table>:<index>"), never its description,
    which some firmwares rewrite with the state ("Sw1, PS1 Faulty")."""

    unit_id: str
    kind: UnitKind
    name: str
    state: str  # one of UNIT_STATES
    status_text: str = ""  # the device's own word: "normal", "notFunctioning", "offEnvPower"
    source: str = ""
    entity_index: int | None = None


@dataclass(frozen=True, slots=True)
class Processor:
    proc_id: str
    name: str
    load_pct: float | None  # average load over the device's own interval (Cisco: 5 minutes)
    source: str = ""
    entity_index: int | None = None


@dataclass(frozen=True, slots=True)
class MemoryPool:
    pool_id: str
    name: str
    used_bytes: int | None  # buffers and caches the OS can reclaim are not counted as used
    total_bytes: int | None
    source: str = ""

    @property
    def used_pct(self) -> float | None:
        return _pct(self.used_bytes, self.total_bytes)


@dataclass(frozen=True, slots=True)
class Storage:
    """A filesystem (or flash); `thresholds` are in percent used, Saksi's own (HOST-RESOURCES states none)."""

    storage_id: str
    name: str  # the mount point when the device states one, else its description
    kind: str  # fixed_disk | flash | network_disk
    size_bytes: int | None
    used_bytes: int | None
    allocation_failures: int | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    source: str = ""

    @property
    def used_pct(self) -> float | None:
        return _pct(self.used_bytes, self.size_bytes)

    @property
    def breach(self) -> str | None:
        return self.thresholds.breach(self.used_pct)


@dataclass(frozen=True, slots=True)
class Disk:
    disk_id: str
    name: str
    state: str  # ok | warning | failed | unknown (hrDeviceStatus)
    status_text: str = ""
    errors: int | None = None
    capacity_bytes: int | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Hardware:
    """The device's physical health; `temperatures` are its chassis and board sensors (not optics),
    from ENTITY-SENSOR tables (also in Snapshot.sensors) or, when it has none, its vendor's table."""

    units: tuple[HardwareUnit, ...] = ()
    temperatures: tuple[Sensor, ...] = ()
    processors: tuple[Processor, ...] = ()
    memory: tuple[MemoryPool, ...] = ()
    storage: tuple[Storage, ...] = ()
    disks: tuple[Disk, ...] = ()

    @property
    def power_supplies(self) -> tuple[HardwareUnit, ...]:
        return tuple(u for u in self.units if u.kind is UnitKind.POWER_SUPPLY)

    @property
    def fans(self) -> tuple[HardwareUnit, ...]:
        return tuple(u for u in self.units if u.kind is UnitKind.FAN)

    def is_empty(self) -> bool:
        return not (self.units or self.temperatures or self.processors or self.memory or self.storage
                    or self.disks)


def _pct(part: int | None, whole: int | None) -> float | None:
    """part/whole in percent, rounded to 0.01; None when unknown or the whole is zero.

    >>> _pct(1, 3), _pct(5, 0), _pct(None, 10)
    (33.33, None, None)
    """
    if part is None or whole is None or whole <= 0:
        return None
    return round(100.0 * part / whole, 2)
