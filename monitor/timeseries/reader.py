"""What Saksi reads back from its time series (a port's optics history for the CLI and the web view).

InfluxDB and the embedded store answer the same `PointReader` calls with the same `Row`s, so a
caller never knows which one is configured.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from monitor.timeseries.points import FieldValue


@dataclass(frozen=True)
class Row:
    """One stored point: time in epoch seconds, its tags, and the fields it has (absent ones are absent)."""

    measurement: str
    time: float
    tags: dict[str, str] = field(default_factory=dict)
    fields: dict[str, FieldValue] = field(default_factory=dict)


class PointReader(Protocol):
    def series(self, measurement: str, start: float, end: float, device: str | None = None,
               port: str | None = None) -> list[Row]:
        """Every point of one measurement in [start, end], oldest first."""
        ...

    def optics(self, device: str, port: str, start: float, end: float) -> list[Row]:
        """A port's DOM history (`dom` rows: readings, thresholds, serial and lane)."""
        ...

    def events(self, start: float, end: float, device: str | None = None, port: str | None = None) -> list[Row]:
        """Changes and incident transitions (`event` rows)."""
        ...

    def close(self) -> None: ...


def series_rows(measurement: str, tags: dict[str, str], columns: list[str],
                values: Iterable[list[Any]]) -> list[Row]:
    """InfluxQL's column/value arrays (epoch=ns) as rows, nulls left out.

    >>> series_rows("dom", {"port": "Et1"}, ["time", "rx_dbm", "tx_dbm"], [[2_500_000_000, -7.5, None]])
    [Row(measurement='dom', time=2.5, tags={'port': 'Et1'}, fields={'rx_dbm': -7.5})]
    """
    out = []
    for v in values:
        fields = {c: x for c, x in zip(columns[1:], v[1:], strict=False) if x is not None}
        out.append(Row(measurement, v[0] / 1e9, dict(tags), fields))
    return out


DOM_READINGS = ("rx_dbm", "tx_dbm", "temperature_c", "voltage_v", "bias_ma")
THRESHOLD_LEVELS = ("low_alarm", "low_warn", "high_warn", "high_alarm")


def reading_series(rows: Iterable[Row]) -> dict[str, dict[str, Any]]:
    """A port's `dom` rows as one series per reading (and lane): times, values, and the newest thresholds.

    >>> rows = [Row("dom", 1.0, {"serial": "S1"}, {"rx_dbm": -7.0, "rx_dbm_low_warn": -18.0}),
    ...         Row("dom", 2.0, {"serial": "S1"}, {"rx_dbm": -7.5, "rx_dbm_low_warn": -17.0, "tx_dbm": -2.0})]
    >>> s = reading_series(rows)
    >>> s["rx_dbm"]["values"], s["rx_dbm"]["thresholds"]["low_warn"], sorted(s)
    ([-7.0, -7.5], -17.0, ['rx_dbm', 'tx_dbm'])
    """
    out: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r.time):
        lane = row.tags.get("lane")
        for key in DOM_READINGS:
            value = row.fields.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            name = key if lane is None else f"{key}@lane{lane}"
            s = out.setdefault(name, {"times": [], "values": [], "thresholds": {}, "lane": lane, "serial": None})
            s["times"].append(row.time)
            s["values"].append(float(value))
            s["serial"] = row.tags.get("serial") or s["serial"]
            s["thresholds"] = {lv: v for lv in THRESHOLD_LEVELS
                               if isinstance(v := row.fields.get(f"{key}_{lv}"), (int, float))}
    return out
