"""The configuration change that goes with an incident: its device's versions around the start, per port.

Read from the configuration history (monitor.confighist.history) and summarised by monitor.confighist.diff:
the lines of the incident's own ports first, then the unified diff of their sections (or of the whole
configuration when the change touched other sections only). No version in the window: no diff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from monitor.common.names import canonical_port
from monitor.confighist.diff import changes, section_text
from monitor.confighist.history import ConfigHistory, ConfigHistoryError, unified
from monitor.witness.incidents import Incident

log = logging.getLogger(__name__)
MAX_DIFF_LINES = 60


def incident_ports(inc: Incident) -> set[str]:
    """The canonical ports of the incident's own device that it involves."""
    ports = {canonical_port(inc.port)} if inc.port else set()
    for ref in inc.affected:
        dev, _, port = ref.partition(":")
        if dev == inc.device and port:
            ports.add(canonical_port(port))
    return ports


def config_diff(root: Path | None, inc: Incident, window_s: float, now: float,
                fmt: Callable[[float], str]) -> str | None:
    """The device's configuration change from `window_s` before the incident started until `now`, as text."""
    if root is None or not (root / f"{inc.site}.git").exists():
        return None
    with ConfigHistory(inc.site, root) as h:
        try:
            versions = [v for v in h.versions(inc.device) if v.at <= now]
            # the first change in the window (a first version is no change) up to the newest version
            first = next((i for i, v in enumerate(versions) if i and v.at >= inc.started_at - window_s), None)
            if first is None:
                return None
            old, new = versions[first - 1], versions[-1]
            a, b = h.text(old), h.text(new)
        except (ConfigHistoryError, KeyError, OSError) as exc:
            log.warning("%s: no configuration diff for incident %s: %s", inc.device, inc.id, exc)
            return None
    platform = new.platform or old.platform
    found = changes(a, b, platform)
    if not found:
        return None
    ports = incident_ports(inc)
    mine = [c for c in found if c.port in ports]
    lines = [f"{inc.device}: version {old.short} ({fmt(old.at)}) -> {new.short} ({fmt(new.at)})"]
    lines += [f"  {c}" for c in (mine or found)]
    if mine:
        a = "".join(section_text(a, p, platform) for p in sorted(ports))
        b = "".join(section_text(b, p, platform) for p in sorted(ports))
    text = unified(a, b, f"{inc.device}@{old.short}", f"{inc.device}@{new.short}").splitlines()
    if len(text) > MAX_DIFF_LINES:
        more = len(text) - MAX_DIFF_LINES
        text = [*text[:MAX_DIFF_LINES], f"... ({more} more lines: saksi config diff {inc.device})"]
    return "\n".join(lines + [""] + text)
