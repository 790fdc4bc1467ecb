"""Who is asking: signed-cookie sessions, bearer tokens for scripts, CSRF for forms, a login rate limit.

A session cookie holds only ids and the CSRF secret, signed (itsdangerous) and time-limited; every
request re-reads the user or token behind it, so a disabled user, a changed password or a revoked
link takes effect at once. A customer principal carries its customer (and, for a site-limited link,
its site); `monitor.web.access` turns that into what it may see.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.engine import Engine
from starlette.responses import Response

from monitor.web import accounts

COOKIE = "saksi_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str  # engineer | customer
    customer: str | None = None
    site: str | None = None  # a read-only link limited to one site
    via_token: bool = False

    @property
    def engineer(self) -> bool:
        return self.role == "engineer"


class NotAuthenticated(Exception):
    """No valid session or token: pages answer with the login form (401), the API with 401."""


class Forbidden(Exception):
    """Authenticated, but this principal may not do this (a customer on an engineer action, a bad CSRF)."""


class Sessions:
    """Signed, time-limited session cookies."""

    def __init__(self, secret: str, max_age_s: int, secure: bool) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="saksi-session")
        self.max_age_s, self.secure = max_age_s, secure

    def load(self, request: Request) -> dict[str, Any]:
        """The session of this request (cached on it); empty when there is none or it is not ours."""
        cached = getattr(request.state, "session", None)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        raw = request.cookies.get(COOKIE, "")
        data: dict[str, Any] = {}
        if raw and len(raw) < 4096:
            try:
                loaded = self._signer.loads(raw, max_age=self.max_age_s)
                data = loaded if isinstance(loaded, dict) else {}
            except BadSignature:
                data = {}
        request.state.session = data
        return data

    def save(self, response: Response, data: dict[str, Any]) -> None:
        response.set_cookie(COOKIE, self._signer.dumps(data), max_age=self.max_age_s, httponly=True,
                            samesite="lax", secure=self.secure, path="/")

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)

    def csrf(self, request: Request) -> str:
        """The CSRF secret of this session, creating an anonymous session for it when there is none."""
        data = self.load(request)
        if not isinstance(data.get("csrf"), str):
            data = {"csrf": secrets.token_urlsafe(24)}
            request.state.session = data
            request.state.session_dirty = True
        return str(data["csrf"])

    def commit(self, request: Request, response: Response) -> None:
        """Send the session cookie when this request created the session."""
        if getattr(request.state, "session_dirty", False):
            self.save(response, self.load(request))

    def start(self, response: Response, **ids: Any) -> None:
        """A fresh session (new CSRF secret) after a login: a session id fixed before login is worthless."""
        self.save(response, {"csrf": secrets.token_urlsafe(24), **ids})


def principal_of(request: Request, engine: Engine, sessions: Sessions) -> Principal | None:
    """The principal behind a bearer token or the session cookie; None when anonymous."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        token = accounts.token_by_secret(engine, header[7:].strip())
        if token is None:
            raise NotAuthenticated()
        return Principal(f"link {token.id}", "customer", token.customer, token.site, via_token=True)
    data = sessions.load(request)
    uid, tok = data.get("uid"), data.get("tok")
    if isinstance(uid, int):
        user = accounts.user_by_id(engine, uid)
        if user is None or user.disabled or user.epoch != data.get("ep"):
            return None
        return Principal(user.name, user.role, user.customer if user.role == "customer" else None)
    if isinstance(tok, str):
        token = accounts.token_by_id(engine, tok)
        if token is None or token.revoked_at is not None:
            return None
        return Principal(f"link {token.id}", "customer", token.customer, token.site, via_token=True)
    return None


def check_csrf(request: Request, sessions: Sessions, given: str | None) -> None:
    """Refuse a state-changing request whose CSRF token is not this session's, or that comes from elsewhere."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise Forbidden("cross-origin request refused")
    expected = sessions.load(request).get("csrf")
    if not isinstance(expected, str) or not given or not hmac.compare_digest(expected, given):
        raise Forbidden("the form expired or did not come from this site; reload the page and try again")


class LoginLimiter:
    """At most `attempts` failed logins per window per key (client address, user name); memory is bounded."""

    def __init__(self, attempts: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000) -> None:
        self.attempts, self.window_s, self.clock, self.max_keys = attempts, window_s, clock, max_keys
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, keys: list[str]) -> float | None:
        """Seconds until one of these keys may try again; None when none is blocked."""
        now, waits = self.clock(), []
        for key in keys:
            q = self._prune(key, now)
            if q is not None and len(q) >= self.attempts:
                waits.append(q[0] + self.window_s - now)
        return max(waits) if waits else None

    def failed(self, keys: list[str]) -> None:
        now = self.clock()
        if len(self._failures) >= self.max_keys:
            for key in list(self._failures):
                self._prune(key, now)
            while len(self._failures) >= self.max_keys:  # still full: forget the oldest keys
                self._failures.pop(next(iter(self._failures)))
        for key in keys:
            self._failures.setdefault(key, deque(maxlen=self.attempts)).append(now)

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float] | None:
        q = self._failures.get(key)
        if q is None:
            return None
        while q and q[0] <= now - self.window_s:
            q.popleft()
        if not q:
            del self._failures[key]
            return None
        return q
