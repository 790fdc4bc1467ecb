"""Group and flap damping: an incident already paged is updated, never paged again for new symptoms.

A port that bounces ten times is one incident whose flap count grows; its resolution is announced
only once it has held for `resolve_hold` (so a bounce back does not become "resolved" + "opened").
A new incident may wait `group_wait` for firmer evidence (the near end's poll) before it pages.
"""

from __future__ import annotations

from monitor.alerts.config import Timing
from monitor.alerts.model import Alert, Decision

NAME = "group"


class Group:
    name = NAME

    def __init__(self, timing: Timing) -> None:
        self.timing = timing

    def decide(self, alert: Alert, now: float) -> Decision | None:
        inc, row, t = alert.incident, alert.row, alert.transition
        if t == "opened":
            if now < inc.detected_at + self.timing.group_wait:
                until = inc.detected_at + self.timing.group_wait
                return Decision.stop(NAME, "group_wait", f"until {until:g}")
            return Decision(NAME, "reopened" if row.resolved_notified else "new_incident")
        if t == "updated":
            if inc.flaps > row.flaps_seen:
                return Decision.stop(NAME, f"flap_counted:{inc.flaps}")
            if row.cause_seen and inc.cause != row.cause_seen:
                return Decision.stop(NAME, f"reclassified:{inc.cause}", f"was {row.cause_seen}")
            return Decision.stop(NAME, "updated_notified_incident")
        if t == "resolved":
            if row.paged_at is None:
                return Decision.stop(NAME, "resolved_before_notification")
            held = inc.resolved_at is not None and now >= inc.resolved_at + self.timing.resolve_hold
            if row.manual is None and not held:
                return Decision.stop(NAME, "resolve_hold", f"announced if still resolved after "
                                                           f"{self.timing.resolve_hold:g}s")
            return Decision(NAME, "resolution_held" if row.manual is None else "resolved_by_person")
        return None
