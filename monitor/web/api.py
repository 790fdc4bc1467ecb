"""The JSON API beside the pages (read-only): sites, devices, ports, optics, incidents — same access rules.

A NOC scripts against it with a read-only link's token (`Authorization: Bearer TOKEN`) or a session
cookie. The OpenAPI description is at /api/openapi.json (for logged-in callers).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from monitor.web import access, optics, views
from monitor.web.auth import Principal
from monitor.web.context import web, who
from monitor.witness.incidents import Incident

router = APIRouter(prefix="/api", tags=["read-only"])

Limit = Annotated[int, Query(ge=1, le=500)]
Search = Annotated[str, Query(max_length=200)]


class Me(BaseModel):
    name: str
    role: str
    customer: str | None
    site: str | None


class SiteOut(BaseModel):
    name: str
    customer: str
    timezone: str
    description: str | None
    health: str
    headline: str
    updated_at: float | None
    open_incidents: list[str]


class DeviceOut(BaseModel):
    name: str
    site: str
    platform: str
    description: str
    state: str
    polled_at: float | None
    poll_status: str
    ports_up: int
    ports_physical: int
    modules: int


class LinkOut(BaseModel):
    a: str
    b: str
    role: str
    media: str
    state: str
    source: str


class PortOut(BaseModel):
    name: str
    alias: str
    admin: str
    oper: str
    speed_mbps: int | None
    module: str
    serial: str
    neighbor: str
    optics: str


class ReadingOut(BaseModel):
    key: str
    lane: int | None
    unit: str
    state: str
    thresholds: dict[str, float | None]
    samples: list[tuple[float, float]]


class IncidentOut(BaseModel):
    id: str
    state: str
    cause: str
    severity: str
    site: str
    device: str
    port: str | None
    summary: str
    started_at: float
    detected_at: float
    resolved_at: float | None
    owner: str | None
    acked_by: str
    detail: dict[str, Any]  # everything else `Incident.public()` has: evidence, notes, link, serial...


def _site_out(view: views.SiteView) -> SiteOut:
    s = view.site
    return SiteOut(name=s.name, customer=s.customer, timezone=s.timezone, description=s.description,
                   health=view.health, headline=view.headline, updated_at=view.updated_at,
                   open_incidents=[i.id for i in view.open_incidents])


def _incident_out(inc: Incident, p: Principal) -> IncidentOut:
    detail = inc.public()
    if not p.engineer:
        detail.pop("decisions", None)  # the alert chain's internals (routes, people paged) stay with engineers
        detail["notes"] = [n for n in detail.get("notes", []) if n.get("public")]  # only notes for the customer
    return IncidentOut(id=inc.id, state=views.incident_state(inc), cause=inc.cause, severity=inc.severity,
                       site=inc.site, device=inc.device, port=inc.port, summary=inc.summary,
                       started_at=inc.started_at, detected_at=inc.detected_at, resolved_at=inc.resolved_at,
                       owner=inc.owner, acked_by=inc.acked_by, detail=detail)


def _view(request: Request, site: str, with_optics: bool = False) -> views.SiteView:
    p, w = who(request), web(request)
    s = access.site_or_404(p, w.inventory, site)
    names = {d.name for d in w.inventory.devices_at(site)}
    snaps = {d: x for d, x in w.store.last_snapshots(site).items() if d in names}
    return views.site_view(w.inventory, s, snaps, w.store.incidents(open_only=True, site=site),
                           w.settings.optics_reader if with_optics else None, w.settings.optics_window_s)


@router.get("/me")
def me(request: Request) -> Me:
    p = who(request)
    return Me(name=p.name, role=p.role, customer=p.customer, site=p.site)


@router.get("/sites")
def sites(request: Request) -> list[SiteOut]:
    p, w = who(request), web(request)
    return [_site_out(_view(request, s.name)) for s in access.visible_sites(p, w.inventory)]


@router.get("/sites/{site}")
def site(request: Request, site: Annotated[str, access.NamePath]) -> SiteOut:
    return _site_out(_view(request, site))


@router.get("/sites/{site}/devices")
def site_devices(request: Request, site: Annotated[str, access.NamePath]) -> list[DeviceOut]:
    view = _view(request, site)
    return [DeviceOut(site=site, **vars(d)) for d in view.devices]


@router.get("/sites/{site}/links")
def site_links(request: Request, site: Annotated[str, access.NamePath]) -> list[LinkOut]:
    view = _view(request, site)
    return [LinkOut(a=x.a, b=x.b, role=x.role, media=x.media, state=x.state, source=x.source) for x in view.links]


@router.get("/devices/{device}")
def device(request: Request, device: Annotated[str, access.NamePath]) -> DeviceOut:
    p, w = who(request), web(request)
    d = access.device_or_404(p, w.inventory, device)
    snap = w.store.last_snapshots(d.site).get(d.name)
    return DeviceOut(site=d.site, **vars(views.device_row(d, snap)))


@router.get("/devices/{device}/ports")
def ports(request: Request, device: Annotated[str, access.NamePath]) -> list[PortOut]:
    p, w = who(request), web(request)
    d = access.device_or_404(p, w.inventory, device)
    snap = w.store.last_snapshots(d.site).get(d.name)
    return [PortOut(name=r.name, alias=r.alias, admin=r.admin, oper=r.oper, speed_mbps=r.speed_mbps,
                    module=r.module, serial=r.serial, neighbor=r.neighbor, optics=r.optics)
            for r in views.port_rows(snap)]


@router.get("/devices/{device}/optics")
def port_optics(request: Request, device: Annotated[str, access.NamePath],
                port: Annotated[str, Query(min_length=1, max_length=64)],
                hours: Annotated[float, Query(gt=0, le=24 * 90)] = 24 * 7) -> list[ReadingOut]:
    """A port's DOM history against its thresholds (the chart's data)."""
    p, w = who(request), web(request)
    d = access.device_or_404(p, w.inventory, device)
    snap = w.store.last_snapshots(d.site).get(d.name)
    name = access.port_name([x.name for x in snap.ports] if snap else [], port)
    if snap is None or name is None:
        raise access.not_found()
    series = optics.history(w.settings.optics_reader, snap, d.name, name, snap.taken_at - hours * 3600,
                            snap.taken_at, d.site)
    return [ReadingOut(key=s.key, lane=s.lane, unit=s.unit, state=s.state, thresholds={
        k: getattr(s.thresholds, k) for k in ("low_alarm", "low_warn", "high_warn", "high_alarm")},
        samples=list(s.samples)) for s in series]


@router.get("/incidents")
def incidents(request: Request, site: Annotated[str | None, Query(max_length=128)] = None,
              open: bool = False, q: Search = "", limit: Limit = 100) -> list[IncidentOut]:
    """Incidents of the sites this caller may see, newest first."""
    p, w = who(request), web(request)
    found = access.visible_incidents(p, w.inventory, w.store, site=site, open_only=open)
    chosen = [i for i in reversed(found) if views.matches(i, q.strip())][:limit]
    return [_incident_out(i, p) for i in chosen]


@router.get("/incidents/{ref}")
def incident(request: Request, ref: Annotated[str, access.RefPath]) -> IncidentOut:
    p, w = who(request), web(request)
    return _incident_out(access.incident_or_404(p, w.inventory, w.store, ref), p)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> dict[str, Any]:
    who(request)
    return request.app.openapi()
