"""Traffic and error rates of `saksi check --rates`: two polls of one device, compared port by port."""

from __future__ import annotations

from typing import Any

from monitor.model import Port, Snapshot
from monitor.witness.changes import error_rate

_COUNTERS = (("in_bps", "in_octets", 8), ("out_bps", "out_octets", 8), ("in_errors_per_s", "in_errors", 1),
             ("out_errors_per_s", "out_errors", 1), ("in_discards_per_s", "in_discards", 1),
             ("out_discards_per_s", "out_discards", 1))


def port_rates(before: Port, after: Port, dt: float) -> dict[str, float | None]:
    """Bits per second and errors/discards per second; None where a counter is missing or went back.

    >>> a = Port(1, "Gi1/0/1", in_octets=1000, in_errors=3)
    >>> r = port_rates(a, Port(1, "Gi1/0/1", in_octets=2250, in_errors=3), 10.0)
    >>> r["in_bps"], r["in_errors_per_s"], r["out_bps"]
    (1000.0, 0.0, None)
    """
    out: dict[str, float | None] = {}
    for key, attr, scale in _COUNTERS:
        rate = error_rate(getattr(before, attr), getattr(after, attr), dt)
        out[key] = None if rate is None else rate * scale
    return out


def rates_between(first: Snapshot, second: Snapshot) -> dict[str, dict[str, Any]]:
    """Every port present in both polls (matched by ifIndex and name), with its rates over the interval."""
    dt = second.taken_at - first.taken_at
    if first.facts.uptime_s is not None and second.facts.uptime_s is not None \
            and second.facts.uptime_s < first.facts.uptime_s:
        return {}  # rebooted between the polls: no counter can be compared
    before = {(p.ifindex, p.name): p for p in first.ports}
    return {p.name: {**port_rates(b, p, dt), "interval_s": round(dt, 3)}
            for p in second.ports if (b := before.get((p.ifindex, p.name))) is not None}
