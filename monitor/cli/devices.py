"""`saksi devices`: every device of the inventory with what the daemon last learnt of it, from the state store."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor.state.default import DEFAULT_URL

if TYPE_CHECKING:
    from monitor.inventory import Device
    from monitor.model import Snapshot
    from monitor.witness.incidents import Incident

EXIT_OK, EXIT_ERROR = 0, 2
NEVER = "never polled"


def register(app: typer.Typer) -> None:
    """Add `saksi devices` to the main app."""
    app.command("devices")(devices_cmd)


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"saksi: {message}\n")
    return typer.Exit(EXIT_ERROR)


def stamp(at: float | None) -> str:
    """A UTC time as a person reads it; '-' for never.

    >>> stamp(0.0), stamp(None)
    ('1970-01-01 00:00:00Z', '-')
    """
    return "-" if at is None else time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(at))


def device_row(device: Device, last: Snapshot | None, good: Snapshot | None,
               incidents: list[Incident]) -> dict[str, Any]:
    """One device's line: its inventory facts joined with its last poll, last answer and open incidents."""
    return {
        "name": device.name,
        "site": device.site,
        "platform": device.platform,
        "host": device.host,
        "snmp_port": device.port,
        "last_poll_at": None if last is None else last.taken_at,
        "outcome": NEVER if last is None else last.poll_status,
        "error": None if last is None else last.error,
        "last_answer_at": None if good is None else good.taken_at,
        "sys_name": None if good is None else good.facts.sys_name,
        "modules": None if good is None else len(good.transceivers),
        "open_incidents": [i.id for i in incidents if i.device == device.name],
    }


def _rows(devices: list[Device], db: str | None) -> list[dict[str, Any]]:
    from monitor.state.url import StoreUrlError, open_store

    try:
        store = open_store(db, create=False)
    except StoreUrlError as exc:
        raise _fail(f"cannot read the state store: {exc}") from None
    try:
        last, good = store.last_snapshots(), store.last_good_snapshots()
        incidents = store.open_incidents()
    finally:
        store.close()
    return [device_row(d, last.get(d.name), good.get(d.name), incidents) for d in devices]


def _show(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    table = Table(title=f"{len(rows)} devices")
    for col in ("device", "site", "platform", "address", "last poll", "outcome", "modules", "open incidents"):
        table.add_column(col)
    for r in rows:
        outcome = r["outcome"] + (f": {r['error']}" if r["error"] else "")
        if r["outcome"] not in ("answered", NEVER) and r["last_answer_at"] is not None:
            outcome += f" (last answer {stamp(r['last_answer_at'])})"
        table.add_row(r["name"], r["site"], r["platform"], f"{r['host']}:{r['snmp_port']}", stamp(r["last_poll_at"]),
                      outcome, "-" if r["modules"] is None else str(r["modules"]),
                      ", ".join(r["open_incidents"]) or "-")
    console.print(table)


def devices_cmd(
    site: Annotated[str | None, typer.Option("--site", help="only this site's devices")] = None,
    inventory: Annotated[list[Path] | None, typer.Option(
        "--inventory", "-i", help="inventory file or folder (default: inventory/)")] = None,
    db: Annotated[str | None, typer.Option(
        "--db", help=f"store URL (default: $SAKSI_DB or {DEFAULT_URL})", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Every device with its platform, address, last poll and its outcome, modules seen and open incidents."""
    from monitor.inventory import InventoryError, load_inventory

    try:
        inv = load_inventory(inventory or [Path("inventory")])
    except InventoryError as exc:
        raise _fail(str(exc)) from None
    if site is not None and site not in inv.sites:
        raise _fail(f"unknown site {site!r}; the inventory has: {', '.join(sorted(inv.sites)) or 'none'}")
    chosen = [d for d in inv.devices.values() if site is None or d.site == site]
    rows = _rows(sorted(chosen, key=lambda d: (d.site, d.name)), db)
    if as_json:
        sys.stdout.write(json.dumps({"devices": rows}, indent=2) + "\n")
    else:
        _show(rows)
