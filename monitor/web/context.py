"""What every route receives: the application's parts, the principal of the request, and page rendering."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

from monitor.common.clock import local
from monitor.common.names import port_label
from monitor.inventory import Inventory
from monitor.state.store import Store
from monitor.web import optics, views
from monitor.web.auth import NotAuthenticated, Principal, Sessions, principal_of
from monitor.web.settings import WebSettings
from monitor.web.throttle import LoginThrottle, Network, Verifier

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Web:
    store: Store
    inventory: Inventory
    settings: WebSettings
    sessions: Sessions
    throttle: LoginThrottle
    verifier: Verifier
    proxies: tuple[Network, ...]
    templates: Jinja2Templates

    def render(self, request: Request, template: str, status: int = 200, /, **values: Any) -> HTMLResponse:
        """A page; the session cookie is (re)issued when this request created one (an anonymous CSRF secret)."""
        principal = getattr(request.state, "principal", None)
        csrf = self.sessions.csrf(request)
        response = self.templates.TemplateResponse(request, template, {
            "me": principal, "csrf": csrf, "title": self.settings.title, **values}, status_code=status)
        self.sessions.commit(request, response)
        return response


def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(TEMPLATES))
    t.env.filters["when"] = when
    t.env.filters["short"] = lambda p: port_label(p) if p else "-"
    t.env.filters["words"] = views.words
    t.env.filters["seg"] = lambda s: quote(str(s), safe="")  # one URL path segment
    t.env.filters["show"] = views.show
    t.env.filters["endpoint"] = views.endpoint
    t.env.globals["incident_state"] = views.incident_state
    t.env.globals["chart"] = optics.chart
    return t


def when(t: float | None, tz: str = "UTC") -> Markup:
    """A <time> element in the site's time zone (the machine-readable value carries the offset)."""
    iso, text = local(t, tz)
    if not iso:
        return Markup("-")
    return Markup('<time datetime="{}">{}</time>').format(escape(iso), escape(text))


def web(request: Request) -> Web:
    return request.app.state.web


def who(request: Request) -> Principal:
    """The request's principal, or NotAuthenticated (pages answer with the login form, the API with 401)."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    w = web(request)
    p = principal_of(request, w.store.engine, w.sessions)
    if p is None:
        raise NotAuthenticated()
    request.state.principal = p
    return p
