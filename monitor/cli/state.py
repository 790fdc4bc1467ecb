"""`saksi incidents`, `saksi incident show` and `saksi whereis`: reading what the daemon remembers."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor.cli.options import DbOption, JsonOption
from monitor.common.refs import BadIncidentRef, format_incident_ref, parse_incident_ref

if TYPE_CHECKING:
    from rich.console import Console

    from monitor.reports.records import Report
    from monitor.state.store import Sighting, Store
    from monitor.witness.incidents import Incident

log = logging.getLogger(__name__)

EXIT_OK, EXIT_NOT_FOUND, EXIT_ERROR = 0, 1, 2

STATE_STYLE = {"open": "red", "acknowledged": "yellow", "resolved": "green"}  # Incident.state, the one state

incident_app = typer.Typer(no_args_is_help=True, help="One incident, by its reference.")


def register(app: typer.Typer) -> None:
    """Add the state commands to the main `saksi` app."""
    app.command("incidents")(incidents_cmd)
    app.command("whereis")(whereis_cmd)
    app.add_typer(incident_app, name="incident")


def make_console() -> Console:
    """A console as wide as the terminal, or 160 columns when the output is a pipe (stable for scripts)."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160)


def fail(message: str) -> typer.Exit:
    """The exit for a command that cannot go on: its one line on stderr, exit code 2."""
    sys.stderr.write(f"saksi: {message}\n")
    return typer.Exit(EXIT_ERROR)


def open_db(db: str | None) -> Store:
    """The store to read or act on; a missing SQLite file is an error, not a new empty store."""
    from monitor.state.url import StoreUrlError, open_store

    try:
        return open_store(db, create=False)
    except StoreUrlError as exc:
        raise fail(str(exc)) from None


def ref_number(ref: str) -> int:
    """The incident number a typed reference means, or exit 2 with one line (a reference is bounded: a
    20-digit number is bad input, not an OverflowError from the database)."""
    try:
        return parse_incident_ref(ref)
    except BadIncidentRef as exc:
        raise fail(str(exc)) from None


