"""`saksi run` against the faults of a real night: the daemon SIGKILLed mid-cycle, InfluxDB stopped and
started again, the notification receivers down when an incident opens.

Everything is real: a lab site whose SNMP agents answer on 127.0.0.x, the `saksi` entry point as a
subprocess polling every 2 s (killed by PID), its SQLite store, Debian's influxd on free ports, an HTTP
webhook and an SMTP server (tests/alerts/conftest.py) that are stopped and started on the same ports.
The daemon logs one line per recorded poll with its exact `taken_at` (`-v`); that log is what the
assertions count against.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import signal
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from monitor.lab import runner, scenario
from monitor.lab.agent import LINK_DOWN
from monitor.timeseries import InfluxReader
from monitor.timeseries.points import ns
from tests.alerts.conftest import Mailbox, Webhook, _handler, free_tcp_port
from tests.conftest import VENV_BIN, free_udp_port, run_saksi
from tests.daemon.test_monitor import SCENARIO, _inventory
from tests.timeseries.influxd import INFLUXD, InfluxServer

INTERVAL = "2"
TICK_S = 1.0  # the alert pipeline's tick (`--alert-tick`): escalations, retries and resends wait for it
POLL = re.compile(r"(\S+): poll recorded \((.*?)\) taken_at=([0-9.e+]+) reachable=(\w+)")
OPENED = "OPENED SAK-000001"
RESOLVED = "RESOLVED SAK-000001"


# --- the daemon as a process --------------------------------------------------------------------


@dataclass
class Daemon:
    """One `saksi -v run` process; its log lines as they come; stopped by its own PID only."""

    proc: asyncio.subprocess.Process
    log: Path
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        with self.log.open("a") as out:
            while line := await self.proc.stderr.readline():
                text = line.decode(errors="replace").rstrip()
                out.write(text + "\n")
                self.lines.append(text)
                self.changed.set()

    async def wait_line(self, pattern: str, after: int = 0, timeout: float = 30.0) -> int:
        """Index of the first log line from `after` on that matches; fails the test on timeout."""
        rx = re.compile(pattern)

        async def scan() -> int:
            i = after
            while True:
                while i < len(self.lines):
                    if rx.search(self.lines[i]):
                        return i
                    i += 1
                if self.proc.returncode is not None:
                    raise AssertionError(f"saksi exited ({self.proc.returncode}) before /{pattern}/; see {self.log}")
                self.changed.clear()
                await self.changed.wait()

        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            raise AssertionError(f"no /{pattern}/ in the daemon's log within {timeout}s; see {self.log}") from None

    def polls(self) -> list[tuple[str, float]]:
        return [(m[1], float(m[3])) for line in self.lines if (m := POLL.search(line))]

    async def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 60.0) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(sig)  # by PID: this process only
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self.reader is not None:
            await asyncio.wait_for(self.reader, 10)
        return code


async def start_daemon(log: Path, *args: str) -> Daemon:
    proc = await asyncio.create_subprocess_exec(
        str(VENV_BIN / "saksi"), "-v", "run", "--interval", INTERVAL, "--alert-tick", str(TICK_S), *args,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    d = Daemon(proc, log)
    d.reader = asyncio.create_task(d._read())
    return d


def step(lab: runner.Lab, do: str) -> None:
    """Apply the scenario's step in the physical world now; the devices trap it to the daemon."""
    scenario.apply(lab.site, lab.scenario, next(s for s in lab.scenario.steps if s.do == do))
    lab.settle(lab.site.now + 1, forced=True)


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def outbox(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM alert_outbox ORDER BY seq")]


def last_taken(db: Path) -> dict[str, float]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT device, taken_at FROM snapshots WHERE slot = 'last'").fetchall())


# --- receivers that can be stopped and started on the same port ------------------------------------


class HookServer:
    """The tests' webhook (tests/alerts/conftest.py) on a fixed port, so it can go down and come back."""

    def __init__(self) -> None:
        self.hook = Webhook(port=free_tcp_port())
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.hook.port), _handler(self.hook))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.hook.hang is not None:
            self.hook.hang.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def titles(self) -> list[str]:
        return [str(p.get("title", "")) for p in self.hook.posts]


