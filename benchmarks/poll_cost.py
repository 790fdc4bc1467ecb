"""Poll cost at scale: the full Saksi pipeline next to a bare pysnmp walk and net-snmp's C walker.

Run from the project root, as root (it creates network namespaces):

    .venv/bin/python benchmarks/poll_cost.py [--agents 4] [--interfaces 300] [--rounds 3] [--quick]
                                             [--influx URL] [--json] [--profile FILE]

It builds N network namespaces, each with a veth pair to the host on its own private /30
(10.213.X.0/30, X picked among unused ones) and `--interfaces` interfaces (veth pairs inside it: most
up, some admin up and oper down, every other one with an ifAlias), and runs one net-snmp `snmpd` per namespace listening on the
namespace's own address. Everything (processes by PID, namespaces, links) is removed at exit, also
on Ctrl-C or failure. Then, against the same agents and the same columns:

  (a)  the real `monitor.daemon.monitor.Monitor` with an inventory of the agents: poll_device, change
       detection, correlation, state store write (SQLite), time-series points (embedded SQLite, or
       InfluxDB with --influx) — `Monitor.poll_all()` rounds, the clock moved 60 s between rounds;
  (a0) `poll_device` alone with the same client, to split the cost between polling and recording;
  (b)  a bare pysnmp 7 `bulk_walk_cmd` (lookupMib=False) of every column (a) walked, one per column;
  (c)  net-snmp `snmpbulkwalk` of the same columns, one process per column, CPU from RUSAGE_CHILDREN;
       also shown without process start-up: start-up is an empty walk's CPU, and the cost per
       varbind comes from whole-table walks (IF-MIB ifTable and ifXTable, one process each), since
       a single column walk costs the C walker far less than its own start-up.

Client CPU is `time.process_time()` (all threads of this process); agent CPU is every snmpd's
utime+stime from /proc/PID/stat over the same interval, so the table says which side was the
bottleneck. Varbinds are values received inside the requested columns. "ports/core-min" is how many
switch ports (ifTable rows) one core could poll per minute at that client cost.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import cProfile
import ipaddress
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pysnmp.hlapi.v3arch import asyncio as hl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_cost import CountingClient, bare_walk, children_cpu

from monitor.collectors.poll import poll_device
from monitor.collectors.snmp import SnmpTarget
from monitor.daemon.monitor import Monitor, Settings
from monitor.inventory import load_inventory
from monitor.state.store import Store
from monitor.timeseries import TimeseriesSettings, from_settings

COMMUNITY = "saksibench"
MAX_REPETITIONS = 25
SNMPD = shutil.which("snmpd") or "/usr/sbin/snmpd"
CLK_TCK = os.sysconf("SC_CLK_TCK")
IF_NUMBER = "1.3.6.1.2.1.2.1.0"


# --- the agents: namespaces, links, snmpd -----------------------------------------------------------

@dataclass
class Agent:
    netns: str
    host_if: str
    subnet: ipaddress.IPv4Network
    pid: int = 0

    @property
    def address(self) -> str:
        return str(self.subnet.network_address + 2)

    @property
    def gateway(self) -> str:
        return str(self.subnet.network_address + 1)

    def cpu_s(self) -> float:
        """snmpd's own CPU so far (utime+stime), 0 when it is gone."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


@dataclass
class Lab:
    """What this run created, so that cleanup removes exactly that and nothing else."""

    work: Path
    agents: list[Agent] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    cleaned: bool = False

    def cleanup(self) -> None:
        if self.cleaned:
            return
        self.cleaned = True
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        for a in self.agents:
            _ip("netns", "del", a.netns, check=False)  # takes its interfaces and its end of the veth pair with it
            if Path(f"/sys/class/net/{a.host_if}").exists():
                _ip("link", "del", a.host_if, check=False)

    def cpu_s(self) -> float:
        return sum(a.cpu_s() for a in self.agents)


def _ip(*args: str, check: bool = True, stdin: str | None = None) -> None:
    r = subprocess.run(["ip", *args], input=stdin, capture_output=True, text=True, check=False)
    if check and r.returncode != 0:
        raise SystemExit(f"ip {' '.join(args)}: {r.stderr.strip()}")


def free_subnets(count: int) -> list[ipaddress.IPv4Network]:
    """`count` /30s inside 10.213.0.0/16 that no address or route on this host already uses."""
    used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    used += subprocess.run(["ip", "-4", "route"], capture_output=True, text=True, check=True).stdout
    out = []
    for third in range(100, 256):
        if f"10.213.{third}." not in used:
            out.append(ipaddress.IPv4Network(f"10.213.{third}.0/30"))
            if len(out) == count:
                return out
    raise SystemExit("no free 10.213.X.0/30 left for the benchmark's namespaces")


