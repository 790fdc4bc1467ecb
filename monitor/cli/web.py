"""`saksi web`, `saksi users` and `saksi tokens`: serve the web view, manage its accounts and read-only links."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.options import DbOption, InventoryOption, SecureCookiesOption, TrustedProxyOption

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from monitor.inventory import Inventory
    from monitor.state.store import Store

users_app = typer.Typer(no_args_is_help=True, help="Web accounts: engineers act, customers read their own sites.")
tokens_app = typer.Typer(no_args_is_help=True, help="Read-only links a customer can bookmark (revocable).")



def register(app: typer.Typer) -> None:
    app.command("web")(web_cmd)
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"saksi: {message}\n")
    return typer.Exit(2)


def _store(db: str | None, create: bool) -> Store:
    """The store --db names; every way it cannot be opened is one line and exit 2 (monitor.state.url)."""
    from monitor.state.url import StoreUrlError, open_store

    try:
        return open_store(db, create=create)
    except StoreUrlError as exc:
        raise _fail(str(exc)) from None


@contextmanager
def _accounts(db: str | None, create: bool = False) -> Iterator[Engine]:
    """The store's engine, with the accounts tables created if this is their first use; only a command that
    adds something may start a new store (a typo in --db is an error, not an empty list)."""
    from monitor.web import accounts  # the web package: FastAPI, loaded by the commands that use it

    with _store(db, create) as store:
        accounts.create_tables(store.engine)
        yield store.engine


def _inventory(given: list[Path] | None, required: bool) -> Inventory | None:
    from monitor.inventory import InventoryError, load_inventory

    paths = given or [Path("inventory")]
    if not required and not any(p.exists() for p in paths):
        return None
    try:
        return load_inventory(paths)
    except InventoryError as exc:
        raise _fail(str(exc)) from None


def web_cmd(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8080,
    db: DbOption = None,
    inventory: InventoryOption = None,
    config_history: Annotated[Path | None, typer.Option(
        "--config-history", help="config history folder (default: $SAKSI_CONFIG_HISTORY or var/config-history)")] = None,
    secure_cookies: SecureCookiesOption = False,
    trusted_proxy: TrustedProxyOption = None,
) -> None:
    """Serve the web view: read-only site pages for customers, incident actions for engineers, a JSON API."""
    from monitor.web.server import server
    from monitor.web.settings import WebSettings
    from monitor.web.throttle import networks

    try:
        networks(trusted_proxy or [])
    except ValueError as exc:
        raise _fail(f"--trusted-proxy: {exc}") from None
    if not 1 <= port <= 65535:
        raise _fail("--port must be between 1 and 65535")
    if config_history is not None and not config_history.is_dir() and (
            config_history.exists() or not config_history.absolute().parent.is_dir()):
        raise _fail(f"--config-history {config_history}: not a folder (nor one `saksi run` could make)")
    inv = _inventory(inventory, required=True)
    assert inv is not None
    store = _store(db, create=True)
    settings = WebSettings(secret_key=os.environ.get("SAKSI_WEB_SECRET") or None, cookie_secure=secure_cookies,
                           config_root=config_history, trusted_proxies=tuple(trusted_proxy or ()))
    sys.stderr.write(f"saksi: web view on http://{host}:{port}/\n")
    try:
        server(store, inv, settings, host, port).run()
    finally:
        store.close()


def _password(password_file: Path | None) -> str:
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").splitlines()[0] if password_file.stat().st_size else ""
        except (OSError, UnicodeDecodeError, IndexError) as exc:
            raise _fail(f"cannot read the password file: {exc}") from None
    if not sys.stdin.isatty():
        raise _fail("no terminal to ask the password on: give --password-file")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option("--role", help="engineer or customer")],
    customer: Annotated[str | None, typer.Option("--customer", help="the customer a customer account sees")] = None,
    password_file: Annotated[Path | None, typer.Option("--password-file", help="first line is the password")] = None,
    db: DbOption = None,
    inventory: InventoryOption = None,
) -> None:
    """Add an account; the password is asked for (twice) unless --password-file gives it."""
    from monitor.web import accounts

    inv = _inventory(inventory, required=False)
    if customer and inv is not None and customer not in inv.customers:
        raise _fail(f"unknown customer {customer!r}; the inventory has: {', '.join(sorted(inv.customers))}")
    password = _password(password_file)
    problem = accounts.password_problem(password, name)
    if problem is not None:
        raise _fail(problem)
    with _accounts(db, create=True) as engine:
        _known_customer(engine, customer, inv)
        try:
            user = accounts.add_user(engine, name, role, password, customer)
        except accounts.AccountError as exc:
            raise _fail(str(exc)) from None
    sys.stdout.write(f"added {user.role} {user.name}" + (f" (customer {user.customer})" if user.customer else "")
                     + "\n")


def _known_customer(engine: Engine, customer: str | None, inv: Inventory | None) -> None:
    """Without an inventory at hand, a customer must be one the store already knows (a typo is refused)."""
    from monitor.web import accounts

    if not customer or inv is not None:
        return
    known = accounts.known_customers(engine)
    if customer not in known:
        listed = f"the store knows: {', '.join(sorted(known))}" if known else "the store knows no customer yet"
        raise _fail(f"unknown customer {customer!r}; {listed} (give --inventory to check against the inventory)")


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """Every account: name, role, customer, and whether it is disabled."""
    from monitor.web import accounts

    with _accounts(db) as engine:
        for u in accounts.users(engine):
            state = " disabled" if u.disabled else ""
            sys.stdout.write(f"{u.name}\t{u.role}\t{u.customer or '-'}{state}\n")


def _set_disabled(name: str, db: str | None, disabled: bool) -> None:
    from monitor.web import accounts

    with _accounts(db) as engine:
        try:
            accounts.set_disabled(engine, name, disabled)
        except accounts.AccountError as exc:
            raise _fail(str(exc)) from None
    sys.stdout.write(f"{'disabled' if disabled else 'enabled'} {name}\n")


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="login name")], db: DbOption = None) -> None:
    """Disable an account; its open sessions end at their next request."""
    _set_disabled(name, db, True)


@users_app.command("enable")
def users_enable(name: Annotated[str, typer.Argument(help="login name")], db: DbOption = None) -> None:
    """Enable a disabled account again (its old sessions stay ended: the user logs in anew)."""
    _set_disabled(name, db, False)


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="login name")],
    password_file: Annotated[Path | None, typer.Option("--password-file", help="first line is the password")] = None,
    db: DbOption = None,
) -> None:
    """Set a new password (asked twice unless --password-file gives it); every open session of the user ends."""
    from monitor.web import accounts

    with _accounts(db) as engine:
        if not any(u.name == name for u in accounts.users(engine)):
            raise _fail(f"no user {name!r}")
        try:
            accounts.set_password(engine, name, _password(password_file))
        except accounts.AccountError as exc:
            raise _fail(str(exc)) from None
    sys.stdout.write(f"new password for {name}; their sessions have ended\n")


@tokens_app.command("add")
def tokens_add(
    customer: Annotated[str, typer.Option("--customer", help="whose sites the link shows")],
    site: Annotated[str | None, typer.Option("--site", help="only this site of the customer")] = None,
    label: Annotated[str, typer.Option("--label", help="who has it, e.g. 'ACME IT on-call'")] = "",
    base_url: Annotated[str, typer.Option("--base-url", help="the web view's address, to print the link")] = (
        "http://127.0.0.1:8080"),
    db: DbOption = None,
    inventory: InventoryOption = None,
    can_report: Annotated[bool, typer.Option("--can-report", help="the link may also report a problem (the one "
                                                                  "thing it can write; rate-limited)")] = False,
) -> None:
    """Create a read-only link; it is printed once (only its hash is stored)."""
    from monitor.web import accounts

    inv = _inventory(inventory, required=False)
    if inv is not None:
        if customer not in inv.customers:
            raise _fail(f"unknown customer {customer!r}")
        if site is not None and (site not in inv.sites or inv.sites[site].customer != customer):
            raise _fail(f"site {site!r} is not a site of customer {customer!r}")
    with _accounts(db) as engine:  # a link into a store nobody started is a typo in --db
        _known_customer(engine, customer, inv)
        token, secret = accounts.add_token(engine, customer, site, label)
        if can_report:
            from monitor.reports.records import allow_link

            allow_link(engine, token.id, time.time())
    sys.stdout.write(f"{token.id}\t{base_url.rstrip('/')}/t/{secret}\n")


@tokens_app.command("list")
def tokens_list(db: DbOption = None) -> None:
    """Every customer link: id, live or revoked, customer, site, what it may do (read, or read and report), label."""
    from monitor.reports.records import reporting_links
    from monitor.web import accounts

    with _accounts(db) as engine:
        reporting = reporting_links(engine)
        for t in accounts.tokens(engine):
            state = "revoked" if t.revoked_at else "live"
            may = "read+report" if t.id in reporting else "read"
            sys.stdout.write(f"{t.id}\t{state}\t{t.customer}\t{t.site or '*'}\t{may}\t{t.label}\n")


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[str, typer.Argument(metavar="ID", help="the id `tokens add` printed")],
                  db: DbOption = None) -> None:
    """Revoke a read-only link: sessions opened with it end at their next request."""
    from monitor.web import accounts

    with _accounts(db) as engine:
        try:
            accounts.revoke_token(engine, token_id)
        except accounts.AccountError as exc:
            raise _fail(str(exc)) from None
    sys.stdout.write(f"revoked {token_id}\n")
