"""A report arrives: check it names only the reporter's own site, device and port, join it to the open
incident that covers it, or open a `customer_report` incident with a triage summary.

The answer (`Reply`) is what the reporter sees at once: "already being handled by OWNER since TIME"
with the latest note marked for the customer, or the new reference and what Saksi knows of the path.
Messages (the owner told of the report, the customer's contacts told of progress) are the daemon's
alert pipeline's business: it finds the report in the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitor.common.errors import SaksiError
from monitor.common.names import canonical_port, port_label
from monitor.inventory import Inventory
from monitor.reports.match import match
from monitor.reports.records import CAUSE, MAX_TEXT, VIAS, Report, ReportBook
from monitor.reports.triage import WINDOW_S, Triage, render_triage, triage
from monitor.state.store import Store
from monitor.witness.incidents import Incident


class ReportError(SaksiError):
    """A report that cannot be taken (empty, too long, or naming what is not the reporter's)."""


@dataclass(frozen=True, slots=True)
class Reply:
    report: Report
    incident: Incident
    attached: bool  # True: it joined an incident already open
    owner: str | None
    since: float | None  # when the owner took it (or, before anyone did, when Saksi knew)
    note: dict[str, Any] | None  # the latest note marked for the customer
    triage: Triage | None  # when it opened an incident

    def words(self, fmt: Callable[[float], str]) -> str:
        """The reporter's answer in one sentence.

        >>> r = Report(1, "s", "c", None, None, "slow", "ann", "web", 5.0, "SAK-000001", "attached")
        >>> inc = Incident("k", "transceiver_removed", "sw1", None, id="SAK-000001")
        >>> Reply(r, inc, True, "aino", 3.0, None, None).words(lambda t: f"t={t:g}")
        'Already being handled by aino since t=3 (SAK-000001).'
        """
        ref, inc = self.incident.id, self.incident
        if not inc.open:
            how = inc.resolution or "healthy again"
            return f"{ref} was resolved at {fmt(inc.resolved_at or 0.0)}: {how}."
        if not self.attached and self.owner:
            return f"Your report opened {ref}; handled by {self.owner} since {fmt(self.since or 0.0)}."
        if self.attached and self.owner:
            return f"Already being handled by {self.owner} since {fmt(self.since or 0.0)} ({ref})."
        if self.attached:
            return f"Already known since {fmt(self.since or 0.0)} ({ref}); an engineer is being assigned."
        return f"Thank you: your report opened {ref}; an engineer is being assigned."

    def to_json(self, fmt: Callable[[float], str]) -> dict[str, Any]:
        return {"report": self.report.to_json(), "incident": self.incident.id, "attached": self.attached,
                "owner": self.owner, "since": self.since, "note": self.note, "answer": self.words(fmt),
                "triage": self.triage.to_json() if self.triage else None}


def clean_text(text: str) -> str:
    """The report's words, trimmed; refused when empty or longer than MAX_TEXT.

    >>> clean_text("  port 3 is dead  ")
    'port 3 is dead'
    """
    text = text.replace("\x00", "").strip()
    if not text:
        raise ReportError("a report needs a few words: what does not work?")
    if len(text) > MAX_TEXT:
        raise ReportError(f"a report is at most {MAX_TEXT} characters ({len(text)} given)")
    return text


def known_ports(store: Store, inv: Inventory, device: str) -> set[str]:
    """The ports of a device Saksi knows of: its last poll's, and the inventory's link ends."""
    snap = store.last_snapshots(inv.devices[device].site).get(device)
    ports = {p.name for p in snap.ports} if snap is not None else set()
    return ports | {e.port for link in inv.links_of(device) for e in (link.a, link.b) if e.device == device}


def place(store: Store, inv: Inventory, site: str, device: str | None,
          port: str | None) -> tuple[str | None, str | None]:
    """The device and canonical port the report names, checked to be on `site` (the reporter's own)."""
    if site not in inv.sites:
        raise ReportError(f"unknown site {site!r}")
    device = (device or "").strip() or None
    port = (port or "").strip() or None
    if device is None:
        if port is not None:
            raise ReportError("a port needs its device")
        return None, None
    d = inv.devices.get(device)
    if d is None or d.site != site:
        raise ReportError(f"no device {device!r} at site {site}")
    if port is None:
        return device, None
    want = canonical_port(port)
    if want not in known_ports(store, inv, device):
        raise ReportError(f"no port {port!r} on {device}")
    return device, want


def latest_public_note(inc: Incident) -> dict[str, Any] | None:
    """The newest note an engineer marked for the customer (internal notes never leave)."""
    public = [n for n in inc.notes if n.get("public")]
    return dict(public[-1]) if public else None


def _since(inc: Incident) -> float:
    """When the owner took it: the last assignment or acknowledgement decision, else when Saksi knew."""
    taken = [d["at"] for d in inc.decisions if str(d.get("reason", "")).startswith(("assigned:", "acked_by:",
                                                                                     "assigned_by:"))]
    return max(taken) if taken else inc.detected_at


def receive(store: Store, inv: Inventory, site: str, device: str | None, port: str | None, text: str, by: str,
            via: str, now: float, fmt: Callable[[float], str]) -> Reply:
    """Take one report: attach it to the open incident that covers it, or open one with a triage."""
    if via not in VIAS:
        raise ReportError(f"via must be one of {', '.join(VIAS)}")
    text = clean_text(text)
    by = by.strip()[:64]
    if not by:
        raise ReportError("who reported it? (--by NAME)")
    device, port = place(store, inv, site, device, port)
    book = ReportBook(store)
    customer = inv.sites[site].customer
    open_now = store.open_incidents(site)
    found = match(site, device, port, open_now, book.of(i.id for i in open_now if i.cause == CAUSE))
    if found is not None:
        report = book.add(site, customer, device, port, text, by, via, now, found.id, "attached")
        return Reply(report, found, True, found.owner, _since(found), latest_public_note(found), None)
    t = triage_of(store, inv, site, device, port, now, fmt)
    inc = store.upsert_incident(opened(site, customer, device, port, text, by, t, now, fmt))
    report = book.add(site, customer, device, port, text, by, via, now, inc.id, "opened")
    return Reply(report, inc, False, inc.owner, inc.detected_at, None, t)


def opened(site: str, customer: str, device: str | None, port: str | None, text: str, by: str, t: Triage,
           now: float, fmt: Callable[[float], str]) -> Incident:
    """The incident a report opens when nothing open covers it. It keeps no port and no `affected` of its
    own (where the customer pointed is in its reports and its key), so correlation never folds a change
    into it nor resolves it: a person does, once the customer's problem is understood."""
    where = f"{device} {port_label(port)}" if device and port else device or f"site {site}"
    key = f"{CAUSE}:{site}:{device or ''}:{port or ''}"
    base = {"at": now, "seen_at": now, "device": device or "", "port": port, "before": None}
    evidence = [{**base, "source": "report", "what": CAUSE, "after": text[:200], "detail": f"reported by {by}"}]
    evidence += [{**base, "source": "triage", "what": "triage", "after": p, "detail": ""}
                 for p in (t.problems or (t.verdict,))]
    return Incident(key=key, cause=CAUSE, device=device or "", port=None, site=site, customer=customer,
                    started_at=now, detected_at=now, updated_at=now,
                    summary=f"customer report at {where}: triage: {t.verdict}", severity="major",
                    confidence="low", missing=["an engineer's look: Saksi saw nothing that explains it"]
                    if t.healthy else [], evidence=evidence)


def describe(reply: Reply, fmt: Callable[[float], str]) -> str:
    """The answer as plain text, for `saksi report`."""
    out = [reply.words(fmt)]
    if reply.note:
        out.append(f"Latest news ({fmt(reply.note['at'])}): {reply.note['text']}")
    if reply.triage is not None:
        out += ["", render_triage(reply.triage, fmt).rstrip()]
    return "\n".join(out) + "\n"


def answer(store: Store, inv: Inventory, report: Report, now: float,
           fmt: Callable[[float], str]) -> Reply | None:
    """The reporter's answer as it stands now (the page they come back to): owner, latest public note,
    and for a report that opened its incident, the triage of its path; None if the incident is gone."""
    inc = store.incident(report.incident)
    if inc is None:
        return None
    t = None
    if report.outcome == "opened":
        t = triage_of(store, inv, report.site, report.device, report.port, now, fmt)
    attached = report.outcome == "attached"
    return Reply(report, inc, attached, inc.owner, _since(inc), latest_public_note(inc), t)


def triage_of(store: Store, inv: Inventory, site: str, device: str | None, port: str | None, now: float,
              fmt: Callable[[float], str]) -> Triage:
    """The triage of a path from what the store holds of its site (and of nothing else)."""
    return triage(inv, site, device, port, store.last_snapshots(site), store.changes(site=site, since=now - WINDOW_S),
                  store.incidents(site=site), now, fmt)
