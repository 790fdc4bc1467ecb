"""What one `saksi check` poll costs the client, per varbind, next to bare pysnmp and net-snmp's C walker.

Run from the project root:

    .venv/bin/python benchmarks/check_cost.py [--recording FILE.snmprec] [--repeats 5]

It starts its own snmpsim on a free 127.0.0.1 port serving one recording (by default the corpus's
iosxe_c9500h-svl), stops it by PID at the end, and measures against that one agent:

  (a) `monitor.collectors.poll.poll_device` in-process: client CPU (time.process_time) per varbind received;
  (b) a bare pysnmp 7 `bulk_walk_cmd` (lookupMib=False) of the same columns, one walk per column;
  (c) net-snmp `snmpbulkwalk -v2c -Cr25 -On` of the same columns, one process per column (it walks
      only its first OID), CPU from getrusage(RUSAGE_CHILDREN), also shown without process start-up.

A varbind is one row value inside a requested column (the end-of-column overshoot is not counted,
but its CPU is). snmpsim spends ~150 µs of its own CPU per varbind, so wall-clock time measures the
agent; the client CPU figures are the point. Each measurement runs once to warm up, then --repeats
times; the median is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pysnmp.hlapi.v3arch import asyncio as hl

from monitor.collectors.poll import poll_device
from monitor.collectors.snmp import PysnmpClient, SnmpTarget, Value, WalkResult

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RECORDING = ROOT.parent / "shared" / "corpus" / "librenms" / "iosxe_c9500h-svl.snmprec"
SNMPSIM = Path(sys.executable).parent / "snmpsim-command-responder"
MAX_REPETITIONS = 25


class CountingClient(PysnmpClient):
    """The real client, counting the values it hands to the parsers and the columns it walked."""

    def __init__(self) -> None:
        super().__init__()
        self.varbinds = 0
        self.columns: list[str] = []

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> dict[str, Value | None]:
        got = await super().get(target, oids)
        self.varbinds += sum(v is not None for v in got.values())
        return got

    async def walk(self, target: SnmpTarget, columns: Sequence[str]) -> WalkResult:
        result = await super().walk(target, columns)
        self.varbinds += sum(len(rows) for rows in result.rows.values())
        self.columns += [c for c in columns if c not in self.columns]
        return result


@dataclass
class Run:
    varbinds: int
    cpu_s: float
    wall_s: float


@dataclass
class Figures:
    name: str
    runs: list[Run]

    @property
    def varbinds(self) -> int:
        return self.runs[-1].varbinds

    @property
    def cpu_s(self) -> float:
        return statistics.median(r.cpu_s for r in self.runs)

    @property
    def wall_s(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def us_per_varbind(self) -> float:
        return self.cpu_s / self.varbinds * 1e6

    def line(self) -> str:
        return (f"{self.name:<44} {self.varbinds:>8} {self.cpu_s * 1000:>9.1f} {self.us_per_varbind:>9.1f} "
                f"{1e6 / self.us_per_varbind:>12,.0f} {self.wall_s:>7.2f}")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_snmpsim(recording: Path, work: Path) -> tuple[subprocess.Popen[bytes], int]:
    data = work / "data"
    data.mkdir()
    shutil.copy(recording, data / recording.name)
    port = free_udp_port()
    log = open(work / "snmpsim.log", "wb")  # noqa: SIM115 - lives as long as the agent
    proc = subprocess.Popen(
        [str(SNMPSIM), f"--data-dir={data}", f"--cache-dir={work / 'cache'}", f"--agent-udpv4-endpoint=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"},
    )
    target = SnmpTarget("127.0.0.1", port, community=recording.stem, timeout=1.0, retries=0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"snmpsim exited with {proc.returncode}; see {work / 'snmpsim.log'}")
        if asyncio.run(_answers(target)):
            return proc, port
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("snmpsim did not answer within 60 s")


async def _answers(target: SnmpTarget) -> bool:
    client = PysnmpClient()
    try:
        return bool((await client.get(target, ["1.3.6.1.2.1.1.3.0"]))["1.3.6.1.2.1.1.3.0"])
    except Exception:  # noqa: BLE001 - still starting
        return False
    finally:
        client.close()


def repeat(name: str, repeats: int, once: Callable[[], Run]) -> Figures:
    once()  # warm-up: imports, profile loading, snmpsim's own caches
    return Figures(name, [once() for _ in range(repeats)])


def saksi_poll(target: SnmpTarget) -> tuple[Run, list[str]]:
    async def run() -> tuple[Run, list[str]]:
        client = CountingClient()
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            snap = await poll_device("bench", target, client)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        finally:
            client.close()
        assert snap.reachable, snap.error
        return Run(client.varbinds, cpu, wall), client.columns

    return asyncio.run(run())


async def bare_walk(engine: hl.SnmpEngine, host: str, port: int, community: str, columns: Sequence[str],
                    timeout: float) -> int:
    """The reference: pysnmp 7's own bulk_walk_cmd (lookupMib=False), one walk per column; varbinds received."""
    transport = await hl.UdpTransportTarget.create((host, port), timeout=timeout, retries=1)
    auth, ctx = hl.CommunityData(community, mpModel=1), hl.ContextData()
    count = 0
    for column in columns:
        async for ei, es, _, vbs in hl.bulk_walk_cmd(
            engine, auth, transport, ctx, 0, MAX_REPETITIONS, hl.ObjectType(hl.ObjectIdentity(column)),
            lookupMib=False, lexicographicMode=False,
        ):
            if ei or es:
                raise SystemExit(f"pysnmp walk of {column} failed: {ei or es.prettyPrint()}")
            count += len(vbs)
    return count


