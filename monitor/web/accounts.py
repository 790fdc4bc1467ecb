"""People and read-only links: who may log in, as what, and the bookmarkable tokens of a customer.

Own tables beside the state store's (same engine, portable types only, so they run on PostgreSQL
too). Passwords are argon2id hashes; a token is stored as its SHA-256 only, so the table leaks no
usable link. Every function takes the engine: nothing here keeps state.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from monitor.common.errors import SaksiError
from monitor.state.store import incidents_t, write_transaction

ROLES = ("engineer", "customer")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # the login form's limit: a longer one could never be typed in
MAX_SESSIONS = 20  # per user or link: the oldest end first (a link opened again and again cannot fill the table)
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the user does not exist (same timing). Made on first login, not at import: an
    argon2 hash costs 64 MiB and tens of ms, which every `saksi` command paid before."""
    return _hasher.hash("saksi-timing-equaliser")

metadata = MetaData()

users_t = Table(
    "web_users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("customer", String(128), nullable=True),
    Column("password_hash", String(256), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("epoch", Integer, nullable=False, default=0),  # bumped to end every session of the user
    Column("created_at", Float, nullable=False),
)

tokens_t = Table(
    "web_tokens", metadata,
    Column("id", String(32), primary_key=True),  # public handle, for `saksi tokens revoke`
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("customer", String(128), nullable=False),
    Column("site", String(128), nullable=True),  # limited to one site, or every site of the customer
    Column("label", String(200), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

sessions_t = Table(
    "web_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 of the cookie's random id: the table leaks none
    Column("user_id", Integer, nullable=True, index=True),
    Column("token_id", String(32), nullable=True, index=True),
    Column("epoch", Integer, nullable=False, default=0),  # the user's epoch at login
    Column("csrf", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)

settings_t = Table(
    "web_settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(512), nullable=False),
)


class AccountError(SaksiError):
    """A user or token cannot be created or changed as asked."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str
    customer: str | None
    disabled: bool
    epoch: int


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    customer: str
    site: str | None
    label: str
    created_at: float
    revoked_at: float | None


def create_tables(engine: Engine) -> None:
    with _begin(engine) as conn:
        metadata.create_all(conn)


def _begin(engine: Engine) -> AbstractContextManager[Connection]:
    """A write transaction that takes SQLite's write lock up front, as the state store's own writes do."""
    return write_transaction(engine)


def secret_key(engine: Engine) -> str:
    """The session signing key kept in the store, created on first use (so every web process shares it)."""
    with _begin(engine) as conn:
        row = conn.execute(select(settings_t.c.value).where(settings_t.c.key == "secret_key")).first()
        if row is not None:
            return str(row.value)
        value = secrets.token_urlsafe(48)
        conn.execute(insert(settings_t).values(key="secret_key", value=value))
        return value


def _user(row: object) -> User:
    r = row._mapping  # type: ignore[attr-defined]
    return User(r["id"], r["name"], r["role"], r["customer"], bool(r["disabled"]), int(r["epoch"]))


def add_user(engine: Engine, name: str, role: str, password: str, customer: str | None = None) -> User:
    if not NAME_RE.fullmatch(name):
        raise AccountError("a user name is 1-64 letters, digits or . _ @ - (starting with a letter or digit)")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if (role == "customer") != bool(customer):
        raise AccountError("a customer account needs --customer; an engineer account takes none")
    check_password(password, name)
    with _begin(engine) as conn:
        if conn.execute(select(users_t.c.id).where(users_t.c.name == name)).first() is not None:
            raise AccountError(f"user {name!r} already exists")
        conn.execute(insert(users_t).values(name=name, role=role, customer=customer or None,
                                            password_hash=_hasher.hash(password), disabled=False, epoch=0,
                                            created_at=time.time()))
        row = conn.execute(select(users_t).where(users_t.c.name == name)).one()
    return _user(row)


def password_problem(password: str, name: str = "") -> str | None:
    """Why a password is refused, or None: long enough, not blank, not the user name, not one repeated
    character, not one of the commonest leaked passwords.

    >>> password_problem(" " * 10), password_problem("aaaaaaaaaaaa"), password_problem("erin-engineer-pw")
    ('the password must not be only spaces', 'the password must not be one character repeated', None)
    >>> password_problem("Password1234")
    'the password is one of the most common in leaked password lists'
    >>> password_problem("short")
    'the password must be at least 10 characters'
    """
    if len(password) < MIN_PASSWORD:
        return f"the password must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"the password must be at most {MAX_PASSWORD} characters"
    if not password.strip():
        return "the password must not be only spaces"
    if len(set(password)) == 1:
        return "the password must not be one character repeated"
    if password.casefold() in _leaked():
        return "the password is one of the most common in leaked password lists"
    if name and password.strip().casefold() == name.casefold():
        return "the password must not be the user name"
    return None


@functools.cache
def _leaked() -> frozenset[str]:
    """The 30,000 most common passwords of leaked password sets, as zxcvbn ships them (offline, lowercase)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password(password: str, name: str = "") -> None:
    problem = password_problem(password, name)
    if problem is not None:
        raise AccountError(problem)


def set_password(engine: Engine, name: str, password: str) -> None:
    """A new password ends every open session of the user."""
    check_password(password, name)
    with _begin(engine) as conn:
        res = conn.execute(update(users_t).where(users_t.c.name == name).values(
            password_hash=_hasher.hash(password), epoch=users_t.c.epoch + 1))
        if res.rowcount == 0:
            raise AccountError(f"no user {name!r}")
        _end_sessions_of(conn, name)


def set_disabled(engine: Engine, name: str, disabled: bool) -> None:
    """Disabling ends every open session of the user at once; enabling lets it log in again."""
    with _begin(engine) as conn:
        res = conn.execute(update(users_t).where(users_t.c.name == name).values(
            disabled=disabled, epoch=users_t.c.epoch + 1))
        if res.rowcount == 0:
            raise AccountError(f"no user {name!r}")
        _end_sessions_of(conn, name)


def _end_sessions_of(conn: Connection, name: str) -> None:
    uid = select(users_t.c.id).where(users_t.c.name == name).scalar_subquery()
    conn.execute(delete(sessions_t).where(sessions_t.c.user_id == uid))


def known_customers(engine: Engine) -> set[str]:
    """The customers this store has heard of (its incidents, accounts and links): what an account's customer
    is checked against when no inventory is at hand."""
    with engine.connect() as conn:
        found = set(conn.execute(select(users_t.c.customer).where(users_t.c.customer.is_not(None))).scalars())
        found |= set(conn.execute(select(tokens_t.c.customer)).scalars())
        found |= set(conn.execute(select(incidents_t.c.customer).distinct()).scalars())
    return {c for c in found if c}


def users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [_user(r) for r in conn.execute(select(users_t).order_by(users_t.c.name))]


def user_by_id(engine: Engine, user_id: int) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(users_t).where(users_t.c.id == user_id)).first()
    return None if row is None else _user(row)


def authenticate(engine: Engine, name: str, password: str) -> User | None:
    """The user when the password matches and the account is enabled; the work is the same either way."""
    if len(password) > MAX_PASSWORD:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(users_t).where(users_t.c.name == name)).first()
    stored = row._mapping["password_hash"] if row is not None else _dummy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    user = _user(row)
    if user.disabled:
        return None
    if _hasher.check_needs_rehash(stored):
        with _begin(engine) as conn:
            conn.execute(update(users_t).where(users_t.c.id == user.id).values(password_hash=_hasher.hash(password)))
    return user


# --- read-only links ------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_token(engine: Engine, customer: str, site: str | None = None, label: str = "") -> tuple[Token, str]:
    """A new read-only token; the secret is returned once and never stored."""
    if not customer:
        raise AccountError("a read-only link belongs to a customer")
    secret = secrets.token_urlsafe(32)
    token = Token(f"tok-{secrets.token_hex(4)}", customer, site or None, label[:200], time.time(), None)
    with _begin(engine) as conn:
        conn.execute(insert(tokens_t).values(id=token.id, token_hash=_digest(secret), customer=customer,
                                             site=token.site, label=token.label, created_at=token.created_at,
                                             revoked_at=None))
    return token, secret


def _token(row: object) -> Token:
    r = row._mapping  # type: ignore[attr-defined]
    return Token(r["id"], r["customer"], r["site"], r["label"], r["created_at"], r["revoked_at"])


def token_by_secret(engine: Engine, secret: str) -> Token | None:
    """The live token a link carries; None for an unknown or revoked one."""
    if not secret or len(secret) > 128:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(tokens_t).where(tokens_t.c.token_hash == _digest(secret))).first()
    token = None if row is None else _token(row)
    return token if token is not None and token.revoked_at is None else None


def token_by_id(engine: Engine, token_id: str) -> Token | None:
    with engine.connect() as conn:
        row = conn.execute(select(tokens_t).where(tokens_t.c.id == token_id)).first()
    return None if row is None else _token(row)


def tokens(engine: Engine) -> list[Token]:
    with engine.connect() as conn:
        return [_token(r) for r in conn.execute(select(tokens_t).order_by(tokens_t.c.created_at))]


def revoke_token(engine: Engine, token_id: str) -> None:
    with _begin(engine) as conn:
        res = conn.execute(update(tokens_t).where(tokens_t.c.id == token_id, tokens_t.c.revoked_at.is_(None))
                           .values(revoked_at=time.time()))
        if res.rowcount == 0:
            raise AccountError(f"no live token {token_id!r}")
        conn.execute(delete(sessions_t).where(sessions_t.c.token_id == token_id))


# --- sessions -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    user_id: int | None
    token_id: str | None
    epoch: int
    csrf: str
    expires_at: float


def create_session(engine: Engine, max_age_s: float, *, user: User | None = None, token_id: str | None = None,
                   now: float | None = None) -> tuple[str, Session]:
    """A new server-side session for a user or a link; returns the random id the cookie carries (only its
    hash is stored). Expired sessions and a principal's oldest beyond MAX_SESSIONS are dropped here."""
    now = time.time() if now is None else now
    sid = secrets.token_urlsafe(32)
    session = Session(user.id if user else None, token_id, user.epoch if user else 0, secrets.token_urlsafe(24),
                      now + max_age_s)
    owner = (sessions_t.c.user_id == session.user_id) if user else (sessions_t.c.token_id == token_id)
    with _begin(engine) as conn:
        conn.execute(delete(sessions_t).where(sessions_t.c.expires_at <= now))
        conn.execute(insert(sessions_t).values(id_hash=_digest(sid), user_id=session.user_id, token_id=token_id,
                                               epoch=session.epoch, csrf=session.csrf, created_at=now,
                                               expires_at=session.expires_at))
        keep = select(sessions_t.c.id_hash).where(owner).order_by(sessions_t.c.created_at.desc()).limit(
            MAX_SESSIONS).scalar_subquery()
        conn.execute(delete(sessions_t).where(owner, sessions_t.c.id_hash.not_in(keep)))
    return sid, session


def session_by_id(engine: Engine, sid: str, now: float | None = None) -> Session | None:
    """The live session a cookie names; None when it ended (logout, disable, password change) or expired."""
    if not sid or len(sid) > 128:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(sessions_t).where(sessions_t.c.id_hash == _digest(sid))).first()
    if row is None:
        return None
    r = row._mapping
    if r["expires_at"] <= (time.time() if now is None else now):
        return None
    return Session(r["user_id"], r["token_id"], int(r["epoch"]), r["csrf"], r["expires_at"])


def end_session(engine: Engine, sid: str) -> None:
    """Logout: the session is gone from the table, so its cookie is worthless even if kept."""
    with _begin(engine) as conn:
        conn.execute(delete(sessions_t).where(sessions_t.c.id_hash == _digest(sid)))


def session_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(sessions_t)).scalar_one())
