"""Which ports are watched: a port nobody uses is not a problem when it is down.

The rule, in order (the first that applies decides):
1. a port in an inventory link is watched;
2. the device's `watch:`/`ignore:` patterns, then the site's: the first level with a matching pattern
   decides (`ignore` wins a tie at the same level);
3. a port that has been up within the window (default 30 days, from the state store, or up now) is watched;
4. anything else is unused: shown as `unused`, never a problem, never an incident.

Patterns are shell globs (`Gi1/0/4*`, `GigabitEthernet1/0/[1-9]`), matched case-insensitively against
the canonical name and the short one, so either spelling works.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from monitor.common.names import canonical_port, short_port
from monitor.inventory import Inventory
from monitor.model import Snapshot
from monitor.witness.changes import Change, ChangeKind

DEFAULT_WINDOW_S = 30 * 86400.0

# why a port is (or is not) watched; the first four mean watched
LINKED, WATCH_PATTERN, RECENTLY_UP, UP = "link", "watch_pattern", "recently_up", "up"
IGNORED, UNUSED = "ignored", "unused"
WATCHED = frozenset({LINKED, WATCH_PATTERN, RECENTLY_UP, UP})


@dataclass(frozen=True)
class WatchRule:
    """What decides, for one device, whether a port is watched (everything but the port's own state)."""

    linked: frozenset[str] = frozenset()
    levels: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()  # (watch, ignore): device, then site
    recently_up: frozenset[str] = frozenset()


def matches(patterns: Sequence[str], port: str) -> bool:
    """Whether a port name matches any glob, in either spelling, ignoring case.

    >>> matches(["Gi1/0/4*"], "GigabitEthernet1/0/48"), matches(["gigabitethernet1/0/1"], "Gi1/0/1")
    (True, True)
    >>> matches(["Gi1/0/4*"], "GigabitEthernet1/0/5"), matches(["eth*"], "eth0")
    (False, True)
    """
    names = {port.lower(), short_port(port).lower(), canonical_port(port).lower()}
    for pattern in patterns:
        forms = {pattern.lower(), canonical_port(pattern).lower()}
        if any(fnmatchcase(n, f) for n in names for f in forms):
            return True
    return False


def verdict(rule: WatchRule, port: str, up_now: bool = False) -> str:
    """Why a port is watched or not: one of LINKED, WATCH_PATTERN, IGNORED, UP, RECENTLY_UP, UNUSED.

    >>> rule = WatchRule(frozenset({"GigabitEthernet1/0/49"}), ((("Gi1/0/1",), ("Gi1/0/*",)),),
    ...                  frozenset({"GigabitEthernet1/0/7"}))
    >>> [verdict(rule, p) for p in ("GigabitEthernet1/0/49", "GigabitEthernet1/0/2", "GigabitEthernet1/0/1")]
    ['link', 'ignored', 'ignored']
    >>> verdict(WatchRule(recently_up=frozenset({"Te1/1/1"})), "Te1/1/1")
    'recently_up'
    >>> verdict(WatchRule(), "Te1/1/2", up_now=True)
    'up'
    >>> verdict(WatchRule(), "TenGigabitEthernet1/1/2")
    'unused'
    """
    if port in rule.linked:
        return LINKED
    for watch, ignore in rule.levels:
        if matches(ignore, port):
            return IGNORED
        if matches(watch, port):
            return WATCH_PATTERN
    if up_now:
        return UP
    return RECENTLY_UP if port in rule.recently_up else UNUSED


def is_watched(rule: WatchRule, port: str, up_now: bool = False) -> bool:
    return verdict(rule, port, up_now) in WATCHED


def may_alert(rule: WatchRule, port: str) -> bool:
    """Whether a change on this port may open an incident: a port that changed was up, so only an ignore:
    pattern (and no link) keeps it out.

    >>> ignoring = WatchRule(levels=(((), ("Gi1/0/4*",)),))
    >>> may_alert(ignoring, "GigabitEthernet1/0/41"), may_alert(ignoring, "GigabitEthernet1/0/5")
    (False, True)
    """
    return verdict(rule, port, up_now=True) != IGNORED


def up_within(last: Snapshot | None, changes: Iterable[Change], now: float,
              window_s: float = DEFAULT_WINDOW_S) -> frozenset[str]:
    """Ports seen up within the window: up in the last stored poll, or changing to or from up since then.

    >>> from monitor.model import Port, Snapshot
    >>> snap = Snapshot("sw", 90.0, True, ports=(Port(1, "Gi1/0/1", oper="up"), Port(2, "Gi1/0/2")))
    >>> went_down = Change(ChangeKind.PORT_DOWN, "sw", 50.0, "Gi1/0/3", before="up", after="down")
    >>> sorted(up_within(snap, [went_down], now=100.0, window_s=60.0))
    ['Gi1/0/1', 'Gi1/0/3']
    >>> sorted(up_within(snap, [went_down], now=100.0, window_s=20.0))  # the poll is in, the change is out
    ['Gi1/0/1']
    """
    start = now - window_s
    out: set[str] = set()
    if last is not None and last.taken_at >= start:
        out |= {p.name for p in last.ports if p.oper == "up"}
    for c in changes:
        if c.port and c.at >= start and c.kind in (ChangeKind.PORT_UP, ChangeKind.PORT_DOWN):
            out.add(c.port)
    return frozenset(out)


def rule_for(inventory: Inventory | None, device: str,
             recently_up: frozenset[str] = frozenset()) -> WatchRule:
    """The device's rule from the inventory (links, its own patterns, its site's) and its recent history."""
    if inventory is None or device not in inventory.devices:
        return WatchRule(recently_up=recently_up)
    d = inventory.devices[device]
    site = inventory.sites.get(d.site)
    linked = frozenset(e.port for link in inventory.links_of(device) for e in (link.a, link.b)
                       if e.device == device)
    levels = ((d.watch, d.ignore),) + (((site.watch, site.ignore),) if site is not None else ())
    return WatchRule(linked, tuple(lv for lv in levels if lv[0] or lv[1]), recently_up)


def watched_ports(snap: Snapshot, rule: WatchRule) -> dict[str, str]:
    """Every port of a snapshot with its verdict."""
    return {p.name: verdict(rule, p.name, p.oper == "up") for p in snap.ports}
