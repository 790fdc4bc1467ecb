"""The HTML pages: login and read-only links, the site view, incidents, the configuration change log,
and the engineers' actions (POST forms with a CSRF token)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from monitor.alerts.people import Desk, PeopleError
from monitor.check.watch import DEFAULT_WINDOW_S, WatchRule, rule_for, up_within
from monitor.model import Snapshot
from monitor.web import access, accounts, views
from monitor.web.auth import check_csrf, principal_of
from monitor.web.context import Web, web, who
from monitor.web.throttle import Busy, Refused, client_address
from monitor.witness.incidents import Incident

router = APIRouter(include_in_schema=False)

Name = Annotated[str, access.NamePath]
Ref = Annotated[str, access.RefPath]
Search = Annotated[str, Query(max_length=200)]
StateFilter = Annotated[str, Query(pattern="^(open|resolved|all)$")]
PageNo = Annotated[int, Query(ge=1, le=10_000)]
Csrf = Annotated[str, Form(max_length=128)]
PER_PAGE = 50
MAX_NOTE = 4000
Action = Callable[[Desk, str, str, float], object]  # (desk, incident reference, who, now)


def _safe_next(target: str) -> str:
    """Only a path of this site: never another host ("//evil", "https://...", "/\\evil")."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or len(target) > 500:
        return "/sites"
    return target


def _client(request: Request, w: Web) -> str:
    """The client's address; X-Forwarded-For counts only when the peer is a configured proxy."""
    peer = request.client.host if request.client else "unknown"
    return client_address(peer, request.headers.get("x-forwarded-for"), w.proxies)


@router.get("/login")
def login_form(request: Request, next: Annotated[str, Query(max_length=500)] = "/sites") -> HTMLResponse:
    return web(request).render(request, "login.html", next=_safe_next(next))


def _throttle_keys(request: Request, w: Web, name: str) -> list[str]:
    """Whose attempts these are: a known device for this name counts on its own; any other browser
    counts against the name and against its address."""
    device = w.sessions.device(request, name)
    if device is not None:
        return [f"dev:{device}"]
    return [f"ip:{_client(request, w)}", f"user:{name.casefold()}"]


@router.post("/login")
def login(request: Request, csrf_token: Csrf = "", name: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=accounts.MAX_PASSWORD)] = "",
          next: Annotated[str, Form(max_length=500)] = "/sites") -> Response:
    w = web(request)
    check_csrf(request, w.sessions, csrf_token)
    keys = _throttle_keys(request, w, name)
    try:
        w.throttle.attempt(keys)  # recorded before the password is checked: concurrent attempts count
        with w.verifier.slot():
            user = accounts.authenticate(w.store.engine, name, password)
    except (Refused, Busy) as exc:
        wait = exc.retry_after if isinstance(exc, Refused) else 5.0
        page = w.render(request, "login.html", 429 if isinstance(exc, Refused) else 503, next=_safe_next(next),
                        name=name, error=f"Too many login attempts. Try again in {int(wait) + 1} seconds.")
        page.headers["Retry-After"] = str(int(wait) + 1)
        return page
    if user is None:
        return w.render(request, "login.html", 401, next=_safe_next(next), name=name,
                        error="Wrong user name or password.")
    w.throttle.succeeded(keys)
    response = RedirectResponse(_safe_next(next), 303)
    w.sessions.start(request, response, user=user)
    w.sessions.remember_device(response, name)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Csrf = "") -> Response:
    """The session ends on the server: a copy of the cookie kept elsewhere no longer works."""
    w = web(request)
    check_csrf(request, w.sessions, csrf_token)
    response = RedirectResponse("/login", 303)
    w.sessions.end(request, response)
    return response


TokenPath = Annotated[str, Path(max_length=128)]


def _link(w: Web, token: str) -> accounts.Token:
    found = accounts.token_by_secret(w.store.engine, token)
    if found is None:
        raise access.not_found()
    return found


def _open_link(request: Request, w: Web, found: accounts.Token) -> Response:
    response = RedirectResponse(f"/sites/{quote(found.site, safe='')}" if found.site else "/sites", 303)
    w.sessions.start(request, response, token_id=found.id)
    return response


