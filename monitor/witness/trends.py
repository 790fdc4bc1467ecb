"""Trends across polls: a warning before any threshold is crossed.

A filesystem that will be full within the storage horizon at its current growth, or a chassis temperature
climbing steadily towards the threshold its device states, becomes a change (`storage_filling`,
`temperature_rising`) on the poll the trend is first seen. Pure, like change detection: the series live in
a `TrendState` the correlator keeps, and `now` is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.model import Snapshot
from monitor.witness.changes import Change, ChangeKind

Points = list[tuple[float, float]]  # (time, value)


@dataclass(frozen=True, slots=True)
class TrendConfig:
    storage_horizon_s: float = 7 * 86400.0  # warn when a filesystem will be full within this
    temperature_horizon_s: float = 3600.0  # warn when a temperature will reach its threshold within this
    window_s: float = 6 * 3600.0  # storage points older than this are forgotten
    min_points: int = 4  # a trend needs at least this many answered polls...
    min_span_s: float = 180.0  # ...spread over at least this long
    min_fit: float = 0.8  # r² of the straight line: a steady climb, not noise
    temperature_points: int = 10  # a temperature trend is read from the last polls only...
    temperature_min_span_s: float = 480.0  # ...and must have climbed for this long (a dead fan's few degrees: not)
    min_temperature_rate_c_per_h: float = 3.0  # slower than this is the building's day, not a fault


@dataclass
class TrendState:
    series: dict[str, dict[str, Points]] = field(default_factory=dict)  # device -> "storage:/var" -> points
    active: dict[str, dict[str, float]] = field(default_factory=dict)  # device -> key -> when it was reported
    hot: dict[str, str] = field(default_factory=dict)  # device -> why its last answer was hot (for silence after)
    last_supply: dict[str, str] = field(default_factory=dict)  # device -> its last answer: one power supply left

    def trending(self, device: str, prefix: str = "") -> list[str]:
        return [k for k in self.active.get(device, {}) if k.startswith(prefix)]


def fit(points: Points) -> tuple[float, float] | None:
    """(slope per second, r²) of the least-squares line; None for fewer than two distinct times.

    >>> fit([(0, 10.0), (60, 11.0), (120, 12.0)])
    (0.016666666666666666, 1.0)
    >>> fit([(0, 5.0), (60, 5.0)])
    (0.0, 1.0)
    """
    n = len(points)
    if n < 2:
        return None
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    stt = sum((t - mt) ** 2 for t, _ in points)
    if stt == 0:
        return None
    stv = sum((t - mt) * (v - mv) for t, v in points)
    svv = sum((v - mv) ** 2 for _, v in points)
    slope = stv / stt
    r2 = 1.0 if svv == 0 else stv * stv / (stt * svv)
    return slope, r2


def eta(points: Points, limit: float, cfg: TrendConfig, min_span_s: float | None = None
        ) -> tuple[float, float] | None:
    """(seconds until `limit` is reached, rate per second) when the points climb steadily towards it."""
    span = cfg.min_span_s if min_span_s is None else min_span_s
    if len(points) < cfg.min_points or points[-1][0] - points[0][0] < span:
        return None
    line, recent = fit(points), fit(points[-cfg.min_points:])
    if line is None or recent is None:
        return None
    slope, r2 = line[0], line[1]
    rate = min(slope, recent[0])  # still climbing now, not a step long past
    last = points[-1][1]
    if rate <= 0 or r2 < cfg.min_fit or last >= limit:
        return None
    return (limit - last) / rate, rate


def _add(series: dict[str, Points], key: str, t: float, value: float, cfg: TrendConfig,
         keep: int | None = None) -> Points:
    pts = [p for p in series.get(key, []) if t - p[0] <= cfg.window_s and p[0] < t]
    pts.append((t, value))
    series[key] = pts[-keep:] if keep else pts
    return series[key]


def observe(state: TrendState, snapshots: Iterable[Snapshot], now: float, cfg: TrendConfig) -> list[Change]:
    """Fold the answered snapshots into the series; a change for each trend seen for the first time."""
    out: list[Change] = []
    for snap in snapshots:
        hw = snap.hardware
        if not snap.reachable or hw is None:
            continue
        dev = snap.device
        series = state.series.setdefault(dev, {})
        active = state.active.setdefault(dev, {})
        now_trending: dict[str, Change] = {}
        for s in hw.storage:
            if s.used_bytes is None or not s.size_bytes or s.used_pct is None:
                continue
            key = f"storage:{s.name}"
            pts = _add(series, key, snap.taken_at, float(s.used_bytes), cfg)
            found = eta(pts, float(s.size_bytes), cfg) if s.breach is None else None
            if found is not None and found[0] <= cfg.storage_horizon_s:
                rate = 100.0 * found[1] * 3600 / s.size_bytes
                now_trending[key] = Change(
                    ChangeKind.STORAGE_FILLING, dev, now, before=round(100.0 * pts[0][1] / s.size_bytes, 2),
                    after=s.used_pct, extra={"storage": s.name, "eta_s": round(found[0]), "rate_pct_per_h": rate},
                    detail=f"{s.name} {s.used_pct:g}% used, growing {rate:.2g}%/h: full in {_span(found[0])}")
        hot = []
        for t in hw.temperatures:
            if t.value is None:
                continue
            key = f"temperature:{t.sensor_id}"
            pts = _add(series, key, snap.taken_at, t.value, cfg, keep=cfg.temperature_points)
            if t.breach:
                hot.append(f"{t.descr} {t.value:g} C beyond its {t.breach} threshold")
                continue
            limit = t.thresholds.high_warn if t.thresholds.high_warn is not None else t.thresholds.high_alarm
            found = eta(pts, limit, cfg, cfg.temperature_min_span_s) if limit is not None else None
            if found is None or found[0] > cfg.temperature_horizon_s \
                    or found[1] * 3600 < cfg.min_temperature_rate_c_per_h:
                continue
            hot.append(f"{t.descr} {t.value:g} C and rising {found[1] * 3600:.0f} C/h")
            now_trending[key] = Change(
                ChangeKind.TEMPERATURE_RISING, dev, now, before=pts[0][1], after=t.value,
                extra={"sensor": t.sensor_id, "eta_s": round(found[0]), "rate_c_per_h": found[1] * 3600,
                       "limit": limit},
                detail=f"{t.descr} {t.value:g} C, rising {found[1] * 3600:.0f} C/h: reaches {limit:g} C "
                       f"in {_span(found[0])}")
        for key in list(active):
            if key not in now_trending:
                del active[key]
        for key, change in now_trending.items():
            if key not in active:
                active[key] = now
                out.append(change)
        if hot:
            state.hot[dev] = "; ".join(hot)
        else:
            state.hot.pop(dev, None)
        working = [u.name for u in hw.power_supplies if u.state == "ok"]
        if len(working) <= 1 and any(u.state in ("failed", "absent") for u in hw.power_supplies):
            state.last_supply[dev] = f"running on {working[0] if working else 'no'} power supply"
        else:
            state.last_supply.pop(dev, None)
    return out


def _span(seconds: float) -> str:
    """A duration as a person says it.

    >>> _span(90), _span(5400), _span(3 * 86400)
    ('2 min', '1.5 h', '3.0 days')
    """
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
