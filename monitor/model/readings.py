"""Readings and their limits, shared by ports, optics and hardware: table health, thresholds, sensors."""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
