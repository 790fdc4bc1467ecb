"""`saksi run`: poll every device on a schedule, answer traps with an immediate poll, keep state.

The composition root of the long-running monitor: inventory → per-device APScheduler jobs (jitter,
no overlap, bounded concurrency) → poll → witness (changes, incidents) → store. A trap is a hint that
makes the next poll of its device happen now. A restart reloads the last snapshots and the open
incidents from the store, so nothing is raised twice and nothing is forgotten.

Scale-out (monitor.daemon.cluster): with a Cluster, the monitor polls and correlates only the sites its
member holds, and a periodic rebalance starts and stops sites as members come and go. A store that
cannot be written (PostgreSQL restarting) does not stop the cycle: each poll's outcome waits in
memory, in order, and is saved before the next one.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError, SQLAlchemyError

from monitor.check.watch import may_alert, rule_for
from monitor.collectors.poll import poll_device
from monitor.collectors.snmp import PysnmpClient
from monitor.collectors.ssh import CollectOptions, collect_device
from monitor.collectors.targets import target_for
from monitor.collectors.traps import Trap, TrapReceiver, TrapStats, listen
from monitor.confighist.history import ConfigHistory
from monitor.confighist.watch import needs_fetch, port_config, version_changes
from monitor.daemon.cluster import Cluster, Plan
from monitor.daemon.schedule import JobScheduler, at, every, schedule, unschedule
from monitor.inventory import Device, Inventory
from monitor.model import Snapshot
from monitor.state.serialize import witness_memory
from monitor.state.store import Store
from monitor.witness.changes import Change
from monitor.witness.correlate import FLAP_WINDOW_S, GUESSES, Correlator
from monitor.witness.incidents import Incident, IncidentSink
from monitor.witness.observer import Witness
from monitor.witness.topology import Topology

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
    rebalance_s: float = 5.0  # cluster: heartbeat and slice check period
    tick_s: float = 10.0  # the alert pipeline's tick period (`saksi run --alert-tick`; in a cluster, the leader's)
    max_unsaved: int = 10_000  # poll outcomes kept in memory while the store is unreachable
    confirm_s: float = 15.0  # a guessed cause waits at most this long for its link's far end to be polled
    jitter_seed: int | str | None = None  # the schedule's jitter source (the lab seeds it; None: the OS's)
    jitter_resolution_s: float = 0.0  # the jitter in steps of this many seconds (the lab's: whole seconds)

    @staticmethod
    def jitter_for(interval_s: float) -> float:
        """The schedule's jitter for a poll interval: 5 s, or a quarter of a shorter interval.

        >>> Settings.jitter_for(60), Settings.jitter_for(8)
        (5.0, 2.0)
        """
        return min(Settings.jitter_s, interval_s / 4)


@dataclass
class Unsaved:
    """One poll's outcome not yet in the store (saved in one transaction); `done` once it is, so a retry of
    what follows (the alert pipeline) writes nothing twice."""

    device: str
    site: str
    snap: Snapshot
    changes: list[Change]
    touched: list[Incident]
    baseline: Snapshot | None = None  # what the device's next poll is compared with
    memory: dict[str, Any] = field(default_factory=dict)  # correlation's memory after it (serialize.witness_memory)
    done: set[str] = field(default_factory=set)
    failures: int = 0
    page: list[Incident] | None = None  # what goes to the alert pipeline once saved (None: `touched`)

    @property
    def supersedable(self) -> bool:
        """Only a snapshot, nothing else: the device's next poll replaces it without loss."""
        return not self.changes and not self.touched and not self.page and "saved" not in self.done


@dataclass
class Held:
    """An incident held back from alerting until its link's far end has been polled."""

    incident: Incident
    devices: set[str]
    since: float
    deadline: float


