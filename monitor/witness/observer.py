"""The witness: snapshots in, incidents out — change detection, trends and correlation for one site.

The daemon drives it (and the lab drives the daemon); it keeps, per device, the last snapshot that answered,
at its last *known* value aspect by aspect (changes are measured against what the device last *said*, never
against silence). Each observation returns what it found: the changes and the incidents it touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from monitor.model import Snapshot, TableHealth, TableStatus
from monitor.witness import trends
from monitor.witness.changes import (
    NON_MODULE_TABLES,
    PORT_TABLES,
    Change,
    ChangeKind,
    detect,
    doubt_empty,
    follow_renumbering,
)
from monitor.witness.correlate import Correlator, State
from monitor.witness.incidents import Incident


@dataclass(frozen=True, slots=True)
class Observation:
    """What one observation found: every change (polls, other sources, trends) and the incidents it
    created or updated (those still without an id are new: the store gives them their reference)."""

    changes: tuple[Change, ...]
    incidents: tuple[Incident, ...]


# what happens on a port's link: on a port nobody watches (an ignore: pattern) it is recorded, never an incident
_LINK_SYMPTOMS = frozenset({ChangeKind.PORT_DOWN, ChangeKind.PORT_UP, ChangeKind.NEIGHBOR_LOST,
                            ChangeKind.NEIGHBOR_FOUND, ChangeKind.NEIGHBOR_CHANGED, ChangeKind.DOM_BREACH,
                            ChangeKind.DOM_DRIFT, ChangeKind.DOM_RECOVERED, ChangeKind.ERRORS_RISING})


class Witness:
    def __init__(self, correlator: Correlator, state: State | None = None,
                 watched: Callable[[str, str], bool] | None = None) -> None:
        self.correlator = correlator
        self.state = state or State()
        self.last_good: dict[str, Snapshot] = {}
        self.watched = watched  # (device, port) -> may its link symptoms open incidents (monitor.check.watch)

    def _correlated(self, c: Change) -> bool:
        return self.watched is None or c.port is None or c.kind not in _LINK_SYMPTOMS \
            or self.watched(c.device, c.port)

    def changes_of(self, snap: Snapshot, now: float) -> list[Change]:
        prev = self.state.last.get(snap.device)
        good = self.last_good.get(snap.device)
        if prev is not None and not prev.reachable and snap.reachable:
            return [Change(ChangeKind.REACHABLE, snap.device, now), *detect(good, snap, now)]
        return detect(good if snap.reachable else prev, snap, now)

    def observe(self, snapshots: Iterable[Snapshot], now: float, extra: Iterable[Change] = ()) -> Observation:
        """One batch of polls (a round, or one device) and any changes from other sources (SSH, traps)."""
        snaps = list(snapshots)
        changes = [c for s in snaps for c in self.changes_of(s, now)] + list(extra)
        changes += trends.observe(self.state.trends, snaps, now, self.correlator.trend_config)
        for s in snaps:
            if s.reachable:
                self.last_good[s.device] = known_picture(self.last_good.get(s.device), s)
        touched = self.correlator.observe(self.state, [c for c in changes if self._correlated(c)],
                                          {s.device: s for s in snaps}, now)
        return Observation(tuple(changes), tuple(touched))


_LLDP = ("lldpRemTable", "lldpLocPortTable")


def known_picture(base: Snapshot | None, snap: Snapshot) -> Snapshot:
    """The snapshot to compare the next poll with: each aspect at its last *known* value.

    A poll whose module tables came back partial must not become the baseline for modules, or a
    removal that happened meanwhile would be compared against "unknown" and never reported.
    """
    if base is None:
        return snap
    snap = doubt_empty(base, snap)
    unknown = {t.table for t in snap.tables if not t.status.known}
    if not unknown:
        return snap
    keep: dict[str, object] = {}
    if unknown & set(PORT_TABLES):
        keep["ports"] = base.ports
    if unknown - NON_MODULE_TABLES:
        keep["transceivers"], keep["sensors"] = base.transceivers, base.sensors
    if unknown & set(_LLDP):
        keep["neighbors"] = base.neighbors
    if snap.hardware is None and base.hardware is not None:  # not read this time (a degraded poll): not gone
        keep["hardware"] = base.hardware
    ports = keep.get("ports", snap.ports)
    for part in ("transceivers", "sensors", "neighbors"):  # one ifIndex numbering, even after a renumbering
        src = base if part in keep else snap
        keep[part] = follow_renumbering(getattr(src, part), src.ports, ports)  # type: ignore[arg-type]
    # An aspect kept from the base keeps the base's word on *every* table behind it: the base's modules are a
    # fact only if all its module tables were. Mixing (this poll's complete entPhysicalTable, the base's
    # modules read from a partial one) made a module first seen after lossy walks look inserted.
    kept = (set(PORT_TABLES) if "ports" in keep and unknown & set(PORT_TABLES) else set()) \
        | ({t.table for t in snap.tables if t.table not in NON_MODULE_TABLES} if unknown - NON_MODULE_TABLES
           else set()) | (set(_LLDP) if unknown & set(_LLDP) else set())
    said = {t.table: t for t in base.tables}
    healthy = {t.table: t for t in base.tables if t.status.known}
    tables = tuple(said.get(t.table, TableHealth(t.table, TableStatus.SKIPPED, 0, "not in the baseline"))
                   if t.table in kept else healthy.get(t.table, t) if t.table in unknown else t for t in snap.tables)
    return replace(snap, tables=tables, **keep)  # type: ignore[arg-type]
