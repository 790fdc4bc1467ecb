"""Snapshots, changes and incidents as time-series points: pure functions, no I/O.

The schema (README "Time series"): `device`, `interface`, `dom` and `event` measurements. Tags are the
low-cardinality identity (site, customer, device, port, serial, lane, link role; for events their type,
kind, state, severity and the incident reference); everything else, free text included, is a field.
Counters are stored raw (rates come from queries), and every field keeps one type forever, because
InfluxDB refuses a point whose field changes type within a shard.

Garbage never reaches the wire: a NaN or infinite reading, a counter outside InfluxDB's signed 64-bit
integers, a tag value line protocol cannot carry — each is skipped and counted by reason.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from monitor.common.names import canonical_port
from monitor.model import DOM_KEYS, Port, Sensor, SensorKind, Snapshot, TableStatus, Thresholds
from monitor.witness.changes import Change
from monitor.witness.incidents import Incident

FieldValue: TypeAlias = int | float | str | bool
INT64_MAX = 2**63 - 1
COUNTERS = ("in_octets", "out_octets", "in_errors", "out_errors", "in_discards", "out_discards")
THRESHOLD_KEYS = ("low_alarm", "low_warn", "high_warn", "high_alarm")
BREACH_LEVEL = {None: 0, "warning": 1, "alarm": 2}
Roles = Mapping[tuple[str, str], str]  # (device, canonical port) -> link role from the inventory


@dataclass(frozen=True, slots=True)
class Point:
    """One point: `tags` and `fields` are sorted pairs, so equal points compare (and hash) equal."""

    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, FieldValue], ...]
    time_ns: int

    def tag(self, key: str) -> str | None:
        return next((v for k, v in self.tags if k == key), None)

    def field(self, key: str) -> FieldValue | None:
        return next((v for k, v in self.fields if k == key), None)

    @property
    def series(self) -> str:
        """The series key InfluxDB deduplicates on (with the time): measurement and tags."""
        return ",".join([self.measurement, *(f"{k}={v}" for k, v in self.tags)])


def ns(t: float) -> int:
    """Epoch seconds to integer nanoseconds without float drift.

    >>> ns(1700000000.123)
    1700000000123000000
    """
    return round(t * 1_000_000) * 1000


# --- building points ------------------------------------------------------------------------------


def _tags(skipped: Counter[str], **tags: str | None) -> tuple[tuple[str, str], ...] | None:
    """Sorted non-empty tags, or None when a value cannot be carried by line protocol."""
    out = []
    for key, value in sorted(tags.items()):
        if value is None or value == "":
            continue
        if "\n" in value or "\r" in value:
            skipped["tag_with_newline"] += 1
            return None
        if value.endswith("\\"):
            skipped["tag_ends_with_backslash"] += 1
            return None
        out.append((key, value))
    return tuple(out)


def _float(fields: dict[str, FieldValue], key: str, value: float | None, skipped: Counter[str]) -> None:
    if value is None:
        return
    v = float(value)
    if not math.isfinite(v):
        skipped["non_finite_value"] += 1
        return
    fields[key] = v


def _int(fields: dict[str, FieldValue], key: str, value: int | None, skipped: Counter[str]) -> None:
    if value is None:
        return
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        skipped["counter_beyond_int64"] += 1
        return
    fields[key] = int(value)


def _point(measurement: str, tags: tuple[tuple[str, str], ...] | None, fields: dict[str, FieldValue],
           t: float, skipped: Counter[str]) -> Point | None:
    if tags is None:
        return None
    if not fields:
        skipped[f"{measurement}_without_fields"] += 1
        return None
    return Point(measurement, tags, tuple(sorted(fields.items())), ns(t))


def snapshot_points(snap: Snapshot, site: str, customer: str, roles: Roles | None = None,
                    skipped: Counter[str] | None = None) -> list[Point]:
    """Every point one poll yields: the device, each port, each transceiver's DOM (per lane)."""
    skipped = skipped if skipped is not None else Counter()
    base = {"site": site, "customer": customer, "device": snap.device}
    out = [_device_point(snap, base, skipped)]
    by_ifindex = {p.ifindex: p for p in snap.ports}
    for port in snap.ports:
        role = (roles or {}).get((snap.device, port.name))
        out.append(_interface_point(snap, port, base, role, skipped))
    sensors: dict[tuple[int, int | None], list[Sensor]] = {}
    for s in snap.sensors:
        if s.ifindex is not None and s.kind in DOM_KEYS and s.ifindex in by_ifindex:
            sensors.setdefault((s.ifindex, s.lane), []).append(s)
    for (ifindex, lane), group in sensors.items():
        out.append(_dom_point(snap, by_ifindex[ifindex].name, lane, group, base, skipped))
    return [p for p in out if p is not None]


