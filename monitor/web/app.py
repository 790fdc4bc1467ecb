"""The application factory: the web view of one store and one inventory.

Routes live in `pages` (HTML) and `api` (JSON); this module adds what every response needs — size
limits on requests, security headers, no caching of authenticated pages, HEAD and OPTIONS for every
route, and one error handler: every error (404, 405, 413, 422, 500, an unknown route) is answered by
`problem`, with the same headers, as a page or as JSON by the path and the client's Accept.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path
from typing import Any

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from markupsafe import escape
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.inventory import Inventory
from monitor.state.store import Store
from monitor.web import access, accounts, api, pages, reports
from monitor.web.auth import Forbidden, NotAuthenticated, Sessions
from monitor.web.context import Web, templates, web
from monitor.web.settings import WebSettings
from monitor.web.throttle import LoginThrottle, Verifier, networks

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
TITLES = {400: "Bad request", 401: "Log in", 403: "Not allowed", 404: "Not found", 405: "Method not allowed",
          413: "Too large", 422: "Cannot use this request", 429: "Too many requests", 500: "Error"}


def create_app(store: Store, inventory: Inventory, settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    accounts.create_tables(store.engine)
    secret = settings.secret_key or accounts.secret_key(store.engine)
    app = FastAPI(title=f"{settings.title} API", version="1", docs_url=None, redoc_url=None, openapi_url=None,
                  description="Read-only view of sites, devices, ports and incidents, filtered to the caller.")
    app.state.web = Web(store, inventory, settings,
                        Sessions(secret, settings.session_max_age_s, settings.cookie_secure, store.engine),
                        LoginThrottle(settings.login_free_attempts, 1.0, settings.login_max_delay_s,
                                      free_per_address=settings.login_free_per_address),
                        Verifier(settings.login_concurrency), networks(settings.trusted_proxies), templates())
    app.include_router(pages.router)
    app.include_router(api.router)
    reports.install(app)  # report a problem: the one thing a customer writes (monitor.web.reports)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    # the last added is the outermost: every answer, errors included, passes SecurityHeaders
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ErrorPages)
    app.add_middleware(Methods)
    app.add_middleware(SecurityHeaders)
    _errors(app)
    return app


def wants_json(path: str, accept: str) -> bool:
    """An error as JSON (the API, static files, a client that asks for JSON) or as a page (a browser).

    >>> wants_json("/api/sites", "text/html"), wants_json("/sites", "application/json")
    (True, True)
    >>> wants_json("/sites", "text/html,application/xhtml+xml,*/*;q=0.8"), wants_json("/nowhere", "")
    (False, False)
    """
    if path == "/api" or path.startswith(("/api/", "/static/")):
        return True
    accept = accept.lower()
    return "text/html" not in accept and ("application/json" in accept or "+json" in accept)


def problem(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The one error answer: the same words as JSON or as a page; a page that cannot be rendered (the
    store is down) falls back to a plain one rather than to a second error."""
    if wants_json(request.url.path, request.headers.get("accept", "")):
        return JSONResponse({"detail": message}, status, headers=headers)
    try:
        response: Response = web(request).render(request, "error.html", status, code=status,
                                                  heading=TITLES.get(status, f"Error {status}"), message=message)
    except Exception:  # noqa: BLE001 - an error page must not fail
        log.exception("cannot render the error page for %s", request.url.path)
        response = HTMLResponse(f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{escape(message)}</p>",
                                status)
    if headers:
        response.headers.update(headers)
    return response


def _errors(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def _anonymous(request: Request, exc: NotAuthenticated) -> Response:
        if wants_json(request.url.path, request.headers.get("accept", "")):
            return JSONResponse({"detail": "log in or give a token (Authorization: Bearer ...)"}, 401,
                                headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return web(request).render(request, "login.html", 401, next=pages._safe_next(target))

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return problem(request, 403, str(exc) or "not allowed")

    @app.exception_handler(HTTPException)  # Starlette's: unknown routes and 405s too, not only the routes' own
    async def _http(request: Request, exc: HTTPException) -> Response:
        fixed = {404: access.NOT_FOUND, 405: "This address does not take that method."}  # one 404 for all
        return problem(request, exc.status_code, fixed.get(exc.status_code, str(exc.detail)),
                       getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if wants_json(request.url.path, request.headers.get("accept", "")):
            errors = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()]  # the input is not echoed
            return JSONResponse({"detail": errors}, 422)
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
        return problem(request, 422, f"this request has a value Saksi cannot use ({fields})")


class SecurityHeaders:
    """CSP, no framing, no sniffing, no referrer (a read-only link must not leak), no caching of private pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = [h for h in message.get("headers", []) if h[0].lower() != b"cache-control"
                                      or static]
                headers += [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer")]
                if not static or message["status"] >= 400:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


@functools.cache
def _pattern(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def route_table(routes: list[BaseRoute]) -> list[tuple[str, set[str]]]:
    """(path template, methods) of every route, included routers flattened (FastAPI >= 0.16x keeps them whole)."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    found = [(c.original_route, c.path, c.methods) for c in flatten(routes)] if flatten else [
        (r, getattr(r, "path", ""), getattr(r, "methods", None)) for r in routes]
    out = []
    for route, path, methods in found:
        if isinstance(route, Mount):
            out.append((path.rstrip("/") + "/{path:path}", {"GET"}))
        elif isinstance(route, Route):
            out.append((path, set(methods or route.methods or ())))
    return out


def allowed_methods(table: list[tuple[str, set[str]]], path: str) -> set[str]:
    """The methods some route serves at this path (HEAD and OPTIONS with them); empty: no such path.

    >>> sorted(allowed_methods([("/sites/{site}", {"GET"}), ("/sites/{site}/x", {"POST"})], "/sites/a"))
    ['GET', 'HEAD', 'OPTIONS']
    >>> allowed_methods([("/sites/{site}", {"GET"})], "/nowhere")
    set()
    """
    out: set[str] = set()
    for template, methods in table:
        if _pattern(template).match(path):
            out |= methods
    if "GET" in out:
        out |= {"HEAD"}
    return out | {"OPTIONS"} if out else out


class Methods:
    """HEAD is answered as GET without a body; OPTIONS with the methods the path allows (Allow, no body)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            allowed = allowed_methods(route_table(scope["app"].router.routes), scope["path"])
            if not allowed:
                await problem(Request(scope), 404, access.NOT_FOUND)(scope, receive, send)
                return
            await Response(status_code=204, headers={"Allow": ", ".join(sorted(allowed))})(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class ErrorPages:
    """A request that fails with an unexpected exception gets the same error answer as every other error
    (inside SecurityHeaders, unlike Starlette's last-resort handler) and one logged traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if started:
                return  # half an answer is already on its way: the log has the cause
            response = problem(Request(scope), 500, "Saksi could not answer this request; the cause is in its log.")
            await response(scope, receive, send)


class BodyLimit:
    """Refuse a request body over the limit (413), whether it says its length or streams it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or len(length) > 18 or int(length) > self.max_bytes):
            await problem(Request(scope), 413, "request too large")(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, "request too large")
            return message

        await self.app(scope, limited, send)
