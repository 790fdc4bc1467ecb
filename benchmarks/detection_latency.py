"""How long a physical change takes to become an incident and a notification, with traps and without.

Run from the project root:

    .venv/bin/python benchmarks/detection_latency.py [--interval 30] [--repeats 5] [--modes traps,polling]
    .venv/bin/python benchmarks/detection_latency.py --quick      # interval 10 s, 3 repeats per mode

Everything is real and runs on the wall clock. The script starts, on 127.0.0.1:
  - a lab site (monitor.lab.runner.start, clock = wall time): `--repeats` pairs of switches, each pair
    joined by a 1000base-LX fibre link (a{k}:Gi1/0/25 — b{k}:Gi1/0/25), every switch its own SNMP agent
    on its own 127.0.0.N;
  - an HTTP webhook receiver that stamps each POST with its arrival time;
  - a real `saksi run` subprocess (the installed entry point) with an inventory of those switches, a
    SQLite state store, the embedded time-series store, and an alerting file routing every incident to
    the webhook; `--trap-port` is a free UDP port (mode "traps") or 0 (mode "polling").
After every switch has been polled once, each repetition waits a random time in [0, interval) — so the
change falls at a random phase of the poll schedule — then pulls the SFP (with its fibre) out of
b{k}:Gi1/0/25, a different link each time, and records the wall time. It then watches the store
(read-only SQLite, every 50 ms) for the incident on b{k} and the webhook for its OPENED message.

What bounds each figure:
  - polling, change → incident: the wait for the next scheduled poll of either end of the link, which is
    uniform over one interval (plus APScheduler's jitter, up to 5 s per run), then one poll (~0.1–1 s of
    SNMP against the lab agent) and the witness + store write. Expect ≈ interval/2 median, ≈ interval +
    jitter at worst.
  - traps, change → incident: the lab device sends linkDown/entConfigChange the moment the model settles;
    the daemon answers a trap with an immediate poll of that device — so one poll plus the pipeline,
    independent of the interval. Either end's trap poll may open the incident (the far end sees loss of
    light); the near end's poll re-classifies it in place, so both ends are watched. A trap that arrives
    while a scheduled poll of the same device is running is dropped by the daemon ("poll already
    running"); if that poll straddled the change (some tables read before it, some after) the incident
    opens with a weaker cause (`unknown`) and the firm one waits for the next scheduled poll — the
    outliers of this mode are those cases. The printed cause is read one second after detection.
  - incident → webhook: the alert pipeline runs in the same recording step (group_wait 0 here); delivery
    is a worker thread POSTing through apprise, so it is the HTTP round trip plus apprise's start-up.
Other processes on the machine (CPU load) lengthen the poll and pipeline parts; the interval part is
pure scheduling.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _lab import SAKSI, free_port, machine, stop_process, summary

from monitor.lab import runner, scenario
from monitor.lab.demo import Inbox as Webhook

PORT = "Gi1/0/25"


@dataclass
class Sample:
    mode: str
    link: int
    incident_s: float | None  # change → incident row visible in the store
    webhook_s: float | None  # change → OPENED POST received
    cause: str | None


def site_yaml(pairs: int, traps: bool) -> dict[str, object]:
    """A site of `pairs` fibre-linked switch pairs; the scenario's own steps are empty (changes are live)."""
    devices = [{"name": f"{side}{k}", "platform": "cisco_ios", "ports": 28}
               for k in range(1, pairs + 1) for side in ("a", "b")]
    links = [{"a": f"a{k}:{PORT}", "b": f"b{k}:{PORT}", "media": "1000base-lx", "role": "backbone"}
             for k in range(1, pairs + 1)]
    return {"name": "detection-latency", "site": {"traps": traps, "devices": devices, "links": links},
            "poll_interval": 60, "steps": [], "run_until": 0}


def inventory_yaml(lab: runner.Lab) -> str:
    return lab.inventory_yaml(site="lab", customer="bench", timeout=1.0, retries=2)


def alerting_yaml(hook: Webhook) -> str:
    return f"""timing:
  group_wait: 0
delivery:
  timeout: 5
  attempts: 3
  backoff: 5
receivers:
  bench-hook: ["{hook.url()}"]
people:
  oncall: {{notify: []}}
teams:
  network:
    tiers:
      - [oncall]
routes:
  - name: everything
    team: network
    receivers: [bench-hook]
"""


def _query(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    """A read-only look at the daemon's store; a locked or not-yet-created database reads as empty."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.5) as conn:
            return list(conn.execute(sql, args))
    except sqlite3.OperationalError:
        return []


async def _until(check, timeout_s: float, every_s: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll `check()` until it returns something truthy; None on timeout.

    The check runs in a thread: the lab's agents answer from this event loop, and a store read that
    waits on the daemon's write lock must not hold their answers back (that would slow the polls).
    """
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        got = await asyncio.to_thread(check)
        if got:
            return got
        await asyncio.sleep(every_s)
    return None


def start_daemon(d: Path, interval: float, trap_port: int) -> subprocess.Popen[bytes]:
    """`saksi -v run` on the folder's inventory, store and alerting file; its log goes to saksi.log."""
    with open(d / "saksi.log", "wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [*SAKSI, "-v", "run", "--inventory", str(d / "inventory.yaml"), "--db", f"sqlite:///{d / 'state.db'}",
             "--interval", str(interval), "--trap-port", str(trap_port), "--alerting", str(d / "alerting.yaml")],
            cwd=d, stdout=log, stderr=subprocess.STDOUT,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("SAKSI_")},
                 "SAKSI_CONFIG_HISTORY": str(d / "config")})


