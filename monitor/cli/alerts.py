"""`saksi maintenance`, `saksi oncall` and the people's side of `saksi incident`: ack, assign, escalate,
note, resolve. Each writes the store at once; the daemon's alert pipeline sends what follows."""

from __future__ import annotations

import getpass
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor.cli.config import parse_time
from monitor.cli.options import DbOption, JsonOption
from monitor.cli.state import fail, incident_app, iso, make_console, open_db, ref_number
from monitor.common.refs import format_incident_ref

if TYPE_CHECKING:
    from monitor.alerts.config import AlertingConfig
    from monitor.alerts.state import Window

maintenance_app = typer.Typer(
    no_args_is_help=True, help="Planned work: incidents inside a window are recorded, not paged.")
oncall_app = typer.Typer(no_args_is_help=True, help="Who is on duty: teams, tiers, and who is away.")

By = Annotated[str | None, typer.Option("--by", help="who does this (default: $SAKSI_USER or your login)")]
AlertingOption = Annotated[Path | None, typer.Option(
    "--alerting", envvar="SAKSI_ALERTING", help="alerting configuration (people, teams, tiers)")]
Ref = Annotated[str, typer.Argument(metavar="ID", help="incident reference, e.g. SAK-000123 (or 123)")]


def register(app: typer.Typer) -> None:
    """Add the commands to the main `saksi` app; the people's actions join the existing `incident` group."""
    app.add_typer(maintenance_app, name="maintenance")
    app.add_typer(oncall_app, name="oncall")
    group = next((g.typer_instance for g in app.registered_groups if g.name == "incident"), None)
    if group is None:
        group = incident_app
        app.add_typer(group, name="incident")
    for name, fn in (("ack", ack_cmd), ("assign", assign_cmd), ("escalate", escalate_cmd), ("note", note_cmd),
                     ("resolve", resolve_cmd)):
        group.command(name)(fn)


def _ref(ref: str) -> str:
    """The reference in its one spelling (SAK-000123), or exit 2 with one line for text that is none."""
    return format_incident_ref(ref_number(ref))


def _who(by: str | None) -> str:
    return by or os.environ.get("SAKSI_USER") or getpass.getuser()


def _config(path: Path | None, required: bool) -> AlertingConfig | None:
    from monitor.alerts.config import AlertingConfigError, load_alerting

    if path is None:
        if required:
            raise fail("this needs the alerting configuration: give --alerting FILE or set SAKSI_ALERTING")
        return None
    try:
        return load_alerting(path)
    except AlertingConfigError as exc:
        raise fail(str(exc)) from None


def _act(db: str | None, path: Path | None, required: bool, action: Any) -> None:
    """Run one person's action on an incident; `action` receives the Desk and a canonical reference."""
    from monitor.alerts.people import Desk, PeopleError

    config = _config(path, required)
    with open_db(db) as store:
        try:
            row = action(Desk(store, config))
        except PeopleError as exc:
            raise fail(str(exc)) from None
    owner = f"owner {row.owner} (tier {row.tier})" if row.owner else "no owner"
    pending = f"; the daemon will send the {row.pending} message" if row.pending else ""
    sys.stdout.write(f"{row.ref}: {owner}" + (f", acknowledged by {row.acked_by}" if row.acked_at else "")
                     + pending + "\n")


def ack_cmd(ref: Ref, note: Annotated[str, typer.Option("--note", help="a first progress note")] = "",
            by: By = None, db: DbOption = None) -> None:
    """Acknowledge: you own it and work on it (stops escalation and reminders)."""
    key = _ref(ref)
    _act(db, None, False, lambda d: d.ack(key, _who(by), time.time(), note))


def assign_cmd(ref: Ref, person: Annotated[str, typer.Argument(help="the new owner")], by: By = None,
               alerting: AlertingOption = None, db: DbOption = None) -> None:
    """Give the incident to someone else (they become its only owner)."""
    key = _ref(ref)
    _act(db, alerting, False, lambda d: d.assign(key, person, _who(by), time.time()))


def escalate_cmd(ref: Ref, by: By = None, alerting: AlertingOption = None, db: DbOption = None) -> None:
    """Hand the incident to the next tier (its next person on duty becomes the owner)."""
    key = _ref(ref)
    _act(db, alerting, True, lambda d: d.escalate(key, _who(by), time.time()))


def note_cmd(ref: Ref, text: Annotated[str, typer.Argument(help="what was found or done")], by: By = None,
             db: DbOption = None,
             public: Annotated[bool, typer.Option("--public", help="for the customer too: their site page shows "
                                                                   "it and their contacts receive it")] = False,
             ) -> None:
    """Add a progress note (shown by `incident show` and in the next message)."""
    key = _ref(ref)
    _act(db, None, False, lambda d: d.note(key, _who(by), text, time.time(), public=public))


def resolve_cmd(ref: Ref, note: Annotated[str, typer.Option("--note", help="how it was fixed")] = "",
                by: By = None, db: DbOption = None) -> None:
    """Close the incident by hand (it reopens if the network shows the problem again)."""
    key = _ref(ref)
    _act(db, None, False, lambda d: d.resolve(key, _who(by), time.time(), note))


# --- maintenance ------------------------------------------------------------------------------------

def _when(text: str | None, default: float) -> float:
    return default if text is None else parse_time(text)