def interface_batch(count: int, agent_no: int) -> str:
    """`ip -batch` lines for `count` interfaces as veth pairs (this kernel has no dummy driver).

    Pairs with both ends up are oper up; in every third pair only one end is up, so that end is
    admin up and oper down, as a port with a pulled cable. Every other interface gets an ifAlias.
    """
    lines = []
    for k in range(0, count, 2):
        a, b = f"e{k}", f"e{k + 1}"
        lines.append(f"link add {a} type veth peer name {b}")
        for name, n in ((a, k), (b, k + 1)):
            if n % 2 == 0:
                lines.append(f'link set {name} alias "agent{agent_no} uplink {n} to rack-{n // 24}"')
        lines.append(f"link set {a} up")
        if k % 3 != 2:
            lines.append(f"link set {b} up")
    return "\n".join(lines) + "\n"


def snmpd_config(agent: Agent, index: int) -> str:
    return (f"agentAddress udp:{agent.address}:161\n"
            f"rocommunity {COMMUNITY} {agent.subnet}\n"
            f"sysName bench-agent-{index}\n"
            "sysLocation saksi poll-cost benchmark\n"
            "sysContact nobody\n"
            "sysServices 6\n")


def start_agents(lab: Lab, count: int, interfaces: int) -> None:
    tag = f"pc{os.getpid()}"
    for i, subnet in enumerate(free_subnets(count)):
        a = Agent(netns=f"{tag}n{i}", host_if=f"{tag}h{i}", subnet=subnet)
        lab.agents.append(a)
        peer = f"{tag}p{i}"
        _ip("netns", "add", a.netns)
        _ip("link", "add", a.host_if, "type", "veth", "peer", "name", peer)
        _ip("link", "set", peer, "netns", a.netns)
        _ip("addr", "add", f"{a.gateway}/30", "dev", a.host_if)
        _ip("link", "set", a.host_if, "up")
        _ip("-n", a.netns, "addr", "add", f"{a.address}/30", "dev", peer)
        _ip("-n", a.netns, "link", "set", peer, "up")
        _ip("-n", a.netns, "link", "set", "lo", "up")
        _ip("-n", a.netns, "-batch", "-", stdin=interface_batch(interfaces, i))
        d = lab.work / a.netns
        d.mkdir()
        (d / "snmpd.conf").write_text(snmpd_config(a, i))
        log = open(d / "snmpd.log", "wb")  # noqa: SIM115 - lives as long as the agent
        # `ip netns exec` execs snmpd in place, so this PID is snmpd's own (checked below)
        proc = subprocess.Popen(
            ["ip", "netns", "exec", a.netns, SNMPD, "-f", "-C", "-c", str(d / "snmpd.conf"), "-Lf", str(d / "log"),
             "-p", str(d / "snmpd.pid")],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "SNMP_PERSISTENT_DIR": str(d), "MIBS": ""},
        )
        lab.procs.append(proc)
        a.pid = proc.pid
    for a, proc in zip(lab.agents, lab.procs, strict=True):
        _wait_for(a, proc, lab.work)


def _wait_for(agent: Agent, proc: subprocess.Popen[bytes], work: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"snmpd in {agent.netns} exited with {proc.returncode}; see {work / agent.netns}")
        r = subprocess.run(["snmpget", "-v2c", "-c", COMMUNITY, "-On", "-t", "1", "-r", "0", agent.address,
                            IF_NUMBER], capture_output=True, text=True, check=False, env={**os.environ, "MIBS": ""})
        if r.returncode == 0 and IF_NUMBER in r.stdout:
            comm = Path(f"/proc/{proc.pid}/comm").read_text().strip()
            if comm != "snmpd":
                raise SystemExit(f"PID {proc.pid} is {comm!r}, not snmpd: agent CPU would be wrong")
            return
        time.sleep(0.2)
    raise SystemExit(f"snmpd in {agent.netns} did not answer within 30 s")


def inventory_yaml(agents: list[Agent]) -> str:
    devices = "\n".join(f"  - {{name: agent{i}, site: bench, host: {a.address}, port: 161, platform: linux, "
                        f"snmp: bench, timeout: 5, retries: 1}}" for i, a in enumerate(agents))
    return ("customers:\n  - {name: bench}\nsites:\n  - {name: bench, customer: bench, timezone: UTC}\n"
            f"credentials:\n  snmp:\n    bench: {{version: 2c, community: \"{COMMUNITY}\"}}\n"
            f"devices:\n{devices}\n")


