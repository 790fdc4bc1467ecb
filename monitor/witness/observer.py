"""The witness: snapshots in, incidents out — change detection and correlation for one site.

Both the daemon and the lab runner drive it; it keeps, per device, the last snapshot and the last
one that answered (changes are measured against what the device last *said*, never against silence).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import replace

from monitor.witness.changes import (
    _NON_MODULE_TABLES,
    _PORT_TABLES,
    Change,
    ChangeKind,
    detect,
    doubt_empty,
    follow_renumbering,
)
from monitor.witness.correlate import Correlator, State
from monitor.witness.incidents import Incident
from monitor.model import Snapshot


class Witness:
    def __init__(self, correlator: Correlator, state: State | None = None,
                 new_id: Callable[[], str] | None = None) -> None:
        self.correlator = correlator
        self.state = state or State()
        self.last_good: dict[str, Snapshot] = {}
        self.changes: list[Change] = []
        counter = itertools.count(1)
        self._new_id = new_id or (lambda: f"INC-{next(counter)}")

    def changes_of(self, snap: Snapshot, now: float) -> list[Change]:
        prev = self.state.last.get(snap.device)
        good = self.last_good.get(snap.device)
        if prev is not None and not prev.reachable and snap.reachable:
            return [Change(ChangeKind.REACHABLE, snap.device, now), *detect(good, snap, now)]
        return detect(good if snap.reachable else prev, snap, now)

    def observe(self, snapshots: Iterable[Snapshot], now: float, extra: Iterable[Change] = ()) -> list[Incident]:
        """One batch of polls (a round, or one device) and any changes from other sources (SSH, traps)."""
        snaps = list(snapshots)
        changes = [c for s in snaps for c in self.changes_of(s, now)] + list(extra)
        for s in snaps:
            if s.reachable:
                self.last_good[s.device] = known_picture(self.last_good.get(s.device), s)
        self.changes += changes
        touched = self.correlator.observe(self.state, changes, {s.device: s for s in snaps}, now)
        for inc in touched:
            if not inc.id:
                inc.id = self._new_id()
        return touched


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
    if unknown & set(_PORT_TABLES):
        keep["ports"] = base.ports
    if unknown - _NON_MODULE_TABLES:
        keep["transceivers"], keep["sensors"] = base.transceivers, base.sensors
    if unknown & set(_LLDP):
        keep["neighbors"] = base.neighbors
    ports = keep.get("ports", snap.ports)
    for part in ("transceivers", "sensors", "neighbors"):  # one ifIndex numbering, even after a renumbering
        src = base if part in keep else snap
        keep[part] = follow_renumbering(getattr(src, part), src.ports, ports)  # type: ignore[arg-type]
    healthy = {t.table: t for t in base.tables if t.status.known}
    tables = tuple(healthy.get(t.table, t) if t.table in unknown else t for t in snap.tables)
    return replace(snap, tables=tables, **keep)  # type: ignore[arg-type]