class MailServer:
    """The tests' SMTP server (aiosmtpd), likewise on a fixed port."""

    def __init__(self) -> None:
        self.box = Mailbox(free_tcp_port())
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.box.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.box.messages]


@pytest.fixture
def receivers() -> Iterator[tuple[HookServer, HookServer, MailServer]]:
    noc, ops, mail = HookServer(), HookServer(), MailServer()
    for r in (noc, ops, mail):
        r.start()
    yield noc, ops, mail
    for r in (noc, ops, mail):
        r.stop()


def alerting(tmp: Path, noc: HookServer, ops: HookServer, mail: MailServer) -> Path:
    """Two webhooks and alice's mailbox; short hold-down and back-off so a test sees retries in a minute."""
    f = tmp / "alerting.yaml"
    f.write_text(f"""web_url: https://saksi.example.net
timing:
  resolve_hold: 2
  repeat_interval: 1d
  escalate_after: 1d
delivery:
  timeout: 3
  attempts: 8
  backoff: 2
  max_backoff: 8
receivers:
  noc-hook: ["{noc.hook.url('noc')}"]
  ops-hook: ["{ops.hook.url('ops')}"]
people:
  alice: {{notify: ["{mail.box.url('alice@example.net')}"]}}
teams:
  network:
    tiers:
      - [alice]
routes:
  - name: everything
    team: network
    receivers: [noc-hook, ops-hook]
""")
    return f


async def eventually(check: Any, timeout: float, what: str) -> None:
    """Wait (without blocking the lab's agents) until `check()` is true."""
    end = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def keys(posts: list[dict[str, Any]], word: str) -> list[str]:
    """The idempotency key of every message with `word` in its title (the body's last `Message key:` line)."""
    out = []
    for p in posts:
        if word in str(p.get("title", "")):
            found = re.findall(r"^Message key: (\S+)$", str(p.get("message", "")), re.MULTILINE)
            out.append(found[-1] if found else "")
    return out


def pages(noc: HookServer, ops: HookServer, mail: MailServer, word: str = "OPENED") -> dict[str, list[str]]:
    """What each target received of one kind of message: the webhooks' keys, the mail subjects."""
    return {"receiver:noc-hook": keys(noc.hook.posts, word), "receiver:ops-hook": keys(ops.hook.posts, word),
            "person:alice": [s for s in mail.subjects() if word in s]}


# --- 1. SIGKILL mid-cycle ----------------------------------------------------------------------------