# --- measurements ---------------------------------------------------------------------------------

@dataclass
class Measure:
    name: str
    varbinds: int
    ports: int
    cpu_s: float  # client
    agent_cpu_s: float
    wall_s: float

    @property
    def us_per_varbind(self) -> float:
        return self.cpu_s / self.varbinds * 1e6 if self.varbinds else float("nan")

    @property
    def ports_per_core_min(self) -> float:
        return self.ports / self.cpu_s * 60 if self.cpu_s else float("inf")

    @property
    def bottleneck(self) -> str:
        return "agent" if self.agent_cpu_s > self.cpu_s else "client"

    def line(self) -> str:
        return (f"{self.name:<38} {self.varbinds:>8} {self.cpu_s * 1000:>9.0f} {self.us_per_varbind:>7.1f} "
                f"{self.ports_per_core_min:>14,.0f} {self.agent_cpu_s * 1000:>9.0f} "
                f"{self.agent_cpu_s / self.varbinds * 1e6 if self.varbinds else 0:>7.1f} {self.wall_s:>7.2f}"
                f"  {self.bottleneck}")


HEADER = (f"{'client':<38} {'varbinds':>8} {'CPU ms':>9} {'µs/vb':>7} {'ports/core-min':>14} {'agent ms':>9} "
          f"{'ag µs/vb':>7} {'wall s':>7}  bottleneck")


def measured(lab: Lab, name: str, ports: int, fn: Callable[[], int]) -> Measure:
    """Run `fn` (which returns the varbinds it received) and take client and agent CPU around it."""
    agent0, cpu0, wall0 = lab.cpu_s(), time.process_time(), time.perf_counter()
    varbinds = fn()
    return Measure(name, varbinds, ports, time.process_time() - cpu0, lab.cpu_s() - agent0,
                   time.perf_counter() - wall0)


def median(name: str, runs: list[Measure]) -> Measure:
    return Measure(name, runs[-1].varbinds, runs[-1].ports, statistics.median(r.cpu_s for r in runs),
                   statistics.median(r.agent_cpu_s for r in runs), statistics.median(r.wall_s for r in runs))


class Pipeline:
    """The real Monitor on the agents, with the counting client in place of its own."""

    def __init__(self, work: Path, agents: list[Agent], influx: str | None) -> None:
        self.agents = agents
        inv_file = work / "inventory.yaml"
        inv_file.write_text(inventory_yaml(agents))
        self.inventory = load_inventory(inv_file)
        self.store = Store(f"sqlite:///{work / 'saksi.db'}")
        self.sink = from_settings(TimeseriesSettings(influx_url=influx, spool_dir=work / "spool",
                                                     points_db=work / "points.db"))
        self.clock = [1_800_000_000.0]
        self.loop = asyncio.new_event_loop()  # one loop for every round, as in the daemon
        self.monitor, self.client = self.loop.run_until_complete(self._build())
        self.ports = 0

    async def _build(self) -> tuple[Monitor, CountingClient]:
        monitor = Monitor(self.inventory, self.store, Settings(trap_port=None), clock=lambda: self.clock[0],
                          sinks=[self.sink])
        monitor.client.close()
        monitor.client = client = CountingClient()
        return monitor, client

    def round(self) -> int:
        """One poll of every agent through `Monitor.poll`; the varbinds received."""
        self.clock[0] += 60
        before = self.client.varbinds
        snaps = self.loop.run_until_complete(self.monitor.poll_all())
        self.sink.flush(30)
        for s in snaps:
            if s is None or not s.reachable:
                raise SystemExit(f"an agent did not answer: {s and s.error}")
        self.ports = sum(len(s.ports) for s in snaps if s is not None)
        return self.client.varbinds - before

    def close(self) -> None:
        self.loop.run_until_complete(self._close())
        self.sink.close()
        self.store.close()
        self.loop.close()

    async def _close(self) -> None:
        self.monitor.close()
        await asyncio.sleep(0.05)  # let the dispatcher's cancelled timer task finish inside its loop


def poll_only(pipe: Pipeline) -> int:
    """The same agents through `poll_device` alone, on the pipeline's loop and client."""
    agents, client = pipe.agents, pipe.client

    async def run() -> int:
        before = client.varbinds
        targets = [SnmpTarget(a.address, 161, community=COMMUNITY, timeout=5.0, retries=1) for a in agents]
        snaps = await asyncio.gather(*(poll_device(f"agent{i}", t, client) for i, t in enumerate(targets)))
        assert all(s.reachable for s in snaps)
        return client.varbinds - before

    return pipe.loop.run_until_complete(run())


