"""Two `saksi run --member` collectors sharing two lab sites through a real PostgreSQL on 127.0.0.1.

Everything is real: the lab's SNMP agents (in a thread of this process, answering on 127.0.0.x), the
`saksi` entry point as two subprocesses killed by PID, PostgreSQL stopped and started on its port,
and the alert tests' webhook and SMTP receivers counting what was sent. The assertions read the
shared store: who holds which site, when each device was last polled, the incidents and the log of
notifications.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from monitor.daemon.cluster import members, slice_of
from monitor.lab import runner, scenario
from monitor.state.store import Store
from tests.alerts.conftest import Mailbox, Webhook, alerting_yaml
from tests.conftest import VENV_BIN
from tests.pg import Postgres

SCENARIO = Path(__file__).parent / "two-sites.yaml"
SITES = ("north", "south")
INTERVAL, HEARTBEAT, TIMEOUT = 2.0, 1.0, 4.0
ALERT_TICK = 1.0  # the leader's escalations, reminders and retries (saksi run --alert-tick)
# a dead member's sites are polled again after: its heartbeat timeout, one rebalance, one poll
MOVE_WITHIN = TIMEOUT + HEARTBEAT + INTERVAL + 8.0  # + slack for 2 busy cores


class LabThread:
    """The lab site's agents on their own event loop, so the test can block while the collectors poll."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lab: runner.Lab = self._call(runner.start(scenario.load(SCENARIO), ssh=False))

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def step(self, device: str) -> None:
        """Pull the backbone SFP of `device` now (in the agents' thread: they render the model)."""
        lab = self.lab

        async def apply() -> None:
            step = next(s for s in lab.scenario.steps if s.do == "remove_transceiver" and s.args["device"] == device)
            scenario.apply(lab.site, lab.scenario, step)
            lab.site.settle(lab.site.now + 1)

        self._call(apply())

    def close(self) -> None:
        async def close() -> None:
            self.lab.close()

        self._call(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def inventory(tmp: Path, lab: runner.Lab) -> Path:
    """Each device at the site its name starts with; the links as the scenario cables them."""
    f = tmp / "sites.yaml"
    f.write_text(lab.inventory_yaml(site=lambda name: name.split("-")[0], customer="acme", timeout=0.5, retries=1,
                                    timezone="Europe/Helsinki"))
    return f


@dataclass
class Member:
    """One `saksi run --member NAME` process, its own working folder and log; stopped by its PID only."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def start_member(tmp: Path, name: str, inv: Path, db: str, alerting: Path) -> Member:
    home = tmp / name
    home.mkdir(exist_ok=True)
    log = home / "saksi.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "saksi"), "-v", "run", "--member", name, "--db", db, "--inventory", str(inv),
             "--alerting", str(alerting), "--interval", str(INTERVAL), "--trap-port", "0",
             "--heartbeat", str(HEARTBEAT), "--member-timeout", str(TIMEOUT), "--alert-tick", str(ALERT_TICK)],
            cwd=home, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "SAKSI_CONFIG_HISTORY": str(home / "history")})
    return Member(name, proc, log)


def eventually(check: Callable[[], Any], timeout: float, what: str, *procs: Member) -> Any:
    end = time.monotonic() + timeout
    while True:
        for m in procs:
            assert m.alive(), f"{m.name} exited ({m.proc.returncode}):\n{m.text()[-3000:]}"
        try:
            got = check()
        except SQLAlchemyError:  # the tables may not exist yet, or the server is restarting
            got = None
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"timed out ({timeout:g}s) waiting for {what}")
        time.sleep(0.2)


def names_split_evenly() -> tuple[str, str]:
    """Two member names whose rendezvous slices of SITES are one site each (the hash is stable)."""
    for n in range(1, 50):
        a, b = f"collector-{n}", f"collector-{n + 1}"
        if len(slice_of(a, SITES, [a, b])) == 1:
            return a, b
    raise AssertionError("no even split among 50 names")


def last_polled(store: Store) -> dict[str, float]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT device, taken_at FROM snapshots WHERE slot = 'last'")).all()
    return {r.device: r.taken_at for r in rows}


def all_polled_after(store: Store, t: float, devices: list[str]) -> bool:
    polled = last_polled(store)
    return all(polled.get(d, 0.0) > t for d in devices)


def fresh(store: Store) -> dict[str, dict[str, Any]]:
    """Members whose last heartbeat is within the timeout, by the database's clock."""
    with store.engine.connect() as conn:
        now = float(conn.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one())
    return {str(r["name"]): r for r in members(store) if float(r["heartbeat_at"]) >= now - TIMEOUT}  # type: ignore[arg-type]


def holding(store: Store) -> dict[str, set[str]]:
    return {name: set(r["sites"]) for name, r in fresh(store).items()}


def split(store: Store, a: str, b: str) -> bool:
    held = holding(store)
    return (set(held) == {a, b} and len(held[a]) == 1 and len(held[b]) == 1
            and held[a] | held[b] == set(SITES))


def notified(store: Store) -> list[tuple[str, str, int]]:
    from monitor.alerts.state import nflog
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(nflog.c.ref, nflog.c.transition, nflog.c.generation))]


