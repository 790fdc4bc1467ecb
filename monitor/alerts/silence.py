"""Silence: planned work (maintenance windows per site, device or port) and site holidays.

An incident inside a window is recorded and shown with its reason, not paged. When the window ends
(or the holiday) and the incident is still open, it pages then: the planned work left something broken.
A note for the customer waits for the window's end too: during planned work the customer hears nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.alerts.config import AlertingConfig
from monitor.alerts.model import Alert, Decision
from monitor.alerts.state import Window
from monitor.common.names import canonical_port
from monitor.witness.incidents import Incident

NAME = "silence"


def covers(w: Window, inc: Incident) -> bool:
    """The window's scope contains where the incident happened: its site, its device, either end of its link.

    A device that merely went dark behind the incident does not silence it: work there is not the cause.
    """
    if w.site and w.site != inc.site:
        return False
    if not w.device:
        return True
    places = {f"device:{inc.device}", *(a for a in inc.affected if not a.startswith("device:"))}
    if inc.port:
        places.add(f"{inc.device}:{canonical_port(inc.port)}")
    if inc.link:
        places.update(inc.link.values())
    if not w.port:
        return f"device:{w.device}" in places or any(p.startswith(f"{w.device}:") for p in places)
    return f"{w.device}:{canonical_port(w.port)}" in places


class Silence:
    name = NAME

    def __init__(self, windows: Callable[[float], list[Window]], config: AlertingConfig) -> None:
        self.windows, self.config = windows, config

    def decide(self, alert: Alert, now: float) -> Decision | None:
        if alert.transition not in ("opened", "escalated", "reminder", "public_note") \
                or alert.row.pending == "escalated":
            return None  # a person's own escalation goes through
        inc = alert.incident
        for w in self.windows(now):
            if w.active(now) and covers(w, inc):
                why = f"{w.scope}: {w.reason} (by {w.created_by})"
                return Decision.stop(NAME, f"in_maintenance:{w.id}", why)
        if alert.transition == "public_note":
            return Decision(NAME, "not_silenced")  # a holiday holds pages, not what an engineer tells the customer
        cal = self.config.calendar_of(inc.site)
        day = cal.holiday(now) if cal is not None else None
        if cal is not None and day is not None and inc.severity not in cal.page:
            return Decision.stop(NAME, f"holiday:{cal.name}:{day}", f"{inc.severity} waits for a working day")
        return Decision(NAME, "not_silenced")
