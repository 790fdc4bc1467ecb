"""The device snapshot: one normalised, immutable picture of a device per poll.

Everything downstream (change detection, storage, the CLI) compares these values, so every
field is already in canonical form: interface names from `monitor.common.names`, optical power in dBm,
temperature in °C, voltage in V, bias current in mA, time in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.model.cli import CliView
from monitor.model.hardware import Hardware
from monitor.model.readings import Sensor, TableHealth, TableStatus


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
    name: str  # canonical (monitor.common.names.canonical_port)
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
    uptime_s: float | None = None  # sysUpTime: the SNMP agent's uptime, the clock of ifLastChange and friends
    entity_last_change_s: float | None = None  # entLastChangeTime: modules inserted/removed since
    config_changed_s: float | None = None  # ccmHistoryRunningLastChanged (Cisco): running config last changed
    host_uptime_s: float | None = None  # HOST-RESOURCES hrSystemUptime: the host's own, untouched by agent restarts
    engine_boots: int | None = None  # SNMP-FRAMEWORK snmpEngineBoots: how often the agent (re)started
    engine_time_s: float | None = None  # snmpEngineTime: seconds since the agent last started

    @property
    def device_uptime_s(self) -> float | None:
        """How long the device itself has been up: the host's uptime where it gives one, else the agent's."""
        return self.host_uptime_s if self.host_uptime_s is not None else self.uptime_s


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
