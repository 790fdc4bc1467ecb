"""What a principal may see: the one place where a customer is confined to its own customer's sites.

Every page, API route, chart query and download goes through these functions; an object outside the
principal's reach is reported as absent (404), so a customer cannot even learn that it exists.
"""

from __future__ import annotations

from fastapi import HTTPException, Path

from monitor.common.names import canonical_port
from monitor.common.refs import BadIncidentRef, format_incident_ref, parse_incident_ref
from monitor.inventory import Device, Inventory, Site
from monitor.state.store import Store
from monitor.web.auth import Forbidden, Principal
from monitor.witness.incidents import Incident


def can_see(p: Principal, site: Site) -> bool:
    if p.engineer:
        return True
    return site.customer == p.customer and (p.site is None or p.site == site.name)


def visible_sites(p: Principal, inv: Inventory) -> list[Site]:
    return sorted((s for s in inv.sites.values() if can_see(p, s)), key=lambda s: s.name)


NOT_FOUND = "Nothing here, or nothing you may see."


def not_found() -> HTTPException:
    """The one answer for anything a caller may not see or that does not exist: the same status and words
    whether it is another customer's site, device, port, incident or configuration, or nothing at all."""
    return HTTPException(404, NOT_FOUND)


def site_or_404(p: Principal, inv: Inventory, name: str) -> Site:
    site = inv.sites.get(name)
    if site is None or not can_see(p, site):
        raise not_found()
    return site


def device_or_404(p: Principal, inv: Inventory, name: str, site: str | None = None) -> Device:
    device = inv.devices.get(name)
    if device is None or (site is not None and device.site != site):
        raise not_found()
    site_or_404(p, inv, device.site)
    return device


def port_name(device_ports: list[str], wanted: str) -> str | None:
    """The device's own name for a port given as a person types it ("Gi1/0/49" or the full name)."""
    if wanted in device_ports:
        return wanted
    canon = canonical_port(wanted)
    return canon if canon in device_ports else None


def incident_visible(p: Principal, inv: Inventory, inc: Incident) -> bool:
    """An incident is seen through its site: an incident of a site the inventory does not know is for engineers."""
    site = inv.sites.get(inc.site)
    if site is None:
        return p.engineer
    return can_see(p, site)


def incident_or_404(p: Principal, inv: Inventory, store: Store, ref: str) -> Incident:
    """An incident by the reference a person typed; one that is not a reference at all is simply not found."""
    try:
        seq = parse_incident_ref(ref)
    except BadIncidentRef:
        raise not_found() from None
    inc = store.incident(format_incident_ref(seq))
    if inc is None or not incident_visible(p, inv, inc):
        raise not_found()
    return inc


def visible_incidents(p: Principal, inv: Inventory, store: Store, site: str | None = None,
                      open_only: bool = False) -> list[Incident]:
    """Incidents of the sites this principal may see (one site when given), oldest first."""
    if site is not None:
        site_or_404(p, inv, site)
        return store.incidents(open_only=open_only, site=site)
    found = store.incidents(open_only=open_only)
    return [i for i in found if incident_visible(p, inv, i)]


def require_engineer(p: Principal) -> None:
    if not p.engineer:
        raise Forbidden("only engineers can act on incidents")


NamePath = Path(min_length=1, max_length=128)
RefPath = Path(min_length=1, max_length=32)
