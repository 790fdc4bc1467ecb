"""People's news about an incident, found on the pipeline's tick: customer reports that joined it (the
owner is told once per burst) and notes an engineer marked for the customer (each one sent once).

Reports live in their own table (monitor.reports); a report that opened an incident of its own makes
the pipeline track that incident, so it is routed to one owner like any other. What was told is kept on
the alert state (`reports_told`, `public_told`), claimed in the notification log like every message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from monitor.alerts.config import AlertingConfig, Route
from monitor.alerts.model import Alert, AlertRow
from monitor.reports.records import Report, ReportBook
from monitor.state.store import Store
from monitor.witness.incidents import Incident

LOOK_BACK_S = 7 * 86400.0  # reports older than this are history, not news
BURST_CAP = 4  # a burst that keeps growing is told after this many report_wait periods anyway


def burst_due(pending: Sequence[Report], wait: float, now: float) -> bool:
    """A burst of reports is told once it has been quiet for `wait`, or has lasted BURST_CAP times that.

    >>> r = [Report(i, "s", "c", None, None, "x", "n", "web", at, "SAK-1", "attached") for i, at in ((1, 0.0),
    ...      (2, 50.0))]
    >>> burst_due(r, 60, 100.0), burst_due(r, 60, 110.0), burst_due([], 60, 1e9)
    (False, True, False)
    """
    if not pending:
        return False
    return now >= pending[-1].at + wait or now >= pending[0].at + BURST_CAP * wait


def pending_reports(reports: Iterable[Report], row: AlertRow) -> list[Report]:
    """Reports the owner has not been told of: those that joined after the last one told (a report that
    opened its own incident is in that incident's first message)."""
    return [r for r in reports if r.outcome == "attached" and r.seq > row.reports_told]


def public_notes(row: AlertRow) -> list[tuple[int, dict[str, Any]]]:
    """The notes marked for the customer, numbered from 1 in the order they were written."""
    return list(enumerate((n for n in row.notes if n.get("public")), 1))


class News:
    """Looks for reports in the store and turns news into alerts, one at a time."""

    def __init__(self, store: Store, config: AlertingConfig) -> None:
        self.store, self.config = store, config
        self.book = ReportBook(store)

    def discover(self, tracked: Mapping[str, Incident],
                 now: float) -> tuple[list[Incident], dict[str, list[Report]]]:
        """Recent reports by incident, and the open incidents they name that the pipeline does not track
        yet (opened by a report from the CLI or the web, in another process)."""
        by_ref: dict[str, list[Report]] = {}
        for r in self.book.since(now - LOOK_BACK_S):
            by_ref.setdefault(r.incident, []).append(r)
        fresh = []
        for ref in sorted(set(by_ref) - set(tracked)):
            inc = self.store.incident(ref)
            if inc is not None and inc.open:
                fresh.append(inc)
        return fresh, by_ref

    def next_alert(self, inc: Incident, row: AlertRow, route: Route, reports: Sequence[Report],
                   now: float) -> Alert | None:
        """The next piece of news to send for this incident, or None."""
        wait = self.config.timing.report_wait
        pending = pending_reports(reports, row)
        if row.paged_at is None and not (pending and now >= pending[0].at + BURST_CAP * wait):
            return None  # the first page comes first; one silenced (planned work) goes to the route's channel
        if inc.open and burst_due(pending, wait, now):
            return Alert(inc, row, route, "report", row.tier, generation=pending[-1].seq,
                         news={"reports": pending})
        if row.paged_at is not None and self.config.contacts_of(inc.site):
            for number, note in public_notes(row):
                if number > row.public_told:
                    return Alert(inc, row, route, "public_note", row.tier, generation=number,
                                 news={"note": note})
        return None
