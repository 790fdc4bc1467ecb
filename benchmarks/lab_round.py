"""How long one lab poll round takes: the daemon's own poll of every device of a 3-switch lab site.

A lab scenario is as fast as its poll rounds: every scenario test, the demo and `saksi lab run` wait for
them. This starts a lab site (real SNMP agents on 127.0.0.x), an inventory of it and the daemon's Monitor
(SQLite store in a temporary folder), moves the simulated clock one poll interval per round, polls every
device through `Monitor.poll` and prints per round: wall time, process CPU time, the agents' share (time
spent in `LabAgent` answering) and the SNMP requests and varbinds a round takes. The rest of the CPU is the
monitor: the SNMP client (pysnmp decoding the answers), the collectors, change detection, correlation
and the store. Wall time follows the machine's load; CPU time and the counts are the comparable figures.

    .venv/bin/python benchmarks/lab_round.py [--rounds 20] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from monitor.daemon.monitor import Monitor, Settings
from monitor.inventory import load_inventory
from monitor.lab import runner, scenario
from monitor.state.store import Store

SITE = """name: lab-round
site:
  devices:
    - {name: core-sw1, platform: cisco_ios, ports: 52}
    - {name: dist-sw2, platform: cisco_ios, ports: 28}
    - {name: dist-sw3, platform: cisco_ios, ports: 28}
  links:
    - {a: core-sw1:Gi1/0/49, b: dist-sw2:Gi1/0/25, media: 1000base-lx, role: backbone}
    - {a: core-sw1:Gi1/0/50, b: dist-sw3:Gi1/0/25, media: 1000base-lx, role: backbone}
"""


async def measure(rounds: int) -> list[tuple[float, float, float, int, int]]:
    scn = scenario.parse(yaml.safe_load(SITE), "lab-round")
    lab = await runner.start(scn, ssh=False)
    out = []
    with tempfile.TemporaryDirectory(prefix="saksi-bench-") as tmp:
        inv_file = Path(tmp) / "inventory.yaml"
        inv_file.write_text(lab.inventory_yaml(site=scn.name, timeout=1.0, retries=1))
        store = Store(f"sqlite:///{Path(tmp) / 'saksi.db'}")
        clock = {"t": 0.0}
        monitor = Monitor(load_inventory(inv_file), store, Settings(trap_port=None, config_root=Path(tmp) / "cfg"),
                          clock=lambda: clock["t"])
        try:
            for _ in range(rounds + 1):  # the first round (baseline, first renders) is not counted
                clock["t"] += 60.0
                lab.settle(clock["t"])
                busy = sum(a.busy_s for a in lab.agents.values())
                requests = sum(a.requests for a in lab.agents.values())
                varbinds = sum(a.varbinds for a in lab.agents.values())
                wall, cpu = time.perf_counter(), time.process_time()
                for name in lab.site.devices:  # one device after another, as the lab's clock runs them
                    await monitor.poll(name)
                out.append((time.perf_counter() - wall, time.process_time() - cpu,
                            sum(a.busy_s for a in lab.agents.values()) - busy,
                            sum(a.requests for a in lab.agents.values()) - requests,
                            sum(a.varbinds for a in lab.agents.values()) - varbinds))
        finally:
            monitor.close()
            store.close()
            lab.close()
    return out[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="5 rounds")
    args = ap.parse_args()
    got = asyncio.run(measure(5 if args.quick else args.rounds))
    wall = [w for w, _, _, _, _ in got]
    cpu = [c for _, c, _, _, _ in got]
    agent = [a for _, _, a, _, _ in got]
    requests, varbinds = got[0][3], got[0][4]
    print(f"lab poll round, 3 switches (52 + 28 + 28 ports), {len(got)} rounds, {requests} SNMP requests "
          f"and {varbinds} varbinds a round")
    print(f"  wall   median {statistics.median(wall) * 1000:.0f} ms  (min {min(wall) * 1000:.0f}, "
          f"max {max(wall) * 1000:.0f})")
    print(f"  CPU    median {statistics.median(cpu) * 1000:.0f} ms  (min {min(cpu) * 1000:.0f}: the least disturbed "
          "by other work on a shared machine)")
    print(f"  agents median {statistics.median(agent) * 1000:.0f} ms of it "
          f"({statistics.median(agent) / statistics.median(cpu):.0%}); the rest is the monitor's client and pipeline")


if __name__ == "__main__":
    main()
