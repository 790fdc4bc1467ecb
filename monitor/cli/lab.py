"""`saksi lab`: run scenarios on a simulated site, keep one up for manual work, or show the demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.panel import Panel

    from monitor.lab import runner, scenario
    from monitor.model import Snapshot

app = typer.Typer(no_args_is_help=True, help="The lab: simulated switches on 127.0.0.1 that you can break.")
DEMO = Path(__file__).parent.parent / "lab" / "scenarios" / "sfp-moved-on-core.yaml"  # beside monitor.lab.scenario


def _console() -> Console:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 140)


def _load(path: Path) -> scenario.Scenario:
    from monitor.common.errors import SaksiError
    from monitor.lab import scenario

    try:
        return scenario.load(path)
    except SaksiError as exc:
        sys.stderr.write(f"saksi: {exc}\n")
        raise typer.Exit(2) from None


@app.command("run")
def run_cmd(path: Annotated[Path, typer.Argument(help="scenario YAML")],
            alerting: Annotated[Path | None, typer.Option(
                "--alerting", help="alerting configuration (default: the demo's, to a webhook on 127.0.0.1)")] = None,
            as_json: Annotated[bool, typer.Option("--json", help="print the incidents and notifications as JSON")] = False) -> None:
    """Play a scenario through the daemon on a simulated clock; report the incidents in its store and the
    notifications its alert pipeline delivered."""
    import asyncio
    import json

    from monitor.alerts.config import AlertingConfigError, load_alerting
    from monitor.cli.progress import progress
    from monitor.lab import runner

    scn = _load(path)
    try:
        config = None if alerting is None else load_alerting(alerting)
    except AlertingConfigError as exc:
        sys.stderr.write(f"saksi: {exc}\n")
        raise typer.Exit(2) from None
    console = _console()
    with progress(console, f"playing {scn.name} ({scn.run_until:g} simulated seconds)", False if as_json else None):
        result = asyncio.run(runner.run(scn, alerting=config))
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
        return
    show_run(result, scn, console)


def _port_view(s: Snapshot) -> dict[str, tuple[str, str, str]]:
    from monitor.common.names import port_label

    out = {}
    for p in s.ports:
        t, n = s.transceiver_in(p.ifindex), s.neighbor_on(p.ifindex)
        out[port_label(p.name)] = (p.oper, t.serial if t else "-", f"{n.sys_name} {port_label(n.port)}" if n else "-")
    return out


def _shown_arg(key: str, value: object) -> str:
    """A scenario step's argument as the rest of the output shows it: ports by their canonical name.

    >>> _shown_arg("to_port", "Gi1/0/50"), _shown_arg("peer", "dist-sw2:Gi1/0/25"), _shown_arg("rx_dbm", -30)
    ('GigabitEthernet1/0/50', 'dist-sw2:GigabitEthernet1/0/25', '-30')
    """
    from monitor.common.names import port_label

    if key in ("port", "to_port") and isinstance(value, str):
        return port_label(value)
    if key == "peer" and isinstance(value, str) and ":" in value:
        device, _, port = value.partition(":")
        return f"{device}:{port_label(port)}"
    return str(value)


def show_run(result: runner.RunResult, scn: scenario.Scenario, console: Console) -> None:
    from rich.table import Table

    console.print(f"[bold]{scn.name}[/]: {result.polls} polls by the daemon over {scn.run_until:g} simulated seconds")
    for step in scn.steps:
        args = " ".join(f"{k}={_shown_arg(k, v)}" for k, v in step.args.items())
        console.print(f"  t={step.at:g}s  {step.do} {args}")
    first_change = min((s.at for s in scn.steps), default=0.0)
    table = Table(title="What the monitor saw (ports whose state, module or neighbour changed)")
    for col in ("device", "port", "before (oper / module / neighbour)", "after"):
        table.add_column(col)
    for device, snaps in result.snapshots.items():
        before = next((s for s in reversed(snaps) if s.taken_at < first_change), snaps[0])
        after = snaps[-1]
        if not after.reachable or not before.reachable:
            table.add_row(device, "-", "reachable" if before.reachable else "unreachable",
                          "reachable" if after.reachable else "unreachable")
            continue
        b, a = _port_view(before), _port_view(after)
        for port in b.keys() | a.keys():
            if b.get(port) != a.get(port):
                table.add_row(device, port, " / ".join(b.get(port, ("-",) * 3)), " / ".join(a.get(port, ("-",) * 3)))
    console.print(table)
    for inc in result.incidents:
        console.print(incident_panel(inc))
    for n in result.notifications:
        console.print(f"[bold]notification[/] {n['transition']} {n['incident']} to {n['receiver']} "
                      f"(owner {n['owner'] or '-'}, key {n['key']}): {n['title']}")


def _short(v: object) -> str:
    if isinstance(v, dict):
        return " ".join(str(x) for x in v.values() if x)
    return "-" if v is None else str(v)


def incident_panel(inc: dict[str, object]) -> Panel:
    """An incident as the engineer reads it: cause, summary, and the evidence that supports it."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table

    from monitor.common.names import port_label

    table = Table(box=None, show_header=True, pad_edge=False)
    for col in ("t (s)", "source", "device", "port", "what", "before → after"):
        table.add_column(col)
    for e in inc["evidence"]:  # type: ignore[attr-defined]
        table.add_row(f"{e['at']:g}", e["source"], e["device"], port_label(e["port"]) if e["port"] else "-",
                      e["what"], f"{_short(e['before'])} → {_short(e['after'])}" + (f"  ({e['detail']})"
                                                                                    if e.get("detail") else ""))
    state = f"resolved at t={inc['resolved_at']:g}s: {inc['resolution']}" if inc["resolved_at"] is not None \
        else "open"
    title = f"{inc['id']} {inc['cause']} — {inc['device']} {port_label(str(inc['port'])) if inc['port'] else ''}"
    body = Group(f"[bold]{inc['summary']}[/]", f"confidence {inc['confidence']}; {state}; "
                 f"detected t={inc['detected_at']:g}s", table)
    return Panel(body, title=title, title_align="left")


