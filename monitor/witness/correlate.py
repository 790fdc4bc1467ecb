"""Correlation: changes of a whole site grouped into incidents that name the physical cause.

The engine: it orders a batch of changes, finds the open incident each belongs to (grouping), asks the
rules which cause a change names (`rules.cause_of`), and lets a firmer cause take an incident over. The
causes themselves (sources, when they apply, symptoms, severity, rank, hold-down) are data in
`monitor.witness.rules`; the words
are `monitor.witness.describe`, how an incident ends is `monitor.witness.resolve`. A pure function of
changes, topology, snapshots and `now` — it never reads the clock.

When the evidence does not support a cause, the cause is `unknown` and the incident says what is
missing. A later, stronger piece of evidence (the near end's poll arriving after the far end's)
re-classifies the same incident instead of opening a second one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from monitor.common.names import canonical_port as canonical
from monitor.model import Snapshot
from monitor.witness.changes import Change
from monitor.witness.changes import ChangeKind as K
from monitor.witness.describe import describe
from monitor.witness.incidents import Incident
from monitor.witness.resolve import resolve
from monitor.witness.rules import GUESSES, RULES, cause_of, may_become, outranks
from monitor.witness.topology import Topology, end, split
from monitor.witness.trends import TrendConfig, TrendState

FLAP_WINDOW_S = 900.0  # the same problem back within this time reopens the same incident


@dataclass
class State:
    """What correlation remembers between observations (persisted by the daemon's store)."""

    incidents: list[Incident] = field(default_factory=list)
    removals: dict[str, dict[str, Any]] = field(default_factory=dict)  # serial -> removal evidence
    last: dict[str, Snapshot] = field(default_factory=dict)  # latest snapshot per device
    trends: TrendState = field(default_factory=TrendState)  # storage and temperature series (monitor.witness.trends)
    silent: dict[str, Change] = field(default_factory=dict)  # device -> its silence, held until its path is heard


TimeFormat = Callable[[float], str]


class Correlator:
    def __init__(self, topology: Topology, site: str = "", customer: str = "",
                 fmt_time: TimeFormat = lambda t: f"t={t:g}s",
                 config_of: Callable[[str, str], list[str]] | None = None,
                 trend_config: TrendConfig | None = None,
                 config_missing: Callable[[str], str | None] | None = None, confirm_s: float = 15.0) -> None:
        """`config_of`: a port's configuration lines from history; `config_missing`: why a device's
        configuration is not collected (None: it is), so a summary never claims "no change" it cannot see;
        `confirm_s`: how long a device's silence waits for the devices on its path to be heard from."""
        self.topology, self.site, self.customer = topology, site, customer
        self.trend_config = trend_config or TrendConfig()
        self.fmt = fmt_time
        self.config_of = config_of
        self.config_missing = config_missing
        self.confirm_s = confirm_s

    # -- entry point -------------------------------------------------------------------------
    def observe(self, state: State, changes: list[Change], snapshots: Mapping[str, Snapshot], now: float
                ) -> list[Incident]:
        """Fold one batch of changes into the state's incidents; returns those created or updated."""
        state.last.update(snapshots)
        self.topology.learn(state.last)
        touched: dict[int, Incident] = {}
        self._batch = changes
        polled = set(snapshots)  # the devices this batch heard from (a resolution needs their word)
        for d, snap in snapshots.items():
            if snap.reachable:
                state.silent.pop(d, None)  # it answers again: a held silence is no story
        for c in self._ordered(changes):
            inc = self._assign(state, c, now)
            if inc is not None:
                touched[id(inc)] = inc
        for inc in self._settle(state, now):
            touched[id(inc)] = inc
        for inc in list(state.incidents):
            if inc.open and resolve(self, state, inc, changes, polled, now):
                touched[id(inc)] = inc
        for serial, r in list(state.removals.items()):
            if now - r["at"] > RULES["transceiver_moved"].hold_down_s:
                del state.removals[serial]
        return list(touched.values())

    @staticmethod
    def _ordered(changes: list[Change]) -> list[Change]:
        order = [K.TRANSCEIVER_REMOVED, K.TRANSCEIVER_REPLACED, K.TRANSCEIVER_INSERTED, K.ADMIN_DOWN,
                 K.CONFIG_CHANGED, K.NEIGHBOR_CHANGED, K.ENTITY_CHANGED, K.DOM_BREACH, K.DOM_DRIFT, K.PORT_DOWN,
                 K.REBOOTED, K.UNREACHABLE, K.NEIGHBOR_FOUND, K.ERRORS_RISING]
        rank = {k: i for i, k in enumerate(order)}
        return sorted(changes, key=lambda c: (rank.get(c.kind, len(order)), c.device, c.port or ""))

    # -- grouping --------------------------------------------------------------------------------
    def _covering(self, state: State, c: Change) -> Incident | None:
        refs = set()
        if c.port is not None:
            ref = end(c.device, c.port)
            refs = {ref, self.topology.peer(ref) or ref}
            if c.kind is K.NEIGHBOR_FOUND and (left := self.repatched(c)) is not None:
                refs.add(left)  # a re-patch belongs with what its old port showed (a cable seen unplugged)
        found = []
        whole_device = c.port is None and c.kind in (K.UNREACHABLE, K.REBOOTED)
        for inc in state.incidents:
            if not inc.open:
                continue
            if refs & set(inc.affected) or f"device:{c.device}" in inc.affected:
                found.append(inc)
            elif whole_device and inc.cause in GUESSES and any(a.startswith(f"{c.device}:") for a in inc.affected):
                found.append(inc)  # a link seen down from its other end first: this device's silence explains it
            elif c.serial is not None and inc.serial == c.serial:
                found.append(inc)
            elif (rule := RULES.get(inc.cause)) is not None and rule.match == "device" and inc.device == c.device \
                    and c.port is None and c.kind in (*rule.source, *rule.explains):
                found.append(inc)  # the same device's story (its power, cooling, heat or storage)
        return _closest(found, c)

    def _assign(self, state: State, c: Change, now: float, hold: bool = True) -> Incident | None:
        if c.kind is K.ENTITY_CHANGED:
            flap = self._flap_on(c.device)
            if flap is None:
                return None  # an inventory change with no link symptom: nothing to explain
            c = replace(c, port=flap.port, since=flap.since or c.since)
        cover = self._covering(state, c)
        removal = state.removals.get(c.serial or "") if c.kind is K.TRANSCEIVER_INSERTED else None
        if removal is not None:
            cover = next((i for i in state.incidents if i.key == removal["key"] and i.open), cover)
        cause = cause_of(self, state, c, cover)
        if c.kind is K.UNREACHABLE and (cut := self.cut_by(state, c.device)) is not None \
                and f"device:{c.device}" not in cut.affected:
            cut.affected.append(f"device:{c.device}")  # a symptom of the cut that darkened it
        if cause == "device_unreachable" and cover is None and hold and self.waiting_on(state, c.device, c, now):
            state.silent[c.device] = c  # a verdict held: the path towards it may show why (see `waiting_on`)
            return None
        if cover is None and cause is None and c.kind is K.UNREACHABLE:
            cover = self._covering(state, c)  # the cut that darkened it, just found
        if cover is not None and (cause is None or cause == cover.cause or may_become(cover.cause, cause)):
            inc = cover
        elif cause is None:
            return None  # a symptom nothing explains yet, or an ordinary event (a port coming up)
        else:
            inc = self._reopen_or_new(state, c, cause, now)  # unrelated to what is already open
        inc.add_evidence([c.evidence()])
        if c.port is not None:
            self._cover(inc, end(c.device, c.port))
        if c.kind in (K.UNREACHABLE, K.REBOOTED) and f"device:{c.device}" not in inc.affected:
            inc.affected.append(f"device:{c.device}")
        if cause is not None and cause != inc.cause and outranks(cause, inc.cause):
            self._relocate(state, inc, cause, self._origin(c, cause, removal))
        if c.kind is K.TRANSCEIVER_REMOVED and c.serial:
            state.removals[c.serial] = {"at": now, "key": inc.key, "device": c.device, "port": c.port}
        inc.updated_at = now
        inc.started_at = min(inc.started_at, c.when)
        describe(self, state, inc)
        return inc

    def _origin(self, c: Change, cause: str, removal: dict[str, Any] | None) -> Change:
        """Where a cause happened: a move happened where the module left, a re-patch where the cable left."""
        if cause == "transceiver_moved" and removal is not None:
            return replace(c, device=removal["device"], port=removal["port"])
        old_end = self.repatched(c) if cause == "cable_moved" else None
        if old_end is not None:
            return replace(c, device=split(old_end)[0], port=split(old_end)[1], serial=None)
        return c

    def _cover(self, inc: Incident, ref: str) -> None:
        for r in (ref, self.topology.peer(ref)):
            if r and r not in inc.affected:
                inc.affected.append(r)

    def _reopen_or_new(self, state: State, c: Change, cause: str, now: float) -> Incident:
        key = _unused(state, f"{self._key(c, cause)}/{cause}")
        for old in reversed(state.incidents):
            if old.key == key and old.resolved_at is not None and now - old.resolved_at <= FLAP_WINDOW_S:
                old.resolved_at, old.resolution = None, ""
                old.flaps += 1
                return old
        rule = RULES[cause]
        inc = Incident(key=key, cause=cause, device=c.device, port=c.port, site=self.site, customer=self.customer,
                       started_at=c.when, detected_at=now, updated_at=now, severity=rule.severity,
                       serial=c.serial)
        if c.port is not None:
            inc.link = self.topology.link(end(c.device, c.port))
        state.incidents.append(inc)
        return inc

    def _key(self, c: Change, cause: str) -> str:
        if c.port is None:
            return f"{self.site}/device:{c.device}"
        ref = end(c.device, c.port)
        link = self.topology.link(ref)
        return f"{self.site}/" + (f"{link['a']}|{link['b']}" if link else ref)

    def _relocate(self, state: State, inc: Incident, cause: str, c: Change) -> None:
        """A stronger cause names where the change happened — not where its symptoms showed — and the
        incident's key follows it, so a second cause of the first one's old kind on the same link is a
        second incident, not a copy of the first (issue 14: the store merged them by key)."""
        inc.key = _unused(state, f"{self._key(c, cause)}/{cause}", inc)
        inc.cause, inc.severity = cause, RULES[cause].severity
        inc.device, inc.port = c.device, c.port and canonical(c.port)
        if c.serial:
            inc.serial = c.serial
        if c.port is not None:
            inc.link = self.topology.link(end(c.device, c.port)) or inc.link

    # -- a silence waits for its path ----------------------------------------------------------------
    def waiting_on(self, state: State, device: str, silence: Change, now: float) -> set[str]:
        """The devices on the path towards a silent device not heard from since it went silent (what its
        verdict waits for: an upstream cut makes it a symptom, not a page); none once `confirm_s` has passed.
        The path is the edge of the dark region it belongs to, so a switch behind a dark switch waits for
        the answering one beyond both."""
        if now >= silence.when + self.confirm_s:
            return set()
        dark = {d for d, s in state.last.items() if not s.reachable}
        edge = self.topology.dark_edge(device, dark)
        return {d for d in edge if d not in state.last or state.last[d].taken_at < silence.when}

    def _settle(self, state: State, now: float) -> list[Incident]:
        """Give each held silence its verdict once its path has been heard from (or `confirm_s` has passed):
        a symptom of the cut found upstream, or the device's own `device_unreachable`."""
        out = []
        for device, c in sorted(state.silent.items()):
            if self.waiting_on(state, device, c, now):
                continue
            del state.silent[device]
            inc = self._assign(state, c, now, hold=False)
            if inc is not None:
                out.append(inc)
        return out

    def _flap_on(self, device: str) -> Change | None:
        """A port of this device that went down and came back between two polls, in this batch."""
        return next((c for c in getattr(self, "_batch", ()) if c.kind is K.PORT_DOWN and c.device == device
                     and c.before == "up" and c.after == "up"), None)

    def cut_by(self, state: State, device: str) -> Incident | None:
        """The open incident whose cut link darkened the device, if one did. Only devices heard from since the
        cut show a path (one polled before it proves nothing: polls are not simultaneous)."""
        answered = {d: s for d, s in state.last.items() if s.reachable}
        for other in state.incidents:
            if not other.open or other.link is None or other.cause.startswith("device_") or other.cause in GUESSES:
                continue  # a guess cuts nothing: it may itself be this device's silence seen from the far end
            reachable = {d for d, s in answered.items() if s.taken_at >= other.started_at} or set(answered)
            down = {frozenset((other.link["a"], other.link["b"]))}
            if device in self.topology.cut_off(reachable, down):
                return other
        return None

    def repatched(self, c: Change) -> str | None:
        """The end a cable left: this port now sees another device than its link says it should, or
        (a fibre moved to another port of this same switch) it found the neighbour whose link ends on
        another port of this device."""
        if c.port is None or not isinstance(c.after, dict):
            return None
        ref = end(c.device, c.port)
        expected = self.topology.peers.get(ref)
        if expected is None and c.kind is K.NEIGHBOR_FOUND and c.after.get("port"):
            back = self.topology.peers.get(end(str(c.after.get("sys_name")), str(c.after["port"])))
            if back is not None and split(back)[0] == c.device and back != ref:
                return back
        old = end(c.before["sys_name"], c.before["port"]) if isinstance(c.before, dict) else expected
        if old is None or ":" not in old or split(old)[0] == c.after.get("sys_name"):
            return None
        return old


def _unused(state: State, key: str, inc: Incident | None = None) -> str:
    """`key`, or `key#2`, `#3`...: no two open incidents share a key (the store keeps one open per key)."""
    taken = {i.key for i in state.incidents if i.open and i is not inc}
    out, n = key, 1
    while out in taken:
        n += 1
        out = f"{key}#{n}"
    return out


def _closest(found: list[Incident], c: Change) -> Incident | None:
    """Of the open incidents a change could belong to, the one it most likely belongs to: the one located
    at the change's own port, else the latest that started before it (a second cause on one link takes
    its own symptoms), else the first."""
    if len(found) <= 1:
        return found[0] if found else None
    port = canonical(c.port) if c.port else None
    here = [i for i in found if i.device == c.device and i.port == port]
    if here:
        return here[-1]
    before = [i for i in found if i.started_at <= c.when]
    return max(before, key=lambda i: i.started_at) if before else found[0]
