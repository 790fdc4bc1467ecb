"""Who is asking: server-side sessions, bearer tokens for scripts, CSRF for forms.

A logged-in session lives in the store (`accounts.sessions_t`); its cookie carries only a random id,
signed (itsdangerous) and time-limited. Logout deletes the row, and disabling a user, changing a
password or revoking a link deletes the rows of that user or link, so a kept cookie is worthless at
once. An anonymous visitor's cookie carries only the CSRF secret of the login form (no row: a visitor
cannot fill the table). A customer principal carries its customer (and, for a site-limited link, its
site); `monitor.web.access` turns that into what it may see.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.engine import Engine
from starlette.responses import Response

from monitor.web import accounts

COOKIE = "saksi_session"
DEVICE_COOKIE = "saksi_device"
DEVICE_MAX_AGE_S = 180 * 86400
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str  # engineer | customer
    customer: str | None = None
    site: str | None = None  # a read-only link limited to one site
    token_id: str | None = None  # the link this principal came through (None: an account)

    @property
    def engineer(self) -> bool:
        return self.role == "engineer"

    @property
    def via_token(self) -> bool:
        return self.token_id is not None


class NotAuthenticated(Exception):
    """No valid session or token: pages answer with the login form (401), the API with 401."""


class Forbidden(Exception):
    """Authenticated, but this principal may not do this (a customer on an engineer action, a bad CSRF)."""


class Sessions:
    """Server-side sessions named by a signed cookie; anonymous visitors get a signed CSRF secret only."""

    def __init__(self, secret: str, max_age_s: int, secure: bool, engine: Engine) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="saksi-session")
        self._devices = URLSafeTimedSerializer(secret, salt="saksi-known-device")
        self.max_age_s, self.secure, self.engine = max_age_s, secure, engine

    def load(self, request: Request) -> dict[str, Any]:
        """The session of this request (cached on it): {"csrf", "sid", "uid"|"tok", "ep"} for a live
        server-side session, {"csrf"} for an anonymous one, {} when there is none or it ended."""
        cached = getattr(request.state, "session", None)
        if cached is not None:
            return cached
        data: dict[str, Any] = {}
        loaded = self._unsign(request.cookies.get(COOKIE, ""))
        if isinstance(loaded.get("sid"), str):
            live = accounts.session_by_id(self.engine, loaded["sid"])
            if live is not None:
                data = {"sid": loaded["sid"], "csrf": live.csrf, "ep": live.epoch,
                        **({"uid": live.user_id} if live.user_id is not None else {"tok": live.token_id})}
        elif isinstance(loaded.get("csrf"), str):
            data = {"csrf": loaded["csrf"]}
        request.state.session = data
        return data

    def _unsign(self, raw: str) -> dict[str, Any]:
        if not raw or len(raw) >= 4096:
            return {}
        try:
            loaded = self._signer.loads(raw, max_age=self.max_age_s)
        except BadSignature:
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _save(self, response: Response, data: dict[str, Any]) -> None:
        response.set_cookie(COOKIE, self._signer.dumps(data), max_age=self.max_age_s, httponly=True,
                            samesite="lax", secure=self.secure, path="/")

    def end(self, request: Request, response: Response) -> None:
        """Logout: the server-side session is deleted (a kept cookie no longer works) and the cookie cleared."""
        sid = self.load(request).get("sid")
        if isinstance(sid, str):
            accounts.end_session(self.engine, sid)
        request.state.session = {}
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
        """Send the cookie when this request created an anonymous session (a CSRF secret for a form)."""
        data = self.load(request)
        if getattr(request.state, "session_dirty", False) and "sid" not in data:
            self._save(response, {"csrf": data["csrf"]})

    def start(self, request: Request, response: Response, *, user: accounts.User | None = None,
              token_id: str | None = None) -> None:
        """A fresh server-side session after a login or a link (a new id and CSRF secret: an id fixed
        before login is worthless); the request's previous session, if any, ends."""
        old = self.load(request).get("sid")
        if isinstance(old, str):
            accounts.end_session(self.engine, old)
        sid, session = accounts.create_session(self.engine, self.max_age_s, user=user, token_id=token_id)
        request.state.session = {"sid": sid, "csrf": session.csrf}
        self._save(response, {"sid": sid})

    # --- known devices: a browser that logged in as a name before is throttled on its own ---------

    def remember_device(self, response: Response, name: str) -> None:
        response.set_cookie(DEVICE_COOKIE, self._devices.dumps({"n": name.casefold(), "d": secrets.token_hex(8)}),
                            max_age=DEVICE_MAX_AGE_S, httponly=True, samesite="strict", secure=self.secure,
                            path="/login")

    def device(self, request: Request, name: str) -> str | None:
        """The id of this browser's known-device cookie when it was issued for `name`."""
        raw = request.cookies.get(DEVICE_COOKIE, "")
        if not raw or len(raw) > 512:
            return None
        try:
            data = self._devices.loads(raw, max_age=DEVICE_MAX_AGE_S)
        except BadSignature:
            return None
        if isinstance(data, dict) and data.get("n") == name.casefold() and isinstance(data.get("d"), str):
            return str(data["d"])
        return None


def principal_of(request: Request, engine: Engine, sessions: Sessions) -> Principal | None:
    """The principal behind a bearer token or the session cookie; None when anonymous."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        token = accounts.token_by_secret(engine, header[7:].strip())
        if token is None:
            raise NotAuthenticated()
        return Principal(f"link {token.id}", "customer", token.customer, token.site, token_id=token.id)
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
        return Principal(f"link {token.id}", "customer", token.customer, token.site, token_id=token.id)
    return None


def check_csrf(request: Request, sessions: Sessions, given: str | None) -> None:
    """Refuse a state-changing request whose CSRF token is not this session's, or that comes from elsewhere."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise Forbidden("cross-origin request refused")
    expected = sessions.load(request).get("csrf")
    if not isinstance(expected, str) or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise Forbidden("the form expired or did not come from this site; reload the page and try again")
