"""Report a problem: the one thing a customer can write. A customer account (or a link made with
`saksi tokens add --can-report`) sends a short report from its own site's page, naming nothing, a
device or a port of that site; it is rate-limited per reporter and size-limited, and answered at once —
"already being handled by OWNER since TIME" with the latest note for the customer, or the new
reference with what Saksi knows of the path (the triage, of that site only).

Access goes through monitor.web.access like every page: another customer's site, device or port is
absent (404); the form carries the session's CSRF token (monitor.web.auth.check_csrf).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Path, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from monitor.common.clock import in_zone
from monitor.common.names import port_label
from monitor.inventory import Site
from monitor.reports import MAX_TEXT, ReportBook, ReportError, receive
from monitor.reports.intake import answer, known_ports
from monitor.reports.records import link_may_report
from monitor.web import access
from monitor.web.auth import Forbidden, Principal, check_csrf
from monitor.web.context import Web, web, who

router = APIRouter(include_in_schema=False)
Name = Annotated[str, access.NamePath]
PER_HOUR = 5  # reports one reporter may send in an hour: enough for a real problem, not for a flood
PLACE_SEP = "::"


def may_report(p: Principal, w: Web) -> bool:
    """Engineers (a phoned-in report), customer accounts, and links made with --can-report."""
    if p.engineer or p.token_id is None:
        return True
    return link_may_report(w.store.engine, p.token_id)


def _fmt(tz: str) -> Callable[[float], str]:
    return in_zone(tz)


def places(w: Web, site: Site) -> list[tuple[str, list[tuple[str, str]]]]:
    """What the form offers: each device of the site with its ports, as (device, [(value, label)])."""
    out = []
    for d in sorted(w.inventory.devices_at(site.name), key=lambda d: d.name):
        ports = sorted(known_ports(w.store, w.inventory, d.name))
        out.append((d.name, [(d.name, f"{d.name} (the whole device)")] + [
            (f"{d.name}{PLACE_SEP}{p}", f"{d.name} {port_label(p)}") for p in ports]))
    return out


def _form(request: Request, w: Web, site: Site, status: int = 200, error: str = "", text: str = "",
          place: str = "") -> HTMLResponse:
    recent = ReportBook(w.store).of_site(site.name, limit=10)
    return w.render(request, "report.html", status, site=site, places=places(w, site), error=error, text=text,
                    chosen=place, max_text=MAX_TEXT, recent=recent, tz=site.timezone)


@router.get("/sites/{site}/report")
def report_form(request: Request, site: Name) -> HTMLResponse:
    p, w = who(request), web(request)
    s = access.site_or_404(p, w.inventory, site)
    if not may_report(p, w):
        raise Forbidden("this link is read-only: ask for one that may report a problem")
    return _form(request, w, s)


@router.post("/sites/{site}/report")
def report_send(request: Request, site: Name, csrf_token: Annotated[str, Form(max_length=128)] = "",
                text: Annotated[str, Form(max_length=MAX_TEXT)] = "",
                place: Annotated[str, Form(max_length=300)] = "") -> Response:
    p, w = who(request), web(request)
    s = access.site_or_404(p, w.inventory, site)
    check_csrf(request, w.sessions, csrf_token)
    if not may_report(p, w):
        raise Forbidden("this link is read-only: ask for one that may report a problem")
    device, _, port = place.partition(PLACE_SEP)
    if device:
        access.device_or_404(p, w.inventory, device, s.name)  # only a device of this site, or nothing at all
    now = time.time()
    book = ReportBook(w.store)
    if not p.engineer and book.count_by(p.name, now - 3600) >= PER_HOUR:
        page = _form(request, w, s, 429, f"You sent {PER_HOUR} reports in the last hour; we have them all. "
                                         "Please call us if it is urgent.", text, place)
        page.headers["Retry-After"] = "3600"
        return page
    try:
        reply = receive(w.store, w.inventory, s.name, device or None, port or None, text, p.name,
                        "web" if not p.via_token else "link", now, _fmt(s.timezone))
    except ReportError as exc:
        return _form(request, w, s, 400, str(exc), text, place)
    return RedirectResponse(f"/sites/{quote(s.name, safe='')}/reports/{reply.report.seq}", 303)


@router.get("/sites/{site}/reports/{seq}")
def report_answer(request: Request, site: Name, seq: Annotated[int, Path(ge=1, le=10**12)]) -> HTMLResponse:
    p, w = who(request), web(request)
    s = access.site_or_404(p, w.inventory, site)
    report = ReportBook(w.store).get(seq)
    if report is None or report.site != s.name:
        raise access.not_found()
    fmt = _fmt(s.timezone)
    reply = answer(w.store, w.inventory, report, time.time(), fmt)
    if reply is None:
        raise access.not_found()
    return w.render(request, "report_answer.html", site=s, reply=reply, words=reply.words(fmt), tz=s.timezone)


def customer_notes(notes: list[dict[str, Any]], p: Principal | None) -> list[dict[str, Any]]:
    """The notes this principal may read: every one for an engineer, those marked for the customer else."""
    return list(notes) if p is not None and p.engineer else [n for n in notes if n.get("public")]


def install(app: FastAPI) -> None:
    """Wire the report pages into an app made by create_app: routes, and what the templates ask."""
    app.include_router(router)
    w: Web = app.state.web
    env = w.templates.env
    env.globals["may_report"] = lambda p: p is not None and may_report(p, w)
    env.globals["reports_of"] = lambda ref: ReportBook(w.store).for_incident(ref) if ref else []
    env.filters["for_reader"] = customer_notes
