"""`saksi discover`: one seed address and credentials in, a site's strict inventory file out."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from monitor.discover.crawl import Credential, Discovery, Scope
    from monitor.discover.inventory_file import Merge
    from monitor.discover.site import Draft

EXIT_OK, EXIT_ERROR = 0, 2


def register(app: typer.Typer) -> None:
    """Add `saksi discover` to the main app."""
    app.command("discover")(discover)


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"saksi: {message}\n")
    return typer.Exit(EXIT_ERROR)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def credentials(community_env: list[str], v3_user: str | None, v3_auth_protocol: str | None,
                v3_auth_key_env: str | None, v3_priv_protocol: str | None,
                v3_priv_key_env: str | None, v3_context: str = "") -> list[Credential]:
    """The credential sets, in the order they are tried: communities first, then SNMPv3."""
    from monitor.discover.crawl import Credential, DiscoveryError
    from monitor.inventory import AUTH_PROTOCOLS, PRIV_PROTOCOLS

    out = [Credential(f"v2c-{_slug(name)}", "2c", community_env=name) for name in community_env]
    if v3_user is not None:
        for kind, proto, env, choices in (("auth", v3_auth_protocol, v3_auth_key_env, AUTH_PROTOCOLS),
                                          ("priv", v3_priv_protocol, v3_priv_key_env, PRIV_PROTOCOLS)):
            if (proto is None) != (env is None):
                raise DiscoveryError(f"--v3-{kind}-protocol and --v3-{kind}-key-env must be given together")
            if proto is not None and proto.upper() not in choices:
                raise DiscoveryError(f"--v3-{kind}-protocol must be one of {', '.join(choices)}")
        if v3_priv_protocol and not v3_auth_protocol:
            raise DiscoveryError("SNMPv3 privacy (--v3-priv-protocol) needs authentication (--v3-auth-protocol)")
        out.append(Credential(f"v3-{_slug(v3_user)}", "3", user=v3_user,
                              auth_protocol=v3_auth_protocol.upper() if v3_auth_protocol else None,
                              auth_key_env=v3_auth_key_env,
                              priv_protocol=v3_priv_protocol.upper() if v3_priv_protocol else None,
                              priv_key_env=v3_priv_key_env, context=v3_context))
    if not out:
        raise DiscoveryError("give at least one credential set: --community-env NAME or --v3-user USER ...")
    for cred in out:
        for name in cred.env_names():
            if not os.environ.get(name):
                raise DiscoveryError(f"${name} is not set: export it with the secret (the inventory will say "
                                     f"${{env:{name}}}, never the secret itself)")
    return out


@contextmanager
def _progress(console: Console) -> Iterator[Callable[[str], None]]:
    """A spinner with the current step on a terminal; silence otherwise (the report comes at the end)."""
    if not console.is_terminal:
        yield lambda _text: None
        return
    with console.status("discovering...", spinner="dots") as status:
        yield lambda text: status.update(f"discovering: {text}")


def report_json(d: Discovery, site: Draft, merged: Merge | None, written: str | None) -> dict[str, Any]:
    return {
        "seed": d.seed,
        "devices": [{"name": dev.name, "host": dev.host, "platform": dev.platform, "snmp": dev.snmp,
                     "depth": dev.depth, "problems": list(dev.problems)} for dev in site.devices],
        "links": [{"a": link.a, "b": link.b, "role": link.role, "protocol": link.protocol} for link in site.links],
        "unreached": [{"address": u.address, "name": u.name, "depth": u.depth, "reason": u.reason,
                       "detail": u.detail, "seen_by": u.seen_by} for u in d.unreached],
        "skipped_links": site.skipped,
        "update": None if merged is None else {
            "added_devices": merged.added_devices, "updated_devices": merged.updated_devices,
            "added_links": merged.added_links, "kept_links": merged.kept_links, "not_seen": merged.not_seen},
        "written": written,
    }


def _show(console: Console, d: Discovery, site: Draft, merged: Merge | None, written: str | None) -> None:
    from rich.table import Table

    table = Table(title=f"Found from {d.seed}: {len(site.devices)} devices, {len(site.links)} links")
    for col in ("device", "address", "platform", "credential", "depth", "neighbours unknown (tables that failed)"):
        table.add_column(col)
    for dev in site.devices:
        table.add_row(dev.name, dev.host, dev.platform, dev.snmp, str(dev.depth), "; ".join(dev.problems) or "-")
    console.print(table)
    for link in site.links:
        console.print(f"  link {link.a} -- {link.b} ({link.role}, by {link.protocol})")
    if d.unreached:
        missed = Table(title="Not reached, and why")
        for col in ("address", "neighbour", "seen by", "reason", "detail"):
            missed.add_column(col)
        for u in d.unreached:
            missed.add_row(u.address or "-", u.name or "-", u.seen_by or "(seed)", u.reason, u.detail)
        console.print(missed)
    for line in site.skipped:
        console.print(f"  not a link: {line}")
    if merged is not None:
        for what, items in (("added device", merged.added_devices), ("updated", merged.updated_devices),
                            ("added link", merged.added_links),
                            ("kept the file's link instead of", merged.kept_links),
                            ("in the file, not seen now (kept)", merged.not_seen)):
            for item in items:
                console.print(f"  {what}: {item}")
    if written:
        console.print(f"inventory written to {written} (saksi run --inventory {written})")


def _checked(text: str) -> None:
    """The strict loader must accept what is written: a file `saksi run` refuses is not an answer."""
    from monitor.inventory import InventoryError, load_inventory

    with tempfile.TemporaryDirectory(prefix="saksi-discover-") as tmp:
        path = Path(tmp) / "inventory.yaml"
        path.write_text(text)
        try:
            load_inventory(path)
        except InventoryError as exc:
            raise _fail(f"the inventory discovered does not load, nothing written: {exc}") from None


def discover(
    seed: Annotated[str, typer.Argument(help="the first device's management address (e.g. the core switch)")],
    site: Annotated[str, typer.Option("--site", help="the site the devices belong to")],
    customer: Annotated[str | None, typer.Option(
        "--customer", help="the site's customer, when the site is new (default: the site's name)")] = None,
    community_env: Annotated[list[str] | None, typer.Option(
        "--community-env", metavar="NAME",
        help="environment variable holding a v1/v2c community; repeat to try several")] = None,
    v3_user: Annotated[str | None, typer.Option("--v3-user", help="SNMPv3 user to try (after the communities)")]
    = None,
    v3_auth_protocol: Annotated[str | None, typer.Option("--v3-auth-protocol", help="MD5, SHA, SHA256...")] = None,
    v3_auth_key_env: Annotated[str | None, typer.Option(
        "--v3-auth-key-env", metavar="NAME", help="environment variable holding the SNMPv3 auth key")] = None,
    v3_priv_protocol: Annotated[str | None, typer.Option("--v3-priv-protocol", help="DES, AES, AES256")] = None,
    v3_priv_key_env: Annotated[str | None, typer.Option(
        "--v3-priv-key-env", metavar="NAME", help="environment variable holding the SNMPv3 privacy key")] = None,
    v3_context: Annotated[str, typer.Option("--v3-context", help="SNMPv3 context name")] = "",
    max_depth: Annotated[int, typer.Option("--max-depth", help="hops from the seed to follow")] = 3,
    only: Annotated[list[str] | None, typer.Option(
        "--only", metavar="CIDR", help="only ever contact addresses in this network; repeatable "
                                       "(default: any address a neighbour advertises)")] = None,
    snmp_port: Annotated[int, typer.Option("--snmp-port", help="SNMP UDP port of every device")] = 161,
    timeout: Annotated[float, typer.Option(help="seconds per SNMP request")] = 2.0,
    retries: Annotated[int, typer.Option(help="retries per SNMP request")] = 1,
    out: Annotated[Path | None, typer.Option(
        "--out", help="write a new inventory file here (default: print it)")] = None,
    update: Annotated[Path | None, typer.Option(
        "--update", help="fold what is found into this inventory file, keeping its hand edits")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print what was found as JSON")] = False,
) -> None:
    """Find a site's devices and links from one seed address (LLDP, or CDP) and write its inventory.

    Secrets never reach the file: it refers to the environment variables named here (${env:NAME}).
    Exit code: 0 written, 2 nothing to write (the seed did not answer) or bad options.
    """
    import asyncio

    from rich.console import Console

    from monitor.common.errors import SaksiError
    from monitor.discover.crawl import DiscoveryError, Scope
    from monitor.discover.inventory_file import merge
    from monitor.discover.site import draft

    if out is not None and update is not None:
        raise _fail("give --out or --update, not both")
    if update is not None and not update.is_file():
        raise _fail(f"--update {update}: no such file (use --out to write a new one)")
    if out is not None and out.exists():
        raise _fail(f"--out {out} exists: --update {out} folds the discovery into it and keeps its hand edits")
    if not 1 <= snmp_port <= 65535 or not (math.isfinite(timeout) and timeout > 0) or retries < 0:
        raise _fail("--snmp-port must be 1-65535, --timeout > 0 and --retries >= 0")
    try:
        creds = credentials(community_env or [], v3_user, v3_auth_protocol, v3_auth_key_env, v3_priv_protocol,
                            v3_priv_key_env, v3_context)
        scope = Scope.parse(only or [], max_depth)
    except DiscoveryError as exc:
        raise _fail(str(exc)) from None
    if not scope.allows(seed):
        raise _fail(f"the seed {seed} is outside --only {', '.join(only or [])}")
    console = Console(stderr=out is None and update is None and not as_json,
                      width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True)
    with _progress(err) as progress:
        found = asyncio.run(_crawl(seed, creds, scope, snmp_port, timeout, retries, progress))
    if not found.found:
        why = found.unreached[0] if found.unreached else None
        raise _fail(f"the seed {seed} did not answer: {why.reason}: {why.detail}" if why else f"{seed}: no answer")
    site_draft = draft(found)
    header = (f"Written by `saksi discover {seed}` on {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}.\n"
              "Edit freely: `saksi discover ... --update FILE` keeps what you add and change\n"
              "(it owns only host, port and platform of the devices it finds).")
    try:
        text, merged = merge(update.read_text() if update else None, site_draft, creds, site=site,
                             customer=customer or site, snmp_port=snmp_port, header=header)
    except SaksiError as exc:
        raise _fail(str(exc)) from None
    _checked(text)
    target = update or out
    if target is not None:
        target.write_text(text)
    elif not as_json:
        sys.stdout.write(text)
    if as_json:
        sys.stdout.write(json.dumps(report_json(found, site_draft, merged if update else None,
                                                str(target) if target else None), indent=2) + "\n")
    else:
        _show(console, found, site_draft, merged if update else None, str(target) if target else None)


async def _crawl(seed: str, creds: list[Credential], scope: Scope, port: int, timeout: float, retries: int,
                 progress: Callable[[str], None]) -> Discovery:
    from monitor.collectors.snmp import PysnmpClient
    from monitor.discover.crawl import crawl

    client = PysnmpClient()
    try:
        return await crawl(client, seed, creds, scope, port=port, timeout=timeout, retries=retries,
                           progress=progress)
    finally:
        client.close()