def _count(db: Path, sql: str) -> int:
    rows = _query(db, sql)
    return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]


async def run_mode(mode: str, args: argparse.Namespace, work: Path, rng: random.Random) -> list[Sample]:
    traps = mode == "traps"
    scn = scenario.parse(site_yaml(args.repeats, traps), "detection-latency")
    t0 = time.time()
    # the agents re-render a device's MIB (~25 ms) whenever the clock has moved; a whole-second clock keeps
    # that to once a second instead of once per request (a change applied below bumps the view at once)
    lab = await runner.start(scn, clock=lambda: float(math.floor(time.time() - t0)), ssh=False)
    hook = Webhook().start()
    d = work / mode
    d.mkdir()
    (d / "inventory.yaml").write_text(inventory_yaml(lab))
    (d / "alerting.yaml").write_text(alerting_yaml(hook))
    db = d / "state.db"
    trap_port = free_port(socket.SOCK_DGRAM) if traps else 0
    if traps:
        lab.trap_sink = ("127.0.0.1", trap_port)
    proc = start_daemon(d, args.interval, trap_port)
    samples: list[Sample] = []
    try:
        n = len(lab.ports)
        started = time.time()
        ready = await _until(lambda: _count(db, "SELECT count(*) FROM snapshots WHERE slot='last'") >= n,
                             120 + 2 * args.interval, every_s=0.2)
        if not ready or proc.poll() is not None:
            raise SystemExit(f"saksi run did not poll every device (see {d / 'saksi.log'})")
        print(f"  [{mode}] saksi run (PID {proc.pid}) polled all {n} switches "
              f"{time.time() - started:.1f} s after start", flush=True)
        for k in range(1, args.repeats + 1):
            await asyncio.sleep(rng.uniform(0, args.interval))
            device = f"b{k}"
            now = time.time() - t0
            changed_at = time.time()
            scenario.apply(lab.site, scn, scenario.Step(at=now, do="remove_transceiver",
                                                        args={"device": device, "port": PORT}, number=k))
            lab.settle(now)  # the model settles now; with traps on, the devices send theirs
            limit = 2 * args.interval + 30
            # either end may open it (the far end's trap poll can come first); it is re-classified in place
            ends = (f"a{k}", device)
            row = await _until(lambda ends=ends: _query(
                db, "SELECT cause FROM incidents WHERE device IN (?, ?)", *ends), limit)
            incident_s = time.time() - changed_at if row else None
            got = await _until(lambda ends=ends, at=changed_at: hook.first([f" at {e} " for e in ends], at), limit)
            webhook_s = got - changed_at if got else None
            await asyncio.sleep(1.0)  # a re-classification by the near end's poll shows in the cause
            final = await asyncio.to_thread(_query, db, "SELECT cause FROM incidents WHERE device IN (?, ?)", *ends)
            samples.append(Sample(mode, k, incident_s, webhook_s, str(final[0][0]) if final else None))
            print(f"  [{mode}] link {k} changed at {changed_at:.2f}: incident {_fmt(incident_s)}  webhook {_fmt(webhook_s)}  "
                  f"cause (1 s later) {samples[-1].cause}", flush=True)
    finally:
        stop_process(proc)
        hook.stop()
        lab.close()
    return samples


def _fmt(s: float | None) -> str:
    return "   -   " if s is None else f"{s:6.2f} s"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--interval", type=float, default=30.0, help="saksi run --interval (seconds)")
    p.add_argument("--repeats", type=int, default=5, help="changes per mode (one fibre link each)")
    p.add_argument("--modes", default="traps,polling", help="comma-separated: traps, polling")
    p.add_argument("--seed", type=int, default=None, help="random phase seed (default: random)")
    p.add_argument("--quick", action="store_true", help="interval 10 s, 3 repeats")
    p.add_argument("--workdir", type=Path, default=None, help="keep logs, stores and inventories here")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops what was started
    if args.quick:
        args.interval, args.repeats = 10.0, 3
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not set(modes) <= {"traps", "polling"} or args.repeats < 1 or args.repeats > 100 or args.interval <= 0:
        p.error("--modes takes traps and/or polling; --repeats 1..100; --interval > 0")
    rng = random.Random(args.seed)
    print(f"machine: {machine()}")
    print(f"interval {args.interval:g} s (+ APScheduler jitter up to 5 s), {args.repeats} changes per mode, "
          f"change at a random phase in [0, interval)")
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="saksi-latency-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for mode in modes:
            samples += asyncio.run(run_mode(mode, args, work, rng))
    print("\nmode     measure                min / median / max (seconds)")
    for mode in modes:
        mine = [s for s in samples if s.mode == mode]
        inc = [s.incident_s for s in mine if s.incident_s is not None]
        hook = [s.webhook_s for s in mine if s.webhook_s is not None]
        delivery = [s.webhook_s - s.incident_s for s in mine if s.webhook_s is not None and s.incident_s is not None]
        print(f"{mode:8} change → incident     {summary(inc)}")
        print(f"{mode:8} change → webhook      {summary(hook)}")
        print(f"{mode:8} incident → webhook    {summary(delivery)}")
        missed = [s.link for s in mine if s.incident_s is None or s.webhook_s is None]
        if missed:
            print(f"{mode:8} MISSED (not seen within 2×interval+30 s): links {missed}")
    if any(s.incident_s is None or s.webhook_s is None for s in samples):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