def assert_no_duplicates(store: Store) -> None:
    incidents = store.incidents()
    keys = [i.key for i in incidents if i.open]
    assert len(keys) == len(set(keys)), f"an incident was raised twice: {keys}"
    log = notified(store)
    assert len(log) == len(set(log))
    opened = [ref for ref, transition, _ in log if transition == "opened"]
    assert len(opened) == len(set(opened)), f"an incident was opened twice: {opened}"
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT device, at, kind, port FROM changes")).all()
    assert len(rows) == len(set(rows)), "a change was saved twice"


@pytest.fixture
def lab() -> Iterator[LabThread]:
    t = LabThread()
    yield t
    t.close()


@pytest.fixture
def started() -> Iterator[list[Member]]:
    procs: list[Member] = []
    yield procs
    for m in procs:
        m.kill(signal.SIGTERM)


def test_two_collectors_share_the_sites_survive_kills_and_page_once(
        tmp_path: Path, postgres: Postgres, lab: LabThread, smtp: Mailbox, webhook: Webhook,
        started: list[Member]) -> None:
    inv = inventory(tmp_path, lab.lab)
    alerting = alerting_yaml(tmp_path, smtp, webhook)
    devices = sorted(lab.lab.ports)
    a, b = names_split_evenly()

    def member(name: str) -> Member:
        m = start_member(tmp_path, name, inv, postgres.url, alerting)
        started.append(m)
        return m

    procs = {a: member(a)}
    store = eventually(lambda: Store(postgres.url), 30, "the store")
    try:
        eventually(lambda: a in fresh(store), 60, f"{a} to register", *procs.values())
        procs[b] = member(b)
        eventually(lambda: split(store, a, b), 60, "one site each", *procs.values())
        t0 = time.time()
        eventually(lambda: all_polled_after(store, t0, devices), 30, "every device polled", *procs.values())

        # an incident at north, paged once
        lab.step("north-sw2")
        eventually(lambda: len(webhook.posts) >= 1, 30, "north's incident paged", *procs.values())
        leader = eventually(lambda: [n for n, r in fresh(store).items() if r["leader"]], 15, "a leader")[0]
        other = b if leader == a else a

        # SIGKILL the collector that does not lead: its site is polled by the leader
        procs[other].kill()
        killed_at = time.time()
        eventually(lambda: holding(store) == {leader: set(SITES)}, MOVE_WITHIN, "the leader to hold both sites",
                   procs[leader])
        eventually(lambda: all_polled_after(store, killed_at + 1, devices), MOVE_WITHIN,
                   "every device polled after the kill", procs[leader])

        # it comes back under its name and gets its site back; then SIGKILL the leader
        procs[other] = member(other)
        eventually(lambda: split(store, a, b), 60, "one site each again", procs[a], procs[b])
        procs[leader].kill()
        killed_at = time.time()
        eventually(lambda: fresh(store).get(other, {}).get("leader"), MOVE_WITHIN, f"{other} to lead",
                   procs[other])
        eventually(lambda: holding(store) == {other: set(SITES)}, MOVE_WITHIN, f"{other} to hold both sites",
                   procs[other])
        eventually(lambda: all_polled_after(store, killed_at + 1, devices), MOVE_WITHIN,
                   "every device polled after the leader's death", procs[other])
        assert "is the leader" in procs[other].text()

        # an incident at south after all that: paged exactly once, by the one collector left
        lab.step("south-sw2")
        eventually(lambda: len(webhook.posts) >= 2, 30, "south's incident paged", procs[other])
        time.sleep(3 * ALERT_TICK + 2 * INTERVAL)  # three leader ticks and two polls later: nothing more
        titles = [str(p["title"]) for p in webhook.posts]
        assert len(titles) == 2, titles
        assert titles[0].startswith("[Saksi] OPENED SAK-000001 major: transceiver_removed at north-sw2")
        assert titles[1].startswith("[Saksi] OPENED SAK-000002 major: transceiver_removed at south-sw2")
        opened = {(i.site, i.device, i.cause) for i in store.open_incidents()}
        assert opened == {("north", "north-sw2", "transceiver_removed"), ("south", "south-sw2", "transceiver_removed")}
        assert_no_duplicates(store)
    finally:
        store.close()


