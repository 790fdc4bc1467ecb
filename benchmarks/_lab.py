"""Shared parts of the benchmarks that run a real `saksi run`: free ports, snmpsim
agents, process memory from /proc, and stopping what was started by its PID.

Everything listens on 127.0.0.1 and keeps its data in a temporary folder the caller owns.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SAKSI = [str(VENV_BIN / "saksi")]  # the real entry point, as an engineer runs it
SNMPSIM = VENV_BIN / "snmpsim-command-responder"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port the kernel just handed out on 127.0.0.1 (TCP by default, SOCK_DGRAM for UDP)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak resident) and VmSize of a live process, in kB, from /proc/PID/status."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "VmSize"):
            out[key] = int(value.split()[0])
    return out


def stop_process(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """SIGTERM by PID, then SIGKILL if it does not go within the grace time."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def spawn_snmpsim(data: Path, cache: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start one snmpsim serving every `<community>.snmprec` in `data`, without waiting for it.

    Indexing is slow the first time (~45 ms per file here); the index lives in `cache`.
    """
    port = free_port(socket.SOCK_DGRAM)
    out = open(log, "wb")  # noqa: SIM115 - lives as long as the agent
    proc = subprocess.Popen(
        [str(SNMPSIM), f"--data-dir={data}", f"--cache-dir={cache}", f"--agent-udpv4-endpoint=127.0.0.1:{port}",
         "--log-level=error"],
        stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"})
    return proc, port


def wait_answering(proc: subprocess.Popen[bytes], port: int, data: Path, log: Path, timeout_s: float = 900.0) -> None:
    """Return once the agent answers for the first recording of `data`; stop it and exit if it never does."""
    community = next(iter(sorted(data.glob("*.snmprec")))).stem
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"snmpsim exited with {proc.returncode}; see {log}")
        if _answers(port, community):
            return
        time.sleep(1.0)
    stop_process(proc)
    raise SystemExit(f"snmpsim did not answer within {timeout_s:.0f} s; see {log}")


def start_snmpsim(data: Path, cache: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """One snmpsim serving every `<community>.snmprec` in `data`; returns once it answers."""
    proc, port = spawn_snmpsim(data, cache, log)
    wait_answering(proc, port, data, log)
    return proc, port


def _answers(port: int, community: str) -> bool:
    """Whether an agent answers a sysUpTime GET (net-snmp's snmpget: no event loop needed here)."""
    r = subprocess.run(["snmpget", "-v2c", "-c", community, "-t", "1", "-r", "0", "-On", f"127.0.0.1:{port}",
                        "1.3.6.1.2.1.1.3.0"], capture_output=True, env={**os.environ, "MIBS": ""}, check=False)
    return r.returncode == 0


def summary(values: Sequence[float]) -> str:
    """min / median / max of a list of seconds, or why there is nothing to summarise."""
    if not values:
        return "no measurement"
    return (f"min {min(values):6.2f}  median {statistics.median(values):6.2f}  max {max(values):6.2f}  "
            f"(n={len(values)})")


def machine() -> str:
    """What the figures were measured on: CPU model, cores, memory, Python, date."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
    return (f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GiB, Python {sys.version.split()[0]}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