@maintenance_app.command("add")
def maintenance_add(
    reason: Annotated[str, typer.Option("--reason", help="what the work is (a change ticket)")],
    site: Annotated[str | None, typer.Option("--site", help="the whole site")] = None,
    device: Annotated[str | None, typer.Option("--device", help="one device (with --port: one port)")] = None,
    port: Annotated[str | None, typer.Option("--port", help="one port of --device")] = None,
    until: Annotated[str | None, typer.Option("--until", help="end: epoch seconds or ISO 8601")] = None,
    for_: Annotated[str | None, typer.Option("--for", help="length instead of --until: 90m, 2h, 1d")] = None,
    start: Annotated[str | None, typer.Option("--from", help="start (default: now)")] = None,
    by: By = None, db: DbOption = None,
) -> None:
    """Plan work on a site, a device or a port: incidents there are recorded and shown, not paged."""
    from monitor.alerts.config import duration
    from monitor.alerts.state import AlertState

    if not (site or device):
        raise fail("give --site, or --device (and --port)")
    if port and not device:
        raise fail("--port needs --device")
    if (until is None) == (for_ is None):
        raise fail("give the end: --until TIME or --for DURATION")
    now = time.time()
    begins = _when(start, now)
    length = duration(for_) if for_ is not None else None
    if for_ is not None and not length:
        raise fail(f"cannot read duration {for_!r}: use e.g. 90m, 2h, 1d")
    ends = begins + length if length else _when(until, now)
    if ends <= begins or ends <= now:
        raise fail("the window must end after it starts, and in the future")
    with open_db(db) as store:
        w = AlertState(store).add_window(site, device, port, begins, ends, reason, _who(by), now)
    sys.stdout.write(f"maintenance #{w.id}: {w.scope} from {iso(w.starts_at)} until {iso(w.ends_at)}: "
                     f"{reason}\n")


def _window_json(w: Window) -> dict[str, Any]:
    return {"id": w.id, "site": w.site, "device": w.device, "port": w.port, "starts_at": w.starts_at,
            "ends_at": w.ends_at, "reason": w.reason, "created_by": w.created_by, "removed_at": w.removed_at}


@maintenance_app.command("list")
def maintenance_list(
    all_: Annotated[bool, typer.Option("--all", help="past and removed windows too")] = False,
    as_json: JsonOption = False, db: DbOption = None,
) -> None:
    """Maintenance windows now and to come (or all of them)."""
    from rich.table import Table

    from monitor.alerts.state import AlertState

    now = time.time()
    with open_db(db) as store:
        found = AlertState(store).windows(now, include_past=all_)
    if as_json:
        sys.stdout.write(json.dumps([_window_json(w) for w in found], indent=2) + "\n")
        return
    if not found:
        sys.stdout.write("no maintenance windows\n")
        return
    table = Table()
    for col in ("id", "state", "scope", "from", "until", "by", "reason"):
        table.add_column(col, overflow="fold")
    for w in found:
        state = "removed" if w.removed_at else "active" if w.active(now) else "over" if w.ends_at <= now \
            else "planned"
        table.add_row(str(w.id), state, w.scope, iso(w.starts_at), iso(w.ends_at), w.created_by, w.reason)
    make_console().print(table)


@maintenance_app.command("remove")
def maintenance_remove(wid: Annotated[int, typer.Argument(metavar="ID", help="the window's id, from `maintenance list`")], db: DbOption = None) -> None:
    """End a window now (its incidents page from now on if still open)."""
    from monitor.alerts.state import AlertState

    with open_db(db) as store:
        if not AlertState(store).remove_window(wid, time.time()):
            raise fail(f"no maintenance window #{wid} (or it was already removed)")
    sys.stdout.write(f"maintenance #{wid} removed\n")


# --- on call ----------------------------------------------------------------------------------------

@oncall_app.command("away")
def oncall_away(
    person: Annotated[str, typer.Argument(help="a person of the alerting file")],
    until: Annotated[str | None, typer.Option("--until", help="back at (default: until `back`)")] = None,
    reason: Annotated[str, typer.Option("--reason", help="why (shown to whoever routes around them)")] = "",
    alerting: AlertingOption = None,
    db: DbOption = None,
) -> None:
    """Mark someone away: round-robin skips them until they are back."""
    from monitor.alerts.state import AlertState

    config = _config(alerting, False)
    if config is not None and person not in config.people:
        raise fail(f"unknown person {person!r}")
    with open_db(db) as store:
        AlertState(store).set_away(person, None if until is None else parse_time(until), reason, time.time())
    sys.stdout.write(f"{person} is away" + (f" until {until}" if until else "") + "\n")


@oncall_app.command("back")
def oncall_back(person: Annotated[str, typer.Argument(help="a person of the alerting file")], db: DbOption = None) -> None:
    """Someone is back on the rotation."""
    from monitor.alerts.state import AlertState

    with open_db(db) as store:
        if not AlertState(store).back(person):
            raise fail(f"{person} was not marked away")
    sys.stdout.write(f"{person} is back\n")


@oncall_app.command("list")
def oncall_list(alerting: AlertingOption = None, db: DbOption = None) -> None:
    """Teams, their tiers, and who is away now."""
    from rich.table import Table

    from monitor.alerts.state import AlertState

    config = _config(alerting, True)
    assert config is not None
    with open_db(db) as store:
        away = AlertState(store).away(time.time())
    table = Table()
    for col in ("team", "tier", "people"):
        table.add_column(col)
    for team in config.teams.values():
        for n, members in enumerate(team.tiers, 1):
            table.add_row(team.name, str(n), ", ".join(f"{m} (away)" if m in away else m for m in members))
    make_console().print(table)
