"""The device snapshot: one normalised, immutable picture of a device per poll.

Everything downstream (change detection, storage, the CLI) compares these values, so every
field is already in canonical form: interface names from `monitor.names`, optical power in dBm,
temperature in °C, voltage in V, bias current in mA, time in seconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class TableStatus(str, enum.Enum):
    """What happened when one table was read; only OK and EMPTY are facts about the device."""

    OK = "ok"  # rows came back and the walk ended normally
    EMPTY = "empty"  # the agent answered: it has no row in this table
    PARTIAL = "partial"  # some rows came back, then the agent stopped answering
    TIMEOUT = "timeout"  # no answer at all: the content is unknown
    ERROR = "error"  # the agent answered with an error
    SKIPPED = "skipped"  # not asked (not relevant for this platform, or the device is unreachable)

    @property
    def known(self) -> bool:
        """True when the table's content is a fact (its absence of rows included)."""
        return self in (TableStatus.OK, TableStatus.EMPTY)


@dataclass(frozen=True, slots=True)
class TableHealth:
    table: str
    status: TableStatus
    rows: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Thresholds:
    low_alarm: float | None = None
    low_warn: float | None = None
    high_warn: float | None = None
    high_alarm: float | None = None

    def is_empty(self) -> bool:
        return all(v is None for v in (self.low_alarm, self.low_warn, self.high_warn, self.high_alarm))

    def breach(self, value: float | None) -> str | None:
        """'alarm', 'warning' or None for a value against these thresholds.

        >>> Thresholds(-20.0, -18.0, 0.5, 2.5).breach(-19.0)
        'warning'
        >>> Thresholds(-20.0, -18.0, 0.5, 2.5).breach(-40.0)
        'alarm'
        >>> Thresholds().breach(99.0) is None
        True
        """
        if value is None:
            return None
        if (self.high_alarm is not None and value > self.high_alarm) or (
            self.low_alarm is not None and value < self.low_alarm
        ):
            return "alarm"
        if (self.high_warn is not None and value > self.high_warn) or (
            self.low_warn is not None and value < self.low_warn
        ):
            return "warning"
        return None


class SensorKind(str, enum.Enum):
    """What a sensor measures, with the one unit Saksi keeps it in."""

    RX_POWER = "rx_power"  # dBm
    TX_POWER = "tx_power"  # dBm
    TEMPERATURE = "temperature"  # °C
    VOLTAGE = "voltage"  # V
    BIAS = "bias"  # mA (laser bias current)
    CURRENT = "current"  # A (non-laser current: PSU, board)
    POWER = "power"  # W (non-optical power)
    FAN_SPEED = "fan_speed"  # rpm
    HUMIDITY = "humidity"  # %RH
    OTHER = "other"

    @property
    def unit(self) -> str:
        return _UNITS[self]


_UNITS = {
    SensorKind.RX_POWER: "dBm",
    SensorKind.TX_POWER: "dBm",
    SensorKind.TEMPERATURE: "C",
    SensorKind.VOLTAGE: "V",
    SensorKind.BIAS: "mA",
    SensorKind.CURRENT: "A",
    SensorKind.POWER: "W",
    SensorKind.FAN_SPEED: "rpm",
    SensorKind.HUMIDITY: "%RH",
    SensorKind.OTHER: "",
}

# The DOM keys of `saksi check --json`, per sensor kind.
DOM_KEYS = {
    SensorKind.RX_POWER: "rx_dbm",
    SensorKind.TX_POWER: "tx_dbm",
    SensorKind.TEMPERATURE: "temperature_c",
    SensorKind.VOLTAGE: "voltage_v",
    SensorKind.BIAS: "bias_ma",
}