@app.command("demo")
def demo() -> None:
    """The SFP story: a backbone module moved on the core switch, and what Saksi saw."""
    import asyncio

    from rich.panel import Panel

    from monitor.lab import runner

    scn = _load(DEMO)
    console = _console()
    console.print("[bold]Saksi demo[/] — a simulated customer site on 127.0.0.1 (real SNMP over UDP, "
                  "simulated clock)\n")
    result = asyncio.run(runner.run(scn))  # the daemon, with the demo's alerting to a webhook on 127.0.0.1
    show_run(result, scn, console)
    for m in result.received:
        if m.path != "/noc":  # the NOC channel got the same message; show the one the owner received
            console.print(Panel(m.body, title=f"what on-call {m.path.strip('/')} received (webhook on "
                                f"127.0.0.1): {m.title}", title_align="left"))


@app.command("up")
def up(path: Annotated[Path, typer.Argument(help="scenario YAML")],
       trap_sink: Annotated[str | None, typer.Option(
           "--trap-sink", metavar="HOST:PORT", help="send the devices' traps here (e.g. saksi run's --trap-port)")] = None,
       write_inventory: Annotated[Path | None, typer.Option(
           "--write-inventory", help="write an inventory of the running site here, for saksi run / check")] = None,
       snmp_port: Annotated[int, typer.Option(
           "--snmp-port", help="every device's agent on this UDP port of its own address (e.g. 161, as real "
                               "switches), so saksi discover can walk the site; default: a free port each")] = 0,
       ) -> None:
    """Keep the scenario's site running in real time (steps at their times); Ctrl-C stops it."""
    import asyncio

    scn = _load(path)
    sink = None
    if trap_sink is not None:
        host, _, port = trap_sink.rpartition(":")
        if not host or not port.isdigit():
            sys.stderr.write(f"saksi: --trap-sink {trap_sink}: expected HOST:PORT\n")
            raise typer.Exit(2)
        sink = (host, int(port))
    try:
        asyncio.run(_up(scn, _console(), sink, write_inventory, snmp_port))
    except OSError as exc:  # --snmp-port taken (an snmpd on 0.0.0.0:161) or not allowed (below 1024, not root)
        sys.stderr.write(f"saksi: cannot start the lab's agents on udp/{snmp_port}: {exc.strerror or exc}\n")
        raise typer.Exit(2) from None


async def _up(scn: scenario.Scenario, console: Console, trap_sink: tuple[str, int] | None = None,
              write_inventory: Path | None = None, snmp_port: int = 0) -> None:
    import asyncio
    import signal

    from monitor.lab import runner, scenario

    loop = asyncio.get_running_loop()
    start = loop.time()
    # whole seconds: the agents re-render a device's MIB (~25 ms) when the time they show moves
    lab = await runner.start(scn, clock=lambda: float(int(loop.time() - start)), snmp_port=snmp_port)
    lab.trap_sink = trap_sink
    for name, port in lab.ports.items():
        host = lab.hosts[name]
        console.print(f"{name}: snmp {host}:{port} community {runner.LAB_COMMUNITY}  "
                      f"(saksi check --host {host} --port {port} --community {runner.LAB_COMMUNITY})")
    if write_inventory is not None:
        write_inventory.write_text(lab.inventory_yaml(site=scn.name, ssh=True))  # config history works too
        console.print(f"inventory written to {write_inventory} (saksi run --inventory {write_inventory})")
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    pending = list(scn.steps)
    try:
        while not stop.is_set():
            now = loop.time() - start
            while pending and pending[0].at <= now:
                step = pending.pop(0)
                scenario.apply(lab.site, scn, step)
                lab.settle(now, forced=trap_sink is not None)  # the devices trap what changed
                console.print(f"t={now:.0f}s applied step {step.number}: {step.do}")
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except TimeoutError:
                pass
    finally:
        lab.close()
        console.print("lab stopped")