def pysnmp_walk(agents: list[Agent], columns: list[str]) -> int:
    async def run() -> int:
        engine = hl.SnmpEngine()
        try:
            walks = (bare_walk(engine, a.address, 161, COMMUNITY, columns, 5) for a in agents)
            return sum(await asyncio.gather(*walks))
        finally:
            engine.close_dispatcher()

    return asyncio.run(run())


def netsnmp_walk(exe: str, agents: list[Agent], columns: list[str]) -> tuple[int, int]:
    """Varbinds and processes; one snmpbulkwalk per column and agent, agents in parallel."""
    env = {**os.environ, "MIBS": "", "MIBDIRS": ""}
    count = processes = 0
    for column in columns:
        procs = [subprocess.Popen([exe, "-v2c", "-c", COMMUNITY, f"-Cr{MAX_REPETITIONS}", "-On", "-t", "5",
                                   a.address, column], stdout=subprocess.PIPE, text=True, env=env)
                 for a in agents]
        for p in procs:
            out, _ = p.communicate()
            count += sum(1 for line in out.splitlines() if line.startswith(f".{column}."))
        processes += len(procs)
    return count, processes


def children_measured(lab: Lab, name: str, ports: int, fn: Callable[[], int]) -> Measure:
    agent0, cpu0, wall0 = lab.cpu_s(), children_cpu(), time.perf_counter()
    varbinds = fn()
    return Measure(name, varbinds, ports, children_cpu() - cpu0, lab.cpu_s() - agent0, time.perf_counter() - wall0)


# --- the run --------------------------------------------------------------------------------------

def run(args: argparse.Namespace, lab: Lab) -> dict[str, object]:
    start_agents(lab, args.agents, args.interfaces)
    pipe = Pipeline(lab.work, lab.agents, args.influx)
    try:
        pipe.round()  # warm-up and baseline: the first poll of each device finds everything "new"
        columns = list(pipe.client.columns)
        ports = pipe.ports
        print(f"agents: {len(lab.agents)} x net-snmp snmpd (PIDs {', '.join(str(a.pid) for a in lab.agents)}), "
              f"each in its own netns with {args.interfaces} interfaces; {ports} ports in all; "
              f"time series: {'InfluxDB ' + args.influx if args.influx else 'embedded SQLite'}")
        print(f"{len(columns)} columns walked by poll_device; median of {args.rounds} interleaved rounds after "
              f"one warm-up; max-repetitions {MAX_REPETITIONS}; Python {sys.version.split()[0]}\n")
        exe = shutil.which("snmpbulkwalk")
        kinds = _measurements(lab, pipe, columns, ports, exe)
        if args.profile:
            kinds["a"] = _profiled(kinds["a"], args.profile)
        pysnmp_walk(lab.agents, columns[:1])  # warm-up of the bare engine
        runs: dict[str, list[Measure]] = {k: [] for k in kinds}
        for _ in range(args.rounds):  # interleaved, so that load from other processes hits every kind alike
            for k, fn in kinds.items():
                runs[k].append(fn())
        names = {"a": "(a) Monitor.poll: full pipeline", "a0": "(a0) poll_device only",
                 "b": "(b) pysnmp bulk_walk_cmd, per column", "c": "(c) net-snmp snmpbulkwalk, per column"}
        got = {k: median(names.get(k, k), r) for k, r in runs.items()}
        helpers = {k: got.pop(k) for k in ("c0", "c1") if k in got}  # net-snmp start-up and whole-table walks
        print(HEADER)
        for m in got.values():
            print(m.line())
        result: dict[str, object] = {"agents": len(lab.agents), "interfaces_per_agent": args.interfaces,
                                     "ports": ports, "columns": columns, "rounds": args.rounds,
                                     **{k: asdict(m) for k, m in got.items()}}
        if exe is None:
            print("(c) net-snmp snmpbulkwalk: not installed (apt-get install snmp)")
        else:
            startup = helpers["c0"].cpu_s / (STARTUP_WALKS * len(lab.agents))
            # the per-varbind cost without start-up comes from long walks (whole IF-MIB tables, one process each):
            # per process, start-up dwarfs a column walk, so subtracting it from (c) would only measure noise
            tables = helpers["c1"]
            walk_cpu = max(tables.cpu_s - startup * TABLE_WALKS * len(lab.agents), 0.0)
            c = got["c"]
            c_net = Measure("    (c) without process start-up", c.varbinds, ports,
                            walk_cpu / tables.varbinds * c.varbinds, c.agent_cpu_s, c.wall_s)
            print(f"{c_net.line()}   (start-up {startup * 1000:.1f} ms per process; per-varbind cost from "
                  f"{tables.varbinds} varbinds of whole-table walks)")
            result |= {"c_net": asdict(c_net), "c_startup_cpu_s": startup}
        a, a0, b = got["a"], got["a0"], got["b"]
        result |= {"ratio_a_b": a.us_per_varbind / b.us_per_varbind, "ratio_a0_b": a0.us_per_varbind / b.us_per_varbind,
                   "points_written": pipe.sink.points}
        print(f"\nratio (a)/(b), client CPU per varbind: {result['ratio_a_b']:.2f}   (a0)/(b): "
              f"{result['ratio_a0_b']:.2f}   target <= 1.5")
        extra = a.cpu_s - a0.cpu_s
        print(f"recording (witness, store, points) = (a) - (a0): {extra * 1000:.0f} ms CPU per round of "
              f"{len(lab.agents)} polls ({extra / a.cpu_s:.0%} of (a); negative means below the noise); "
              f"{pipe.sink.points} time-series points written in all rounds")
        print("bottleneck: the side that spent more CPU over the same interval (2 cores shared with other work)")
        return result
    finally:
        pipe.close()