@router.get("/t/{token}")
def read_only_link(request: Request, token: TokenPath) -> Response:
    """A customer's bookmarkable read-only link: it opens a session bound to the token (revocable). It
    never replaces someone's logged-in session by itself (a GET can be forged): that takes a confirmed POST."""
    w = web(request)
    found = _link(w, token)
    current = principal_of(request, w.store.engine, w.sessions)
    if current is None or current.name == f"link {found.id}":
        return _open_link(request, w, found)
    request.state.principal = current
    return w.render(request, "link.html", token=token, site=found.site)


@router.post("/t/{token}")
def read_only_link_confirmed(request: Request, token: TokenPath, csrf_token: Csrf = "") -> Response:
    """The person who was logged in chose to leave their session for the link's read-only view."""
    w = web(request)
    check_csrf(request, w.sessions, csrf_token)
    return _open_link(request, w, _link(w, token))


@router.get("/")
def home(request: Request) -> Response:
    who(request)
    return RedirectResponse("/sites", 303)


@router.get("/sites")
def sites(request: Request) -> HTMLResponse:
    p, w = who(request), web(request)
    rows = []
    for s in access.visible_sites(p, w.inventory):
        snaps = _snapshots(w, s.name)
        view = views.site_view(w.inventory, s, snaps, w.store.incidents(open_only=True, site=s.name), None, 0)
        rows.append(view)
    return w.render(request, "sites.html", sites=rows)


def _snapshots(w: Web, site: str) -> dict[str, Snapshot]:
    """The site's last snapshots, of the devices the inventory puts at that site only."""
    names = {d.name for d in w.inventory.devices_at(site)}
    return {d: s for d, s in w.store.last_snapshots(site).items() if d in names}


@router.get("/sites/{site}")
def site_page(request: Request, site: Name) -> HTMLResponse:
    p, w = who(request), web(request)
    s = access.site_or_404(p, w.inventory, site)
    view = views.site_view(w.inventory, s, _snapshots(w, site), w.store.incidents(open_only=True, site=site),
                           w.settings.optics_reader, w.settings.optics_window_s)
    recent = [i for i in reversed(w.store.incidents(site=site)) if not i.open][:10]
    return w.render(request, "site.html", view=view, recent=recent, tz=s.timezone)


@router.get("/sites/{site}/devices/{device}")
def device_page(request: Request, site: Name, device: Name) -> HTMLResponse:
    p, w = who(request), web(request)
    d = access.device_or_404(p, w.inventory, device, site)
    s = w.inventory.sites[d.site]
    snap = _snapshots(w, site).get(d.name)
    mods = views.modules({d.name: snap} if snap else {}, w.settings.optics_reader, site, w.settings.optics_window_s)
    return w.render(request, "device.html", site=s, device=views.device_row(d, snap),
                    ports=views.port_rows(snap, _watch_rule(w, d.name, snap)), modules=mods, tz=s.timezone)


def _incident_list(w: Web, found: list[Incident], q: str, state: str, page: int) -> tuple[list[Incident], bool]:
    chosen = [i for i in reversed(found) if (state == "all" or (state == "open") == i.open)
              and views.matches(i, q.strip())]
    start = (page - 1) * PER_PAGE
    return chosen[start:start + PER_PAGE], len(chosen) > start + PER_PAGE


@router.get("/sites/{site}/incidents")
def site_incidents(request: Request, site: Name, q: Search = "", state: StateFilter = "all",
                   page: PageNo = 1) -> HTMLResponse:
    p, w = who(request), web(request)
    s = access.site_or_404(p, w.inventory, site)
    rows, more = _incident_list(w, w.store.incidents(site=site), q, state, page)
    return w.render(request, "incidents.html", site=s, incidents=rows, q=q, state=state, page=page, more=more,
                    tz=s.timezone)


@router.get("/incidents")
def all_incidents(request: Request, q: Search = "", state: StateFilter = "open", page: PageNo = 1) -> HTMLResponse:
    p, w = who(request), web(request)
    rows, more = _incident_list(w, access.visible_incidents(p, w.inventory, w.store), q, state, page)
    zones = {name: s.timezone for name, s in w.inventory.sites.items()}
    return w.render(request, "incidents.html", site=None, incidents=rows, q=q, state=state, page=page, more=more,
                    zones=zones, tz="UTC")