class Monitor:
    """One process watching an inventory; `poll(device)` is the single path every poll takes."""

    def __init__(self, inventory: Inventory, store: Store, settings: Settings | None = None,
                 clock: Callable[[], float] = time.time,
                 on_incident: Callable[[Incident], None] | None = None,
                 sinks: Sequence[SnapshotSink] = (), pipeline: IncidentSink | None = None,
                 owned: Iterable[str] | None = None, fmt_time: Callable[[float], str] = iso) -> None:
        self.inventory, self.store = inventory, store
        self.settings = settings or Settings()
        self.clock, self.fmt_time = clock, fmt_time
        self.rng = random.Random(self.settings.jitter_seed)  # the schedule's jitter (schedule.every)
        self.on_incident = on_incident
        self.sinks, self.pipeline = list(sinks), pipeline
        self.client = PysnmpClient()
        self._sem = asyncio.Semaphore(self.settings.concurrency)
        self._locks: dict[str, asyncio.Lock] = {d: asyncio.Lock() for d in inventory.devices}
        self.histories = {site: ConfigHistory(site, self.settings.config_root) for site in inventory.sites}
        # the sites this process correlates: all of them, or (scale-out) those its member holds
        self.witnesses = {site: self._witness(site) for site in (inventory.sites if owned is None else owned)}
        self.polls = 0
        self.unsaved: deque[Unsaved] = deque()
        self._held: dict[str, Held] = {}  # incident key -> waiting for its far end (see _confirm)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._held_lock = threading.Lock()  # polls are recorded from worker threads
        self._asked: dict[str, float] = {}  # device -> the latest silence its confirming poll was asked for
        self._again: dict[str, str] = {}  # device -> why it must be polled again once its running poll ends
        self._closing = False
        self.store_failures = 0  # poll outcomes that could not be saved at once (retried later)
        self.unsaved_dropped = 0  # given up: beyond max_unsaved, or refused by the store three times
        self._save_lock = threading.Lock()
        self._observe_lock = threading.Lock()
        self._store_down = False
        self.trap_stats: TrapStats | None = None
        self._last_fetch: dict[str, float] = {}
        self._fetch_errors: dict[str, str] = {}  # device -> why its last configuration fetch failed
        self._tasks: set[asyncio.Task[Any]] = set()  # polls the monitor started itself (traps, far ends, again)

    def _witness(self, site: str) -> Witness:
        inv = self.inventory
        devices = [d.name for d in inv.devices_at(site)]
        links = [(str(link.a), str(link.b), link.role) for link in inv.links if link.a.device in devices]
        topology = Topology.from_links(links, devices)
        customer = inv.sites[site].customer
        history = self.histories[site]

        def config_of(device: str, port: str) -> list[str]:
            return port_config(history, device, inv.devices[device].platform, port)

        rules = {d: rule_for(inv, d) for d in devices}  # an ignore: pattern keeps a port out of incidents

        def watched(device: str, port: str) -> bool:
            return device not in rules or may_alert(rules[device], port)

        w = Witness(Correlator(topology, site=site, customer=customer, fmt_time=self.fmt_time,
                                 config_of=config_of, config_missing=self._config_missing,
                                 confirm_s=self.settings.confirm_s), watched=watched)
        self.store.resume(w, site, resolved_since=self.clock() - FLAP_WINDOW_S)
        return w

    def _config_missing(self, device: str) -> str | None:
        """Why the configuration of a device is not collected (None: it is): what a summary says instead of
        "no configuration change"."""
        d = self.inventory.devices.get(device)
        if d is None:
            return None
        if d.ssh is None:
            return f"no SSH credentials for {device}"
        error = self._fetch_errors.get(device)  # the last fetch's failure; a fetch that worked clears it
        if not self.histories[d.site].versions(device):
            return f"no version collected yet: {error}" if error else "no version collected yet"
        return f"last fetch failed: {error}" if error else None

    async def poll(self, name: str, reason: str = "schedule") -> Snapshot | None:
        """Poll one device now (unless a poll of it is already running) and fold the result in."""
        lock = self._locks[name]
        if self.inventory.devices[name].site not in self.witnesses:
            log.debug("%s: its site belongs to another member (%s skipped)", name, reason)
            return None
        if lock.locked():
            if reason != "schedule":  # a trap (or a far-end check) may come after the running poll read the
                self._again[name] = reason  # tables: poll once more when it ends, or the news waits an interval
            log.debug("%s: poll already running (%s %s)", name, reason,
                      "skipped" if reason == "schedule" else "queued after it")
            return None
        self._loop = asyncio.get_running_loop()
        cancelled = False
        try:
            return await self._poll_now(name, reason, lock)
        except asyncio.CancelledError:  # shutdown in the middle of a poll: an expected end, not an error
            cancelled = True
            log.info("%s: poll cancelled by shutdown", name)
            return None
        finally:
            again = self._again.pop(name, None)
            if again is not None and not (cancelled or self._closing):
                self._spawn(name, f"{again}, after a running poll")

    async def _poll_now(self, name: str, reason: str, lock: asyncio.Lock) -> Snapshot | None:
        async with lock, self._sem:
            device = self.inventory.devices[name]
            snap = await poll_device(name, target_for(device), self.client, now=self.clock)
            self.polls += 1
            extra = await self._config(device, snap)
            await asyncio.to_thread(self._record, device, snap, extra)
            # one line per recorded poll, with its exact time: what an operator (and a fault test) counts
            log.info("%s: poll recorded (%s) taken_at=%r reachable=%s", name, reason, snap.taken_at,
                     snap.reachable)
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
            error = view.error or view.command("config").error or "no configuration in the answer"
            self._fetch_errors[device.name] = error
            log.info("%s: configuration not fetched: %s", device.name, error)
            return []
        self._fetch_errors.pop(device.name, None)
        history = self.histories[device.site]
        version = await asyncio.to_thread(history.record, device.name, device.platform, view.config,
                                          snap.taken_at, "ssh:running-config")
        if version is None:
            return []
        return await asyncio.to_thread(version_changes, history, version, snap, snap.taken_at)

    def _record(self, device: Device, snap: Snapshot, extra: list[Change] | None = None) -> None:
        witness = self.witnesses[device.site]
        customer = self.inventory.sites[device.site].customer
        with self._observe_lock:  # one site's witness, several recording threads
            seen = witness.observe([snap], snap.taken_at, extra=extra or [])
            memory = witness_memory(witness, [device.name])
            paths = self._paths(witness, snap.taken_at)
        for name in sorted(paths):
            self._poll_soon(name, "confirm")
        changes, touched = list(seen.changes), list(seen.incidents)
        page = self._confirm(device.name, touched) if self.pipeline is not None else None
        self.save(Unsaved(device.name, device.site, snap, changes, touched, witness.last_good.get(device.name),
                          memory, page=page))
        for sink in self.sinks:
            try:
                sink.write_snapshot(snap, device.site, customer)
                sink.write_events(changes, touched, device.site, customer)
            except Exception:  # a sink must never stop the cycle; it spools or counts its own failures
                log.exception("%s: sink %s failed", device.name, type(sink).__name__)

    def save(self, item: Unsaved) -> bool:
        """Queue one poll's outcome behind any that wait, and save them in order; False: the store is down."""
        with self._save_lock:
            for old in [u for u in self.unsaved if u.device == item.device and u.supersedable]:
                self.unsaved.remove(old)  # the same device's newer snapshot says all it said
            self.unsaved.append(item)
            while len(self.unsaved) > self.settings.max_unsaved:
                lost = self.unsaved.popleft()
                self.unsaved_dropped += 1
                log.error("%s: poll at %s dropped: %d outcomes already wait for the store", lost.device,
                          iso(lost.snap.taken_at), self.settings.max_unsaved)
            return self._flush()

    def flush(self) -> bool:
        """Save what waits (a rebalance does this before a site changes hands)."""
        with self._save_lock:
            return self._flush()

    def _flush(self) -> bool:
        while self.unsaved:
            item = self.unsaved[0]
            try:
                self._write(item)
            except SQLAlchemyError as exc:
                self.store_failures += 1
                item.failures += 1
                reason = str(exc).splitlines()[0]
                refused = isinstance(exc, (IntegrityError, DataError, ProgrammingError))
                if not refused or item.failures < 3:  # unreachable: wait for it, however long
                    if not self._store_down:  # once per outage, not once per poll
                        log.warning("store unavailable: poll outcomes wait in memory, in order (%s)", reason)
                    self._store_down = True
                    return False
                self.unsaved.popleft()  # the store is up and refuses this one: do not block the rest
                self.unsaved_dropped += 1
                log.error("%s: poll at %s refused by the store three times, dropped: %s", item.device,
                          iso(item.snap.taken_at), reason)
                continue
            self.unsaved.popleft()
        if self._store_down:
            log.warning("store back: every waiting poll outcome saved")
            self._store_down = False
        return True

    def _write(self, item: Unsaved) -> None:
        """The observation in one transaction (new incidents get their reference there), then the alerts."""
        if "saved" not in item.done:
            self.store.save_observation(item.site, item.snap, item.baseline, item.changes, item.touched,
                                        item.memory)
            item.done.add("saved")
            if self.on_incident is not None:
                for inc in item.touched:
                    self.on_incident(inc)
        page = item.touched if item.page is None else item.page
        if self.pipeline is not None and page:
            self.pipeline.process(page, item.snap.taken_at)

    # --- a silence waits for its path, a guess for the far end -------------------------------------

    def _paths(self, witness: Witness, now: float) -> set[str]:
        """The devices to poll at once because a silent device's verdict waits for them (correlation holds
        it, in the state the store saves: monitor.witness.correlate.waiting_on); each asked for once per
        silence."""
        state, out = witness.state, set()
        for device, silence in state.silent.items():
            for name in witness.correlator.waiting_on(state, device, silence, now):
                if name in self._locks and self._asked.get(name, -1.0) < silence.when:
                    self._asked[name] = silence.when
                    out.add(name)
                    log.info("%s is silent: polling %s on its path before deciding why", device, name)
        return out


    def _confirm(self, device: str, touched: list[Incident]) -> list[Incident]:
        """The incidents to alert on now. A guessed cause (the link went down, nothing else known yet)
        whose far end has not been polled since the change waits: the far end is polled now, and the
        incident goes to the pipeline once that poll is in (re-classified by it: "SFP removed at the
        far end", not "cable unplugged here") or after `confirm_s` whatever it says. While a silent
        device of the site waits for its path (`_paths`), what is touched waits too: it may be the cut
        that darkened it, and its page names the dark devices behind it."""
        with self._held_lock:
            return self._confirm_locked(device, touched, self.clock())

    def _confirm_locked(self, device: str, touched: list[Incident], now: float) -> list[Incident]:
        page = []
        for inc in touched:
            if inc.key in self._held:
                continue  # released below, or by the far end's poll
            far = self._far_ends(device, inc)
            if not far and not self._silences(inc.site):
                page.append(inc)
                continue
            self._held[inc.key] = Held(inc, far, inc.started_at, now + self.settings.confirm_s)
            if not far:  # a silence still held in its site may yet become one of its symptoms
                log.info("%s: held while the site's silent devices wait for their path", inc.key)
                continue
            log.info("%s: %s is a guess; polling the far end (%s) before alerting", inc.key, inc.cause,
                     ", ".join(sorted(far)))
            for name in far:
                self._poll_soon(name, f"far end of {inc.key}")
        for key, held in list(self._held.items()):
            last = self.witnesses[held.incident.site].state.last if held.incident.site in self.witnesses else {}
            heard = all(d in last and last[d].taken_at >= held.since for d in held.devices)
            if (heard and not self._silences(held.incident.site)) or now >= held.deadline:
                del self._held[key]
                if held.incident not in page:
                    page.append(held.incident)
        return page

    def _silences(self, site: str) -> bool:
        """A device of the site went silent and its verdict still waits: what is paged now may grow."""
        return site in self.witnesses and bool(self.witnesses[site].state.silent)

    def _far_ends(self, device: str, inc: Incident) -> set[str]:
        if not inc.open or inc.cause not in GUESSES or not inc.link or inc.site not in self.witnesses:
            return set()
        last = self.witnesses[inc.site].state.last
        ends = {ref.split(":", 1)[0] for ref in inc.link.values()} - {device}
        return {d for d in ends if d in self._locks and (d not in last or last[d].taken_at < inc.started_at)}

    def _poll_soon(self, name: str, reason: str) -> None:
        """From the recording thread: ask the event loop for a poll of `name` (skipped if one runs)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._spawn, name, reason)

    def _spawn(self, name: str, reason: str) -> None:
        """Start a poll the monitor decided on itself (a trap, a far end, a poll again), and keep track of it."""
        if self._closing:
            return
        task = asyncio.get_running_loop().create_task(self.poll(name, reason=reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until no poll the monitor started itself is running (the lab's clock waits for this)."""
        while True:
            await asyncio.sleep(0)  # a far end asked for from the recording thread lands here first
            if not self._tasks:
                return
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- scale-out: sites come and go -----------------------------------------------------------------

    def devices_at(self, site: str) -> list[str]:
        return sorted(d.name for d in self.inventory.devices_at(site))

    async def take_site(self, site: str) -> None:
        """Correlate a site from what the store knows of it (its last owner saved everything it had)."""
        self.witnesses[site] = await asyncio.to_thread(self._witness, site)
        track = getattr(self.pipeline, "track", None)
        if track is not None:  # its open incidents: escalations and reminders go on here
            track(self.witnesses[site].state.incidents)
        log.warning("site %s: now polled here (%d devices)", site, len(self.devices_at(site)))

    async def drop_site(self, site: str) -> None:
        """Stop correlating a site: wait for its polls in flight, then save what they found."""
        for name in self.devices_at(site):
            async with self._locks[name]:
                pass
        self.witnesses.pop(site, None)
        await asyncio.to_thread(self.flush)
        log.warning("site %s: no longer polled here", site)

    def on_trap(self, trap: Trap) -> None:
        log.info("trap %s from %s: polling it now", trap.name, trap.device)
        self._spawn(trap.device, f"trap {trap.name}")

    async def poll_all(self) -> list[Snapshot | None]:
        return list(await asyncio.gather(*(self.poll(d) for d in self.inventory.devices)))

    def close(self) -> None:
        self._closing = True
        self.client.close()
        for h in self.histories.values():
            h.close()


