"""The `saksi` command line: what an engineer does by hand."""

from __future__ import annotations

import importlib
import logging
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from monitor.collectors.snmp import SnmpTarget
    from monitor.model import Snapshot

try:  # typer 0.2x carries its own copy of click; earlier ones use click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors  # type: ignore[no-redef]

EXIT_CODES = ("Exit codes: 0 done (healthy); 1 a problem was found, or what was asked for is not there; "
              "2 bad input (a usage error, a bad value, file or store URL: one line on stderr) or a device "
              "that could not be polled.")
app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  help="Saksi: the witness of what changed on your network.", epilog=EXIT_CODES)

EXIT_HEALTHY, EXIT_PROBLEM, EXIT_UNPOLLABLE = 0, 1, 2
DEFAULT_INVENTORY = Path("inventory")
_DEFAULT_DB = Path("var/saksi.db")


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import PackageNotFoundError, version

        try:
            sys.stdout.write(f"saksi {version('saksi')}\n")
        except PackageNotFoundError:  # run from a source tree that was never installed
            sys.stdout.write("saksi (not installed: no package metadata)\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log what happens (INFO)")] = False,
    show_version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_version,
                                               help="print the version and exit")] = False,
) -> None:
    if verbose:
        logging.getLogger().setLevel(logging.INFO)
        # APScheduler logs every job run at INFO ("Running job ... executed successfully"): one line per poll
        # and per rebalance says nothing the monitor's own lines do not; its warnings still show
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _option_problem(t: SnmpTarget) -> str | None:
    """What is wrong with the --host options, in the words of the options (pysnmp would raise a traceback)."""
    from monitor.inventory import AUTH_PROTOCOLS, MIN_V3_KEY_LENGTH, PRIV_PROTOCOLS, SNMP_VERSIONS

    if t.version not in SNMP_VERSIONS:
        return f"--snmp-version must be one of {', '.join(SNMP_VERSIONS)}"
    if not 1 <= t.port <= 65535:
        return "--snmp-port must be between 1 and 65535"
    if not (math.isfinite(t.timeout) and t.timeout > 0) or t.retries < 0:
        return "--timeout must be > 0 seconds and --retries >= 0"
    if t.version != "3":
        return None if t.community else "--community must not be empty"
    if not t.user:
        return "SNMPv3 needs --v3-user"
    for kind, proto, key, choices in (("auth", t.auth_protocol, t.auth_key, AUTH_PROTOCOLS),
                                      ("priv", t.priv_protocol, t.priv_key, PRIV_PROTOCOLS)):
        if proto is not None and proto.upper() not in choices:
            return f"--v3-{kind}-protocol must be one of {', '.join(choices)}"
        if (proto is None) != (key is None):
            return f"--v3-{kind}-protocol and --v3-{kind}-key must be given together"
        if key is not None and len(key) < MIN_V3_KEY_LENGTH:
            return f"--v3-{kind}-key must be at least {MIN_V3_KEY_LENGTH} characters"
    if t.priv_protocol and not t.auth_protocol:
        return "SNMPv3 privacy (--v3-priv-protocol) needs authentication (--v3-auth-protocol)"
    return None


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"saksi: {message}\n")
    return typer.Exit(EXIT_UNPOLLABLE)


