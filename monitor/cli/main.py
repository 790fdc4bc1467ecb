"""The `saksi` command line: what an engineer does by hand."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from monitor.collectors.snmp import PysnmpClient, SnmpTarget
from monitor.common.errors import SaksiError
from monitor.inventory import (
    AUTH_PROTOCOLS,
    MIN_V3_KEY_LENGTH,
    PRIV_PROTOCOLS,
    SNMP_VERSIONS,
    InventoryError,
    load_inventory,
)
from monitor.common.names import canonical_port
from monitor.collectors.poll import poll_device
from monitor.collectors.targets import target_for
from monitor.check.report import render, snapshot_json

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Saksi: the witness of what changed on your network.")
console = Console(width=None if sys.stdout.isatty() else 160)

EXIT_HEALTHY, EXIT_PROBLEM, EXIT_UNPOLLABLE = 0, 1, 2
DEFAULT_INVENTORY = Path("inventory")


@app.callback()
def _root(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log what happens")] = False) -> None:
    if verbose:
        logging.getLogger().setLevel(logging.INFO)
        # APScheduler logs every job run at INFO ("Running job ... executed successfully"): one line per poll
        # and per rebalance says nothing the monitor's own lines do not; its warnings still show
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _option_problem(t: SnmpTarget) -> str | None:
    """What is wrong with the --host options, in the words of the options (pysnmp would raise a traceback)."""
    if t.version not in SNMP_VERSIONS:
        return f"--snmp-version must be one of {', '.join(SNMP_VERSIONS)}"
    if not 1 <= t.port <= 65535:
        return "--port must be between 1 and 65535"
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
    args: Annotated[Optional[list[str]], typer.Argument(help="DEVICE [PORT], or just [PORT] with --host")] = None,
    inventory: Annotated[list[Path], typer.Option("--inventory", "-i", help="inventory file or folder")] = [
        DEFAULT_INVENTORY],
    host: Annotated[Optional[str], typer.Option(help="poll this address without an inventory")] = None,
    port: Annotated[int, typer.Option("--port", "-p", help="SNMP UDP port (with --host)")] = 161,
    community: Annotated[str, typer.Option(help="SNMP v1/v2c community (with --host)")] = "public",
    snmp_version: Annotated[str, typer.Option("--snmp-version", help="1, 2c or 3")] = "2c",
    v3_user: Annotated[Optional[str], typer.Option("--v3-user")] = None,
    v3_auth_protocol: Annotated[Optional[str], typer.Option("--v3-auth-protocol", help="MD5, SHA, SHA256...")] = None,
    v3_auth_key: Annotated[Optional[str], typer.Option("--v3-auth-key", envvar="SAKSI_V3_AUTH_KEY")] = None,
    v3_priv_protocol: Annotated[Optional[str], typer.Option("--v3-priv-protocol", help="DES, AES, AES256")] = None,
    v3_priv_key: Annotated[Optional[str], typer.Option("--v3-priv-key", envvar="SAKSI_V3_PRIV_KEY")] = None,
    v3_context: Annotated[str, typer.Option("--v3-context")] = "",
    timeout: Annotated[float, typer.Option(help="seconds per SNMP request")] = 2.0,
    retries: Annotated[int, typer.Option(help="retries per SNMP request")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print the snapshot as JSON")] = False,
    no_ssh: Annotated[bool, typer.Option("--no-ssh", help="skip SSH even when the device has SSH credentials")] = False,
    hardware: Annotated[bool, typer.Option("--hardware", help="show power supplies, fans, temperatures, CPU, "
                                                              "memory, storage and disks")] = False,
) -> None:
    """Poll one device now and show each port, its module, optics and neighbour.

    Exit code: 0 healthy, 1 a problem was found, 2 the device could not be polled.
    """
    args = list(args or [])
    device = None
    if host is not None:
        if len(args) > 1:
            raise _fail("with --host give at most one PORT")
        v3 = v3_user is not None
        target = SnmpTarget(
            host=host, port=port, version="3" if v3 else snmp_version, community=community, user=v3_user or "",
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
    try:
        snap = asyncio.run(_poll_once(name, target))
    except SaksiError as exc:
        raise _fail(str(exc)) from None
    if device is not None and device.ssh is not None and not no_ssh:
        from monitor.collectors.ssh import attach, collect_device

        snap = attach(snap, asyncio.run(collect_device(device)))
    if not snap.reachable:
        if as_json:
            console.print_json(json.dumps(snapshot_json(snap)))
        raise _fail(f"{name}: cannot poll: {snap.error}")
    ports = None
    if wanted_port is not None:
        want = canonical_port(wanted_port)
        ports = [p for p in snap.ports if want in (p.name, canonical_port(p.descr)) or wanted_port == str(p.ifindex)]
        if not ports:
            raise _fail(f"{name}: no port {wanted_port!r} (try one of: {', '.join(p.name for p in snap.ports[:8])}...)")
    data = snapshot_json(snap, ports)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        render(snap, ports, console, hardware=hardware)
    raise typer.Exit(EXIT_HEALTHY if data["healthy"] else EXIT_PROBLEM)


async def _poll_once(name: str, target: SnmpTarget):  # type: ignore[no-untyped-def]
    client = PysnmpClient()
    try:
        return await poll_device(name, target, client)
    finally:
        client.close()


def _add_subcommands() -> None:
    from monitor.cli.lab import app as lab_app

    app.add_typer(lab_app, name="lab")
    from monitor.cli import run as run_cli

    run_cli.register(app)
    from monitor.cli.config import app as config_app; app.add_typer(config_app, name="config")  # noqa: E702
    __import__("monitor.cli.state", fromlist=["register"]).register(app)
    __import__("monitor.cli.alerts", fromlist=["register"]).register(app)
    __import__("monitor.cli.dashboards", fromlist=["register"]).register(app)
    __import__("monitor.cli.web", fromlist=["register"]).register(app)
    __import__("monitor.cli.discover", fromlist=["register"]).register(app)
    __import__("monitor.cli.devices", fromlist=["register"]).register(app)
    __import__("monitor.cli.report", fromlist=["register"]).register(app)


_add_subcommands()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