@router.get("/incidents/{ref}")
def incident_page(request: Request, ref: Ref) -> HTMLResponse:
    p, w = who(request), web(request)
    inc = access.incident_or_404(p, w.inventory, w.store, ref)
    return _incident(request, w, inc, 200, "")


def _incident(request: Request, w: Web, inc: Incident, status: int, error: str) -> HTMLResponse:
    site = w.inventory.sites.get(inc.site)
    if w.settings.alerting is not None:
        engineers = sorted(w.settings.alerting.people)
    else:
        engineers = [u.name for u in accounts.users(w.store.engine) if u.role == "engineer" and not u.disabled]
    return w.render(request, "incident.html", status, inc=inc, site=site, tz=site.timezone if site else "UTC",
                    engineers=engineers, error=error)


def _act(request: Request, ref: str, csrf_token: str, run: Action) -> Response:
    p, w = who(request), web(request)
    access.require_engineer(p)
    check_csrf(request, w.sessions, csrf_token)
    inc = access.incident_or_404(p, w.inventory, w.store, ref)
    try:
        run(Desk(w.store, w.settings.alerting), inc.id, p.name, time.time())
    except PeopleError as exc:
        return _incident(request, w, inc, 400, str(exc))
    return RedirectResponse(f"/incidents/{inc.id}#people", 303)


@router.post("/incidents/{ref}/ack")
def ack(request: Request, ref: Ref, csrf_token: Csrf = "") -> Response:
    return _act(request, ref, csrf_token, lambda desk, ref, by, now: desk.ack(ref, by, now))


@router.post("/incidents/{ref}/assign")
def assign(request: Request, ref: Ref, csrf_token: Csrf = "",
           owner: Annotated[str, Form(max_length=64)] = "") -> Response:
    return _act(request, ref, csrf_token, lambda desk, ref, by, now: desk.assign(ref, owner.strip(), by, now))


@router.post("/incidents/{ref}/note")
def note(request: Request, ref: Ref, csrf_token: Csrf = "",
         text: Annotated[str, Form(max_length=MAX_NOTE)] = "",
         public: Annotated[str, Form(max_length=8)] = "") -> Response:
    """`public`: the checkbox "for the customer too" (their page shows it, their contacts receive it)."""
    return _act(request, ref, csrf_token,
                lambda desk, ref, by, now: desk.note(ref, by, text, now, public=bool(public)))


@router.post("/incidents/{ref}/resolve")
def resolve(request: Request, ref: Ref, csrf_token: Csrf = "",
            text: Annotated[str, Form(max_length=MAX_NOTE)] = "") -> Response:
    return _act(request, ref, csrf_token, lambda desk, ref, by, now: desk.resolve(ref, by, now, text.strip()))


@router.get("/sites/{site}/config")
def config_page(request: Request, site: Name, page: PageNo = 1) -> HTMLResponse:
    p, w = who(request), web(request)
    s = access.site_or_404(p, w.inventory, site)
    devices = sorted(d.name for d in w.inventory.devices_at(site))
    changes, more = views.config_log(site, devices, w.settings.config_root, page, w.settings.config_page_size)
    return w.render(request, "config.html", site=s, changes=changes, page=page, more=more, tz=s.timezone)


@router.get("/sites/{site}/config/{device}/{commit}.diff")
def config_diff(request: Request, site: Name, device: Name,
                commit: Annotated[str, Path(pattern="^[0-9a-f]{40}$")]) -> PlainTextResponse:
    """One configuration change as a unified diff, for download (redacted when it was recorded)."""
    p, w = who(request), web(request)
    d = access.device_or_404(p, w.inventory, device, site)
    found = views.config_change(site, d.name, commit, w.settings.config_root)
    if found is None:
        raise access.not_found()
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", f"{d.name}-{commit[:10]}.diff")
    return PlainTextResponse(found.diff or "(first recorded version: nothing to compare with)\n",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _watch_rule(w: Web, device: str, snap: Snapshot | None) -> WatchRule:
    """The device's watch rule (monitor.check.watch): links, watch:/ignore:, and ports up in 30 days."""
    if snap is None:
        return rule_for(w.inventory, device)
    recent = up_within(snap, w.store.changes(device=device, since=snap.taken_at - DEFAULT_WINDOW_S), snap.taken_at)
    return rule_for(w.inventory, device, recent)
