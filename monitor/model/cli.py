"""What the SSH collector read, kept beside SNMP's values rather than over them."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.model.readings import SensorKind, TableStatus, Thresholds

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
