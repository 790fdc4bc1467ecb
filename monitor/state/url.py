"""Opening the state store from a URL a person typed: every way it can fail becomes one line they can act on.

SQLAlchemy answers a bad URL, an unwritable path or a missing driver with a traceback, and SQLite creates a
missing file (and the store used to create its directory) without asking; a typo in `--db` then looked like an
empty network. Every command that opens a store comes through `open_store`.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from monitor.state.store import DEFAULT_URL, Store, StoreError

ENV = "SAKSI_DB"
PSEUDO_FS = ("/proc", "/sys", "/dev")  # kernel views: SQLite cannot keep a store there
EXAMPLES = "sqlite:///var/saksi.db or postgresql+psycopg://user@host/saksi"


class StoreUrlError(StoreError, ValueError):
    """A store URL that cannot be opened; the message is one line and names the URL (without its password)."""


def store_url(given: str | None) -> str:
    """The URL a command means: --db, else $SAKSI_DB, else the default next to the working directory.

    >>> store_url("sqlite:///x.db"), store_url(None) in (os.environ.get(ENV), DEFAULT_URL)
    ('sqlite:///x.db', True)
    """
    return given or os.environ.get(ENV) or DEFAULT_URL


def shown(url: str) -> str:
    """The URL as it may appear in a message: its password hidden.

    >>> shown("postgresql://saksi:hunter2@db/saksi"), shown("not a url")
    ('postgresql://saksi:***@db/saksi', 'not a url')
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def parse_store_url(url: str) -> URL:
    """The URL parsed, or StoreUrlError in one line (a path typed where a URL belongs gets the URL to write).

    >>> parse_store_url("sqlite:///var/saksi.db").database
    'var/saksi.db'
    >>> parse_store_url("typo.db")
    Traceback (most recent call last):
    ...
    monitor.state.url.StoreUrlError: --db 'typo.db' is not a store URL (for a SQLite file write sqlite:///typo.db)
    """
    try:
        return make_url(url)
    except ArgumentError:
        hint = f"for a SQLite file write sqlite:///{url}" if "://" not in url else f"try {EXAMPLES}"
        raise StoreUrlError(f"--db {url!r} is not a store URL ({hint})") from None


def sqlite_problem(path: Path, *, create: bool, make_parent: bool) -> str | None:
    """Why a SQLite file cannot serve as the store, in one line; None when it can (pure but for the file system).

    >>> sqlite_problem(Path("/proc/x.db"), create=True, make_parent=False)
    '/proc/x.db: /proc is a kernel file system, not a place for a store'
    >>> sqlite_problem(Path("/nonexistent/dir/saksi.db"), create=True, make_parent=False)
    'no directory /nonexistent/dir for the store /nonexistent/dir/saksi.db (create it first, or give another --db)'
    >>> sqlite_problem(Path("/nonexistent/typo.db"), create=False, make_parent=False)
    'no store at /nonexistent/typo.db (check --db or $SAKSI_DB; this command reads a store, it does not create one)'
    """
    absolute = path.absolute()
    for root in PSEUDO_FS:
        if absolute == Path(root) or Path(root) in absolute.parents:
            return f"{path}: {root} is a kernel file system, not a place for a store"
    if path.is_dir():
        return f"{path} is a directory; --db wants a file: sqlite:///{path}/saksi.db"
    if path.exists():
        return None if os.access(path, os.R_OK | os.W_OK) else f"cannot read and write the store {path}"
    if not create:
        return f"no store at {path} (check --db or ${ENV}; this command reads a store, it does not create one)"
    parent = absolute.parent
    if not parent.is_dir():
        if make_parent and not parent.exists():
            return None
        return f"no directory {path.parent} for the store {path} (create it first, or give another --db)"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create the store {path}: the directory {path.parent} is not writable"
    return None


def _one_line(exc: BaseException) -> str:
    """The driver's own words, without SQLAlchemy's SQL echo and background link."""
    inner = getattr(exc, "orig", None) or exc
    return (str(inner).strip().splitlines() or [type(inner).__name__])[0]


def open_store(given: str | None, *, create: bool) -> Store:
    """The store `--db` (or $SAKSI_DB, or the default) names, or StoreUrlError saying in one line why not.

    `create`: this command may start a new store (the daemon, adding an account); a command that only reads
    or changes what is there gets an error for a missing file instead of a new empty store. Only the default
    location's directory (var/) is made on demand; a directory someone typed must exist.
    """
    url = store_url(given)
    u = parse_store_url(url)
    try:
        backend = u.get_backend_name()
    except Exception:  # noqa: BLE001 - an unknown dialect is a bad URL, whatever SQLAlchemy calls it
        raise StoreUrlError(f"--db {shown(url)!r}: unknown database kind (try {EXAMPLES})") from None
    if backend == "sqlite" and u.database not in (None, "", ":memory:") and not str(u.database).startswith("file:"):
        problem = sqlite_problem(Path(str(u.database)), create=create, make_parent=given is None and url == DEFAULT_URL)
        if problem is not None:
            raise StoreUrlError(problem)
    try:
        return Store(url, create=create)
    except StoreUrlError:
        raise
    except StoreError as exc:
        raise StoreUrlError(str(exc).splitlines()[0]) from None
    except (SQLAlchemyError, ImportError, OSError, ValueError, TypeError) as exc:
        # no driver installed, a server that does not answer, a file SQLite cannot open
        raise StoreUrlError(f"cannot open the store {shown(url)}: {_one_line(exc)}") from None