@app.command()
def check(
    args: Annotated[list[str] | None, typer.Argument(metavar="[DEVICE] [PORT]",
                                                     help="DEVICE [PORT], or just [PORT] with --host")] = None,
    inventory: Annotated[list[Path], typer.Option("--inventory", "-i", help="inventory file or folder")] = [
        DEFAULT_INVENTORY],
    host: Annotated[str | None, typer.Option(help="poll this address without an inventory")] = None,
    snmp_port: Annotated[int, typer.Option("--snmp-port", help="SNMP UDP port (with --host)")] = 161,
    old_port: Annotated[int | None, typer.Option("--port", "-p", help="deprecated: use --snmp-port (goes in the "
                                                 "next release; PORT is the interface)")] = None,
    community: Annotated[str, typer.Option(help="SNMP v1/v2c community (with --host)")] = "public",
    snmp_version: Annotated[str, typer.Option("--snmp-version", help="1, 2c or 3")] = "2c",
    v3_user: Annotated[str | None, typer.Option("--v3-user", help="SNMPv3 user name (selects SNMPv3)")] = None,
    v3_auth_protocol: Annotated[str | None, typer.Option("--v3-auth-protocol", help="MD5, SHA, SHA256...")] = None,
    v3_auth_key: Annotated[str | None, typer.Option("--v3-auth-key", envvar="SAKSI_V3_AUTH_KEY",
                                                    help="SNMPv3 authentication key")] = None,
    v3_priv_protocol: Annotated[str | None, typer.Option("--v3-priv-protocol", help="DES, AES, AES256")] = None,
    v3_priv_key: Annotated[str | None, typer.Option("--v3-priv-key", envvar="SAKSI_V3_PRIV_KEY",
                                                    help="SNMPv3 privacy key")] = None,
    v3_context: Annotated[str, typer.Option("--v3-context", help="SNMPv3 context name")] = "",
    timeout: Annotated[float, typer.Option(help="seconds to wait for each SNMP request (with --host; an "
                                           "inventory device uses its own); a silent device takes "
                                           "timeout x (retries + 1), exactly")] = 2.0,
    retries: Annotated[int, typer.Option(help="times an unanswered SNMP request is sent again (with --host)")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print the snapshot as JSON")] = False,
    no_ssh: Annotated[bool, typer.Option("--no-ssh", help="skip SSH even when the device has SSH credentials")] = False,
    hardware: Annotated[bool, typer.Option("--hardware", help="show power supplies, fans, temperatures, CPU, "
                                                              "memory, storage and disks")] = False,
    rates: Annotated[bool, typer.Option("--rates", help="poll twice and add traffic and error rates")] = False,
    rate_interval: Annotated[float, typer.Option("--rate-interval", help="seconds between the two polls of "
                                                 "--rates")] = 10.0,
    db: Annotated[str | None, typer.Option("--db", help="state store whose history tells which ports were up in "
                                           "the last 30 days (default $SAKSI_DB, else var/saksi.db if it "
                                           "exists)")] = None,
) -> None:
    """Poll one device now and show each port, its module, optics and neighbour.

    A down port that nobody uses (in no inventory link, no watch: pattern, not up in 30 days) is shown as
    unused, not as a problem. Exit code: 0 healthy, 1 a problem was found, 2 the device could not be polled.
    """
    import asyncio
    import json
    import time

    from rich.console import Console

    from monitor.check.rates import rates_between
    from monitor.check.report import render, snapshot_json
    from monitor.check.watch import rule_for, watched_ports
    from monitor.cli.progress import progress
    from monitor.collectors.snmp import SnmpTarget
    from monitor.collectors.targets import target_for
    from monitor.common.errors import SaksiError
    from monitor.common.names import same_port
    from monitor.inventory import InventoryError, load_inventory

    console = Console(width=None if sys.stdout.isatty() else 160)
    args = list(args or [])
    device = None
    inv = None
    if old_port is not None:
        sys.stderr.write("saksi: --port is deprecated for the SNMP port; use --snmp-port\n")
        snmp_port = old_port
    if not (math.isfinite(rate_interval) and rate_interval > 0):
        raise _fail("--rate-interval must be > 0 seconds")
    if host is not None:
        if len(args) > 1:
            raise _fail("with --host give at most one PORT")
        v3 = v3_user is not None
        target = SnmpTarget(
            host=host, port=snmp_port, version="3" if v3 else snmp_version, community=community, user=v3_user or "",
            auth_protocol=v3_auth_protocol, auth_key=v3_auth_key, priv_protocol=v3_priv_protocol,
            priv_key=v3_priv_key, context=v3_context, timeout=timeout, retries=retries,
        )
        if (problem := _option_problem(target)) is not None:
            raise _fail(problem)
        name, wanted_port = host, (args[0] if args else None)
    else:
        if not args or len(args) > 2:
            raise _fail("give DEVICE [PORT], or --host ADDRESS [PORT]")
        try:
            inv = load_inventory(inventory)
        except InventoryError as exc:
            raise _fail(str(exc)) from None
        device = inv.devices.get(args[0])
        if device is None:
            raise _fail(f"unknown device {args[0]!r}; the inventory has: {', '.join(sorted(inv.devices)) or 'none'}")
        target, name, wanted_port = target_for(device), device.name, (args[1] if len(args) > 1 else None)
    if target.version == "3" and target.auth_protocol and not target.auth_key:
        raise _fail("SNMPv3 with an auth protocol needs --v3-auth-key")
    shown = not as_json and console.is_terminal
    try:
        with progress(console, f"polling {name} ({target.host}:{target.port})", shown):
            snap = asyncio.run(_poll_once(name, target))
        first = snap if rates and snap.reachable else None
        if first is not None:  # rates need a second poll
            with progress(console, f"polling {name} again in {rate_interval:g} s (--rates)", shown):
                time.sleep(rate_interval)
                snap = asyncio.run(_poll_once(name, target))
    except SaksiError as exc:
        raise _fail(str(exc)) from None
    if device is not None and device.ssh is not None and not no_ssh:
        from monitor.collectors.ssh import attach, collect_device

        with progress(console, f"reading {name} over SSH", shown):
            snap = attach(snap, asyncio.run(collect_device(device)))
    if not snap.reachable:
        if as_json:
            console.print_json(json.dumps(snapshot_json(snap)))
        raise _fail(f"{name}: cannot poll: {snap.error}")
    ports = None
    if wanted_port is not None:
        ports = [p for p in snap.ports if same_port(wanted_port, p.name) or same_port(wanted_port, p.descr)
                 or wanted_port == str(p.ifindex)]
        if not ports:
            raise _fail(f"{name}: no port {wanted_port!r} (try one of: {', '.join(p.name for p in snap.ports[:8])}...)")
    verdicts = watched_ports(snap, rule_for(inv, name, _recently_up(db, snap)))
    data = snapshot_json(snap, ports, verdicts)
    port_rates = None if first is None else rates_between(first, snap)
    if port_rates is not None:
        for p in data["ports"]:
            p["rates"] = port_rates.get(p["name"])
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        render(snap, ports, console, hardware=hardware, verdicts=verdicts, rates=port_rates)
    raise typer.Exit(EXIT_HEALTHY if data["healthy"] else EXIT_PROBLEM)


def _recently_up(db: str | None, snap: Snapshot) -> frozenset[str]:
    """Ports the state store saw up in the window; nothing when there is no store (never creates one)."""
    url = db or os.environ.get("SAKSI_DB") or (f"sqlite:///{_DEFAULT_DB}" if _DEFAULT_DB.exists() else None)
    if url is None:
        return frozenset()
    from monitor.check.watch import DEFAULT_WINDOW_S, up_within
    from monitor.state.store import StoreError
    from monitor.state.url import open_store

    try:
        store = open_store(url, create=False)  # a bad --db is one line here too, never SQLAlchemy's traceback
    except StoreError as exc:
        sys.stderr.write(f"saksi: no port history: {exc}\n")
        return frozenset()
    try:
        now = snap.taken_at
        last = store.last_good_snapshots().get(snap.device)
        return up_within(last, store.changes(device=snap.device, since=now - DEFAULT_WINDOW_S), now)
    finally:
        store.close()


async def _poll_once(name: str, target: SnmpTarget) -> Snapshot:
    from monitor.collectors.poll import poll_device
    from monitor.collectors.snmp import PysnmpClient

    client = PysnmpClient()
    try:
        return await poll_device(name, target, client, confirm=False)  # the flags, not the daemon's patience
    finally:
        client.close()


# Each of these modules registers its own commands on `app`; the order is the order of `saksi --help`.
_COMMAND_MODULES = ("run", "state", "alerts", "dashboards", "web", "discover", "devices", "optics", "report")


def _add_subcommands() -> None:
    from monitor.cli.config import app as config_app
    from monitor.cli.lab import app as lab_app

    app.add_typer(lab_app, name="lab")
    app.add_typer(config_app, name="config")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"monitor.cli.{name}").register(app)


_add_subcommands()


def usage_error(exc: click_errors.ClickException) -> str:
    """A usage error as the one line every other `saksi` error is, naming the command and where help is.

    >>> usage_error(click_errors.UsageError("Missing argument 'ID'."))
    "saksi: Missing argument 'ID'. (see saksi --help)\\n"
    """
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "saksi"
    message = " ".join(exc.format_message().split())
    return f"{path if path.endswith('saksi') or ' ' in path else 'saksi'}: {message} (see {path} --help)\n"


def main() -> None:
    """The entry point: a bad argument is one line on stderr and exit 2, as every other bad input."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = app(standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:  # a bare group: its help, as before
        exc.show()
        sys.exit(EXIT_UNPOLLABLE)
    except click_errors.ClickException as exc:  # click's usage errors exit 2
        sys.stderr.write(usage_error(exc))
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("saksi: aborted\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
