"""Play a scenario through the daemon users run, on a simulated clock, over real sockets.

Each lab device is a `LabAgent` on its own 127.0.0.x UDP port (and an SSH server); the lab writes an
inventory of them and runs the daemon's own `Monitor` on it — per-device schedules with seeded jitter,
the trap receiver, the far-end confirmation, a SQLite store and a points store in a temporary folder,
and the alert pipeline delivering to a webhook on 127.0.0.1. What is the lab's is only here: building
the site, applying the steps at their times, and moving the clock from one event to the next (a job
of the daemon's schedule, a step, a reboot that ends), waiting at each for the daemon to settle.
A 900-second scenario takes seconds, and two runs give the same answer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import re
import secrets
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.alerts.config import AlertingConfig, load_alerting
from monitor.alerts.pipeline import Pipeline, build_pipeline
from monitor.collectors.snmp import SnmpTarget
from monitor.daemon.monitor import Monitor, Settings, SnapshotSink, shut_down
from monitor.daemon.monitor import start as start_daemon
from monitor.daemon.schedule import SimulatedScheduler
from monitor.inventory import load_inventory
from monitor.lab import mib
from monitor.lab.agent import (
    COLD_START,
    ENT_CONFIG_CHANGE,
    LINK_DOWN,
    LINK_UP,
    LabAgent,
    MibView,
    encode_trap,
    serve,
)
from monitor.lab.demo import ALERTING, Inbox, Received
from monitor.lab.mib import ticks
from monitor.lab.model import LabDevice, LabPort, LabSite
from monitor.lab.scenario import Scenario, apply, build
from monitor.lab.ssh import LAB_SSH_USER, LabSsh, start_ssh
from monitor.model import Snapshot
from monitor.state.store import Store
from monitor.timeseries import TimeseriesSettings, from_settings, role_map
from monitor.witness.changes import Change
from monitor.witness.incidents import Incident

log = logging.getLogger(__name__)
LAB_COMMUNITY = "saksi-lab"
DELIVERY_WAIT_S = 30.0  # real seconds a delivery may take (a receiver that is down: its timeout)
TRAP_WAIT_S = 2.0  # real seconds the clock waits for traps sent over the loopback to arrive


def fmt_time(t: float) -> str:
    """Times in the lab are seconds into the scenario.

    >>> fmt_time(300.0)
    't=300s'
    """
    return f"t={t:g}s"


@dataclass
class Lab:
    """A running lab site: the model, and the agents serving it."""

    scenario: Scenario
    site: LabSite
    ports: dict[str, int] = field(default_factory=dict)  # device -> UDP port
    agents: dict[str, LabAgent] = field(default_factory=dict)  # device -> its SNMP agent (requests, busy time)
    hosts: dict[str, str] = field(default_factory=dict)  # device -> its own loopback address (127.0.0.N)
    trap_sink: tuple[str, int] | None = None  # where devices send their traps
    traps: list[dict[str, Any]] = field(default_factory=list)  # every trap sent, for the report
    sent: int = 0  # traps that really left for the sink (a silent device sends none)
    _transports: list[asyncio.DatagramTransport] = field(default_factory=list)
    _entity_seen: dict[str, float] = field(default_factory=dict)
    ssh: LabSsh | None = None  # one SSH server per device (monitor.lab.ssh); lab_device() gives the login
    _ssh_dir: tempfile.TemporaryDirectory[str] | None = None

    def target(self, device: str, timeout: float = 0.3, retries: int = 0) -> SnmpTarget:
        return SnmpTarget(host=self.hosts[device], port=self.ports[device], community=LAB_COMMUNITY,
                          timeout=timeout, retries=retries)

    def close(self) -> None:
        for t in self._transports:
            t.close()
        if self.ssh is not None:
            self.ssh.close()
        if self._ssh_dir is not None:
            self._ssh_dir.cleanup()

    def send_trap(self, device: str, trap_oid: str, port: LabPort | None = None) -> None:
        """Send the trap a real switch would (from its own agent socket) and record it."""
        dev = self.site.devices[device]
        name = {LINK_DOWN: "linkDown", LINK_UP: "linkUp", ENT_CONFIG_CHANGE: "entConfigChange",
                COLD_START: "coldStart"}.get(trap_oid, trap_oid)
        self.traps.append({"at": self.site.now, "device": device, "trap": name,
                           "port": port.name if port is not None else None})
        if self.trap_sink is None or not self.site.answers(dev):
            return
        data = encode_trap(LAB_COMMUNITY, ticks(self.site.now - dev.booted_at), trap_oid,
                           *((port.ifindex, 1 if port.admin_up else 2, 1 if port.oper_up else 2) if port else ()))
        transport = self._transports[list(self.site.devices).index(device)]
        transport.sendto(data, self.trap_sink)
        self.sent += 1

    def inventory_yaml(self, site: str | Callable[[str], str] = "lab", customer: str = "lab",
                       timeout: float = 1.0, retries: int = 2, timezone: str = "UTC",
                       targets: Callable[[str], SnmpTarget] | None = None, ssh: bool = False) -> str:
        """An inventory for `saksi run` / `saksi check` that polls this lab as it would real switches.

        `site`: one site for every device, or a function naming each device's site. `targets`: where to
        reach each device (default its agent; e.g. a lossy proxy in front of it). `ssh`: with the lab's SSH
        login, so the daemon fetches configurations (the password in a file beside the host key).
        """
        site_of = site if callable(site) else (lambda _name: site)
        sites = dict.fromkeys(site_of(name) for name in self.ports)

        def device(name: str) -> str:
            t = targets(name) if targets is not None else self.target(name, timeout, retries)
            login = f", ssh: lab, ssh_port: {self.ssh.servers[name].port}" if ssh and self.ssh is not None else ""
            return (f"  - {{name: {name}, site: {site_of(name)}, host: {t.host}, port: {t.port}, "
                    f"platform: {self.site.devices[name].platform}, snmp: lab, timeout: {t.timeout}, "
                    f"retries: {t.retries}{login}}}")

        links = [f"  - {{a: \"{link['a']}\", b: \"{link['b']}\", role: {link.get('role', 'access')}}}"
                 for link in self.scenario.site.get("links") or []
                 if all(":" in str(link[e]) and str(link[e]).split(":", 1)[0] in self.ports for e in ("a", "b"))]
        login = ""
        if ssh and self.ssh is not None:
            secret = self.ssh.directory / "password"
            secret.write_text(self.ssh.password)
            login = (f"  ssh:\n    lab: {{username: {LAB_SSH_USER}, password: \"${{file:{secret}}}\", "
                     f"known_hosts: \"{self.ssh.known_hosts}\"}}\n")
        return "".join([
            f"customers:\n  - {{name: {customer}}}\nsites:\n",
            *(f"  - {{name: {s}, customer: {customer}, timezone: {timezone}}}\n" for s in sites),
            f"credentials:\n  snmp:\n    lab: {{version: 2c, community: \"{LAB_COMMUNITY}\"}}\n", login,
            f"devices:\n{chr(10).join(device(name) for name in self.ports)}\n",
            f"links:\n{chr(10).join(links)}\n" if links else "",
        ])

    def settle(self, now: float, forced: bool = False) -> None:
        """Settle the model; with traps on, devices report what changed (link and module changes)."""
        changed = self.site.settle(now)
        entity_changes = [d.name for d in self.site.devices.values()
                          if self._entity_seen.setdefault(d.name, d.entity_changed_at) != d.entity_changed_at]
        for name in entity_changes:
            self._entity_seen[name] = self.site.devices[name].entity_changed_at
        if not (self.scenario.traps or forced):
            return
        for port, up in changed:
            self.send_trap(port.device.name, LINK_UP if up else LINK_DOWN, port)
        for name in entity_changes:
            self.send_trap(name, ENT_CONFIG_CHANGE)


async def start(scn: Scenario, clock: Callable[[], float] | None = None, ssh: bool = True,
                snmp_port: int = 0) -> Lab:
    """Build the site and start one agent (and one SSH server) per device; `clock` gives the time they show.

    `snmp_port`: every agent on this UDP port of its own address, as real switches all answer on 161, so
    `saksi discover` can follow LLDP's management addresses (0: each agent on a port of its own).
    """
    site = build(scn)
    lab = Lab(scn, site)
    # each device its own loopback address, as traps (and SSH known_hosts) tell devices apart by address
    lab.hosts = {name: f"127.0.0.{10 + n}" for n, name in enumerate(site.devices)}
    if ssh:
        lab._ssh_dir = tempfile.TemporaryDirectory(prefix="saksi-lab-ssh-")
        lab.ssh = start_ssh(site, Path(lab._ssh_dir.name), secrets.token_urlsafe(16), hosts=lab.hosts)
    for name, dev in site.devices.items():
        cache: dict[int, MibView] = {}

        def view(dev: LabDevice = dev, cache: dict[int, MibView] = cache) -> MibView:
            if clock is not None and clock() > site.now:
                site.settle(clock())
            if site.version not in cache:
                cache.clear()
                cache[site.version] = mib.render(site, dev, site.now, lab.hosts)
            return cache[site.version]

        transport, agent, port = await serve(view, LAB_COMMUNITY, functools.partial(site.answers, dev),
                                             host=lab.hosts[name], port=snmp_port)
        lab.ports[name], lab.agents[name] = port, agent
        lab._transports.append(transport)
    return lab


@dataclass
class RunResult:
    scenario: str
    polls: int
    snapshots: dict[str, list[Snapshot]]  # device -> snapshots in time order
    incidents: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    traps: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)  # what the local webhook got (default alerting)
    jitter: float = 0.0  # the schedule's: a poll due at t runs within [t, t + jitter]

    def at(self, device: str, t: float) -> Snapshot:
        """The device's snapshot of the poll due at simulated time t: the last one taken by t plus the jitter."""
        best = None
        for s in self.snapshots[device]:
            if s.taken_at <= t + self.jitter:
                best = s
        if best is None:
            raise KeyError(f"no snapshot of {device} at or before {t}")
        return best

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "polls": self.polls, "incidents": self.incidents,
                "notifications": self.notifications, "traps": self.traps}


