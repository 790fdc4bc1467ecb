"""The model every stage shares: one normalised, immutable snapshot of a device per poll.

`snapshot` holds ports, modules and neighbours; `readings` the sensors and limits; `hardware` power,
cooling and storage; `cli` what SSH read beside SNMP. The names are re-exported here because they are
the lingua franca of every other package.
"""

from monitor.model.cli import (
    CliCommand,
    CliModule,
    CliNeighbor,
    CliPort,
    CliReading,
    CliView,
    Disagreement,
    InventoryItem,
)
from monitor.model.hardware import (
    UNIT_STATES,
    Disk,
    Hardware,
    HardwareUnit,
    MemoryPool,
    Processor,
    Storage,
    UnitKind,
)
from monitor.model.readings import DOM_KEYS, Sensor, SensorKind, TableHealth, TableStatus, Thresholds
from monitor.model.snapshot import DeviceFacts, Neighbor, Port, Snapshot, Transceiver

__all__ = [
    "CliCommand", "CliModule", "CliNeighbor", "CliPort", "CliReading", "CliView", "Disagreement",
    "InventoryItem", "UNIT_STATES", "Disk", "Hardware", "HardwareUnit", "MemoryPool", "Processor", "Storage",
    "UnitKind", "DOM_KEYS", "Sensor", "SensorKind", "TableHealth", "TableStatus", "Thresholds", "DeviceFacts",
    "Neighbor", "Port", "Snapshot", "Transceiver",
]
