"""What the alert stages pass along: the alert (an incident meeting the chain), its people state, decisions.

`AlertRow` is the alert state of one incident — who owns it, what was sent, what people did — kept in
its own table (the people's side of the incident record: monitor.state.store.people_t). The store joins it
onto the incident on read; the pipeline mirrors it onto the incidents it holds in memory (`apply_people`),
so a message says who owns what and why. Nothing copies it into correlation's record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from monitor.alerts.config import Route
from monitor.witness.incidents import Incident

TRANSITIONS = ("opened", "updated", "escalated", "reminder", "resolved")
NEWS = ("report", "public_note")  # people's news: customer reports for the owner, notes for the customer
MAX_DECISIONS = 200


@dataclass(frozen=True, slots=True)
class Decision:
    """One stage's verdict with its named reason (`first_notification`, `inhibited_by:SAK-000001`, ...)."""

    stage: str
    reason: str
    detail: str = ""
    go: bool = True  # False: the chain stops here, nothing is sent

    @classmethod
    def stop(cls, stage: str, reason: str, detail: str = "") -> Decision:
        return cls(stage, reason, detail, go=False)

    def record(self, at: float) -> dict[str, Any]:
        out: dict[str, Any] = {"at": at, "stage": self.stage, "reason": self.reason}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class AlertRow:
    """The alert state of one incident (by its reference)."""

    ref: str
    site: str = ""
    route: str = ""
    team: str = ""
    owner: str | None = None
    tier: int = 0
    assigned_at: float | None = None
    acked_at: float | None = None
    acked_by: str = ""
    paged_at: float | None = None  # when the current occurrence was first paged
    resolved_notified: bool = False
    last_page_at: float | None = None
    reminders: int = 0
    escalations: int = 0
    flaps_seen: int = 0
    cause_seen: str = ""
    pending: str | None = None  # a transition a person asked for: "escalated" or "resolved"
    manual: dict[str, Any] | None = None  # a person's resolution: {at, by, text, flaps}
    notes: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0
    reports_told: int = 0  # the last customer report (its seq) the owner was told of
    public_told: int = 0  # how many notes marked for the customer were sent to the customer's contacts

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlertRow:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def record(self, decisions: list[dict[str, Any]]) -> bool:
        """Append decisions, skipping one that repeats the last (a re-evaluation that said the same)."""
        added = False
        for d in decisions:
            last = self.decisions[-1] if self.decisions else None
            if last is not None and (last["stage"], last["reason"]) == (d["stage"], d["reason"]):
                continue
            self.decisions.append(d)
            added = True
        del self.decisions[:-MAX_DECISIONS]
        return added


@dataclass
class Alert:
    """An incident on its way through the chain, with everything the stages have decided so far."""

    incident: Incident
    row: AlertRow
    route: Route
    transition: str
    tier: int = 1  # the tier this alert goes to (the next one for an escalation)
    by_person: bool = False  # a person asked for this transition (escalate, resolve) from the CLI
    previous_owner: str | None = None
    decisions: list[Decision] = field(default_factory=list)
    notification: dict[str, Any] | None = None
    generation: int | None = None  # people's news: the report seq or note number this message is for
    news: dict[str, Any] = field(default_factory=dict)  # {"reports": [...]} or {"note": {...}}

    @property
    def ref(self) -> str:
        return self.incident.id or self.incident.key


def apply_people(inc: Incident, row: AlertRow) -> bool:
    """Mirror the alert state onto an incident held in memory (never written back); True when it changed.

    A person's resolution closes the incident until the network shows the problem again (a new flap).
    """
    before = (inc.owner, inc.tier, inc.acked_at, inc.acked_by, len(inc.notes), inc.decisions[-1:],
              inc.resolved_at)
    inc.owner, inc.tier, inc.acked_at, inc.acked_by = row.owner, row.tier, row.acked_at, row.acked_by
    inc.notes, inc.decisions = [dict(n) for n in row.notes], [dict(d) for d in row.decisions]
    m = row.manual
    if m is not None and inc.open and inc.flaps <= m.get("flaps", 0):
        inc.resolved_at, inc.updated_at = m["at"], max(inc.updated_at, m["at"])
        inc.resolution = f"resolved by {m['by']}" + (f": {m['text']}" if m.get("text") else "")
    return before != (inc.owner, inc.tier, inc.acked_at, inc.acked_by, len(inc.notes), inc.decisions[-1:],
                      inc.resolved_at)