EMPTY = "1.3.6.1.2.1.1.9.9.9"  # a subtree no agent serves: what an snmpbulkwalk process costs by itself
IF_TABLE, IF_X_TABLE = "1.3.6.1.2.1.2.2", "1.3.6.1.2.1.31.1.1"  # whole tables, for net-snmp's cost per varbind
TABLE_WALKS = 2
STARTUP_WALKS = 4  # empty walks per agent and round; their CPU per process is the start-up estimate


def _measurements(lab: Lab, pipe: Pipeline, columns: list[str], ports: int,
                  exe: str | None) -> dict[str, Callable[[], Measure]]:
    kinds: dict[str, Callable[[], Measure]] = {
        "a": lambda: measured(lab, "", ports, pipe.round),
        "a0": lambda: measured(lab, "", ports, lambda: poll_only(pipe)),
        "b": lambda: measured(lab, "", ports, lambda: pysnmp_walk(lab.agents, columns)),
    }
    if exe is not None:
        kinds["c"] = lambda: children_measured(lab, "", ports, lambda: netsnmp_walk(exe, lab.agents, columns)[0])
        tables = [IF_TABLE, IF_X_TABLE]
        kinds["c1"] = lambda: children_measured(lab, "", ports, lambda: netsnmp_walk(exe, lab.agents, tables)[0])
        kinds["c0"] = lambda: children_measured(lab, "", ports,
                                                lambda: netsnmp_walk(exe, lab.agents, [EMPTY] * STARTUP_WALKS)[0])
    return kinds


def _profiled(fn: Callable[[], Measure], path: str) -> Callable[[], Measure]:
    """`fn` under cProfile, every call added to one pstats file (profiling inflates the figure itself)."""
    import monitor.daemon.monitor

    async def inline(fn: Callable[..., object], /, *args: object, **kwargs: object) -> object:
        return fn(*args, **kwargs)

    # cProfile sees one thread: while profiling, Monitor's to_thread(_record) runs inline so it is seen
    monitor.daemon.monitor.asyncio.to_thread = inline  # type: ignore[assignment]
    profiler = cProfile.Profile()

    def wrapped() -> Measure:
        profiler.enable()
        try:
            return fn()
        finally:
            profiler.disable()
            profiler.dump_stats(path)

    return wrapped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=4, help="network namespaces, one snmpd each")
    parser.add_argument("--interfaces", type=int, default=300, help="interfaces (veth ends) per namespace")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (median) after one warm-up")
    parser.add_argument("--quick", action="store_true", help="2 agents x 100 interfaces, 2 rounds")
    parser.add_argument("--influx", metavar="URL", help="write points to this InfluxDB instead of SQLite")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the figures as JSON")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the (a) rounds into FILE (pstats)")
    args = parser.parse_args()
    if args.quick:
        args.agents, args.interfaces, args.rounds = min(args.agents, 2), min(args.interfaces, 100), 2
    if os.geteuid() != 0:
        raise SystemExit("needs root: it creates network namespaces and veth pairs")

    with tempfile.TemporaryDirectory(prefix="saksi-pollcost-") as tmp:
        lab = Lab(Path(tmp))
        atexit.register(lab.cleanup)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # through finally, like Ctrl-C
        try:
            result = run(args, lab)
        finally:
            lab.cleanup()
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