@dataclass(frozen=True, slots=True)
class Sensor:
    """One reading; `ifindex` is set when it measures a port's transceiver (DOM)."""

    sensor_id: str  # stable within the device: "<source>:<index>[:<lane>]"
    kind: SensorKind
    value: float | None  # None when the device says the reading is unavailable
    thresholds: Thresholds
    source: str  # profile that produced it, e.g. "cisco-entity-sensor", "juniper-dom"
    descr: str = ""
    ifindex: int | None = None
    lane: int | None = None
    entity_index: int | None = None
    status: str = "ok"  # ok | unavailable | nonoperational

    @property
    def breach(self) -> str | None:
        return self.thresholds.breach(self.value)


@dataclass(frozen=True, slots=True)
class Transceiver:
    """A pluggable module; its identity is vendor + model + serial, wherever it sits."""

    vendor: str
    model: str
    serial: str
    type: str = ""  # what the device calls it: "1000BaseSX SFP", "10GE CU2M"
    revision: str = ""
    ifindex: int | None = None  # the port it sits in, when the device says so
    entity_index: int | None = None
    source: str = "entity-mib"

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.vendor, self.model, self.serial)


@dataclass(frozen=True, slots=True)
class Neighbor:
    ifindex: int | None  # local port, when it could be resolved
    local_port: str  # the local port as LLDP names it
    sys_name: str
    port: str  # the neighbour's port id (or description when the id is a MAC)
    port_descr: str = ""
    chassis_id: str = ""


@dataclass(frozen=True, slots=True)
class Port:
    ifindex: int
    name: str  # canonical (monitor.names.canonical_port)
    descr: str = ""
    alias: str = ""
    if_type: int = 0  # IANAifType number
    admin: str = "unknown"  # IF-MIB words: up, down, testing
    oper: str = "unknown"  # up, down, testing, unknown, dormant, notPresent, lowerLayerDown
    speed_mbps: int | None = None
    mtu: int | None = None
    mac: str = ""
    last_change_s: float | None = None  # ifLastChange, in seconds of sysUpTime
    in_octets: int | None = None
    out_octets: int | None = None
    counters_64bit: bool = False
    in_errors: int | None = None
    out_errors: int | None = None
    in_discards: int | None = None
    out_discards: int | None = None

    @property
    def is_physical(self) -> bool:
        """Ethernet-like ports that can hold a cable or a module (not VLANs, loopbacks, tunnels)."""
        return self.if_type in _PHYSICAL_IFTYPES