def _device_point(snap: Snapshot, base: dict[str, str], skipped: Counter[str]) -> Point | None:
    fields: dict[str, FieldValue] = {"reachable": int(snap.reachable), "poll_status": snap.poll_status}
    _float(fields, "poll_duration_s", snap.duration_s, skipped)
    _float(fields, "uptime_s", snap.facts.uptime_s, skipped)
    failed = [t for t in snap.tables if not t.status.known and t.status is not TableStatus.SKIPPED]
    fields["tables_failed"] = len(failed)
    fields["values_skipped"] = sum(n for _, n in snap.skipped)
    if snap.error:
        fields["error"] = one_line(snap.error)
    return _point("device", _tags(skipped, **base), fields, snap.taken_at, skipped)


def _interface_point(snap: Snapshot, port: Port, base: dict[str, str], role: str | None,
                     skipped: Counter[str]) -> Point | None:
    fields: dict[str, FieldValue] = {"ifindex": port.ifindex, "admin": port.admin, "oper": port.oper,
                                     "admin_up": int(port.admin == "up"), "oper_up": int(port.oper == "up")}
    if port.alias:
        fields["alias"] = one_line(port.alias)
    _int(fields, "speed_mbps", port.speed_mbps, skipped)
    for key in COUNTERS:
        _int(fields, key, getattr(port, key), skipped)
    tags = _tags(skipped, **base, port=port.name, role=role)
    return _point("interface", tags, fields, snap.taken_at, skipped)


def _dom_point(snap: Snapshot, port: str, lane: int | None, group: list[Sensor], base: dict[str, str],
               skipped: Counter[str]) -> Point | None:
    module = next((t for t in snap.transceivers if t.ifindex == group[0].ifindex), None)
    fields: dict[str, FieldValue] = {}
    breach = 0
    seen: set[SensorKind] = set()
    for s in group:
        key = DOM_KEYS[s.kind]
        if s.kind in seen:
            skipped["duplicate_dom_reading"] += 1
            continue
        seen.add(s.kind)
        if s.value is None:
            skipped["dom_unavailable"] += 1
            continue
        if not math.isfinite(s.value):
            skipped["non_finite_value"] += 1
            continue
        fields[key] = float(s.value)
        _thresholds(fields, key, s.thresholds, skipped)
        breach = max(breach, BREACH_LEVEL.get(s.breach, 0))
    if fields:
        fields["breach"] = breach
        if module is not None:
            fields["vendor"], fields["model"] = one_line(module.vendor), one_line(module.model)
    tags = _tags(skipped, **base, port=port, serial=module.serial if module else None,
                 lane=None if lane is None else str(lane))
    return _point("dom", tags, fields, snap.taken_at, skipped)


def _thresholds(fields: dict[str, FieldValue], key: str, th: Thresholds, skipped: Counter[str]) -> None:
    for name in THRESHOLD_KEYS:
        _float(fields, f"{key}_{name}", getattr(th, name), skipped)


# --- events ---------------------------------------------------------------------------------------


def incident_state(inc: Incident) -> tuple[str, float]:
    """Which transition an incident that was just touched went through, and when.

    >>> incident_state(Incident("k", "unknown", "d", None, detected_at=5, updated_at=5, started_at=3))
    ('opened', 3)
    >>> incident_state(Incident("k", "unknown", "d", None, detected_at=5, updated_at=9, resolved_at=9))
    ('resolved', 9)
    """
    if inc.resolved_at is not None:
        return "resolved", inc.resolved_at
    if inc.updated_at <= inc.detected_at:
        return "opened", inc.started_at or inc.detected_at
    return "updated", inc.updated_at


