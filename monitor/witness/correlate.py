"""Correlation: changes of a whole site grouped into incidents that name the physical cause.

Each rule reads like an Alertmanager inhibit rule: a source change (module removed), the symptoms it
explains (link down, neighbour lost, the far end's loss of light), the keys that must match (the
port, its link, the module's serial), and a hold-down window. Rules are data (`RULES`); the engine
is a pure function of changes, topology, snapshots and `now` — it never reads the clock.

When the evidence does not support a cause, the cause is `unknown` and the incident says what is
missing. A later, stronger piece of evidence (the near end's poll arriving after the far end's)
re-classifies the same incident instead of opening a second one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.common.names import canonical_port as canonical
from monitor.common.names import port_label
from monitor.common.units import NO_LIGHT_DBM
from monitor.model import SensorKind, Snapshot, TableStatus
from monitor.witness import hardware as hardware_causes
from monitor.witness.changes import Change
from monitor.witness.changes import ChangeKind as K
from monitor.witness.incidents import Incident
from monitor.witness.topology import Topology, end, split
from monitor.witness.trends import TrendConfig, TrendState

DEAD_TX_DBM = -30.0  # a laser below this is not transmitting
FLAP_WINDOW_S = 900.0  # the same problem back within this time reopens the same incident


@dataclass(frozen=True)
class Rule:
    cause: str
    source: tuple[K, ...]  # the change that is the cause
    explains: tuple[K, ...]  # symptoms it absorbs
    match: str  # keys that must match: "link" (either end of the port's link), "device", "serial"
    hold_down_s: float  # how long a source waits for its partner (a removal for its insertion)
    severity: str
    rank: int  # a stronger cause replaces a weaker guess on the same incident


_LINK_SYMPTOMS = (K.PORT_DOWN, K.PORT_UP, K.NEIGHBOR_LOST, K.NEIGHBOR_FOUND, K.NEIGHBOR_CHANGED, K.DOM_BREACH,
                  K.DOM_RECOVERED, K.DOM_DRIFT, K.ADMIN_UP)
RULES: dict[str, Rule] = {r.cause: r for r in (
    Rule("device_rebooted", (K.REBOOTED,), (*_LINK_SYMPTOMS, K.UNREACHABLE, K.REACHABLE, K.ENTITY_CHANGED),
         "device", 0, "major", 90),
    Rule("device_unreachable", (K.UNREACHABLE,), (*_LINK_SYMPTOMS, K.REACHABLE), "device", 0, "critical", 40),
    Rule("transceiver_moved", (K.TRANSCEIVER_REMOVED, K.TRANSCEIVER_INSERTED), _LINK_SYMPTOMS, "serial",
         1800, "major", 85),
    Rule("transceiver_replaced", (K.TRANSCEIVER_REPLACED,), _LINK_SYMPTOMS, "link", 0, "major", 80),
    Rule("transceiver_removed", (K.TRANSCEIVER_REMOVED, K.ENTITY_CHANGED), _LINK_SYMPTOMS, "link", 1800,
         "major", 75),
    Rule("transceiver_inserted", (K.TRANSCEIVER_INSERTED,), _LINK_SYMPTOMS, "link", 0, "info", 70),
    Rule("port_shutdown", (K.ADMIN_DOWN,), _LINK_SYMPTOMS, "link", 0, "warning", 72),
    Rule("transceiver_failed", (K.PORT_DOWN,), _LINK_SYMPTOMS, "link", 0, "major", 60),
    Rule("cable_moved", (K.NEIGHBOR_CHANGED, K.NEIGHBOR_FOUND), _LINK_SYMPTOMS, "link", 0, "major", 58),
    Rule("optics_degraded", (K.DOM_BREACH, K.DOM_DRIFT, K.PORT_DOWN), _LINK_SYMPTOMS, "link", 0, "warning", 55),
    Rule("cable_unplugged", (K.PORT_DOWN,), _LINK_SYMPTOMS, "link", 0, "major", 50),
    Rule("config_changed", (K.CONFIG_CHANGED,), _LINK_SYMPTOMS, "link", 0, "info", 45),
    Rule("errors_rising", (K.ERRORS_RISING,), (K.ERRORS_RISING,), "link", 0, "warning", 30),
    Rule("unknown", (K.PORT_DOWN,), _LINK_SYMPTOMS, "link", 0, "major", 10),
    # hardware: device-wide, no hold-down; overheating explains the silence (and links) of a thermal shutdown
    Rule("overheating", (K.TEMPERATURE_BREACH, K.TEMPERATURE_RISING, K.UNREACHABLE),
         (*_LINK_SYMPTOMS, K.TEMPERATURE_BREACH, K.TEMPERATURE_RISING, K.TEMPERATURE_RECOVERED, K.UNREACHABLE,
          K.REACHABLE, K.REBOOTED), "device", 0, "major", 92),
    Rule("power_supply_failed", (K.POWER_SUPPLY_FAILED,), (K.POWER_SUPPLY_FAILED, K.POWER_SUPPLY_RECOVERED,
                                                          K.UNREACHABLE, K.REACHABLE, K.REBOOTED, *_LINK_SYMPTOMS),
         "device", 0, "major", 66),
    Rule("fan_failed", (K.FAN_FAILED,), (K.FAN_FAILED, K.FAN_RECOVERED, K.TEMPERATURE_RISING, K.TEMPERATURE_BREACH,
                                          K.TEMPERATURE_RECOVERED, K.UNREACHABLE), "device", 0, "major", 65),
    Rule("storage_failing", (K.STORAGE_FULL, K.STORAGE_FILLING, K.STORAGE_ALLOCATION_FAILED, K.DISK_FAILED),
         (K.STORAGE_FULL, K.STORAGE_FILLING, K.STORAGE_ALLOCATION_FAILED, K.DISK_FAILED, K.STORAGE_RECOVERED,
          K.DISK_RECOVERED), "device", 0, "major", 64),
)}


@dataclass
class State:
    """What correlation remembers between observations (persisted by the daemon's store)."""

    incidents: list[Incident] = field(default_factory=list)
    removals: dict[str, dict[str, Any]] = field(default_factory=dict)  # serial -> removal evidence
    last: dict[str, Snapshot] = field(default_factory=dict)  # latest snapshot per device
    trends: TrendState = field(default_factory=TrendState)  # storage and temperature series (monitor.witness.trends)


# Causes inferred from symptoms, which firmer evidence may overturn; and the stories one cause grows into.
GUESSES = frozenset({"unknown", "cable_unplugged", "device_unreachable"})
_STORIES = {("transceiver_removed", "transceiver_moved"), ("transceiver_removed", "transceiver_replaced"),
            ("transceiver_inserted", "transceiver_moved"), ("device_unreachable", "device_rebooted"),
            ("cable_unplugged", "cable_moved")}
_STORIES |= {("fan_failed", "overheating")}  # a dead fan, then an alarm or a thermal shutdown: one incident

TimeFormat = Callable[[float], str]


class Correlator:
    def __init__(self, topology: Topology, site: str = "", customer: str = "",
                 fmt_time: TimeFormat = lambda t: f"t={t:g}s",
                 config_of: Callable[[str, str], list[str]] | None = None,
                 trend_config: TrendConfig | None = None,
                 config_missing: Callable[[str], str | None] | None = None) -> None:
        """`config_of`: a port's configuration lines from history; `config_missing`: why a device's
        configuration is not collected (None: it is), so a summary never claims "no change" it cannot see."""
        self.topology, self.site, self.customer = topology, site, customer
        self.trend_config = trend_config or TrendConfig()
        self.fmt = fmt_time
        self.config_of = config_of
        self.config_missing = config_missing

    # -- entry point -------------------------------------------------------------------------
    def observe(self, state: State, changes: list[Change], snapshots: Mapping[str, Snapshot], now: float
                ) -> list[Incident]:
        """Fold one batch of changes into the state's incidents; returns those created or updated."""
        state.last.update(snapshots)
        self.topology.learn(state.last)
        touched: dict[int, Incident] = {}
        self._batch = changes
        self._polled = set(snapshots)  # the devices this batch heard from (a resolution needs their word)
        for c in self._ordered(changes):
            inc = self._assign(state, c, now)
            if inc is not None:
                touched[id(inc)] = inc
        for inc in list(state.incidents):
            if inc.open and self._resolve(state, inc, changes, now):
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
            if c.kind is K.NEIGHBOR_FOUND and (left := self._repatched(c)) is not None:
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
            elif inc.cause in hardware_causes.CAUSES and inc.device == c.device and c.port is None \
                    and c.kind in (*RULES[inc.cause].source, *RULES[inc.cause].explains):
                found.append(inc)  # the same device's power, cooling, heat or storage story
        return _closest(found, c)

    def _assign(self, state: State, c: Change, now: float) -> Incident | None:
        if c.kind is K.ENTITY_CHANGED:
            flap = self._flap_on(c.device)
            if flap is None:
                return None  # an inventory change with no link symptom: nothing to explain
            from dataclasses import replace

            c = replace(c, port=flap.port, since=flap.since or c.since)
        cover = self._covering(state, c)
        removal = state.removals.get(c.serial or "") if c.kind is K.TRANSCEIVER_INSERTED else None
        if removal is not None:
            cover = next((i for i in state.incidents if i.key == removal["key"] and i.open), cover)
        cause = self._cause_for(state, c, cover)
        if cover is not None and (cause is None or cause == cover.cause or self._may_become(cover.cause, cause)):
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
        if cause is not None and cause != inc.cause and _outranks(cause, inc.cause):
            self._relocate(state, inc, cause, self._origin(c, cause, removal))
        if c.kind is K.TRANSCEIVER_REMOVED and c.serial:
            state.removals[c.serial] = {"at": now, "key": inc.key, "device": c.device, "port": c.port}
        inc.updated_at = now
        inc.started_at = min(inc.started_at, c.when)
        self._describe(state, inc)
        return inc

    @staticmethod
    def _may_become(current: str, new: str) -> bool:
        """A guess gives way to a firmer cause; a firm cause only to the rest of its own story."""
        return current in GUESSES or (current, new) in _STORIES

    def _origin(self, c: Change, cause: str, removal: dict[str, Any] | None) -> Change:
        """Where a cause happened: a move happened where the module left, a re-patch where the cable left."""
        from dataclasses import replace

        if cause == "transceiver_moved" and removal is not None:
            return replace(c, device=removal["device"], port=removal["port"])
        old_end = self._repatched(c) if cause == "cable_moved" else None
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

    # -- classification ---------------------------------------------------------------------------
    def _cause_for(self, state: State, c: Change, inc: Incident | None) -> str | None:
        k = c.kind
        if k in hardware_causes.SOURCES or k in hardware_causes.RECOVERIES or (k in (K.REACHABLE, K.REBOOTED)
                and inc is not None and inc.cause in ("overheating", "power_supply_failed")):
            return hardware_causes.cause_for(c, inc)
        if k is K.UNREACHABLE and c.device in state.trends.hot and not self._behind(state, c.device, inc):
            return "overheating"  # its last answer was hot: a thermal shutdown, not a mystery
        if k is K.UNREACHABLE and c.device in state.trends.last_supply and not self._behind(state, c.device, inc):
            return "power_supply_failed"  # its last answer: one power supply left
        if k is K.REBOOTED:
            return "device_rebooted"
        if k is K.UNREACHABLE:
            return None if self._behind(state, c.device, inc) else "device_unreachable"
        if k is K.TRANSCEIVER_INSERTED:
            removal = state.removals.get(c.serial or "")
            if removal is not None:
                same_place = (removal["device"], removal["port"]) == (c.device, c.port)
                return None if same_place else "transceiver_moved"
            if inc is not None and inc.cause == "transceiver_removed" and inc.device == c.device \
                    and inc.port == c.port:
                return "transceiver_replaced"
            return "transceiver_inserted"
        if k in (K.TRANSCEIVER_REMOVED, K.ENTITY_CHANGED):
            return "transceiver_removed"
        if k is K.TRANSCEIVER_REPLACED:
            return "transceiver_replaced"
        if k is K.ADMIN_DOWN:
            return "port_shutdown"
        if k is K.CONFIG_CHANGED:
            return None if inc is not None else "config_changed"  # the diff is evidence of what is open
        if k is K.ERRORS_RISING:
            return "errors_rising"
        if k in (K.NEIGHBOR_CHANGED, K.NEIGHBOR_FOUND):
            if inc is not None and inc.cause == "transceiver_moved":
                return None  # the module took its fibre along: part of the move
            return "cable_moved" if self._repatched(c) is not None else None
        if k in (K.DOM_BREACH, K.DOM_DRIFT):
            if c.extra.get("kind") not in ("rx_power", "tx_power") or c.after is None \
                    or c.after <= NO_LIGHT_DBM + 1:
                return None  # no light at all is what a dead link shows, not a dirty fibre
            return "optics_degraded"
        if k is K.PORT_DOWN:  # a guess made from the far end yields to what this end's own optics say
            return None if inc is not None and inc.cause not in GUESSES else self._why_down(state, c)
        return None

    def _flap_on(self, device: str) -> Change | None:
        """A port of this device that went down and came back between two polls, in this batch."""
        return next((c for c in getattr(self, "_batch", ()) if c.kind is K.PORT_DOWN and c.device == device
                     and c.before == "up" and c.after == "up"), None)

    def _behind(self, state: State, device: str, inc: Incident | None) -> bool:
        """The device went dark because an open incident cut the links towards it. Only devices heard from
        since the cut show a path (one polled before it proves nothing: polls are not simultaneous)."""
        answered = {d: s for d, s in state.last.items() if s.reachable}
        for other in state.incidents:
            if not other.open or other.link is None or other.cause.startswith("device_") or other.cause in GUESSES:
                continue  # a guess cuts nothing: it may itself be this device's silence seen from the far end
            reachable = {d for d, s in answered.items() if s.taken_at >= other.started_at} or set(answered)
            down = {frozenset((other.link["a"], other.link["b"]))}
            if device in self.topology.cut_off(reachable, down):
                if f"device:{device}" not in other.affected:
                    other.affected.append(f"device:{device}")
                return True
        return False

    def _repatched(self, c: Change) -> str | None:
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

    def _dom(self, snap: Snapshot | None, port: str, kind: SensorKind) -> float | None:
        if snap is None or not snap.reachable:
            return None
        p = snap.port(port)
        if p is None:
            return None
        values = [s.value for s in snap.sensors_of(p.ifindex) if s.kind is kind and s.value is not None]
        return min(values) if values else None

    def _why_down(self, state: State, c: Change) -> str | None:
        """A port went down and no module, admin or device change explains it: read the optics."""
        if c.port is None or c.before == "up" and c.after == "up":
            return None  # a flap: only evidence for whatever else happened
        ref = end(c.device, c.port)
        peer = self.topology.peer(ref)
        peer_dev, peer_port = split(peer) if peer and ":" in peer else (None, None)
        if peer_dev is not None and peer_dev in state.last and not state.last[peer_dev].reachable:
            return None  # the far device is down: its own incident explains this
        here = state.last.get(c.device)
        there = state.last.get(peer_dev) if peer_dev else None
        tx_here = self._dom(here, c.port, SensorKind.TX_POWER)
        rx_here = self._dom(here, c.port, SensorKind.RX_POWER)
        tx_there = self._dom(there, peer_port, SensorKind.TX_POWER) if peer_port else None
        if tx_here is not None and tx_here <= DEAD_TX_DBM:
            return "transceiver_failed"
        if tx_there is not None and tx_there <= DEAD_TX_DBM:
            return None  # the far end's laser died: its own port-down names it
        if rx_here is not None and NO_LIGHT_DBM + 1 < rx_here and tx_there is not None and tx_there > DEAD_TX_DBM:
            return "optics_degraded"  # light arrives, too weak: dirty or bent fibre
        if rx_here is not None and rx_here <= NO_LIGHT_DBM + 1 and tx_there is not None:
            return "cable_unplugged"
        if peer is not None and ":" not in peer:
            return "cable_unplugged"  # an access port to a plain host: the cable (or the host) went
        p = here.port(c.port) if here is not None and peer is None else None
        if p is not None and here is not None and here.transceiver_in(p.ifindex) is None:
            return "cable_unplugged"  # a copper port to nothing the inventory knows (a host): the cable or the host
        return "unknown"

    # -- words -----------------------------------------------------------------------------------
    def _describe(self, state: State, inc: Incident) -> None:
        if inc.cause in hardware_causes.CAUSES:
            hardware_causes.describe(inc, state.last.get(inc.device), self.fmt)
            return
        ev = {e["what"]: e for e in inc.evidence}
        where = f"{inc.device} {port_label(inc.port)}" if inc.port else inc.device
        peer = self.topology.peer(end(inc.device, inc.port)) if inc.port else None
        peer_txt = f"{split(peer)[0]} {port_label(split(peer)[1])}" if peer and ":" in peer else peer
        t = self.fmt(inc.started_at)
        module = self._module_words(inc)
        inc.missing, inc.confidence = [], "high"
        s: str
        if inc.cause == "transceiver_moved":
            ins = next((e for e in inc.evidence if e["what"] == "transceiver_inserted"), None)
            dest = f"{ins['device']} {port_label(ins['port'])}" if ins else "another port"
            if ins and ins["device"] == inc.device:
                dest = port_label(ins["port"])
            s = f"{module} was moved from {where} to {dest} at {t}"
            s += self._config_note(inc, ins)
            inc.missing = self._absent_config(inc, ins)
        elif inc.cause == "transceiver_removed":
            if "transceiver_removed" in ev:
                s = f"{module} was removed from {where} at {t}"
            else:
                s = f"a module in {where} was pulled and put back between two polls ({t}); the link flapped"
                inc.confidence = "medium"
        elif inc.cause == "transceiver_replaced":
            s = f"the module in {where} was replaced at {t}: now {module}"
        elif inc.cause == "transceiver_inserted":
            s = f"{module} was inserted into {where} at {t}"
        elif inc.cause == "transceiver_failed":
            s = f"{module or 'the module'} in {where} stopped transmitting at {t} (it is still in its cage)"
        elif inc.cause == "port_shutdown":
            s = f"{where} was shut down administratively at {t}"
        elif inc.cause == "cable_moved":
            seen = next((e for e in reversed(inc.evidence) if e["what"] in ("neighbor_found", "neighbor_changed")
                         and peer and end(e["device"], e["port"]) == peer and isinstance(e["after"], dict)), None)
            now_sees = f"{seen['after']['sys_name']} {port_label(seen['after']['port'])}" if seen else "another port"
            s = f"the cable from {peer_txt or 'the far end'} was re-patched at {t}: it left {where} and now " \
                f"reaches {now_sees}"
        elif inc.cause == "optics_degraded":
            d = ev.get("dom_breach") or ev.get("dom_drift")
            s = f"the light at {where} degraded at {t}" + (f": {d['detail']}" if d else " below the receiver's level")
        elif inc.cause == "cable_unplugged":
            dark = self._absent(state, [r for r in (end(inc.device, inc.port or ""), peer) if r], dom=True)
            s = f"the cable between {where} and {peer_txt} was unplugged at {t}"
            s += f" ({'; '.join(dark)})" if dark else " (both modules still light)"
            inc.confidence = "medium"
            inc.missing = ["which end was unplugged: both ends lose light at once", *dark]
        elif inc.cause == "config_changed":
            s = f"the configuration of {where} changed at {t}"
        elif inc.cause == "device_rebooted":
            s = f"{inc.device} rebooted at {t}"
        elif inc.cause == "device_unreachable":
            s = f"{inc.device} stopped answering at {t}; its links went down with it"
            inc.confidence = "medium"
            inc.missing = [f"why {inc.device} is silent: power, a crash, or the path to it"]
        elif inc.cause == "errors_rising":
            e = ev.get("errors_rising")
            s = f"input errors rising on {where} since {t}" + (f": {e['detail']}" if e else "")
        else:
            s = f"{where} went down at {t} and no physical change explains it"
            inc.confidence = "low"
            ends = [r for r in (end(inc.device, inc.port), peer) if r] if inc.port else []
            absent = self._absent(state, ends, dom=True, lldp=True)
            inc.missing = absent or ["DOM readings on both ends, or a poll of the far end"]
        configs = [e["detail"] for e in inc.evidence if e["what"] == "config_changed" and e["detail"]]
        if configs and inc.cause not in ("transceiver_moved",):
            s += f"; configuration: {'; '.join(configs)}"
        behind = [a.split(":", 1)[1] for a in inc.affected if a.startswith("device:") and a != f"device:{inc.device}"]
        if behind:
            s += f"; {len(behind)} device(s) behind it unreachable ({', '.join(sorted(behind))})"
        if peer and inc.cause not in ("device_rebooted", "device_unreachable", "cable_unplugged", "cable_moved"):
            s += f"; link to {peer_txt} affected"
        inc.summary = s

    def _module_words(self, inc: Incident) -> str:
        for e in inc.evidence:
            for side in ("before", "after"):
                v = e.get(side)
                if isinstance(v, dict) and v.get("serial") == inc.serial and inc.serial:
                    return f"SFP S/N {inc.serial} ({v.get('vendor', '')} {v.get('model', '')})".replace("( ", "(")
        return f"SFP S/N {inc.serial}" if inc.serial else ""

    def _config_reasons(self, inc: Incident, ins: dict[str, Any] | None) -> list[str]:
        """Why the configuration of the devices a move touched is not collected (empty: it is)."""
        if self.config_missing is None:
            return []
        devices = dict.fromkeys(d for d in (inc.device, ins["device"] if ins else None) if d)
        return [r for r in (self.config_missing(d) for d in devices) if r]

    def _absent_config(self, inc: Incident, ins: dict[str, Any] | None) -> list[str]:
        return [f"configuration not collected ({r})" for r in self._config_reasons(inc, ins)]

    @staticmethod
    def _absent(state: State, refs: list[str], dom: bool = False, lldp: bool = False) -> list[str]:
        """The evidence sources these port ends do not have: a module without DOM, a device without LLDP."""
        out: list[str] = []
        for ref in refs:
            if ":" not in ref:
                continue
            dev, port = split(ref)
            snap = state.last.get(dev)
            if snap is None or not snap.reachable:
                continue
            p = snap.port(port)
            if dom and p is not None and snap.transceiver_in(p.ifindex) is not None and not any(
                    x.kind in (SensorKind.RX_POWER, SensorKind.TX_POWER) for x in snap.sensors_of(p.ifindex)):
                out.append(f"no DOM on the module in {dev} {port_label(port)}")
            if lldp and snap.table("lldpRemTable").status not in (TableStatus.OK, TableStatus.EMPTY) \
                    and f"no LLDP on {dev}" not in out:
                out.append(f"no LLDP on {dev}")
        return out

    def _config_note(self, inc: Incident, ins: dict[str, Any] | None) -> str:
        changed = any(e["what"] == "config_changed" for e in inc.evidence)
        absent = self._absent_config(inc, ins)
        if changed:
            note = "; a configuration change was seen"
        elif absent:
            return "; " + "; ".join(absent)  # no history: no claim either way
        else:
            note = "; no configuration change"
        if self.config_of is None or ins is None or inc.port is None:
            return note
        new = self.config_of(ins["device"], ins["port"])
        old = self.config_of(inc.device, inc.port)
        if new or old:
            note += f"; {port_label(ins['port'])} is: {', '.join(new) or 'default'}; " \
                    f"{port_label(inc.port)} was: {', '.join(old) or 'default'}"
        return note

    # -- resolution -------------------------------------------------------------------------------
    def _port(self, state: State, ref: str) -> tuple[bool, str, str, str | None]:
        dev, port = split(ref)
        s = state.last.get(dev)
        if s is None or not s.reachable:
            return False, "unknown", "unknown", None
        p = s.port(port)
        if p is None:
            return True, "unknown", "unknown", None
        t = s.transceiver_in(p.ifindex)
        return True, p.admin, p.oper, t.serial if t else None

    def _resolve(self, state: State, inc: Incident, changes: list[Change], now: float) -> bool:
        why = self._resolution(state, inc, changes)
        if why is None:
            return False
        inc.resolved_at, inc.resolution, inc.updated_at = now, why, now
        return True

    def _resolution(self, state: State, inc: Incident, changes: list[Change]) -> str | None:
        if inc.cause in hardware_causes.CAUSES:
            return hardware_causes.resolution(inc, state.last.get(inc.device), state.trends,
                                              self._links_up(state, inc), changes)
        if inc.cause in ("device_rebooted", "device_unreachable"):
            devices = [a.split(":", 1)[1] for a in inc.affected if a.startswith("device:")]
            if all(d in state.last and state.last[d].reachable for d in devices) and self._links_up(state, inc):
                return "device back" + (" after a reboot" if inc.cause == "device_rebooted" else "")
            return None
        if inc.cause == "errors_rising":
            rising = any(c.kind is K.ERRORS_RISING and c.device == inc.device and c.port == inc.port for c in changes)
            seen = inc.device in getattr(self, "_polled", ()) or any(c.device == inc.device for c in changes)
            return None if rising or not seen else "errors stopped rising"
        if inc.port is None:
            return "recorded" if inc.cause == "config_changed" else None
        reachable, admin, oper, serial = self._port(state, end(inc.device, inc.port))
        if not reachable:
            return None
        links = self._links_up(state, inc)
        behind = [a.split(":", 1)[1] for a in inc.affected if a.startswith("device:")]
        if any(d in state.last and not state.last[d].reachable for d in behind):
            return None
        if inc.cause in ("transceiver_inserted", "config_changed"):
            return "recorded" if oper == "up" or self.topology.peer(end(inc.device, inc.port)) is None \
                else None
        if inc.cause == "optics_degraded":
            if oper != "up" or self._breached(state, inc.device, inc.port):
                return None
            return "optics back within thresholds"
        if oper != "up" or admin != "up" or not links:
            return None
        if inc.cause in ("transceiver_removed", "transceiver_moved"):
            if serial is None:
                return None
            if inc.serial is None and inc.cause == "transceiver_removed":
                return "module re-seated"
            if inc.serial is None:
                return "module re-seated"
            return "module re-inserted" if serial == inc.serial else f"a module (S/N {serial}) is back in the port"
        return {"transceiver_replaced": "link up with the new module", "transceiver_failed": "link restored",
                "port_shutdown": "port enabled again", "cable_moved": "cable back in place",
                "cable_unplugged": "cable back", "unknown": "link back up"}.get(inc.cause, "healthy again")

    def _links_up(self, state: State, inc: Incident) -> bool:
        for ref in inc.affected:
            if ref.startswith("device:") or ":" not in ref:
                continue
            reachable, _, oper, _ = self._port(state, ref)
            if not reachable or oper != "up":
                if inc.cause in ("transceiver_moved", "cable_moved") and ref != end(inc.device, inc.port or "") \
                        and ref != self.topology.peer(end(inc.device, inc.port or "")):
                    continue  # the port a module was moved to may stay down once it is moved back
                return False
        return True

    def _breached(self, state: State, device: str, port: str) -> bool:
        s = state.last.get(device)
        p = s.port(port) if s is not None else None
        if p is None:
            return True
        return any(x.breach for x in s.sensors_of(p.ifindex) if x.kind in (SensorKind.RX_POWER, SensorKind.TX_POWER))


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


def _outranks(new: str, old: str) -> bool:
    """A firmer cause takes the incident over; so does a device's own silence or reboot over a guess about
    one of its links, which the other end saw first (polls of the two ends are not simultaneous)."""
    if RULES[new].rank > RULES[old].rank:
        return True
    return old in ("cable_unplugged", "unknown") and RULES[new].match == "device"
