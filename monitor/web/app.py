"""The application factory: the web view of one store and one inventory.

Routes live in `pages` (HTML) and `api` (JSON); this module adds what every response needs — size
limits on requests, security headers, no caching of authenticated pages, and the same refusal
pages and JSON errors for every route.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.inventory import Inventory
from monitor.state.store import Store
from monitor.web import accounts, api, pages
from monitor.web.auth import Forbidden, LoginLimiter, NotAuthenticated, Sessions
from monitor.web.context import Web, templates, web
from monitor.web.settings import WebSettings

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def create_app(store: Store, inventory: Inventory, settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    accounts.create_tables(store.engine)
    secret = settings.secret_key or accounts.secret_key(store.engine)
    app = FastAPI(title=f"{settings.title} API", version="1", docs_url=None, redoc_url=None, openapi_url=None,
                  description="Read-only view of sites, devices, ports and incidents, filtered to the caller.")
    app.state.web = Web(store, inventory, settings, Sessions(secret, settings.session_max_age_s,
                                                             settings.cookie_secure),
                        LoginLimiter(settings.login_attempts, settings.login_window_s), templates())
    app.include_router(pages.router)
    app.include_router(api.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    _errors(app)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _errors(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def _anonymous(request: Request, exc: NotAuthenticated) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "log in or give a token (Authorization: Bearer ...)"}, 401,
                                headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return web(request).render(request, "login.html", 401, next=pages._safe_next(target))

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return _problem(request, 403, str(exc) or "not allowed")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        return _problem(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            errors = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()]  # the input is not echoed
            return JSONResponse({"detail": errors}, 422)
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
        return _problem(request, 422, f"this request has a value Saksi cannot use ({fields})")


def _problem(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    if _is_api(request) or request.url.path.startswith("/static/"):
        return JSONResponse({"detail": message}, status, headers=headers)
    return web(request).render(request, "error.html", status, code=status, message=message)


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
                headers: list[Any] = list(message.get("headers", []))
                headers += [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer")]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse a request body over the limit (413), whether it says its length or streams it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await JSONResponse({"detail": "request too large"}, 413)(scope, receive, send)
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
