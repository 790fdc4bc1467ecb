"""Two causes on one link, live: `saksi lab up` in real time, `saksi run` polling it from the inventory it
wrote, with and without traps, each its own processes. The lab half of the same story is the scenario
tests/scenarios/two-causes-on-one-link.yaml (played by the daemon on a simulated clock).

Issue 14: live, the far end's SFP pulled while the near end's move was still open was folded into the
first incident (the store merged them by key) and never paged. Both must be named, each paged once.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.lab.demo import ALERTING, Inbox, Received
from monitor.state.store import Store
from tests.conftest import run_saksi

SAKSI = Path(sys.executable).parent / "saksi"
MOVE_AT, PULL_AT = 25, 40  # seconds after `lab up` starts: after the daemon's first round, whatever the load
SCENARIO = f"""name: two-causes-live
site:
  devices:
    - {{name: core-sw1, platform: cisco_ios, ports: 52}}
    - {{name: dist-sw2, platform: cisco_ios, ports: 28}}
  links:
    - {{a: core-sw1:Gi1/0/49, b: dist-sw2:Gi1/0/25, media: 1000base-lx, role: backbone}}
steps:
  - {{at: {MOVE_AT}, do: move_transceiver, device: core-sw1, port: Gi1/0/49, to_port: Gi1/0/50, with_cable: true}}
  - {{at: {PULL_AT}, do: remove_transceiver, device: dist-sw2, port: Gi1/0/25}}
run_until: 120
"""


def _free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Live:
    """One `lab up` and one `saksi run` on it, in their own processes; stopped by PID."""

    def __init__(self, tmp: Path, traps: bool, inbox: Inbox) -> None:
        self.tmp, self.traps = tmp, traps
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "scenario.yaml").write_text(SCENARIO)
        (tmp / "alerting.yaml").write_text(ALERTING.format(port=inbox.port).replace("/noc", f"/noc-{tmp.name}"))
        self.inventory, self.db = tmp / "inventory.yaml", f"sqlite:///{tmp / 'saksi.db'}"
        self.trap_port = _free_udp_port() if traps else 0
        sink = ["--trap-sink", f"127.0.0.1:{self.trap_port}"] if traps else []
        self.started = time.monotonic()
        self.lab = subprocess.Popen([str(SAKSI), "lab", "up", str(tmp / "scenario.yaml"), "--write-inventory",
                                     str(self.inventory), *sink], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.run: subprocess.Popen[bytes] | None = None

    def start_run(self) -> None:
        deadline = time.monotonic() + 30
        while not self.inventory.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert self.inventory.exists(), "lab up wrote no inventory"
        self.run = subprocess.Popen([str(SAKSI), "run", "--inventory", str(self.inventory), "--db", self.db,
                                     "--interval", "5", "--trap-port", str(self.trap_port), "--alerting",
                                     str(self.tmp / "alerting.yaml")],
                                    stdout=subprocess.DEVNULL, stderr=open(self.tmp / "run.log", "wb"))

    def incidents(self) -> list[dict[str, object]]:
        """What `saksi incidents --json` shows: the engineer's view, read once at the end."""
        r = run_saksi("incidents", "--db", self.db, "--json")
        return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else []

    def store(self) -> Store | None:
        """The daemon's store, read directly while waiting (a process per look would cost a second of CPU)."""
        return Store(self.db, create=False) if (self.tmp / "saksi.db").exists() else None

    def count(self) -> int:
        store = self.store()
        if store is None:
            return 0
        with store:
            return len(store.incidents())

    def polled_since(self, t: float) -> bool:
        """Both devices were polled after wall time `t`: a whole round the daemon could have spoken in."""
        store = self.store()
        if store is None:
            return False
        with store:
            last = store.last_snapshots()
        return len(last) == 2 and all(snap.taken_at > t for snap in last.values())

    def stop(self) -> None:
        for proc in (self.run, self.lab):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@dataclass
class Outcome:
    found: list[dict[str, object]]  # `saksi incidents --json` at the end
    received: list[Received]  # what the alerting's webhooks took
    log: str  # saksi run's


def _story(tmp: Path, traps: bool) -> Outcome:
    """One live run: wait (against a deadline) for two incidents and their four OPENED messages, then for one
    more round of both devices, in which nothing else may come."""
    inbox = Inbox().start()
    live = Live(tmp / ("traps" if traps else "polling"), traps, inbox)
    try:
        live.start_run()
        deadline = time.monotonic() + PULL_AT + 90
        while time.monotonic() < deadline:
            if live.count() >= 2 and len([m for m in inbox.received if "OPENED" in m.title]) >= 4:
                break
            time.sleep(0.5)
        settled, round_deadline = time.time(), time.monotonic() + 30
        while not live.polled_since(settled) and time.monotonic() < round_deadline:
            time.sleep(0.5)
        assert live.polled_since(settled), "the daemon stopped polling"
        found = live.incidents()
    finally:
        live.stop()
        inbox.stop()
    return Outcome(found, list(inbox.received), (live.tmp / "run.log").read_text(errors="replace"))


@pytest.fixture(scope="module")
def live_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Future[Outcome]]:
    """Both live runs (polling only, and with traps) at the same time: each is mostly real time waiting for the
    lab's steps, and each has its own lab, daemon, store and webhooks. Each test reads its own run's outcome."""
    tmp = tmp_path_factory.mktemp("live")
    with ThreadPoolExecutor(2) as pool:
        runs = {traps: pool.submit(_story, tmp, traps) for traps in (False, True)}
        wait(runs.values())
    return runs


@pytest.mark.parametrize("traps", [False, True], ids=["polling", "traps"])
def test_a_second_cause_on_the_same_link_is_its_own_incident_and_page_live(
        live_runs: dict[bool, Future[Outcome]], traps: bool) -> None:
    """The move at 25 s and the far end's pull at 40 s are two incidents and two pages, and a further round of
    polls adds nothing. One run each way is the proof: the old merge lost the second cause every time."""
    run = live_runs[traps].result()
    got = sorted((str(i["cause"]), str(i["device"]), str(i["port"])) for i in run.found)
    assert got == [("transceiver_moved", "core-sw1", "GigabitEthernet1/0/49"),
                   ("transceiver_removed", "dist-sw2", "GigabitEthernet1/0/25")], (got, run.log[-3000:])
    refs = {str(i["cause"]): str(i["id"]) for i in run.found}
    noc = [m.title for m in run.received if m.path.startswith("/noc") and "OPENED" in m.title]
    for cause, ref in refs.items():
        assert len([t for t in noc if f"OPENED {ref} " in t and cause in t]) == 1, (cause, noc)
    assert len(noc) == 2, noc