def iso(t: float | None) -> str:
    """An epoch time as ISO 8601 UTC; '-' when unknown.

    >>> iso(0.0), iso(None)
    ('1970-01-01T00:00:00Z', '-')
    """
    if t is None:
        return "-"
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _value(v: Any) -> str:
    """A before/after value of the evidence, as one short phrase."""
    if v is None:
        return "-"
    if isinstance(v, dict):
        return " ".join(str(x) for x in v.values() if x not in (None, "")) or "-"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def incidents_cmd(
    open_only: Annotated[bool, typer.Option("--open", help="only the incidents still open")] = False,
    site: Annotated[str | None, typer.Option("--site", help="only this site")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List incidents, oldest first: reference, state, cause, where, when."""
    from rich.table import Table

    from monitor.common.names import port_label

    with open_db(db) as store:
        found = store.incidents(open_only=open_only, site=site)
    if as_json:
        _emit_json([i.public() for i in found])
        return
    console = make_console()
    if not found:
        console.print("no incidents" + (" open" if open_only else "") + (f" at {site}" if site else ""))
        return
    table = Table()
    for col in ("id", "state", "severity", "cause", "site", "where", "started", "resolved"):
        table.add_column(col, no_wrap=True)
    table.add_column("summary", overflow="fold", min_width=20)
    for i in found:
        state = f"[{STATE_STYLE[i.state]}]{i.state}[/]"
        where = f"{i.device} {port_label(i.port)}" if i.port else i.device
        table.add_row(i.id, state, i.severity, i.cause, i.site or "-", where, iso(i.started_at), iso(i.resolved_at),
                      i.summary)
    console.print(table)


@incident_app.command("show")
def incident_show_cmd(
    ref: Annotated[str, typer.Argument(metavar="ID", help="reference, e.g. SAK-000123 (or 123)")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Everything about one incident: cause, where, when, how sure, and the evidence."""
    from monitor.reports.records import ReportBook
    from monitor.state.url import shown

    wanted = format_incident_ref(ref_number(ref))
    with open_db(db) as store:
        inc = store.incident(wanted)
        url = shown(store.url)
        reports = ReportBook(store).for_incident(wanted) if inc is not None else []
    if inc is None:
        raise fail(f"no incident {wanted!r} in {url}")
    if as_json:
        extra = {"reports": [r.to_json() for r in reports]} if reports else {}  # customer reports, when any
        _emit_json({**inc.public(), **extra})
        return
    console = make_console()
    show_incident(inc, console)
    _show_reports(reports, console)


def _show_reports(reports: list[Report], console: Console) -> None:
    """The customer reports that joined (or opened) the incident: its timeline of complaints."""
    if not reports:
        return
    from rich.table import Table

    table = Table(title="customer reports", title_justify="left")
    for col in ("time", "by", "about", "report"):
        table.add_column(col, overflow="fold")
    for r in reports:
        table.add_row(iso(r.at), f"{r.by} ({r.via})", r.place, r.text)
    console.print(table)


def show_incident(inc: Incident, console: Console) -> None:
    from rich.table import Table

    state = f"[{STATE_STYLE[inc.state]}]{inc.state}[/] {inc.resolution if not inc.open else ''}".rstrip()
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    link = f"{inc.link.get('a', '?')} <-> {inc.link.get('b', '?')}" if inc.link else "-"
    rows = [
        ("incident", f"{inc.id}  {state}"),
        ("cause", f"{inc.cause} ({inc.severity})"),
        ("where", f"site {inc.site or '-'}, device {inc.device}, port {inc.port or '-'}"),
        ("link", link),
        ("serial", inc.serial or "-"),
        ("started", iso(inc.started_at)),
        ("detected", iso(inc.detected_at)),
        ("resolved", iso(inc.resolved_at)),
        ("summary", inc.summary or "-"),
        ("confidence", inc.confidence + (f"; missing: {', '.join(inc.missing)}" if inc.missing else "")),
    ]
    if inc.customer:
        rows.insert(3, ("customer", inc.customer))
    if inc.affected:
        rows.append(("affected", ", ".join(inc.affected)))
    if inc.flaps:
        rows.append(("flaps", str(inc.flaps)))
    if inc.owner or inc.tier:
        ack = f"; acknowledged by {inc.acked_by} {iso(inc.acked_at)}" if inc.acked_at is not None else \
            "; not acknowledged"
        rows.append(("owner", f"{inc.owner or 'nobody'} (tier {inc.tier}){ack}"))
    for k, v in rows:
        head.add_row(k, v)
    console.print(head)
    timeline = Table(title="evidence", title_justify="left")
    for col in ("time", "source", "device", "port", "what", "before → after"):
        timeline.add_column(col, overflow="fold")
    for e in inc.evidence:
        change = f"{_value(e.get('before'))} → {_value(e.get('after'))}"
        if e.get("detail"):
            change += f"  ({e['detail']})"
        timeline.add_row(iso(e.get("at")), str(e.get("source", "")), str(e.get("device", "")),
                         e.get("port") or "-", str(e.get("what", "")), change)
    if inc.evidence:
        console.print(timeline)
    else:
        console.print("no evidence recorded")
    _show_people(inc, console)


def _show_people(inc: Incident, console: Console) -> None:
    """The notes people added, and every alerting decision with its named reason."""
    from rich.table import Table

    if inc.notes:
        notes = Table(title="notes", title_justify="left")
        for col in ("time", "author", "note"):
            notes.add_column(col, overflow="fold")
        for n in inc.notes:
            text = str(n.get("text", "")) + ("  (for the customer)" if n.get("public") else "")
            notes.add_row(iso(n.get("at")), str(n.get("author", "")), text)
        console.print(notes)
    if inc.decisions:
        decisions = Table(title="alerting decisions", title_justify="left")
        for col in ("time", "stage", "reason", "detail"):
            decisions.add_column(col, overflow="fold")
        for d in inc.decisions:
            decisions.add_row(iso(d.get("at")), str(d.get("stage", "")), str(d.get("reason", "")),
                              str(d.get("detail", "")))
        console.print(decisions)


def whereis_cmd(
    serial: Annotated[str, typer.Argument(help="module serial number")],
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Where a module (by serial) has been, newest first. Exit code 1 when it was never seen."""
    with open_db(db) as store:
        seen = store.whereis(serial)
    if as_json:
        _emit_json([_sighting_json(s) for s in seen])
    elif not seen:
        sys.stderr.write(f"saksi: module {serial!r} was never seen\n")
    else:
        from rich.table import Table

        table = Table(title=f"{serial}: {seen[0].vendor} {seen[0].model}", title_justify="left")
        for col in ("site", "device", "port", "first seen", "last seen"):
            table.add_column(col, overflow="fold")
        for s in seen:
            table.add_row(s.site or "-", s.device, s.port or "-", iso(s.first_seen), iso(s.last_seen))
        make_console().print(table)
    if not seen:
        raise typer.Exit(EXIT_NOT_FOUND)


def _sighting_json(s: Sighting) -> dict[str, Any]:
    return {"serial": s.serial, "vendor": s.vendor, "model": s.model, "site": s.site, "device": s.device,
            "port": s.port, "first_seen": s.first_seen, "last_seen": s.last_seen}
