"""Incidents: one problem, one record — its cause, where it happened, the evidence, and how it ended.

The record has two owners. Correlation writes its fields (cause, location, evidence, confidence, what is
missing, the resolution it sees); people write theirs (`PEOPLE_FIELDS`: owner, acknowledgement, notes, the
alerting decisions, a resolution by hand) in their own table. Each side writes only its own fields and the
store joins them on read, so neither can overwrite the other. It round-trips through JSON so the store, the
API and the lab report share one shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

CAUSES = (
    "transceiver_removed", "transceiver_inserted", "transceiver_replaced", "transceiver_moved",
    "transceiver_failed", "cable_unplugged", "cable_moved", "optics_degraded", "port_shutdown",
    "config_changed", "device_rebooted", "device_unreachable", "errors_rising", "unknown",
    "power_supply_failed", "fan_failed", "overheating", "storage_failing",
    "customer_report",  # opened by a customer report that no open incident covers (monitor.reports)
)
SEVERITIES = ("info", "warning", "major", "critical")
STATES = ("open", "acknowledged", "resolved")
# the fields people own (monitor.alerts): joined on read, never written with correlation's
PEOPLE_FIELDS = ("owner", "tier", "acked_at", "acked_by", "notes", "decisions")


@dataclass
class Incident:
    """`key` deduplicates: the same root cause seen again (a repeated trap, a second collector) is
    the same incident; `id` is the stable reference a customer can quote."""

    key: str
    cause: str
    device: str
    port: str | None
    site: str = ""
    customer: str = ""
    link: dict[str, str] | None = None  # {"a": "dev:port", "b": "dev:port"}
    started_at: float = 0.0  # best estimate of when the change happened
    detected_at: float = 0.0  # when Saksi first knew
    updated_at: float = 0.0
    resolved_at: float | None = None
    resolution: str = ""
    summary: str = ""
    severity: str = "major"
    confidence: str = "high"  # high | medium | low
    missing: list[str] = field(default_factory=list)  # what evidence would settle an uncertain cause
    evidence: list[dict[str, Any]] = field(default_factory=list)
    affected: list[str] = field(default_factory=list)  # "dev:port" and devices whose symptoms it explains
    serial: str | None = None
    id: str = ""
    flaps: int = 0  # times the same cause came back while open (flap damping)
    # people (monitor.alerts): joined on read from their own table, which is what ack/assign/note write
    owner: str | None = None  # exactly one person owns an open incident once it is routed
    tier: int = 0  # the escalation tier the owner was picked from (1 = first line; 0 = not routed)
    acked_at: float | None = None
    acked_by: str = ""
    notes: list[dict[str, Any]] = field(default_factory=list)  # {at, author, text}
    decisions: list[dict[str, Any]] = field(default_factory=list)  # {at, stage, reason[, detail]}

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    @property
    def state(self) -> str:
        """The one state the CLI, the web view and the API show: open, acknowledged or resolved.

        >>> from dataclasses import replace
        >>> i = Incident("k", "unknown", "sw1", None)
        >>> i.state, replace(i, acked_at=5.0).state, replace(i, acked_at=5.0, resolved_at=9.0).state
        ('open', 'acknowledged', 'resolved')
        """
        if not self.open:
            return "resolved"
        return "acknowledged" if self.acked_at is not None else "open"

    def add_evidence(self, items: list[dict[str, Any]]) -> None:
        seen = {(e["at"], e["device"], e["port"], e["what"]) for e in self.evidence}
        for e in items:
            k = (e["at"], e["device"], e["port"], e["what"])
            if k not in seen:
                seen.add(k)
                self.evidence.append(e)
        self.evidence.sort(key=lambda e: (e["at"], e["device"], e["port"] or ""))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def correlation_json(self) -> dict[str, Any]:
        """Correlation's fields only: what the witness writes (the people's fields are not its to write).

        >>> sorted(set(Incident("k", "unknown", "sw1", None).to_json()) - set(
        ...     Incident("k", "unknown", "sw1", None).correlation_json()))
        ['acked_at', 'acked_by', 'decisions', 'notes', 'owner', 'tier']
        """
        return {k: v for k, v in asdict(self).items() if k not in PEOPLE_FIELDS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Incident:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def public(self) -> dict[str, Any]:
        """The lab/API view: the contract keys first."""
        return {"id": self.id, "cause": self.cause, "device": self.device, "port": self.port, "link": self.link,
                "started_at": self.started_at, "detected_at": self.detected_at, "resolved_at": self.resolved_at,
                "summary": self.summary, "evidence": self.evidence, "severity": self.severity,
                "confidence": self.confidence, "missing": self.missing, "resolution": self.resolution,
                "serial": self.serial, "site": self.site, "affected": self.affected, "flaps": self.flaps,
                "owner": self.owner, "tier": self.tier, "acked_at": self.acked_at, "acked_by": self.acked_by,
                "notes": self.notes, "decisions": self.decisions, "state": self.state}


def joined(correlation: Mapping[str, Any], people: Mapping[str, Any] | None) -> Incident:
    """One incident as it is read: correlation's record with the people's fields beside it.

    A resolution by hand (`people["manual"]`: at, by, text, and the flap count it saw) closes the
    incident until correlation sees the problem come back (a higher flap count).

    >>> inc = joined({"key": "k", "cause": "unknown", "device": "sw1", "port": None, "owner": "old copy"},
    ...              {"owner": "aino", "acked_at": 5.0, "manual": {"at": 9.0, "by": "aino", "flaps": 0}})
    >>> inc.owner, inc.state, inc.resolution
    ('aino', 'resolved', 'resolved by aino')
    """
    inc = Incident.from_json({k: v for k, v in correlation.items() if k not in PEOPLE_FIELDS})
    if not people:
        return inc
    for name in PEOPLE_FIELDS:
        if name in people:
            setattr(inc, name, people[name])
    manual = people.get("manual")
    if manual and inc.open and inc.flaps <= manual.get("flaps", 0):
        inc.resolved_at = manual["at"]
        inc.resolution = f"resolved by {manual['by']}" + (f": {manual['text']}" if manual.get("text") else "")
    return inc


class IncidentSink(Protocol):
    """Where incidents go after correlation (the alert pipeline): called with those created or updated."""

    def process(self, incidents: list[Incident], now: float) -> list[dict[str, Any]]:
        """Returns the notifications it decided to send (for the lab report and the tests)."""
        ...
