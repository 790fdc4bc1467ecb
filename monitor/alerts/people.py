"""What people do to an incident: acknowledge, assign, escalate, add a note, resolve.

Each action is one transaction on the people's side of the incident (its alert state), recorded as a
decision with its author. Correlation never writes those fields and the store joins them on read, so
`saksi incident show` says it at once and the daemon's next write of the incident cannot undo it.
Messages that follow (an escalation, a resolution) are sent by the daemon's pipeline on its next tick:
it finds the `pending` transition, and the notification log makes sure it goes out once.
"""

from __future__ import annotations

from monitor.alerts.config import AlertingConfig
from monitor.alerts.model import AlertRow, Decision
from monitor.alerts.state import AlertState
from monitor.common.errors import SaksiError
from monitor.state.store import Store
from monitor.witness.incidents import Incident

STAGE = "people"


class PeopleError(SaksiError):
    """An action that cannot be done (unknown incident or person, not the owner, no next tier)."""


class Desk:
    """The actions, on one store (and the alerting configuration, for people, teams and tiers)."""

    def __init__(self, store: Store, config: AlertingConfig | None = None) -> None:
        self.store, self.config = store, config
        self.state = AlertState(store)

    def _find(self, ref: str) -> tuple[str, Incident | None, AlertRow | None]:
        inc = self.store.incident(ref)
        key = inc.id if inc is not None else ref
        row = self.state.get(key)
        if inc is None and row is None:
            raise PeopleError(f"no incident {ref!r} in {self.store.url}")
        return key, inc, row

    def _open(self, ref: str) -> tuple[str, Incident | None, AlertRow | None]:
        key, inc, row = self._find(ref)
        if (inc is not None and not inc.open) or (row is not None and row.manual is not None):
            raise PeopleError(f"{key} is resolved")
        return key, inc, row

    def _person(self, name: str) -> None:
        if self.config is not None and name not in self.config.people:
            raise PeopleError(f"unknown person {name!r}; the alerting configuration has: "
                              f"{', '.join(sorted(self.config.people)) or 'nobody'}")

    def ack(self, ref: str, by: str, now: float, note: str = "") -> AlertRow:
        key, inc, _ = self._open(ref)

        def change(r: AlertRow) -> None:
            if r.owner not in (None, by):
                raise PeopleError(f"{key} is owned by {r.owner}: `saksi incident assign {key} {by}` first")
            r.owner, r.acked_at, r.acked_by = by, now, by
            r.assigned_at = r.assigned_at or now
            r.record([Decision(STAGE, f"acked_by:{by}").record(now)])
            if note:
                r.notes.append({"at": now, "author": by, "text": note})

        row, _ = self.state.update(key, inc.site if inc else "", change)
        return row

    def assign(self, ref: str, person: str, by: str, now: float) -> AlertRow:
        self._person(person)
        key, inc, _ = self._open(ref)

        def change(r: AlertRow) -> None:
            if r.owner == person:
                raise PeopleError(f"{key} is already owned by {person}")
            before = r.owner or "nobody"
            r.owner, r.acked_at, r.acked_by, r.assigned_at = person, None, "", now
            r.record([Decision(STAGE, f"assigned_by:{by}", f"{before} -> {person}").record(now)])

        row, _ = self.state.update(key, inc.site if inc else "", change)
        return row

    def escalate(self, ref: str, by: str, now: float) -> AlertRow:
        if self.config is None:
            raise PeopleError("escalating needs the alerting configuration (--alerting FILE)")
        key, inc, row = self._open(ref)
        team_name = (row.team if row is not None else "") or (
            self.config.route_for(inc).team if inc is not None else "")
        team = self.config.teams.get(team_name)
        if team is None:
            raise PeopleError(f"{key} has no team in the alerting configuration")
        tier = (row.tier if row is not None else 0) + 1
        if tier > len(team.tiers):
            raise PeopleError(f"{key} is already at the last tier of team {team.name}")
        got = self.state.assign(key, inc.site if inc else "", team, tier, now, keep=False,
                                away=set(self.state.away(now)))

        def change(r: AlertRow) -> None:
            r.pending = "escalated"
            who = got.person or "nobody available"
            r.record([Decision(STAGE, f"escalated_by:{by}", f"tier {tier}: {who}").record(now)])

        row, _ = self.state.update(key, inc.site if inc else "", change)
        return row

    def note(self, ref: str, by: str, text: str, now: float, public: bool = False) -> AlertRow:
        """`public`: the note is for the customer too (their page shows it, their contacts receive it)."""
        if not text.strip():
            raise PeopleError("a note needs some text")
        key, inc, _ = self._find(ref)
        note = {"at": now, "author": by, "text": text.strip(), **({"public": True} if public else {})}
        row, _ = self.state.update(key, inc.site if inc else "", lambda r: r.notes.append(note))
        return row

    def resolve(self, ref: str, by: str, now: float, text: str = "") -> AlertRow:
        key, inc, _ = self._open(ref)

        def change(r: AlertRow) -> None:
            r.manual = {"at": now, "by": by, "text": text, "flaps": inc.flaps if inc else r.flaps_seen}
            r.pending = "resolved"
            r.record([Decision(STAGE, f"resolved_by:{by}", text).record(now)])
            if text:
                r.notes.append({"at": now, "author": by, "text": text})

        row, _ = self.state.update(key, inc.site if inc else "", change)
        return row
