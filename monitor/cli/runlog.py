"""What `saksi run` says: what it does on start, one line per round at -v, and the summary of --once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence

from monitor.model import Snapshot

log = logging.getLogger("monitor.cli.run")


def start_lines(devices: int, sites: int, interval_s: float, trap: str | None, store: str, series: str,
                alerting: str | None, web: str | None, member: str | None) -> list[str]:
    """The start, in the words of the options, so an operator sees what this process will do.

    >>> start_lines(3, 1, 60, "127.0.0.1:1162", "sqlite:///var/saksi.db", "embedded var/saksi-points.db",
    ...             None, None, None)[:3]
    ['watching 3 devices at 1 site, each polled every 60 s', 'traps on 127.0.0.1:1162', 'store sqlite:///var/saksi.db']
    """
    return [
        f"watching {devices} device{'s' * (devices != 1)} at {sites} site{'s' * (sites != 1)}, "
        f"each polled every {interval_s:g} s",
        f"traps on {trap}" if trap else "traps off (--trap-port 0)",
        f"store {store}",
        f"time series: {series}",
        f"alerting: {alerting}" if alerting else "alerting off: nothing is sent (give --alerting FILE)",
        *([f"web view on {web}"] if web else []),
        *([f"scale-out member {member}"] if member else []),
    ]


def round_summary(snaps: Sequence[Snapshot | None], open_incidents: int) -> str:
    """One line for a round of polls: how many answered, who did not, how many incidents are open.

    >>> s = [Snapshot("a", 1.0, True), Snapshot("b", 1.0, False, error="timeout"), None]
    >>> round_summary(s, 2)
    '3 devices: 1 answered, 1 unreachable (b), 1 not polled; 2 open incidents'
    """
    answered = [s for s in snaps if s is not None and s.reachable]
    dark = [s.device for s in snaps if s is not None and not s.reachable]
    skipped = sum(s is None for s in snaps)
    parts = [f"{len(snaps)} device{'s' * (len(snaps) != 1)}: {len(answered)} answered"]
    if dark:
        parts.append(f"{len(dark)} unreachable ({', '.join(sorted(dark))})")
    if skipped:
        parts.append(f"{skipped} not polled")
    return ", ".join(parts) + f"; {open_incidents} open incident{'s' * (open_incidents != 1)}"


async def log_rounds(snapshots: Callable[[], Iterable[Snapshot]], open_count: Callable[[], int],
                     interval_s: float, stop: asyncio.Event) -> None:
    """Every interval, one INFO line about the polls of that interval (shown with -v)."""
    since = 0.0
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except TimeoutError:
            pass
        snaps = [s for s in snapshots() if s.taken_at > since]
        if snaps:
            since = max(s.taken_at for s in snaps)
            log.info("round: %s", round_summary(snaps, open_count()))
