"""`saksi config`: the configuration history of a device — show a version, diff two, list them, fetch now."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from monitor.confighist.history import ConfigHistory, ConfigVersion
    from monitor.inventory import Device

log = logging.getLogger(__name__)
app = typer.Typer(no_args_is_help=True, help="Configuration history: what changed, when, and on which port.")
EXIT_OK, EXIT_ERROR = 0, 2

Inventory = Annotated[list[Path], typer.Option("--inventory", "-i", help="inventory file or folder")]
Site = Annotated[str | None, typer.Option("--site", help="the site's history, without an inventory")]
Root = Annotated[Path | None, typer.Option("--history", help="history root (default var/config-history, "
                                                                "or $SAKSI_CONFIG_HISTORY)")]


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"saksi: {message}\n")
    return typer.Exit(EXIT_ERROR)


def parse_time(text: str) -> float:
    """Epoch seconds, or an ISO 8601 time (UTC when it names no zone).

    >>> parse_time("300"), parse_time("1970-01-01T00:05:00Z"), parse_time("1970-01-01 00:05")
    (300.0, 300.0, 300.0)
    """
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"cannot read time {text!r}: give epoch seconds or ISO 8601 (2026-11-05T14:30:00Z)") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def stamp(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(at))


def _device(name: str, inventory: list[Path]) -> Device:
    from monitor.inventory import InventoryError, load_inventory

    try:
        inv = load_inventory(inventory)
    except InventoryError as exc:
        raise _fail(str(exc)) from None
    device = inv.devices.get(name)
    if device is None:
        raise _fail(f"unknown device {name!r}; the inventory has: {', '.join(sorted(inv.devices)) or 'none'}")
    return device


def _history(name: str, inventory: list[Path], site: str | None, root: Path | None) -> ConfigHistory:
    from monitor.confighist.history import ConfigHistory, default_root

    return ConfigHistory(site if site is not None else _device(name, inventory).site, root or default_root())


@app.command("show")
def show(device: Annotated[str, typer.Argument(help="device name, as in the inventory")], at: Annotated[str | None, typer.Option(
             "--at", help="the version in force at this time (default: the newest)")] = None,
         inventory: Inventory = [Path("inventory")], site: Site = None, history: Root = None) -> None:
    """Print a stored configuration (secrets are redacted before anything is stored)."""
    from monitor.confighist.history import ConfigHistoryError

    with _history(device, inventory, site, history) as h:
        try:
            v = h.version_at(device, None if at is None else parse_time(at))
            sys.stdout.write(f"! {device} version {v.short} polled {stamp(v.at)} via {v.source}\n{h.text(v)}")
        except ConfigHistoryError as exc:
            raise _fail(str(exc)) from None


@app.command("diff")
def diff(device: Annotated[str, typer.Argument(help="device name, as in the inventory")],
         t1: Annotated[str | None, typer.Option("--from", help="older time (default: the version before --to)")]
         = None,
         t2: Annotated[str | None, typer.Option("--to", help="newer time (default: the newest version)")] = None,
         port: Annotated[str | None, typer.Option("--port", help="only this port's changes")] = None,
         inventory: Inventory = [Path("inventory")], site: Site = None, history: Root = None) -> None:
    """What changed between two versions: a per-port summary, then the unified diff."""
    from monitor.confighist.diff import port_summary, section_text
    from monitor.confighist.history import ConfigHistoryError, unified

    with _history(device, inventory, site, history) as h:
        try:
            old, new = h.pair(device, None if t1 is None else parse_time(t1), None if t2 is None else parse_time(t2))
            a, b = h.text(old), h.text(new)
        except ConfigHistoryError as exc:
            raise _fail(str(exc)) from None
    platform = new.platform or old.platform
    sys.stdout.write(f"{device}: {old.short} ({stamp(old.at)}) → {new.short} ({stamp(new.at)})\n")
    summary = port_summary(a, b, platform, port)
    sys.stdout.write("".join(f"  {line}\n" for line in summary) or "  no change\n")
    if port is not None:
        a, b = section_text(a, port, platform), section_text(b, port, platform)
    text = unified(a, b, f"{device}@{stamp(old.at)}", f"{device}@{stamp(new.at)}")
    if text:
        sys.stdout.write("\n" + text)


@app.command("history")
def history_cmd(device: Annotated[str, typer.Argument(help="device name, as in the inventory")], inventory: Inventory = [Path("inventory")],
                site: Site = None, history: Root = None) -> None:
    """Every stored version of a device, oldest first, with what each one changed."""
    from monitor.confighist.diff import port_summary

    with _history(device, inventory, site, history) as h:
        versions = h.versions(device)
        if not versions:
            raise _fail(f"no configuration history for {device!r} in site {h.site!r} ({h.path})")
        prev: ConfigVersion | None = None
        for v in versions:
            what = "first version" if prev is None else "; ".join(
                port_summary(h.text(prev), h.text(v), v.platform)[:4]) or "no visible change"
            sys.stdout.write(f"{stamp(v.at)}  {v.short}  {v.source:<28} {what}\n")
            prev = v


@app.command("fetch")
def fetch(device: Annotated[str, typer.Argument(help="device name, as in the inventory")], inventory: Inventory = [Path("inventory")],
          history: Root = None) -> None:
    """Fetch the running configuration over SSH now and store it if it changed."""
    import asyncio

    from monitor.collectors.ssh import CollectOptions, collect_device
    from monitor.confighist.history import ConfigHistory, ConfigHistoryError, default_root

    dev = _device(device, inventory)
    if dev.ssh is None:
        raise _fail(f"{device}: no SSH credentials in the inventory")
    view = asyncio.run(collect_device(dev, options=CollectOptions(roles=("config",))))
    if view.config is None:
        raise _fail(f"{device}: configuration not fetched: {view.error or view.command('config').error}")
    with ConfigHistory(dev.site, history or default_root()) as h:
        try:
            v = h.record(device, dev.platform, view.config, at=view.taken_at, source=f"ssh:{view.command('config').command}")
        except ConfigHistoryError as exc:
            raise _fail(str(exc)) from None
    sys.stdout.write(f"{device}: unchanged\n" if v is None else f"{device}: new version {v.short}\n")