def pysnmp_walk(target: SnmpTarget, columns: list[str]) -> Run:
    async def run() -> Run:
        engine = hl.SnmpEngine()
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            count = await bare_walk(engine, target.host, target.port, target.community, columns, 2)
            return Run(count, time.process_time() - cpu, time.perf_counter() - wall)
        finally:
            engine.close_dispatcher()

    return asyncio.run(run())


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def netsnmp_walk(exe: str, target: SnmpTarget, columns: list[str]) -> Run:
    env = {**os.environ, "MIBS": "", "MIBDIRS": ""}
    count = 0
    wall, cpu = time.perf_counter(), children_cpu()
    for column in columns:
        out = subprocess.run([exe, "-v2c", "-c", target.community, f"-Cr{MAX_REPETITIONS}", "-On", "-t", "2",
                              f"{target.host}:{target.port}", column], capture_output=True, text=True, env=env,
                             check=True).stdout
        count += sum(1 for line in out.splitlines() if line.startswith(f".{column}."))
    return Run(count, children_cpu() - cpu, time.perf_counter() - wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recording", type=Path, default=DEFAULT_RECORDING)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not args.recording.is_file():
        raise SystemExit(f"no recording at {args.recording}")

    with tempfile.TemporaryDirectory(prefix="saksi-bench-") as tmp:
        proc, port = start_snmpsim(args.recording, Path(tmp))
        try:
            target = SnmpTarget("127.0.0.1", port, community=args.recording.stem, timeout=5.0, retries=1,
                                max_repetitions=MAX_REPETITIONS)
            _, columns = saksi_poll(target)
            print(f"agent: snmpsim {_version('snmpsim')} (PID {proc.pid}) on 127.0.0.1:{port} serving "
                  f"{args.recording.name}; pysnmp {_version('pysnmp')}; Python {sys.version.split()[0]}")
            print(f"{len(columns)} columns walked by poll_device; median of {args.repeats} runs after one warm-up; "
                  f"max-repetitions {MAX_REPETITIONS}\n")
            print(f"{'client':<44} {'varbinds':>8} {'CPU ms':>9} {'µs/vb':>9} {'vb/CPU-s':>12} {'wall s':>7}")
            a = repeat("(a) saksi poll_device (PysnmpClient)", args.repeats, lambda: saksi_poll(target)[0])
            print(a.line())
            b = repeat("(b) pysnmp bulk_walk_cmd, per column", args.repeats, lambda: pysnmp_walk(target, columns))
            print(b.line())
            exe = shutil.which("snmpbulkwalk")
            if exe is None:
                print("(c) net-snmp snmpbulkwalk: not installed (apt-get install snmp)")
            else:
                c = repeat("(c) net-snmp snmpbulkwalk, process per column", args.repeats,
                           lambda: netsnmp_walk(exe, target, columns))
                print(c.line())
                empty = repeat("    snmpbulkwalk of an empty subtree", args.repeats,
                               lambda: netsnmp_walk(exe, target, ["1.3.6.1.2.1.1.9.9.9"]))
                startup = empty.cpu_s
                net = max(c.cpu_s - startup * len(columns), 0.0)
                print(f"{'    (c) without process start-up':<44} {c.varbinds:>8} {net * 1000:>9.1f} "
                      f"{net / c.varbinds * 1e6:>9.1f} {c.varbinds / net if net else float('inf'):>12,.0f}"
                      f"   (start-up {startup * 1000:.1f} ms CPU x {len(columns)} processes)")
            print(f"\nratio (a)/(b), client CPU per varbind: {a.us_per_varbind / b.us_per_varbind:.2f}")
            print("wall time is snmpsim's: it spends far more CPU per varbind than any of these clients")
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


if __name__ == "__main__":
    main()