async def rebalance(monitor: Monitor, cluster: Cluster, scheduler: JobScheduler | None = None) -> Plan | None:
    """One cluster round: heartbeat, then stop the sites that went elsewhere and start the ones that came.

    While the store is unreachable nothing changes hands (no member can take a lock then), so this
    member keeps polling what it polls.
    """
    await asyncio.to_thread(monitor.flush)  # a site's next owner reads what this member found
    try:
        plan = await asyncio.to_thread(cluster.step, monitor.inventory.sites, set(monitor.witnesses))
    except SQLAlchemyError as exc:
        log.warning("cluster: store unreachable; %s keeps polling %s (%s)", cluster.member,
                    ", ".join(sorted(monitor.witnesses)) or "nothing", str(exc).splitlines()[0])
        return None
    for site in sorted(plan.drop):
        if scheduler is not None:
            unschedule(scheduler, monitor.devices_at(site))
        await monitor.drop_site(site)
    if plan.drop:
        await asyncio.to_thread(cluster.release, plan.drop)
    for site in sorted(plan.take):
        try:
            await monitor.take_site(site)
        except SQLAlchemyError as exc:
            log.warning("site %s: its state could not be read; retrying next round (%s)", site,
                        str(exc).splitlines()[0])
            await asyncio.to_thread(cluster.release, [site])
            continue
        if scheduler is not None:
            schedule(scheduler, monitor, monitor.devices_at(site))
    return plan


