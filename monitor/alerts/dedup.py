"""Dedup against the persisted notification log: each transition of an incident is sent once.

The log is a table with a unique (incident, transition, generation): a restart, a repeated trap or
a second daemon on the same store reaches the same row and stops at `already_notified`. The
generation is what makes a later message a new one: the flap count for opened/resolved, the tier for
an escalation, the reminder number for a reminder.
"""

from __future__ import annotations

from monitor.alerts.model import Alert, AlertRow, Decision
from monitor.alerts.state import AlertState, StaleDecision

NAME = "dedup"


def _generation(alert: Alert) -> int:
    t, inc, row = alert.transition, alert.incident, alert.row
    if alert.generation is not None:  # people's news: the last report of the burst, the note's number
        return alert.generation
    if t == "escalated":
        return row.escalations + 1
    if t == "reminder":
        return row.reminders + 1
    return inc.flaps


def _reason(alert: Alert) -> str:
    t = alert.transition
    if t == "opened":
        return "reopened_after_resolution" if alert.row.resolved_notified else "first_notification"
    if t == "escalated":
        return f"escalation_to_tier:{alert.tier}"
    if t == "reminder":
        return "repeat_interval_elapsed"
    if t == "report":
        return f"customer_reports:{len(alert.news.get('reports', ()))}"
    if t == "public_note":
        return f"note_for_customer:{alert.generation}"
    return "resolution_of_notified_incident"


class Dedup:
    name = NAME

    def __init__(self, state: AlertState) -> None:
        self.state = state

    def decide(self, alert: Alert, now: float) -> Decision | None:
        t, inc = alert.transition, alert.incident
        if t not in ("opened", "escalated", "reminder", "resolved", "report", "public_note"):
            return None
        reason = _reason(alert)

        def mark(row: AlertRow) -> None:
            if t == "opened":  # a first page, or a page for the problem back after its resolution was sent
                row.paged_at, row.resolved_notified, row.last_page_at = now, False, now
                row.acked_at, row.acked_by, row.reminders = None, "", 0
            elif t == "resolved":
                row.resolved_notified = True
            elif t == "report":
                row.reports_told = max(row.reports_told, _generation(alert))
            elif t == "public_note":
                row.public_told = max(row.public_told, _generation(alert))
            else:
                row.last_page_at = now
                row.reminders += t == "reminder"
                if t == "escalated":  # the new tier is a fact from this commit on, before anyone is assigned
                    row.escalations += 1
                    row.tier, row.assigned_at = max(row.tier, alert.tier), now
            if row.pending == t:
                row.pending = None

        try:
            row = self.state.claim(alert.ref, inc.site, t, _generation(alert), now, reason, mark,
                                   seen_version=alert.row.version)
        except StaleDecision as exc:  # another daemon or a person changed it meanwhile: decide again
            return Decision.stop(NAME, "changed_meanwhile", str(exc))
        if row is None:
            logged = f"{t} #{_generation(alert)} is in the notification log"
            return Decision.stop(NAME, "already_notified", logged)
        alert.row = row
        return Decision(NAME, reason)
