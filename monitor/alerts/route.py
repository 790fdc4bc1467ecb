"""Route and assign: the incident's route names a team; one person of the right tier owns it.

Routes are matched by customer, site, severity, cause and device (first match wins; the loader makes
the last one catch everything). The owner is picked round-robin within the tier, skipping people
marked away, inside the same transaction that reads the current owner: an incident never has two.
"""

from __future__ import annotations

from monitor.alerts.config import AlertingConfig
from monitor.alerts.model import Alert, Decision
from monitor.alerts.state import AlertState

NAME = "route"


class Assign:
    name = NAME

    def __init__(self, state: AlertState, config: AlertingConfig) -> None:
        self.state, self.config = state, config

    def decide(self, alert: Alert, now: float) -> Decision | None:
        t, route = alert.transition, alert.route
        if t not in ("opened", "escalated"):
            return None
        team = self.config.teams[route.team]
        alert.previous_owner = alert.row.owner
        if t == "escalated" and alert.by_person:  # the person who escalated already chose the next owner
            by_hand = f"escalated by a person to tier {alert.tier}"
            return Decision(NAME, f"owner_kept:{alert.row.owner}", by_hand)
        got = self.state.assign(alert.ref, alert.incident.site, team, alert.tier, now, keep=t == "opened",
                                away=set(self.state.away(now)))
        alert.row = got.row
        where = f"route {route.name}, team {team.name}, tier {alert.tier}"
        if got.skipped:
            where += f"; away: {', '.join(got.skipped)}"
        if got.kept:
            return Decision(NAME, f"owner_kept:{got.person}", where)
        if got.person is None:
            return Decision(NAME, "unassigned:no_one_available", where)
        return Decision(NAME, f"assigned:{got.person}", where + "; round robin")
