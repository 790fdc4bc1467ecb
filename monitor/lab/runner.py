"""Run a scenario against the real monitor on a simulated clock, over real sockets.

Each lab device is a `LabAgent` on its own 127.0.0.1 UDP port; the monitor polls it with the same
`poll_device` and `PysnmpClient` it uses on real switches. Time only moves when the runner says so,
so a 900-second scenario finishes in seconds and two runs give the same answer.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.witness.changes import Change
from monitor.collectors.snmp import PysnmpClient, SnmpTarget
from monitor.collectors.traps import Trap, TrapReceiver, listen
from monitor.confighist.history import ConfigHistory
from monitor.confighist.watch import needs_fetch, port_config, version_changes
from monitor.witness.correlate import Correlator
from monitor.witness.incidents import IncidentSink
from monitor.lab import mib
from monitor.lab.agent import COLD_START, ENT_CONFIG_CHANGE, LINK_DOWN, LINK_UP, MibView, encode_trap, serve
from monitor.lab.mib import ticks
from monitor.lab.model import LabPort, LabSite
from monitor.lab.scenario import Scenario, apply, build
from monitor.lab.ssh import LabSsh, poll_config, start_ssh
from monitor.model import Snapshot
from monitor.collectors.poll import poll_device
from monitor.witness.topology import Topology
from monitor.witness.observer import Witness

log = logging.getLogger(__name__)
LAB_COMMUNITY = "saksi-lab"
CONFIG_INTERVAL_S = 600.0  # a configuration fetch at least this often, besides the device's own signal


@dataclass
class Lab:
    """A running lab site: the model, and the agents serving it."""

    scenario: Scenario
    site: LabSite
    ports: dict[str, int] = field(default_factory=dict)  # device -> UDP port
    hosts: dict[str, str] = field(default_factory=dict)  # device -> its own loopback address (127.0.0.N)
    trap_sink: tuple[str, int] | None = None  # where devices send their traps
    traps: list[dict[str, Any]] = field(default_factory=list)  # every trap sent, for the report
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

    def inventory_yaml(self, site: str | Callable[[str], str] = "lab", customer: str = "lab",
                       timeout: float = 1.0, retries: int = 2, timezone: str = "UTC") -> str:
        """An inventory for `saksi run` / `saksi check` that polls this lab as it would real switches.

        `site`: one site for every device, or a function naming each device's site.
        """
        site_of = site if callable(site) else (lambda _name: site)
        sites = dict.fromkeys(site_of(name) for name in self.ports)
        devices = "\n".join(
            f"  - {{name: {name}, site: {site_of(name)}, host: {self.hosts[name]}, port: {port}, "
            f"platform: {self.site.devices[name].platform}, snmp: lab, timeout: {timeout}, retries: {retries}}}"
            for name, port in self.ports.items())
        links = [f"  - {{a: \"{link['a']}\", b: \"{link['b']}\", role: {link.get('role', 'access')}}}"
                 for link in self.scenario.site.get("links") or []
                 if all(":" in str(link[e]) and str(link[e]).split(":", 1)[0] in self.ports for e in ("a", "b"))]
        return "".join([
            f"customers:\n  - {{name: {customer}}}\nsites:\n",
            *(f"  - {{name: {s}, customer: {customer}, timezone: {timezone}}}\n" for s in sites),
            f"credentials:\n  snmp:\n    lab: {{version: 2c, community: \"{LAB_COMMUNITY}\"}}\n",
            f"devices:\n{devices}\n",
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

        def view(dev=dev, cache=cache) -> MibView:  # type: ignore[no-untyped-def]
            if clock is not None and clock() > site.now:
                site.settle(clock())
            if site.version not in cache:
                cache.clear()
                cache[site.version] = mib.render(site, dev, site.now, lab.hosts)
            return cache[site.version]

        transport, _, port = await serve(view, LAB_COMMUNITY, lambda dev=dev: site.answers(dev), host=lab.hosts[name],
                                         port=snmp_port)
        lab.ports[name] = port
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

    def at(self, device: str, t: float) -> Snapshot:
        """The last snapshot of a device taken at or before simulated time t."""
        best = None
        for s in self.snapshots[device]:
            if s.taken_at <= t:
                best = s
        if best is None:
            raise KeyError(f"no snapshot of {device} at or before {t}")
        return best

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "polls": self.polls, "incidents": self.incidents,
                "notifications": self.notifications, "traps": self.traps}


def _events(scn: Scenario) -> list[float]:
    times = {0.0}
    t = 0.0
    while t <= scn.run_until:
        times.add(t)
        t += scn.poll_interval
    return sorted(x for x in times if x <= scn.run_until)


def _explicit_trap(lab: Lab, args: dict[str, Any]) -> None:
    dev = lab.site.devices[args["device"]]
    port = dev.port(args["port"]) if args.get("port") else None
    if port is not None:
        lab.send_trap(dev.name, LINK_UP if port.oper_up else LINK_DOWN, port)
    else:
        lab.send_trap(dev.name, ENT_CONFIG_CHANGE)


async def run(scn: Scenario, trap_sink: tuple[str, int] | None = None, pipeline: IncidentSink | None = None,
              on_round: Callable[[list[Snapshot], float], None] | None = None,
              network: Callable[[Lab], Awaitable[Callable[[str], SnmpTarget]]] | None = None) -> RunResult:
    """Play the scenario: steps at their times, a poll round every poll_interval.

    With `site.traps`, devices send their traps to the monitor's real trap receiver, and each trap
    is answered with an immediate poll of its device at the simulated time of the step.
    """
    lab = await start(scn)
    target = await network(lab) if network is not None else lab.target  # e.g. a lossy path to each device
    client = PysnmpClient()
    site = lab.site
    snapshots: dict[str, list[Snapshot]] = {d: [] for d in site.devices}
    pending = list(scn.steps)
    polls = 0
    history = ConfigHistory(scn.name, root=Path(lab._ssh_dir.name) / "config") if lab._ssh_dir else None
    witness = lab_witness(scn, history)
    last_fetch: dict[str, float] = {}
    previous: dict[str, Snapshot] = {}
    trapped: list[Trap] = []
    notifications: list[dict[str, Any]] = []
    receiver_transport = None
    if trap_sink is None and scn.traps:
        receiver = TrapReceiver({(host, LAB_COMMUNITY): name for name, host in lab.hosts.items()},
                                trapped.append, clock=lambda: site.now)
        receiver_transport, port = await listen(receiver)
        trap_sink = ("127.0.0.1", port)
    lab.trap_sink = trap_sink

    async def poll(names: list[str], t: float) -> None:
        results = await asyncio.gather(*(
            poll_device(name, target(name), client, now=lambda t=t: t) for name in names))
        for snap in results:
            snapshots[snap.device].append(snap)
        extra: list[Change] = []
        if history is not None:  # the configuration, fetched over SSH when the device says it changed
            due = [s for s in results
                   if needs_fetch(previous.get(s.device), s, last_fetch.get(s.device), t, CONFIG_INTERVAL_S)]
            versions = await asyncio.gather(*(poll_config(lab, s.device, history, t) for s in due))
            for s, version in zip(due, versions, strict=True):
                last_fetch[s.device] = t
                if version is not None:
                    extra += version_changes(history, version, s, t)
        previous.update({s.device: s for s in results})
        touched = witness.observe(results, t, extra=extra)
        if pipeline is not None and touched:
            notifications.extend(pipeline.process(touched, t))
        if on_round is not None:
            on_round(list(results), t)

    try:
        for tp in _events(scn):
            while pending and pending[0].at <= tp:
                step = pending.pop(0)
                _settle_until(lab, step.at)
                apply(site, scn, step)
                lab.settle(step.at)
                if step.do == "send_trap":
                    _explicit_trap(lab, step.args)
                if receiver_transport is not None and step.at < tp:
                    await asyncio.sleep(0.05)  # let the datagrams cross the loopback
                    devices = sorted({t.device for t in trapped})
                    trapped.clear()
                    if devices:
                        await poll(devices, step.at)
            _settle_until(lab, tp)
            lab.settle(tp)
            trapped.clear()  # a scheduled round polls everybody anyway
            await poll(list(site.devices), tp)
            polls += 1
    finally:
        client.close()
        lab.close()
        if receiver_transport is not None:
            receiver_transport.close()
        if history is not None:
            history.close()
    incidents = [i.public() for i in witness.state.incidents]
    return RunResult(scenario=scn.name, polls=polls, snapshots=snapshots, traps=lab.traps, incidents=incidents,
                     changes=[c.evidence() for c in witness.changes], notifications=notifications)


def lab_witness(scn: Scenario, history: ConfigHistory | None = None) -> Witness:
    links = [(link["a"], link["b"], link.get("role", "access")) for link in scn.site.get("links") or []]
    topology = Topology.from_links(links, devices=[d["name"] for d in scn.site["devices"]])
    platforms = {d["name"]: d.get("platform", "cisco_ios") for d in scn.site["devices"]}
    config_of = None
    if history is not None:
        def config_of(device: str, port: str) -> list[str]:
            return port_config(history, device, platforms[device], port)
    return Witness(Correlator(topology, site=scn.name, config_of=config_of))


def _settle_until(lab: Lab, t: float) -> None:
    """Settle at each reboot completion before t, so links come back (and cold-start) at the right moment."""
    site = lab.site
    for dev in sorted((d for d in site.devices.values() if d.down_until is not None), key=lambda d: d.down_until):
        if dev.down_until is not None and site.now < dev.down_until <= t:
            lab.settle(dev.down_until)
            if lab.scenario.traps:
                lab.send_trap(dev.name, COLD_START)