def test_postgresql_stopped_and_started_mid_run_loses_and_duplicates_nothing(
        tmp_path: Path, postgres: Postgres, lab: LabThread, smtp: Mailbox, webhook: Webhook,
        started: list[Member]) -> None:
    inv = inventory(tmp_path, lab.lab)
    alerting = alerting_yaml(tmp_path, smtp, webhook)
    devices = sorted(lab.lab.ports)
    a, b = names_split_evenly()
    procs = [start_member(tmp_path, a, inv, postgres.url, alerting)]
    started.extend(procs)
    store = eventually(lambda: Store(postgres.url), 30, "the store")
    try:
        eventually(lambda: a in fresh(store), 60, f"{a} to register", *procs)
        procs.append(start_member(tmp_path, b, inv, postgres.url, alerting))
        started.append(procs[-1])
        eventually(lambda: split(store, a, b), 60, "one site each", *procs)
        owner_of_north = next(n for n, s in holding(store).items() if "north" in s)
        t0 = time.time()
        eventually(lambda: all_polled_after(store, t0, devices), 30, "every device polled", *procs)

        postgres.stop()
        down_at = time.time()
        lab.step("north-sw2")  # seen while the store is away
        time.sleep(4 * INTERVAL)
        assert all(m.alive() for m in procs), "the collectors outlive their database"
        postgres.start()
        up_at = time.time()

        eventually(lambda: len(webhook.posts) >= 1, 45, "the incident paged once the store is back", *procs)
        eventually(lambda: all_polled_after(store, up_at, devices), 45, "every device polled after the restart",
                   *procs)
        eventually(lambda: split(store, a, b), 30, "each back on its own site", *procs)
        time.sleep(3 * ALERT_TICK + 2 * INTERVAL)  # three leader ticks and two polls later: still one page
        assert len(webhook.posts) == 1, [p["title"] for p in webhook.posts]
        (inc,) = store.incidents()
        assert (inc.site, inc.device, inc.cause) == ("north", "north-sw2", "transceiver_removed")
        # a poll that started just before the step may carry a taken_at a moment before down_at
        assert down_at - 1.0 < inc.detected_at < up_at, "kept as seen during the outage, saved after it"
        removed = [c for c in store.changes(device="north-sw2") if c.kind.value == "transceiver_removed"]
        assert len(removed) == 1 and down_at - 1.0 < removed[0].at < up_at
        assert_no_duplicates(store)
        assert "store unavailable" in next(m for m in procs if m.name == owner_of_north).text()
    finally:
        store.close()
