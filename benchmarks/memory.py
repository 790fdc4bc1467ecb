"""Resident memory of `saksi run` per monitored device and per port, measured up to 1,000 devices.

Run from the project root:

    .venv/bin/python benchmarks/memory.py                  # 250, 500, 1000 small devices + 250 large ones
    .venv/bin/python benchmarks/memory.py --quick          # 50, 150 small + 50 large: a few minutes
    .venv/bin/python benchmarks/memory.py --sizes 250,1000 --large-sizes 250 --agents 2 --concurrency 16

The agents are snmpsim processes on free 127.0.0.1 UDP ports. snmpsim picks the recording by SNMP
community (`<community>.snmprec` in its data folder), so one real recording, copied under a name per
device, makes as many devices as wanted from one process (copied, not linked: snmpsim resolves links
and would see one file). Two real switch recordings from ../shared/corpus/librenms are used:
a small one (default routeros_crs317, 20 ports) and a large one (default junos_qfx5100, 50 ports);
devices are spread round-robin over `--agents` snmpsim processes.

For every run (a size and a recording) the script writes an inventory (sites of 100 devices, one
SNMP credential per device, as the community differs), starts a real `saksi run` subprocess (the
installed entry point) with a fresh SQLite state store and the embedded time-series store next to it
(the default sink), `--interval 3600` and no trap port, and waits until its log shows one recorded
poll of every device (one complete round). After a short settle it reads VmRSS and VmHWM from
/proc/PID/status, counts the ports the store holds, and stops the daemon by PID.

A least-squares fit of RSS = baseline + a·devices + b·ports over all runs gives the per-device and
per-port figures (a device's cost apart from its ports, and each port's cost). snmpsim spends about
150 µs of CPU per varbind, so the agents, not the monitor, set the round time; it is printed per run.
Figures depend on load: other processes on a shared machine slow the round, not the memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _lab import ROOT, SAKSI, machine, memory_kb, spawn_snmpsim, stop_process, wait_answering

CORPUS = ROOT.parent / "shared" / "corpus" / "librenms"
SITE_SIZE = 100


@dataclass(frozen=True)
class Kind:
    """One recording played by many devices."""

    prefix: str  # community / device name prefix
    recording: Path

    def community(self, i: int) -> str:
        return f"{self.prefix}{i:04d}"


@dataclass
class Run:
    kind: str
    devices: int
    ports: int
    answered: int
    round_s: float
    rss_kb: int
    hwm_kb: int


def prepare_agents(kinds: dict[Kind, int], agents: int, work: Path) -> list[Path]:
    """One data folder per agent holding `<community>.snmprec` copies, devices spread round-robin."""
    dirs = [work / f"agent{j}" / "data" for j in range(agents)]
    for d in dirs:
        d.mkdir(parents=True)
    for kind, count in kinds.items():
        for i in range(count):
            shutil.copyfile(kind.recording, dirs[i % agents] / f"{kind.community(i)}.snmprec")
    return dirs


def inventory_yaml(kind: Kind, count: int, agent_ports: list[int], platform: str) -> str:
    """`count` devices of one recording, on their agents, in sites of SITE_SIZE."""
    sites = (count + SITE_SIZE - 1) // SITE_SIZE
    lines = ["customers:", "  - {name: bench}", "sites:"]
    lines += [f"  - {{name: site{s:02d}, customer: bench, timezone: UTC}}" for s in range(sites)]
    lines += ["credentials:", "  snmp:"]
    lines += [f"    c{i:04d}: {{version: 2c, community: \"{kind.community(i)}\"}}" for i in range(count)]
    lines += ["devices:"]
    lines += [f"  - {{name: {kind.community(i)}, site: site{i // SITE_SIZE:02d}, host: 127.0.0.1, "
              f"port: {agent_ports[i % len(agent_ports)]}, platform: {platform}, snmp: c{i:04d}, "
              f"timeout: 5.0, retries: 2}}" for i in range(count)]
    return "\n".join(lines) + "\n"


def _polls(log: Path) -> tuple[int, int]:
    """(recorded polls, answered polls) from the daemon's own log lines."""
    lines = [line.rstrip() for line in log.read_text(errors="replace").splitlines() if "poll recorded" in line]
    return len(lines), sum(line.endswith("reachable=True") for line in lines)


