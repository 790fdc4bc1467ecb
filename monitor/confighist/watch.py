"""When to fetch a device's configuration, and what a new version means as changes.

Fetching over SSH costs about a second a device, so the monitor fetches when the device says its
running configuration changed (CISCO-CONFIG-MAN-MIB ccmHistoryRunningLastChanged, read with every poll),
when an interface changed admin state, and otherwise every `interval` seconds — the way Oxidized and
RANCID are triggered by a device's own "config changed" signal.
"""

from __future__ import annotations

from collections import defaultdict

from monitor.confighist.diff import changes as config_diff
from monitor.confighist.diff import section_text
from monitor.confighist.history import ConfigHistory, ConfigHistoryError, ConfigVersion, unified
from monitor.model import Snapshot
from monitor.witness.changes import Change, ChangeKind


def needs_fetch(prev: Snapshot | None, curr: Snapshot, last_fetch: float | None, now: float,
                interval: float) -> bool:
    if not curr.reachable:
        return False
    if last_fetch is None:
        return True  # the baseline version
    if prev is not None and prev.reachable:
        a, b = prev.facts.config_changed_s, curr.facts.config_changed_s
        if a is not None and b is not None and a != b:
            return True
        admin_before = {p.name: p.admin for p in prev.ports}
        if any(admin_before.get(p.name, p.admin) != p.admin for p in curr.ports):
            return True
    return now - last_fetch >= interval


def _since(snap: Snapshot, now: float) -> float | None:
    up, changed = snap.facts.uptime_s, snap.facts.config_changed_s
    if up is None or changed is None or changed <= 0 or changed > up:
        return None
    return now - (up - changed)


def version_changes(history: ConfigHistory, new: ConfigVersion, snap: Snapshot | None, now: float) -> list[Change]:
    """The configuration changes between the previous version and `new`, one Change per port touched."""
    versions = history.versions(new.device)
    older = [v for v in versions if v.commit != new.commit and v.at <= new.at]
    if not older:
        return []
    old = older[-1]
    old_text, new_text = history.text(old), history.text(new)
    by_port: dict[str | None, list[str]] = defaultdict(list)
    for c in config_diff(old_text, new_text, new.platform):
        by_port[c.port].append(str(c))
    diff = unified(old_text, new_text, f"{new.device}@{old.short}", f"{new.device}@{new.short}")
    since = _since(snap, now) if snap is not None else None
    return [
        Change(ChangeKind.CONFIG_CHANGED, new.device, now, port, source="ssh", since=since,
               before=old.short, after=new.short, detail="; ".join(lines),
               extra={"diff": diff, "commit": new.commit})
        for port, lines in by_port.items()
    ]


def port_config(history: ConfigHistory, device: str, platform: str, port: str) -> list[str]:
    """The latest stored configuration lines of one port (its interface block, without the header)."""
    try:
        text = history.show(device)
    except ConfigHistoryError:  # no version yet: nothing to say
        return []
    lines = section_text(text, port, platform).splitlines()
    return [line.strip() for line in lines[1:] if line.strip() and not line.strip().startswith("description")] \
        if lines and lines[0].startswith("interface") else [line.strip() for line in lines]