def _explicit_trap(lab: Lab, args: dict[str, Any]) -> None:
    dev = lab.site.devices[args["device"]]
    port = dev.port(args["port"]) if args.get("port") else None
    if port is not None:
        lab.send_trap(dev.name, LINK_UP if port.oper_up else LINK_DOWN, port)
    else:
        lab.send_trap(dev.name, ENT_CONFIG_CHANGE)


class Recorder:
    """The lab's own sink beside the daemon's: every snapshot and change, kept for the report and the tests."""

    def __init__(self, devices: Sequence[str]) -> None:
        self.snapshots: dict[str, list[Snapshot]] = {d: [] for d in devices}
        self.changes: list[Change] = []

    def write_snapshot(self, snap: Snapshot, site: str, customer: str) -> None:
        self.snapshots.setdefault(snap.device, []).append(snap)

    def write_events(self, changes: list[Change], incidents: list[Incident], site: str, customer: str) -> None:
        self.changes += changes


class SimClock:
    """The scenario's clock: it moves only when the lab moves it."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


async def run(scn: Scenario, trap_sink: tuple[str, int] | None = None,
              alerting: AlertingConfig | Path | None = None, sinks: Sequence[SnapshotSink] = (),
              network: Callable[[Lab], Awaitable[Callable[[str], SnmpTarget]]] | None = None,
              seed: str | int | None = None, people: Callable[[Store, float], None] | None = None) -> RunResult:
    """Play the scenario through the daemon: its jobs fire at their simulated times, steps at theirs.

    `alerting`: the pipeline's configuration (default: the demo's, delivering to a webhook on 127.0.0.1).
    `trap_sink`: send the devices' traps there instead of to the daemon. `sinks`: more snapshot sinks.
    `network`: how the daemon reaches each device (e.g. through a lossy proxy). `seed`: the jitter's seed
    (default the scenario's name: the same scenario, the same schedule). `people`: what engineers do,
    called with the daemon's store after each moment of the scenario (an acknowledgement at t=180 s).
    """
    lab = await start(scn)
    inbox = Inbox().start() if alerting is None else None
    try:
        with tempfile.TemporaryDirectory(prefix="saksi-lab-run-") as tmp:
            return await _play(lab, scn, Path(tmp), trap_sink, alerting, inbox, sinks, network,
                               scn.name if seed is None else seed, people)
    finally:
        lab.close()
        if inbox is not None:
            inbox.stop()


async def _play(lab: Lab, scn: Scenario, tmp: Path, trap_sink: tuple[str, int] | None,
                alerting: AlertingConfig | Path | None, inbox: Inbox | None, sinks: Sequence[SnapshotSink],
                network: Callable[[Lab], Awaitable[Callable[[str], SnmpTarget]]] | None,
                seed: str | int, people: Callable[[Store, float], None] | None) -> RunResult:
    targets = await network(lab) if network is not None else None
    inventory = tmp / "inventory.yaml"
    inventory.write_text(lab.inventory_yaml(site=scn.name, timeout=0.3, retries=0, targets=targets, ssh=True))
    inv = load_inventory(inventory)
    if inbox is not None:
        (tmp / "alerting.yaml").write_text(ALERTING.format(port=inbox.port))
        alerting = tmp / "alerting.yaml"
    config = load_alerting(alerting) if isinstance(alerting, Path) else alerting
    assert config is not None
    store = Store(f"sqlite:///{tmp / 'saksi.db'}")
    pipeline = build_pipeline(config, store, history_root=tmp / "config", fmt=fmt_time)
    series = from_settings(TimeseriesSettings(points_db=tmp / "points.db", spool_dir=tmp / "spool"),
                           role_map((str(link.a), str(link.b), link.role) for link in inv.links))
    recorder = Recorder(list(lab.site.devices))
    clock = SimClock()
    own_traps = scn.traps and trap_sink is None
    settings = Settings(interval_s=scn.poll_interval, jitter_s=Settings.jitter_for(scn.poll_interval),
                        trap_port=0 if own_traps else None, config_root=tmp / "config", jitter_seed=seed,
                        jitter_resolution_s=1.0)
    monitor = Monitor(inv, store, settings, clock=clock, sinks=[series, recorder, *sinks], pipeline=pipeline,
                      fmt_time=fmt_time)
    scheduler = SimulatedScheduler(clock)
    running = await start_daemon(monitor, scheduler, tick=pipeline.tick)
    lab.trap_sink = ("127.0.0.1", running.trap_port) if own_traps and running.trap_port else trap_sink
    try:
        await _drive(lab, scn, monitor, scheduler, clock, pipeline, own_traps,
                     None if people is None else lambda t: people(store, t))
    finally:
        await shut_down(monitor, running)
        await asyncio.to_thread(pipeline.close, 30.0)
        series.close()
    try:
        incidents = [i.public() for i in store.incidents(site=scn.name)]
        delivered = pipeline.state.deliveries(status=("delivered",))
    finally:
        store.close()
    return RunResult(scenario=scn.name, polls=monitor.polls, snapshots=recorder.snapshots, traps=lab.traps,
                     incidents=incidents, changes=[c.evidence() for c in recorder.changes],
                     notifications=notifications(pipeline.sent, delivered),
                     received=list(inbox.received) if inbox is not None else [], jitter=settings.jitter_s)


async def _drive(lab: Lab, scn: Scenario, monitor: Monitor, scheduler: SimulatedScheduler, clock: SimClock,
                 pipeline: Pipeline, wait_traps: bool, people: Callable[[float], None] | None) -> None:
    """Move the clock from event to event until `run_until`: a step (applied, its traps sent and answered)
    or the daemon's jobs due then. Steps come before jobs due at the same moment, as a change made just
    before a poll is what that poll sees."""
    pending = list(scn.steps)
    site = lab.site
    while True:
        t_step = pending[0].at if pending else math.inf
        t_job = scheduler.next_time()
        t_boot = min((d.down_until for d in site.devices.values()
                      if d.down_until is not None and d.down_until > site.now), default=math.inf)
        t = min(t_step, t_boot, math.inf if t_job is None else t_job)
        if t > scn.run_until:
            break
        clock.t = t
        if t_boot <= t and t_boot < t_step:  # a reboot ends: links come back, the device cold-starts
            back = [d.name for d in site.devices.values() if d.down_until == t]
            lab.settle(t)
            for name in back if scn.traps else ():
                lab.send_trap(name, COLD_START)
        elif t_step <= t:
            step = pending.pop(0)
            apply(site, scn, step)
            lab.settle(t)
            if step.do == "send_trap":
                _explicit_trap(lab, step.args)
        else:
            lab.settle(t)
            for job in scheduler.due(t):
                await job.func(*job.args)
        await _quiet(lab, monitor, wait_traps)
        # the simulated clock stands still while a message is on its way, so a delivery is recorded at the
        # moment it was sent whatever the machine's load (the same scenario gives the same answer every time)
        await asyncio.to_thread(pipeline.workers.wait, DELIVERY_WAIT_S)
        if pipeline.workers.ready.is_set():
            await asyncio.to_thread(pipeline.record_deliveries, t)
        if people is not None:
            await asyncio.to_thread(people, t)


async def _quiet(lab: Lab, monitor: Monitor, wait_traps: bool) -> None:
    """Wait for the traps sent so far to reach the daemon, and for every poll they (or a far end) started."""
    if wait_traps:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TRAP_WAIT_S
        while (monitor.trap_stats is None or monitor.trap_stats.received < lab.sent) and loop.time() < deadline:
            await asyncio.sleep(0.002)
    await monitor.idle()


_KEY = re.compile(r"^Message key: (\S+)$", re.MULTILINE)


def notifications(sent: Sequence[dict[str, Any]], delivered: Sequence[Any]) -> list[dict[str, Any]]:
    """Each message a receiver took, with the decision that sent it (matched by the message key)."""
    decided = {}
    for n in sent:
        m = _KEY.search(n.get("body") or "")
        if m is not None:
            decided[m.group(1)] = n
    out = []
    for d in delivered:
        m = _KEY.search(d.body)
        key = m.group(1) if m else ""
        n = decided.get(key, {})
        out.append({"transition": d.transition, "incident": d.ref, "receiver": d.target, "owner": n.get("owner"),
                    "key": key, "at": n.get("at"), "cause": n.get("cause"), "device": n.get("device"),
                    "port": n.get("port"), "title": d.title})
    return out