def _ports_in_store(db: Path) -> int:
    """Ports of every device's latest snapshot, as the store holds them (what the monitor keeps)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT data FROM snapshots WHERE slot = 'last'").fetchall()
    return sum(len(json.loads(data).get("ports") or []) for (data,) in rows)


def measure(kind: Kind, count: int, agent_ports: list[int], args: argparse.Namespace, work: Path) -> Run:
    d = work / f"run-{kind.prefix}-{count}"
    d.mkdir()
    (d / "inventory.yaml").write_text(inventory_yaml(kind, count, agent_ports, args.platform))
    db = d / "state.db"
    log = d / "saksi.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*SAKSI, "-v", "run", "--inventory", str(d / "inventory.yaml"), "--db", f"sqlite:///{db}",
             "--interval", "3600", "--trap-port", "0", "--concurrency", str(args.concurrency)],
            cwd=d, stdout=out, stderr=subprocess.STDOUT,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("SAKSI_")},
                 "SAKSI_CONFIG_HISTORY": str(d / "config")})
        try:
            started = time.time()
            recorded = answered = 0
            while time.time() - started < args.round_timeout:
                if proc.poll() is not None:
                    raise SystemExit(f"saksi run exited with {proc.returncode}; see {log}")
                recorded, answered = _polls(log)
                if recorded >= count:
                    round_s = time.time() - started  # start-up (~5 s) and one round of every device
                    break
                time.sleep(2.0)
            else:
                raise SystemExit(f"{recorded} of {count} polls in {args.round_timeout:.0f} s; see {log}")
            time.sleep(args.settle)  # the time-series sink flushes, the last store writes land
            mem = memory_kb(proc.pid)
        finally:
            stop_process(proc)
    run = Run(kind.prefix, count, _ports_in_store(db), answered, round_s, mem["VmRSS"], mem["VmHWM"])
    print(f"  {kind.recording.stem:24} {count:5d} devices {run.ports:6d} ports  answered {answered:5d}  "
          f"start + round {run.round_s:6.1f} s  RSS {run.rss_kb / 1024:7.1f} MiB  HWM {run.hwm_kb / 1024:7.1f} MiB",
          flush=True)
    return run


def fit(runs: list[Run]) -> tuple[float, float, float]:
    """Least squares RSS = c + a·devices + b·ports (kB), by the 3×3 normal equations.

    >>> fit([Run("s", 1, 10, 1, 0, 120, 0), Run("s", 2, 20, 2, 0, 140, 0), Run("l", 1, 30, 1, 0, 140, 0)])
    (100.0, 10.0, 1.0)
    """
    xs = [(1.0, float(r.devices), float(r.ports)) for r in runs]
    ys = [float(r.rss_kb) for r in runs]
    a = [[sum(x[i] * x[j] for x in xs) for j in range(3)] + [sum(x[i] * y for x, y in zip(xs, ys, strict=True))]
         for i in range(3)]
    for col in range(3):  # Gauss-Jordan with partial pivoting
        pivot = max(range(col, 3), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-9:
            raise SystemExit("the runs do not separate devices from ports: vary both the size and the recording")
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(3):
            if r != col:
                f = a[r][col] / a[col][col]
                a[r] = [v - f * w for v, w in zip(a[r], a[col], strict=True)]
    c, per_device, per_port = (round(a[i][3] / a[i][i], 6) for i in range(3))
    return c, per_device, per_port


def _sizes(text: str) -> list[int]:
    return sorted({int(x) for x in text.split(",") if x.strip()})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="250,500,1000", help="device counts with the small recording")
    p.add_argument("--large-sizes", default="250", help="device counts with the large recording")
    p.add_argument("--small", type=Path, default=CORPUS / "routeros_crs317.snmprec")
    p.add_argument("--large", type=Path, default=CORPUS / "junos_qfx5100.snmprec")
    p.add_argument("--platform", default="generic", help="inventory platform of every device")
    p.add_argument("--agents", type=int, default=2, help="snmpsim processes")
    p.add_argument("--concurrency", type=int, default=16, help="saksi run --concurrency")
    p.add_argument("--settle", type=float, default=5.0, help="seconds after the round before reading memory")
    p.add_argument("--round-timeout", type=float, default=3600.0, help="give up on a round after this long")
    p.add_argument("--quick", action="store_true", help="50 and 150 small devices, 50 large")
    p.add_argument("--workdir", type=Path, default=None, help="keep inventories, stores and logs here")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops what was started
    if args.quick:
        args.sizes, args.large_sizes = "50,150", "50"
    small_sizes, large_sizes = _sizes(args.sizes), _sizes(args.large_sizes)
    if not small_sizes or min(small_sizes + large_sizes) < 1 or max(small_sizes + large_sizes) > 9999:
        p.error("sizes are comma-separated counts from 1 to 9999")
    if len(small_sizes) + len(large_sizes) < 3 or not large_sizes:
        p.error("need at least three runs, one of them with the large recording, to separate devices from ports")
    for rec in (args.small, args.large):
        if not rec.is_file():
            p.error(f"recording not found: {rec}")
    small, large = Kind("s", args.small), Kind("l", args.large)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="saksi-memory-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        t = time.time()
        dirs = prepare_agents({small: max(small_sizes), large: max(large_sizes)}, args.agents, work)
        agents = []
        try:
            for d in dirs:  # start all, then wait: they index their files in parallel
                agents.append(spawn_snmpsim(d, d.parent / "cache", d.parent / "snmpsim.log"))
            for d, (proc, port) in zip(dirs, agents, strict=True):
                wait_answering(proc, port, d, d.parent / "snmpsim.log")
            print(f"agents: {args.agents} snmpsim on ports {[port for _, port in agents]}, "
                  f"{max(small_sizes) + max(large_sizes)} recordings indexed in {time.time() - t:.0f} s")
            ports = [port for _, port in agents]
            runs = [measure(small, n, ports, args, work) for n in small_sizes]
            runs += [measure(large, n, ports, args, work) for n in large_sizes]
        finally:
            for proc, _ in agents:
                stop_process(proc)
    baseline, per_device, per_port = fit(runs)
    print(f"\nfit over {len(runs)} runs: RSS = baseline + a·devices + b·ports")
    print(f"  baseline    {baseline / 1024:8.1f} MiB")
    print(f"  per device  {per_device:8.1f} kB (apart from its ports)")
    print(f"  per port    {per_port:8.1f} kB")
    for r in runs:
        predicted = baseline + per_device * r.devices + per_port * r.ports
        print(f"  {r.kind} {r.devices:5d}: measured {r.rss_kb / 1024:7.1f} MiB, fit {predicted / 1024:7.1f} MiB, "
              f"{(r.rss_kb - baseline) / r.devices:7.1f} kB per device all in")
    if any(r.answered < r.devices for r in runs):
        print("WARNING: some polls went unanswered; their snapshots are smaller than a real device's")


if __name__ == "__main__":
    main()
