"""`saksi run`: poll every device on a schedule, answer traps with an immediate poll, keep state.

The composition root of the long-running monitor: inventory → per-device APScheduler jobs (jitter,
no overlap, bounded concurrency) → poll → witness (changes, incidents) → store. A trap is a hint that
makes the next poll of its device happen now. A restart reloads the last snapshots and the open
incidents from the store, so nothing is raised twice and nothing is forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.changes import Change
from monitor.collectors.snmp import PysnmpClient
from monitor.collectors.ssh import CollectOptions, collect_device
from monitor.collectors.traps import Trap, TrapReceiver, listen
from monitor.confighistory import ConfigHistory
from monitor.configwatch import needs_fetch, port_config, version_changes
from monitor.correlate import Correlator, State
from monitor.incidents import Incident, IncidentSink
from monitor.inventory import Device, Inventory
from monitor.model import Snapshot
from monitor.poll import poll_device
from monitor.store import Store
from monitor.targets import target_for
from monitor.topology import Topology
from monitor.witness import Witness

log = logging.getLogger(__name__)


class SnapshotSink(Protocol):
    """Where measurements go (time series): every snapshot, and every change and incident transition."""

    def write_snapshot(self, snap: Snapshot, site: str, customer: str) -> None: ...

    def write_events(self, changes: list[Change], incidents: list[Incident], site: str, customer: str) -> None: ...


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class Settings:
    interval_s: float = 60.0
    jitter_s: float = 5.0
    concurrency: int = 32
    trap_host: str = "127.0.0.1"
    trap_port: int | None = 1162  # None: no trap receiver
    trap_rate_per_s: float = 20.0
    config_interval_s: float = 3600.0  # fetch the configuration at least this often (besides the device's signal)
    config_root: Path | None = None  # config history repositories (default: $SAKSI_CONFIG_HISTORY or var/)


class Monitor:
    """One process watching an inventory; `poll(device)` is the single path every poll takes."""

    def __init__(self, inventory: Inventory, store: Store, settings: Settings | None = None,
                 clock: Callable[[], float] = time.time,
                 on_incident: Callable[[Incident], None] | None = None,
                 sinks: Sequence[SnapshotSink] = (), pipeline: IncidentSink | None = None) -> None:
        self.inventory, self.store = inventory, store
        self.settings = settings or Settings()
        self.clock = clock
        self.on_incident = on_incident
        self.sinks, self.pipeline = list(sinks), pipeline
        self.client = PysnmpClient()
        self._sem = asyncio.Semaphore(self.settings.concurrency)
        self._locks: dict[str, asyncio.Lock] = {d: asyncio.Lock() for d in inventory.devices}
        self.histories = {site: ConfigHistory(site, self.settings.config_root) for site in inventory.sites}
        self.witnesses = {site: self._witness(site) for site in inventory.sites}
        self.polls = 0
        self.trap_stats = None
        self._last_fetch: dict[str, float] = {}

    def _witness(self, site: str) -> Witness:
        inv = self.inventory
        devices = [d.name for d in inv.devices_at(site)]
        links = [(str(link.a), str(link.b), link.role) for link in inv.links if link.a.device in devices]
        topology = Topology.from_links(links, devices)
        learned = self.store.get_meta(f"learned:{site}", {})
        topology.learned.update(learned)
        customer = inv.sites[site].customer
        state = State(incidents=self.store.open_incidents(site),
                      removals=self.store.get_meta(f"removals:{site}", {}),
                      last=self.store.last_snapshots(site))
        history = self.histories[site]

        def config_of(device: str, port: str) -> list[str]:
            return port_config(history, device, inv.devices[device].platform, port)

        w = Witness(Correlator(topology, site=site, customer=customer, fmt_time=iso, config_of=config_of), state,
                    new_id=lambda: "")
        w.last_good.update(self.store.last_good_snapshots(site))
        return w

    async def poll(self, name: str, reason: str = "schedule") -> Snapshot | None:
        """Poll one device now (unless a poll of it is already running) and fold the result in."""
        lock = self._locks[name]
        if lock.locked():
            log.debug("%s: poll already running (%s skipped)", name, reason)
            return None
        async with lock, self._sem:
            device = self.inventory.devices[name]
            snap = await poll_device(name, target_for(device), self.client, now=self.clock)
            self.polls += 1
            extra = await self._config(device, snap)
            await asyncio.to_thread(self._record, device, snap, extra)
            return snap

    async def _config(self, device: Device, snap: Snapshot) -> list[Change]:
        """Fetch the configuration over SSH when the device says it changed; its diff as changes."""
        if device.ssh is None:
            return []
        prev = self.witnesses[device.site].state.last.get(device.name)
        if not needs_fetch(prev, snap, self._last_fetch.get(device.name), snap.taken_at,
                           self.settings.config_interval_s):
            return []
        self._last_fetch[device.name] = snap.taken_at
        view = await collect_device(device, now=lambda: snap.taken_at, options=CollectOptions(roles=("config",)))
        if view.config is None:
            log.info("%s: configuration not fetched: %s", device.name, view.error)
            return []
        history = self.histories[device.site]
        version = await asyncio.to_thread(history.record, device.name, device.platform, view.config,
                                          snap.taken_at, "ssh:running-config")
        if version is None:
            return []
        return await asyncio.to_thread(version_changes, history, version, snap, snap.taken_at)

    def _record(self, device: Device, snap: Snapshot, extra: list[Change] | None = None) -> None:
        witness = self.witnesses[device.site]
        customer = self.inventory.sites[device.site].customer
        touched = witness.observe([snap], snap.taken_at, extra=extra or [])
        changes = [c for c in witness.changes if c.at == snap.taken_at and c.device == device.name]
        self.store.save_snapshot(snap, device.site)
        self.store.save_changes(changes, device.site)
        for inc in touched:
            saved = self.store.upsert_incident(inc)
            inc.id = saved.id
            if self.on_incident is not None:
                self.on_incident(inc)
        if self.pipeline is not None and touched:
            self.pipeline.process(touched, snap.taken_at)
        for sink in self.sinks:
            try:
                sink.write_snapshot(snap, device.site, customer)
                sink.write_events(changes, touched, device.site, customer)
            except Exception:  # a sink must never stop the cycle; it spools or counts its own failures
                log.exception("%s: sink %s failed", device.name, type(sink).__name__)
        self.store.set_meta(f"removals:{device.site}", witness.state.removals)
        self.store.set_meta(f"learned:{device.site}", witness.correlator.topology.learned)
        witness.changes.clear()

    def on_trap(self, trap: Trap) -> None:
        log.info("trap %s from %s: polling it now", trap.name, trap.device)
        asyncio.get_running_loop().create_task(self.poll(trap.device, reason=f"trap {trap.name}"))

    async def poll_all(self) -> list[Snapshot | None]:
        return list(await asyncio.gather(*(self.poll(d) for d in self.inventory.devices)))

    def close(self) -> None:
        self.client.close()
        for h in self.histories.values():
            h.close()


async def run_forever(monitor: Monitor, stop: asyncio.Event | None = None) -> None:
    s = monitor.settings
    scheduler = AsyncIOScheduler()
    for name in sorted(monitor.inventory.devices):
        scheduler.add_job(monitor.poll, "interval", seconds=s.interval_s, jitter=s.jitter_s, args=[name],
                          id=f"poll:{name}", max_instances=1, coalesce=True,
                          next_run_time=datetime.now(UTC))
    transport = None
    if s.trap_port is not None:
        devices = {}
        for d in monitor.inventory.devices.values():
            if d.snmp.community is not None:
                devices[(d.host, d.snmp.community.reveal())] = d.name
        receiver = TrapReceiver(devices, monitor.on_trap, rate_per_s=s.trap_rate_per_s)
        monitor.trap_stats = receiver.stats
        transport, port = await listen(receiver, s.trap_host, s.trap_port)
        log.info("receiving traps on %s:%d", s.trap_host, port)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    scheduler.start()
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        if transport is not None:
            transport.close()
        monitor.close()
