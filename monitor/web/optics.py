"""A transceiver's optics against its thresholds: where the readings come from, and the small chart.

`history()` is the one switch: with a time-series reader (monitor.timeseries) it draws the port's
DOM history; without one it draws what the store has, the last snapshot's readings. `chart()` turns a
series into geometry a template draws as inline SVG (no script), with the value in words beside it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from monitor.model import DOM_KEYS, Snapshot, Thresholds
from monitor.timeseries.reader import PointReader, Row

log = logging.getLogger(__name__)

KEYS = ("rx_dbm", "tx_dbm", "temperature_c", "voltage_v", "bias_ma")
LABELS = {"rx_dbm": ("Rx power", "dBm"), "tx_dbm": ("Tx power", "dBm"), "temperature_c": ("Temperature", "°C"),
          "voltage_v": ("Voltage", "V"), "bias_ma": ("Bias", "mA")}
W, H, PAD = 240.0, 56.0, 4.0


@dataclass(frozen=True, slots=True)
class Series:
    """One reading of one port (and lane) over time, with the thresholds of its latest sample."""

    key: str
    lane: int | None
    samples: tuple[tuple[float, float], ...]  # (time, value), oldest first
    thresholds: Thresholds = field(default_factory=Thresholds)

    @property
    def label(self) -> str:
        name = LABELS[self.key][0]
        return name if self.lane is None else f"{name} lane {self.lane}"

    @property
    def unit(self) -> str:
        return LABELS[self.key][1]

    @property
    def last(self) -> float | None:
        return self.samples[-1][1] if self.samples else None

    @property
    def state(self) -> str:
        """ok | warning | alarm for the latest value."""
        return self.thresholds.breach(self.last) or "ok"


def history(reader: PointReader | None, snapshot: Snapshot | None, device: str, port: str, start: float,
            end: float, site: str) -> list[Series]:
    """The port's optics: from the reader when there is one and it answers, else from the snapshot."""
    if reader is not None:
        try:
            rows = [r for r in reader.optics(device, port, start, end) if r.tags.get("site", site) == site]
        except Exception as exc:  # noqa: BLE001 - a chart must not take the page down with the time-series server
            log.warning("optics of %s %s: time-series reader failed: %s", device, port, exc)
        else:
            if rows:
                return from_rows(rows)
    return from_snapshot(snapshot, port)


def from_rows(rows: list[Row]) -> list[Series]:
    """`dom` rows (one per poll and lane) as one series per reading and lane."""
    samples: dict[tuple[str, int | None], list[tuple[float, float]]] = {}
    limits: dict[tuple[str, int | None], Thresholds] = {}
    for r in sorted(rows, key=lambda r: r.time):
        lane_tag = r.tags.get("lane")
        lane = int(lane_tag) if lane_tag is not None and lane_tag.isdigit() else None
        for key in KEYS:
            v = r.fields.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                samples.setdefault((key, lane), []).append((r.time, float(v)))
                limits[(key, lane)] = Thresholds(*(_num(r.fields.get(f"{key}_{t}")) for t in
                                                   ("low_alarm", "low_warn", "high_warn", "high_alarm")))
    return [Series(k, lane, tuple(s), limits[(k, lane)]) for (k, lane), s in _ordered(samples)]


def from_snapshot(snap: Snapshot | None, port: str) -> list[Series]:
    if snap is None or not snap.reachable:
        return []
    p = snap.port(port)
    if p is None:
        return []
    samples: dict[tuple[str, int | None], list[tuple[float, float]]] = {}
    limits: dict[tuple[str, int | None], Thresholds] = {}
    for s in snap.sensors_of(p.ifindex):
        key = DOM_KEYS.get(s.kind)
        if key is None or s.value is None or not math.isfinite(s.value):
            continue
        samples[(key, s.lane)] = [(snap.taken_at, s.value)]
        limits[(key, s.lane)] = s.thresholds
    return [Series(k, lane, tuple(v), limits[(k, lane)]) for (k, lane), v in _ordered(samples)]


def _ordered(d: dict[tuple[str, int | None], list[tuple[float, float]]]
             ) -> list[tuple[tuple[str, int | None], list[tuple[float, float]]]]:
    return sorted(d.items(), key=lambda kv: (KEYS.index(kv[0][0]), kv[0][1] if kv[0][1] is not None else -1))


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


# --- the chart ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Band:
    y: float
    height: float
    level: str  # ok | warning | alarm


@dataclass(frozen=True, slots=True)
class Chart:
    width: float
    height: float
    bands: tuple[Band, ...]
    points: str  # SVG polyline points; empty for a single sample
    dot: tuple[float, float] | None  # the latest sample
    description: str  # what a screen reader says


def chart(series: Series) -> Chart:
    """Geometry of a small chart: threshold bands behind the line (or the one reading) of the series.

    >>> c = chart(Series("rx_dbm", None, ((0.0, -7.5),), Thresholds(-20.0, -19.0, -3.0, -2.0)))
    >>> [b.level for b in c.bands], c.dot is not None, c.description
    (['alarm', 'warning', 'ok', 'warning', 'alarm'], True, 'Rx power -7.5 dBm (ok); warning below -19 or above -3; alarm below -20 or above -2')
    """
    th, values = series.thresholds, [v for _, v in series.samples]
    limits = [x for x in (th.low_alarm, th.low_warn, th.high_warn, th.high_alarm) if x is not None]
    lo, hi = min(values + limits, default=0.0), max(values + limits, default=1.0)
    span = (hi - lo) or max(abs(hi), 1.0)
    lo, hi = lo - span * 0.15, hi + span * 0.15

    def y(v: float) -> float:
        return PAD + (H - 2 * PAD) * (hi - v) / (hi - lo)

    top_level = "alarm" if th.high_alarm is not None else "warning" if th.high_warn is not None else "ok"
    edges = [(hi, top_level)]
    for limit, below in ((th.high_alarm, "warning" if th.high_warn is not None else "ok"), (th.high_warn, "ok"),
                         (th.low_warn, "warning"), (th.low_alarm, "alarm")):
        if limit is not None:
            edges.append((limit, below))
    bands = []
    for (top, level), (bottom, _) in zip(edges, [*edges[1:], (lo, "")], strict=False):
        if top > bottom:
            bands.append(Band(round(y(top), 2), round(y(bottom) - y(top), 2), level))
    t0, t1 = (series.samples[0][0], series.samples[-1][0]) if series.samples else (0.0, 1.0)

    def x(t: float) -> float:
        return W - PAD if t1 == t0 else PAD + (W - 2 * PAD) * (t - t0) / (t1 - t0)

    points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in series.samples) if len(series.samples) > 1 else ""
    dot = (round(x(series.samples[-1][0]), 1), round(y(series.samples[-1][1]), 1)) if series.samples else None
    return Chart(W, H, tuple(bands), points, dot, describe(series))


def describe(series: Series) -> str:
    th, parts = series.thresholds, []
    value = "no reading" if series.last is None else f"{series.last:g} {series.unit} ({series.state})"
    for level, low, high in (("warning", th.low_warn, th.high_warn), ("alarm", th.low_alarm, th.high_alarm)):
        words = [f"below {low:g}" if low is not None else "", f"above {high:g}" if high is not None else ""]
        if any(words):
            parts.append(f"{level} " + " or ".join(w for w in words if w))
    return "; ".join([f"{series.label} {value}", *parts])