def test_sigkill_mid_cycle_keeps_state_and_sends_each_transition_once(
        tmp_path: Path, receivers: tuple[HookServer, HookServer, MailServer]) -> None:
    """One kill while a page is in flight, then four more inside a cycle (two just after a trap started a poll,
    two anywhere in the 2 s cycle; seeded, so a failure replays), seven processes on one store: the store
    stays whole, the incident keeps its id, and each transition is decided once. Its time is the daemon's:
    each restart's first poll, and the alert tick (1 s) twice (the resolution, then one tick of silence)."""
    noc, ops, mail = receivers
    db = tmp_path / "saksi.db"
    rng = random.Random(20261124)
    report: dict[str, Any] = {}

    async def story() -> None:
        lab = await runner.start(scenario.load(SCENARIO), ssh=False)
        trap_port = free_udp_port()
        lab.trap_sink = ("127.0.0.1", trap_port)
        args = ("--trap-port", str(trap_port), "--inventory", str(_inventory(tmp_path, lab)),
                "--db", f"sqlite:///{db}", "--alerting", str(alerting(tmp_path, noc, ops, mail)))
        log = tmp_path / "daemon.log"

        try:
            d = await start_daemon(log, *args)
            await d.wait_line(r"core-sw1: poll recorded")
            await d.wait_line(r"dist-sw2: poll recorded")
            ops.hook.hang = threading.Event()  # ops-hook reads the page but holds its answer: in flight for sure
            step(lab, "remove_transceiver")
            await d.wait_line(r"trap \w+ from dist-sw2: polling it now")
            await eventually(lambda: OPENED in " ".join(noc.titles()) and ops.hook.seen >= 1, 30, "the OPENED page")
            d.proc.send_signal(signal.SIGKILL)  # noc-hook has it; the daemon may not have recorded that yet
            assert await d.stop() == -signal.SIGKILL
            report["at_kill"] = {r["target"]: r["status"] for r in outbox(db) if r["transition"] == "opened"}
            ops.hook.hang.set()  # the receiver processes what it read; its answer goes nowhere
            await eventually(lambda: len(ops.hook.posts) == 1, 10, "the held page to be processed")
            report["got_before_kill"] = pages(noc, ops, mail)
            assert integrity(db) == "ok"

            # a restart sends again what was in flight at the kill (and only that), then it is all delivered
            d = await start_daemon(log, *args)
            await eventually(lambda: {r["status"] for r in outbox(db)} == {"delivered"}, 60,
                             "the interrupted deliveries to be retried")
            await d.wait_line(r"dist-sw2: poll recorded", after=len(d.lines))
            report["got_after_retry"] = pages(noc, ops, mail)
            assert await d.stop() == 0

            kills = 0
            for round_ in range(4):  # restart, let it get into a cycle, kill it there
                before = last_taken(db)
                d = await start_daemon(log, *args)
                first = await d.wait_line(r"poll recorded")
                if round_ % 2:  # a trap-triggered poll has just started
                    lab.send_trap("core-sw1", LINK_DOWN, next(iter(lab.site.devices["core-sw1"].ports.values())))
                    await d.wait_line(r"trap linkDown from core-sw1: polling it now", after=first)
                    await asyncio.sleep(rng.uniform(0.0, 0.3))
                else:  # anywhere in the 2-second cycle
                    await asyncio.sleep(rng.uniform(0.0, 2.5))
                d.proc.send_signal(signal.SIGKILL)
                assert await d.stop() == -signal.SIGKILL
                kills += 1
                assert integrity(db) == "ok", "the store survived a SIGKILL"
                after = last_taken(db)
                assert any(after[k] > before[k] for k in after), "the restarted daemon polled and recorded"
            report["kills"] = kills
            report["got_after_kills"] = pages(noc, ops, mail)

            d = await start_daemon(log, *args)
            first = await d.wait_line(r"dist-sw2: poll recorded")
            r = await asyncio.to_thread(run_saksi, "incidents", "--db", f"sqlite:///{db}", "--json", "--open")
            assert r.returncode == 0, r.stderr
            report["open_after_kills"] = [(i["id"], i["cause"], i["device"]) for i in json.loads(r.stdout)]
            step(lab, "insert_transceiver")  # the later transition
            await eventually(lambda: RESOLVED in " ".join(noc.titles()) and RESOLVED in " ".join(ops.titles())
                             and any(RESOLVED in s for s in mail.subjects()), 60, "the RESOLVED messages")
            await d.wait_line(r"dist-sw2: poll recorded", after=len(d.lines))  # and it keeps polling
            await asyncio.sleep(TICK_S + 1)  # one more pipeline tick (and its sending): nothing else may arrive
            report["polls_last_run"] = d.polls()
            assert await d.stop() == 0
        finally:
            lab.close()

    asyncio.run(story())
    assert report["kills"] == 4 and integrity(db) == "ok"
    assert report["open_after_kills"] == [("SAK-000001", "transceiver_removed", "dist-sw2")], \
        "the open incident survived every kill, with the same id"
    assert {dev for dev, _ in report["polls_last_run"]} == {"core-sw1", "dist-sw2"}, "snapshots continue"

    # the resolution: exactly once everywhere
    assert [t for t in noc.titles() if "RESOLVED" in t] == [t for t in ops.titles() if "RESOLVED" in t]
    assert len([t for t in noc.titles() if "RESOLVED" in t]) == 1
    assert len([s for s in mail.subjects() if "RESOLVED" in s]) == 1
    # the page: a target whose delivery was still 'sending' in the outbox at the kill gets it once more after
    # the restart (at-least-once at the transport, as designed: the receiver may or may not have had it),
    # every copy carrying the same idempotency key; one recorded as delivered is never sent again
    for target, status in report["at_kill"].items():
        before, after = report["got_before_kill"][target], report["got_after_retry"][target]
        assert len(after) == len(before) + (status == "sending"), (target, status, before, after)
        assert len(after) in (1, 2), (target, after)
    for target in ("receiver:noc-hook", "receiver:ops-hook"):
        assert set(report["got_after_retry"][target]) == {"SAK-000001/opened/0"}
    assert report["at_kill"]["receiver:ops-hook"] == "sending"
    assert report["got_after_retry"]["receiver:ops-hook"] == ["SAK-000001/opened/0"] * 2, \
        "the page in flight at the kill arrives twice, with one key: the receiver can drop the copy"
    assert report["got_after_kills"] == report["got_after_retry"], "four kills mid-cycle sent nothing new"
    assert pages(noc, ops, mail) == report["got_after_retry"]
    assert all(OPENED in t for t in noc.titles() if "OPENED" in t), "no second incident was opened"
    with sqlite3.connect(db) as conn:
        logged = conn.execute("SELECT transition, generation FROM alert_nflog WHERE ref = 'SAK-000001' "
                              "ORDER BY seq").fetchall()
        statuses = {s for (s,) in conn.execute("SELECT DISTINCT status FROM alert_outbox")}
    assert logged == [("opened", 0), ("resolved", 0)], "each transition decided once across seven processes"
    assert statuses == {"delivered"}
    shown = run_saksi("incident", "show", "SAK-000001", "--db", f"sqlite:///{db}", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["resolved_at"] is not None


# --- 2. InfluxDB stopped and started again ---------------------------------------------------------


def test_influxdb_outage_loses_and_duplicates_no_poll(tmp_path: Path) -> None:
    if not Path(INFLUXD).exists():
        pytest.fail("influxd is missing: scripts/setup.sh installs Debian's influxdb package")
    server = InfluxServer(tmp_path / "influxd")
    server.start()
    server.create_database("faults")
    spool = tmp_path / "spool"
    db = tmp_path / "saksi.db"
    report: dict[str, Any] = {}

    async def story() -> None:
        lab = await runner.start(scenario.load(SCENARIO), ssh=False)
        try:
            d = await start_daemon(tmp_path / "daemon.log", "--trap-port", "0",
                                   "--inventory", str(_inventory(tmp_path, lab)), "--db", f"sqlite:///{db}",
                                   "--influx-url", server.url, "--influx-bucket", "faults", "--spool-dir", str(spool))
            i = await d.wait_line(r"poll recorded")
            for _ in range(3):
                i = await d.wait_line(r"dist-sw2: poll recorded", after=i + 1)
            await asyncio.to_thread(server.stop)  # by PID; the adapter in front of it goes too
            down_from = len(d.polls())
            await d.wait_line(r"InfluxDB unreachable", after=i)
            await eventually(lambda: any(spool.glob("*.lp.gz")), 30, "points to wait in the spool")
            for _ in range(4):  # several poll intervals with the server down
                i = await d.wait_line(r"dist-sw2: poll recorded", after=i + 1)
            report["spooled_files"] = len(list(spool.glob("*.lp.gz")))
            report["polls_during"] = len(d.polls()) - down_from
            await asyncio.to_thread(server.start)  # same ports, same data dir
            await d.wait_line(r"spool replayed, InfluxDB is back", after=i, timeout=90)
            i = await d.wait_line(r"dist-sw2: poll recorded", after=len(d.lines))
            assert await d.stop() == 0  # SIGTERM: what is queued is shipped
            report["polls"] = d.polls()
        finally:
            lab.close()

    try:
        asyncio.run(story())
        reader = InfluxReader(server.url, bucket="faults")
        stored: dict[str, list[int]] = {}
        for s in reader.query('SELECT "reachable" FROM "device" GROUP BY *'):
            stored.setdefault(s.tags["device"], []).extend(int(v[0]) for v in s.values)
        ports: dict[str, Counter[int]] = {}  # interface rows per device and poll time
        for s in reader.query('SELECT "oper_up" FROM "interface" GROUP BY *'):
            ports.setdefault(s.tags["device"], Counter()).update(int(v[0]) for v in s.values)
    finally:
        server.stop()

    assert report["spooled_files"] > 0 and report["polls_during"] >= 8, "the outage did not bite"
    polled: dict[str, list[int]] = {}
    for dev, t in report["polls"]:
        polled.setdefault(dev, []).append(ns(t))
    assert set(polled) == {"core-sw1", "dist-sw2"}
    for dev, times in polled.items():
        assert len(set(times)) == len(times)
        assert sorted(stored[dev]) == sorted(times), f"{dev}: every poll once, none missing, none twice"
        assert set(ports[dev]) == set(times), f"{dev}: every poll's interfaces are there"
        assert len(set(ports[dev].values())) == 1, f"{dev}: no poll lost part of its interface points"
    assert not list(spool.glob("*.lp.gz")), "the spool is empty at the end"


# --- 3. receivers down when the incident opens -------------------------------------------------------


def test_receivers_down_at_the_page_get_it_once_when_back_and_others_are_not_delayed(
        tmp_path: Path, receivers: tuple[HookServer, HookServer, MailServer]) -> None:
    noc, ops, mail = receivers
    db = tmp_path / "saksi.db"
    report: dict[str, Any] = {}

    async def story() -> None:
        lab = await runner.start(scenario.load(SCENARIO), ssh=False)
        trap_port = free_udp_port()
        lab.trap_sink = ("127.0.0.1", trap_port)
        try:
            d = await start_daemon(tmp_path / "daemon.log", "--trap-port", str(trap_port),
                                   "--inventory", str(_inventory(tmp_path, lab)), "--db", f"sqlite:///{db}",
                                   "--alerting", str(alerting(tmp_path, noc, ops, mail)))
            await d.wait_line(r"dist-sw2: poll recorded")
            noc.stop()
            mail.stop()
            step(lab, "remove_transceiver")
            await eventually(lambda: OPENED in " ".join(ops.titles()), 30, "the page on the receiver that is up")
            report["noc_while_down"], report["mail_while_down"] = list(noc.titles()), list(mail.subjects())
            i = await d.wait_line(r"message to receiver:noc-hook failed \(attempt 1\)")
            await d.wait_line(r"message to person:alice failed \(attempt 1\)")
            await d.wait_line(r"message to receiver:noc-hook failed \(attempt 2\)", after=i, timeout=40)
            shown = await asyncio.to_thread(run_saksi, "incident", "show", "SAK-000001", "--db", f"sqlite:///{db}")
            report["show"] = shown.stdout + shown.stderr
            report["retries"] = [line for line in d.lines if "retrying at" in line]
            report["outbox_down"] = outbox(db)
            noc.start()
            mail.start()
            await eventually(lambda: OPENED in " ".join(noc.titles()) and any(OPENED in s for s in mail.subjects()),
                             60, "the page after the receivers came back")
            await asyncio.sleep(TICK_S + 1)  # one more pipeline tick (and its sending): nothing may arrive twice
            assert await d.stop() == 0
        finally:
            lab.close()

    asyncio.run(story())
    assert report["noc_while_down"] == [] and report["mail_while_down"] == []
    assert "delivery_failed:receiver:noc-hook" in report["show"], report["show"]
    down = {r["target"]: r for r in report["outbox_down"]}
    assert down["receiver:ops-hook"]["status"] == "delivered", "the receiver that was up was not held back"
    assert down["receiver:noc-hook"]["status"] in ("failed", "sending") and down["receiver:noc-hook"]["attempts"] >= 1
    # back-off: the retry times of one target move further apart
    waits = [float(m[1]) for line in report["retries"]
             if "receiver:noc-hook" in line and (m := re.search(r"retrying at ([0-9.e+]+)", line))]
    assert len(waits) >= 2 and waits == sorted(waits)
    assert [t for t in noc.titles() if "OPENED" in t] == [t for t in ops.titles() if "OPENED" in t]
    assert len([t for t in noc.titles() if "OPENED" in t]) == 1, noc.titles()
    assert len([s for s in mail.subjects() if "OPENED" in s]) == 1, mail.subjects()
    assert keys(noc.hook.posts, "OPENED") == keys(ops.hook.posts, "OPENED") == ["SAK-000001/opened/0"]
    final = {r["target"]: r for r in outbox(db)}
    assert {t: r["status"] for t, r in final.items()} == {
        "receiver:noc-hook": "delivered", "receiver:ops-hook": "delivered", "person:alice": "delivered"}
    assert final["receiver:noc-hook"]["attempts"] >= 3 and final["receiver:ops-hook"]["attempts"] == 1