# ethernetCsmacd, iso88023Csmacd, fibreChannel, gigabitEthernet, fastEther, fastEtherFX, sonet
_PHYSICAL_IFTYPES = frozenset({6, 7, 56, 117, 62, 69, 39})


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    sys_name: str = ""
    sys_descr: str = ""
    sys_object_id: str = ""
    uptime_s: float | None = None
    entity_last_change_s: float | None = None  # entLastChangeTime: modules inserted/removed since
    config_changed_s: float | None = None  # ccmHistoryRunningLastChanged (Cisco): running config last changed


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one poll learnt about one device, including what it failed to learn."""

    device: str
    taken_at: float  # epoch seconds (simulated seconds in the lab)
    reachable: bool
    facts: DeviceFacts = field(default_factory=DeviceFacts)
    ports: tuple[Port, ...] = ()
    transceivers: tuple[Transceiver, ...] = ()
    sensors: tuple[Sensor, ...] = ()
    neighbors: tuple[Neighbor, ...] = ()
    tables: tuple[TableHealth, ...] = ()
    duration_s: float = 0.0
    error: str | None = None  # why the device could not be polled
    skipped: tuple[tuple[str, int], ...] = ()  # values dropped as garbage: (reason, count)
    cli: CliView | None = None  # what SSH read, each value marked with its source; None when SSH was not used
    hardware: Hardware | None = None  # power, cooling, temperatures, CPU, memory, storage; None when not read

    def table(self, name: str) -> TableHealth:
        for t in self.tables:
            if t.table == name:
                return t
        return TableHealth(name, TableStatus.SKIPPED)

    def port(self, ifindex_or_name: int | str) -> Port | None:
        for p in self.ports:
            if p.ifindex == ifindex_or_name or p.name == ifindex_or_name:
                return p
        return None

    def transceiver_in(self, ifindex: int) -> Transceiver | None:
        for t in self.transceivers:
            if t.ifindex == ifindex:
                return t
        return None

    def sensors_of(self, ifindex: int) -> list[Sensor]:
        return [s for s in self.sensors if s.ifindex == ifindex]

    def neighbor_on(self, ifindex: int) -> Neighbor | None:
        for n in self.neighbors:
            if n.ifindex == ifindex:
                return n
        return None

    @property
    def poll_status(self) -> str:
        """answered | partial | timed_out, as a NOC would say it."""
        if not self.reachable:
            return "timed_out"
        if any(not t.status.known and t.status is not TableStatus.SKIPPED for t in self.tables):
            return "partial"
        return "answered"


# --- SSH / CLI view ---------------------------------------------------------------------------------
# What the CLI collector read, kept beside SNMP's values rather than over them: where both sources
# report a value, both stay and a `Disagreement` makes the difference visible. Every item carries
# `source` = "ssh:<command>", the command that produced it.


@dataclass(frozen=True, slots=True)
class CliCommand:
    """What happened when one command was run: its rows are facts only when the status is known."""

    role: str  # modules | dom | inventory | lldp | interfaces | config
    command: str
    status: TableStatus
    rows: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CliPort:
    name: str  # canonical
    status: str = ""  # as the device says it: connected, notconnect, disabled, err-disabled, up, down
    admin: str = "unknown"  # up | down | unknown (IF-MIB words, so they compare with SNMP's)
    oper: str = "unknown"
    description: str = ""
    vlan: str = ""
    speed: str = ""
    duplex: str = ""
    type: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class CliModule:
    """A pluggable module as the CLI lists it, placed by port name."""

    port: str  # canonical
    vendor: str = ""
    model: str = ""
    serial: str = ""
    descr: str = ""
    revision: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class CliReading:
    """One DOM reading from the CLI, in Saksi's units (dBm, °C, V, mA)."""

    port: str  # canonical
    kind: SensorKind
    value: float
    thresholds: Thresholds = field(default_factory=Thresholds)
    lane: int | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class CliNeighbor:
    local_port: str  # canonical
    sys_name: str
    port: str
    port_descr: str = ""
    chassis_id: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class InventoryItem:
    name: str
    descr: str = ""
    model: str = ""
    revision: str = ""
    serial: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Disagreement:
    """Both sources gave a value for the same thing and the values differ."""

    port: str  # canonical port, or "" for the device
    field: str  # serial | model | rx_dbm | tx_dbm | temperature_c | voltage_v | bias_ma | neighbor | admin | oper
    snmp: str
    ssh: str


@dataclass(frozen=True, slots=True)
class CliView:
    """One SSH collection of one device; `config` is already redacted (secrets never leave the collector)."""

    device: str
    platform: str
    taken_at: float
    ok: bool
    error: str | None = None
    commands: tuple[CliCommand, ...] = ()
    ports: tuple[CliPort, ...] = ()
    modules: tuple[CliModule, ...] = ()
    readings: tuple[CliReading, ...] = ()
    neighbors: tuple[CliNeighbor, ...] = ()
    inventory: tuple[InventoryItem, ...] = ()
    config: str | None = field(default=None, repr=False)
    config_version: str | None = None  # the history commit this configuration is stored as, when recorded
    disagreements: tuple[Disagreement, ...] = ()
    duration_s: float = 0.0

    def command(self, role: str) -> CliCommand:
        for c in self.commands:
            if c.role == role:
                return c
        return CliCommand(role, "", TableStatus.SKIPPED)

    def module_in(self, port: str) -> CliModule | None:
        return next((m for m in self.modules if m.port == port), None)

    def readings_of(self, port: str) -> list[CliReading]:
        return [r for r in self.readings if r.port == port]

    def neighbor_on(self, port: str) -> CliNeighbor | None:
        return next((n for n in self.neighbors if n.local_port == port), None)

    def port(self, name: str) -> CliPort | None:
        return next((p for p in self.ports if p.name == name), None)


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
