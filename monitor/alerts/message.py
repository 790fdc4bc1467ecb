"""The words of a notification: one subject line and a plain-text body an engineer can act on.

The cause in one sentence first, then where (site, device, port, link), the owner, the evidence
timeline, the configuration diff when there is one, the notes, why this message was sent, and the
link to the incident. Pure: the same incident and decisions give the same text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.common.names import port_label
from monitor.witness.incidents import Incident

MAX_EVIDENCE = 30
WORDS = {"opened": "OPENED", "escalated": "ESCALATED", "reminder": "REMINDER", "resolved": "RESOLVED"}


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str


def where(inc: Incident) -> str:
    return f"{inc.device} {port_label(inc.port)}" if inc.port else inc.device


def _value(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, dict):
        return " ".join(str(x) for x in v.values() if x not in (None, "")) or "-"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _ref(ref: str) -> str:
    dev, _, port = ref.partition(":")
    return f"{dev} {port_label(port)}" if port else ref


def _sentence(summary: str) -> str:
    s = summary.strip() or "no summary"
    return s[0].upper() + s[1:] + ("" if s.endswith(".") else ".")


def render(inc: Incident, transition: str, *, team: str, reasons: Sequence[str], diff: str | None, link: str,
           fmt: Callable[[float], str], escalated_from: str | None = None) -> Message:
    word = WORDS.get(transition, transition.upper())
    title = f"[Saksi] {word} {inc.id} {inc.severity}: {inc.cause} at {where(inc)}" + (
        f" ({inc.site})" if inc.site else "")
    owner = f"{inc.owner} (tier {inc.tier}, team {team})" if inc.owner else f"nobody available in team {team}"
    site = f"site {inc.site or '-'}" + (f" ({inc.customer})" if inc.customer else "")
    out = [_sentence(inc.summary), ""]
    rows = [("What", f"{inc.cause} ({inc.severity}, confidence {inc.confidence})"),
            ("Where", f"{site}, device {inc.device}, port {port_label(inc.port) if inc.port else '-'}")]
    if inc.link:
        rows.append(("Link", f"{_ref(inc.link['a'])} <-> {_ref(inc.link['b'])}"))
    behind = sorted(a.split(":", 1)[1] for a in inc.affected
                    if a.startswith("device:") and a != f"device:{inc.device}")
    if behind:
        rows.append(("Dark behind", ", ".join(behind)))
    rows.append(("Owner", owner))
    if transition == "escalated":
        origin = f" from {escalated_from}" if escalated_from else ""
        rows.append(("Escalated", f"to tier {inc.tier}{origin}"))
    if inc.acked_at is not None:
        rows.append(("Acknowledged", f"by {inc.acked_by or '?'} at {fmt(inc.acked_at)}"))
    rows.append(("Started", f"{fmt(inc.started_at)} (detected {fmt(inc.detected_at)})"))
    if inc.flaps:
        rows.append(("Flapped", f"{inc.flaps} time(s): came back after resolving"))
    if inc.resolved_at is not None:
        rows.append(("Resolved", f"{fmt(inc.resolved_at)}: {inc.resolution or 'healthy again'}"))
    if inc.missing:
        rows.append(("Missing", "; ".join(inc.missing)))
    out += [f"{k + ':':<13} {v}" for k, v in rows]
    out += ["", "Evidence:"]
    ev = inc.evidence if len(inc.evidence) <= MAX_EVIDENCE else inc.evidence[:MAX_EVIDENCE]
    for e in ev:
        place = str(e.get("device", "")) + (f" {port_label(e['port'])}" if e.get("port") else "")
        line = f"  {fmt(e['at'])}  {e.get('source', '')}  {place}  {e.get('what', '')}  " \
               f"{_value(e.get('before'))} -> {_value(e.get('after'))}"
        out.append(line + (f" ({e['detail']})" if e.get("detail") else ""))
    if len(inc.evidence) > len(ev):
        out.append(f"  ... {len(inc.evidence) - len(ev)} more")
    if not inc.evidence:
        out.append("  none recorded")
    out += ["", "Configuration change:", *(f"  {x}" for x in diff.splitlines())] if diff else [
        "", "Configuration change: none recorded around the start"]
    if inc.notes:
        out += ["", "Notes:", *(f"  {fmt(n['at'])}  {n['author']}: {n['text']}" for n in inc.notes)]
    out += ["", f"Why this message: {', '.join(reasons)}"]
    if inc.open and inc.id:
        out.append(f"Acknowledge: saksi incident ack {inc.id}")
    if link:
        out.append(f"Incident: {link}")
    return Message(title, "\n".join(out) + "\n")


def render_report(inc: Incident, reports: Sequence[Any], *, link: str, fmt: Callable[[float], str]) -> Message:
    """The owner told of customer reports that joined their incident: one message per burst."""
    n = len(reports)
    title = f"[Saksi] REPORT {inc.id}: {n} customer report{'s' if n != 1 else ''} at {inc.site or where(inc)}"
    whose = "which you own" if inc.owner else "which nobody owns: it was not paged (planned work?)"
    told = "being handled by you" if inc.owner else "known"
    out = [f"{n} customer report{'s' if n != 1 else ''} joined {inc.id} ({inc.cause} at {where(inc)}), {whose}.",
           f"Each reporter was told it is already {told}.", "", "Reports:"]
    for r in reports:
        out.append(f"  {fmt(r.at)}  {r.by} ({r.via}) about {r.place}: {r.text}")
    out += ["", f"Owner:        {inc.owner or 'nobody yet'}"]
    if link:
        out.append(f"Incident: {link}")
    return Message(title, "\n".join(out) + "\n")


CUSTOMER_WORDS = {"opened": "Problem under investigation", "public_note": "Update", "resolved": "Resolved"}


def render_customer(inc: Incident, transition: str, *, note: dict[str, Any] | None, link: str,
                    fmt: Callable[[float], str]) -> Message:
    """A message for the customer's own contacts: what, where on their site, since when, who handles it,
    the note an engineer marked for them, how it was resolved — never internal notes, evidence, or any
    other site's or customer's names."""
    word = CUSTOMER_WORDS.get(transition, transition)
    title = f"[Saksi] {word}: {inc.id} at {inc.site}"
    what = inc.cause.replace("_", " ")
    out = [f"{word} at your site {inc.site}.", ""]
    rows = [("Reference", f"{inc.id} (quote it when you call us)"), ("What", what),
            ("Where", where(inc) if inc.device else f"site {inc.site}"), ("Since", fmt(inc.started_at))]
    if inc.owner:
        rows.append(("Handled by", inc.owner))
    if transition == "public_note" and note is not None:
        rows.append(("News", f"{fmt(note['at'])}: {note['text']}"))
    if transition == "resolved":
        rows.append(("Resolved", f"{fmt(inc.resolved_at or 0.0)}: {inc.resolution or 'healthy again'}"))
    out += [f"{k + ':':<11} {v}" for k, v in rows]
    if link:
        out += ["", f"Your site: {link}"]
    return Message(title, "\n".join(out) + "\n")
