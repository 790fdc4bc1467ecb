"""Correlation resumes exactly: after a SIGKILL of the daemon's process, and after a site changes hands.

A chassis warms 1 °C a minute towards its 60 °C warning. The trend (`temperature_rising`) needs nine polls
spread over eight minutes; the daemon is killed after six. The restarted daemon must warn at the very poll an
uninterrupted one does, which it can only do if the six points it had were saved with each observation.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from monitor.daemon.monitor import Monitor, Settings
from monitor.inventory import load_inventory
from monitor.model import Hardware, Sensor, SensorKind, Snapshot, TableHealth, TableStatus, Thresholds
from monitor.state.store import Store
from monitor.witness.changes import ChangeKind
from tests.pg import Postgres, available
from tests.state.test_people import INVENTORY

ROOT = Path(__file__).resolve().parents[2]
POLLS, KILLED_AFTER = 12, 6


def chassis(n: int) -> Snapshot:
    """The n-th poll (a minute apart) of a chassis warming 1 °C a minute from 40 °C."""
    sensor = Sensor("cisco-entity-sensor:30001", SensorKind.TEMPERATURE, 40.0 + n,
                    Thresholds(high_warn=60.0, high_alarm=68.0), "cisco-entity-sensor", descr="Chassis")
    return Snapshot("sw1", 1_000_000.0 + 60.0 * n, True, tables=(TableHealth("entSensorValueTable", TableStatus.OK, 1),),
                    hardware=Hardware(temperatures=(sensor,)))


def monitor(inventory: Path, url: str, root: Path) -> Monitor:
    return Monitor(load_inventory(inventory), Store(url), Settings(trap_port=None, config_root=root),
                   clock=lambda: 1_000_000.0)


def warnings(url: str) -> list[float]:
    with Store(url) as store:
        return [c.at for c in store.changes() if c.kind is ChangeKind.TEMPERATURE_RISING]


def record(m: Monitor, polls: range) -> None:
    for n in polls:
        m._record(m.inventory.devices["sw1"], chassis(n))  # the daemon's own step after each poll


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from tests.state.test_resume import monitor, record
    inventory, url, root, first, last = sys.argv[1:]
    m = monitor(Path(inventory), url, Path(root))
    for n in range(int(first), int(last)):
        record(m, range(n, n + 1))
        print(f"RECORDED {n}", flush=True)
    print("DONE", flush=True)
    time.sleep(600)  # a daemon does not exit by itself: the test kills it
""")


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    f = tmp_path / "inventory.yaml"
    f.write_text(INVENTORY)
    return f


def daemon(inventory: Path, url: str, root: Path, first: int, last: int) -> None:
    """A real daemon process that records polls first..last-1, then is SIGKILLed."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(inventory), url, str(root), str(first), str(last)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()  # a reader thread: select() on a buffered pipe misses lines
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        while True:
            try:
                line = lines.get(timeout=120)
            except queue.Empty:
                line = ""
            assert line, proc.stderr.read() if proc.poll() is not None else "no answer"  # type: ignore[union-attr]
            if line.strip() == "DONE":
                break
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL


def test_a_trend_warning_comes_on_time_across_a_sigkill(inventory: Path, tmp_path: Path) -> None:
    whole = f"sqlite:///{tmp_path / 'whole.db'}"
    m = monitor(inventory, whole, tmp_path / "configs")
    record(m, range(POLLS))
    m.close()
    expected = warnings(whole)
    assert len(expected) == 1 and expected[0] > chassis(KILLED_AFTER).taken_at, "the warning needs the killed points"

    killed = f"sqlite:///{tmp_path / 'killed.db'}"
    daemon(inventory, killed, tmp_path / "configs", 0, KILLED_AFTER)
    daemon(inventory, killed, tmp_path / "configs", KILLED_AFTER, POLLS)
    assert warnings(killed) == expected


def test_a_site_handed_over_between_members_warns_on_time(inventory: Path, tmp_path: Path) -> None:
    """Two members on one PostgreSQL: the first correlates the site, then the second takes it over."""
    if not available():
        pytest.fail("PostgreSQL is not installed: scripts/setup.sh installs the Debian package `postgresql`")
    pg = Postgres()
    try:
        whole = f"sqlite:///{tmp_path / 'whole.db'}"
        m = monitor(inventory, whole, tmp_path / "configs")
        record(m, range(POLLS))
        m.close()

        first = monitor(inventory, pg.url, tmp_path / "a")
        record(first, range(KILLED_AFTER))
        assert first.flush()
        first.witnesses.pop("hq")  # what drop_site does once its polls in flight are saved
        first.close()
        second = Monitor(first.inventory, Store(pg.url), Settings(trap_port=None, config_root=tmp_path / "b"),
                         clock=lambda: 1_000_000.0, owned=())
        second.witnesses["hq"] = second._witness("hq")  # what take_site does
        record(second, range(KILLED_AFTER, POLLS))
        second.close()
        assert warnings(pg.url) == warnings(whole) != []
    finally:
        pg.close()