def event_points(changes: Iterable[Change], incidents: Iterable[Incident], site: str, customer: str,
                 skipped: Counter[str] | None = None) -> list[Point]:
    """One `event` point per change and per incident transition, for annotations and the event log."""
    skipped = skipped if skipped is not None else Counter()
    out: list[Point | None] = []
    for c in changes:
        port = c.port or None
        title = f"{c.kind.value.replace('_', ' ')}: {c.device}" + (f" {port}" if port else "")
        text = " → ".join(x for x in (_show(c.before), _show(c.after)) if x)
        text = "; ".join(x for x in (text, c.detail) if x)
        fields: dict[str, FieldValue] = {"title": title, "text": one_line(text or title), "source": c.source,
                                         "tags": ",".join(x for x in ("change", c.kind.value, c.device, port) if x)}
        tags = _tags(skipped, site=site, customer=customer, device=c.device, port=port, type="change",
                     kind=c.kind.value, serial=c.serial)
        out.append(_point("event", tags, fields, c.when, skipped))
    for inc in incidents:
        state, at = incident_state(inc)
        ref = inc.id or inc.key
        fields = {"title": f"{ref} {state}: {inc.cause.replace('_', ' ')}", "open": int(inc.open),
                  "text": one_line(inc.resolution if state == "resolved" and inc.resolution else inc.summary),
                  "summary": one_line(inc.summary), "confidence": inc.confidence,
                  "tags": ",".join(x for x in ("incident", inc.cause, state, inc.device, inc.port) if x)}
        _float(fields, "started_at", inc.started_at, skipped)
        tags = _tags(skipped, site=inc.site or site, customer=inc.customer or customer, device=inc.device,
                     port=inc.port, type="incident", kind=inc.cause, state=state, severity=inc.severity,
                     incident=ref, serial=inc.serial)
        out.append(_point("event", tags, fields, at, skipped))
    return separate([p for p in out if p is not None])


def separate(points: Sequence[Point]) -> list[Point]:
    """Give points of one series that share a timestamp distinct nanoseconds, so none overwrites another."""
    seen: set[tuple[str, int]] = set()
    out = []
    for p in points:
        t = p.time_ns
        while (p.series, t) in seen:
            t += 1
        seen.add((p.series, t))
        out.append(p if t == p.time_ns else Point(p.measurement, p.tags, p.fields, t))
    return out


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values() if v not in (None, ""))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


_NEWLINES = re.compile(r"[\r\n]+")


def one_line(text: str) -> str:
    """Free text on one line (InfluxDB 3's parser is stricter than 1.x about newlines in strings).

    >>> one_line("to core\\r\\nrack 4")
    'to core rack 4'
    """
    return _NEWLINES.sub(" ", text)


def role_map(links: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str], str]:
    """(device, canonical port) → role from (a "dev:port", b "dev:port", role) links; plain hosts have no port.

    >>> role_map([("core:Gi1/0/49", "dist:Gi1/0/25", "backbone"), ("dist:Gi1/0/1", "pc-7", "access")])
    {('core', 'GigabitEthernet1/0/49'): 'backbone', ('dist', 'GigabitEthernet1/0/25'): 'backbone', \
('dist', 'GigabitEthernet1/0/1'): 'access'}
    """
    out: dict[tuple[str, str], str] = {}
    for a, b, role in links:
        for end in (a, b):
            device, _, port = end.partition(":")
            if port:
                out[(device, canonical_port(port))] = role
    return out


# --- line protocol --------------------------------------------------------------------------------

_MEASUREMENT_ESC = str.maketrans({",": r"\,", " ": r"\ "})
_KEY_ESC = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_STRING_ESC = str.maketrans({'"': r"\"", "\\": "\\\\"})


@functools.lru_cache(maxsize=65536)
def _key(text: str) -> str:
    # backslash is no escape in tag values (1.x stores "a\\b" as written): only , = and space are
    return text.translate(_KEY_ESC)


def _value(v: FieldValue) -> str:
    kind = type(v)  # exact types: bool is an int subclass, and this is the hot path of every write
    if kind is float:
        return repr(v)
    if kind is int:
        return f"{v}i"
    if kind is str:
        return '"' + v.translate(_STRING_ESC) + '"'  # type: ignore[union-attr]
    return "true" if v else "false"


def to_line(p: Point) -> str:
    r"""One point as InfluxDB line protocol (nanosecond precision).

    >>> to_line(Point("interface", (("device", "sw 1"), ("port", "a,b=c")), (("alias", 'say "hi"'),
    ...         ("in_octets", 5), ("rx", -7.5)), 1000))
    'interface,device=sw\\ 1,port=a\\,b\\=c alias="say \\"hi\\"",in_octets=5i,rx=-7.5 1000'
    """
    head = p.measurement.translate(_MEASUREMENT_ESC)
    if p.tags:
        head += "," + ",".join([f"{_key(k)}={_key(v)}" for k, v in p.tags])
    body = ",".join([f"{_key(k)}={_value(v)}" for k, v in p.fields])
    return f"{head} {body} {p.time_ns}"