@dataclass
class Running:
    """What `start` set going: the scheduler and the trap socket (with the port it was given)."""

    scheduler: JobScheduler
    transport: asyncio.DatagramTransport | None = None
    trap_port: int | None = None


async def start(monitor: Monitor, scheduler: JobScheduler, cluster: Cluster | None = None,
                tick: Callable[[float], Any] | None = None) -> Running:
    """Set the monitor going on `scheduler` (APScheduler live, the simulated one in the lab): one poll job
    per device, `tick` (the alert pipeline's clock) every `tick_s`, and the trap receiver. With a cluster:
    only this member's sites, rebalanced every `rebalance_s`, and `tick` only while this member leads."""
    s = monitor.settings

    async def alert_tick() -> None:
        if tick is None or (cluster is not None and not cluster.leader):
            return
        try:
            await asyncio.to_thread(tick, monitor.clock())
        except Exception:  # alerting must outlive one bad tick; the next one tries again
            log.exception("alert pipeline tick failed")

    if cluster is None:
        schedule(scheduler, monitor, monitor.inventory.devices)
    else:
        await rebalance(monitor, cluster, scheduler)
        scheduler.add_job(rebalance, every(monitor, s.rebalance_s), args=[monitor, cluster, scheduler],
                          id="cluster:rebalance", max_instances=1, coalesce=True)
    if tick is not None:
        scheduler.add_job(alert_tick, every(monitor, s.tick_s), id="alerts:tick", max_instances=1,
                          coalesce=True, next_run_time=at(monitor.clock()))
    running = Running(scheduler)
    if s.trap_port is not None:  # 0: any free port (the lab's)
        devices = {}
        for d in monitor.inventory.devices.values():
            if d.snmp.community is not None:
                devices[(d.host, d.snmp.community.reveal())] = d.name
        receiver = TrapReceiver(devices, monitor.on_trap, rate_per_s=s.trap_rate_per_s, clock=monitor.clock)
        monitor.trap_stats = receiver.stats
        running.transport, running.trap_port = await listen(receiver, s.trap_host, s.trap_port)
        log.info("receiving traps on %s:%d", s.trap_host, running.trap_port)
    scheduler.start()
    return running


async def shut_down(monitor: Monitor, running: Running, cluster: Cluster | None = None) -> None:
    """Stop the jobs and the trap socket, save what waits, leave the cluster, close the monitor."""
    running.scheduler.shutdown(wait=False)
    if running.transport is not None:
        running.transport.close()
    if monitor.unsaved and not await asyncio.to_thread(monitor.flush):
        log.error("stopping with %d poll outcomes not saved (the store is unreachable)", len(monitor.unsaved))
    if cluster is not None:
        await asyncio.to_thread(cluster.leave)
    monitor.close()


async def run_forever(monitor: Monitor, stop: asyncio.Event | None = None, cluster: Cluster | None = None,
                      tick: Callable[[float], Any] | None = None) -> None:
    """Poll on the wall clock (APScheduler) until stopped or signalled; see `start`."""
    running = await start(monitor, AsyncIOScheduler(), cluster, tick)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        await stop.wait()
    finally:
        await shut_down(monitor, running, cluster)
