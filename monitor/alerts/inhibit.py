"""Inhibit: a symptom another open incident explains is not paged on its own; it shows inside that incident.

Correlation already folds most symptoms into one incident (the far end of a link, devices behind it);
this stage catches the ones it could not, such as a device that went silent before its link's cause
was known. Rules are data, read like Alertmanager's inhibit rules: which incident explains which.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from monitor.alerts.model import Alert, Decision
from monitor.common.names import canonical_port
from monitor.witness.incidents import Incident

NAME = "inhibit"


@dataclass(frozen=True, slots=True)
class InhibitRule:
    name: str
    explains: Callable[[Incident, Incident], bool]  # (source, target)


def _port_ref(inc: Incident) -> str | None:
    return f"{inc.device}:{canonical_port(inc.port)}" if inc.port else None


RULES = (
    # a device that went dark behind a failed link or device
    InhibitRule("device_behind", lambda s, t: t.device != s.device and f"device:{t.device}" in s.affected),
    # the far end (or any end) of a link whose cause is already an incident
    InhibitRule("port_covered", lambda s, t: _port_ref(t) is not None and _port_ref(t) in s.affected),
    # the same link, raised twice (both ends classified before their evidence met)
    InhibitRule("same_link", lambda s, t: t.link is not None and t.link == s.link),
)


# causes that are a physical change where the incident is located: never another incident's symptom, even on
# the same link (issue 14: a far-end SFP pulled while the near end's move was still open went unpaged)
OWN_CHANGES = frozenset({"transceiver_removed", "transceiver_inserted", "transceiver_replaced", "transceiver_moved",
                         "transceiver_failed", "cable_moved", "port_shutdown", "config_changed", "device_rebooted"})


def explained_by(target: Incident, candidates: Iterable[Incident]) -> tuple[Incident, str] | None:
    """The open incident (and rule) that explains `target`; of two explaining each other, the first wins.
    A physical change of its own (`OWN_CHANGES`) is explained by nothing else."""
    if target.cause in OWN_CHANGES:
        return None
    for source in sorted(candidates, key=lambda i: (i.detected_at, i.id)):
        if source is target or not source.open or (source.id and source.id == target.id):
            continue
        rule = next((r.name for r in RULES if r.explains(source, target)), None)
        if rule is None:
            continue
        mutual = any(r.explains(target, source) for r in RULES)
        if mutual and (target.detected_at, target.id) < (source.detected_at, source.id):
            continue
        return source, rule
    return None


class Inhibit:
    name = NAME

    def __init__(self, open_incidents: Callable[[], Iterable[Incident]]) -> None:
        self.open_incidents = open_incidents

    def decide(self, alert: Alert, now: float) -> Decision | None:
        if alert.transition not in ("opened", "escalated", "reminder"):
            return None  # an update or a resolution of what was paged is never held back
        found = explained_by(alert.incident, self.open_incidents())
        if found is None:
            return Decision(NAME, "not_inhibited")
        source, rule = found
        return Decision.stop(NAME, f"inhibited_by:{source.id or source.key}", rule)
