"""`saksi report`, `saksi reports` and `saksi triage`: the NOC records a phoned-in report, lists reports,
and asks what Saksi knows of a customer's path before anyone drives out."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.options import DbOption, InventoryOption, JsonOption
from monitor.common.refs import BadIncidentRef, format_incident_ref, parse_incident_ref

if TYPE_CHECKING:
    from monitor.inventory import Inventory
    from monitor.state.store import Store

EXIT_OK, EXIT_ERROR = 0, 2
SiteOption = Annotated[str, typer.Option("--site", help="the customer's site")]
DeviceOption = Annotated[str | None, typer.Option("--device", help="the device the customer named")]
PortOption = Annotated[str | None, typer.Option("--port", help="the port the customer named (needs --device)")]


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)
    app.command("reports")(reports_cmd)
    app.command("triage")(triage_cmd)


def utc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"saksi: {message}\n")
    return typer.Exit(EXIT_ERROR)


def _load(inventory: list[Path] | None, db: str | None) -> tuple[Inventory, Store]:
    from monitor.inventory import InventoryError, load_inventory
    from monitor.state.url import StoreUrlError, open_store

    try:
        return load_inventory(inventory or [Path("inventory")]), open_store(db, create=False)
    except (InventoryError, StoreUrlError) as exc:
        raise _fail(str(exc)) from None


def report_cmd(
    text: Annotated[str, typer.Argument(help="what the customer said, in a few words")],
    site: SiteOption,
    by: Annotated[str, typer.Option("--by", help="who reported it (the caller's name)")],
    device: DeviceOption = None,
    port: PortOption = None,
    inventory: InventoryOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a customer's report: it joins the open incident that covers it, or opens one with a triage."""
    from monitor.reports import ReportError, receive
    from monitor.reports.intake import describe

    inv, store = _load(inventory, db)
    try:
        reply = receive(store, inv, site, device, port, text, by, "phone", time.time(), utc)
    except ReportError as exc:
        raise _fail(str(exc)) from None
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps(reply.to_json(utc), indent=2) + "\n")
    else:
        sys.stdout.write(describe(reply, utc))


def reports_cmd(
    incident: Annotated[str | None, typer.Option("--incident", help="the reports of one incident")] = None,
    site: Annotated[str | None, typer.Option("--site", help="the latest reports of one site")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List customer reports: of one incident (its timeline of complaints) or the latest of a site."""
    from monitor.reports import ReportBook
    from monitor.state.url import StoreUrlError, open_store

    if (incident is None) == (site is None):
        raise _fail("give --incident REF or --site SITE")
    try:
        store = open_store(db, create=False)
    except StoreUrlError as exc:
        raise _fail(str(exc)) from None
    try:
        book = ReportBook(store)
        if incident is not None:
            try:
                ref = format_incident_ref(parse_incident_ref(incident))
            except BadIncidentRef as exc:
                raise _fail(str(exc)) from None
            found = book.for_incident(ref)
        else:
            found = list(reversed(book.of_site(site or "")))
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps([r.to_json() for r in found], indent=2) + "\n")
        return
    if not found:
        sys.stdout.write("no reports\n")
    for r in found:
        who = f"{r.by} ({r.via})"
        sys.stdout.write(f"{utc(r.at)}  {r.incident}  {r.outcome:<8}  {who} about {r.place}: {r.text}\n")


def triage_cmd(
    site: SiteOption,
    device: DeviceOption = None,
    port: PortOption = None,
    inventory: InventoryOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """What Saksi knows of a path now: devices, links, changes of the last 7 days, incidents, a verdict."""
    from monitor.reports import ReportError, render_triage
    from monitor.reports.intake import place, triage_of

    inv, store = _load(inventory, db)
    now = time.time()
    try:
        device, port = place(store, inv, site, device, port)
        t = triage_of(store, inv, site, device, port, now, utc)
    except ReportError as exc:
        raise _fail(str(exc)) from None
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps(t.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(render_triage(t, utc))
