"""A monitor that survives its network: an hour of simulated time through 30% loss and 2 s delays.

Every answer of every lab agent crosses a UDP proxy (tests/udp_proxy.py) that drops 30% of them and
holds 10% of the rest for 2 s. Polls come back partial or late; the monitor must invent nothing (no
module "removed", no device "down") and still find the two real changes of the scenario.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from monitor.collectors.snmp import SnmpTarget
from monitor.lab import runner, scenario
from tests.udp_proxy import Faults, UdpProxy

SCENARIO = Path(__file__).parent.parent / "scenarios" / "lossy-hour.yaml"


def test_no_false_incident_and_every_real_change_found_through_loss_and_delay() -> None:
    proxies: list[UdpProxy] = []

    async def lossy(lab: runner.Lab):  # type: ignore[no-untyped-def]
        routes: dict[str, SnmpTarget] = {}
        for i, name in enumerate(sorted(lab.ports)):
            proxy = await UdpProxy((lab.hosts[name], lab.ports[name]),
                                   Faults(drop_probability=0.3, delay_s=2.0, delay_probability=0.1, seed=7 + i)).start()
            proxies.append(proxy)
            host, port = proxy.address
            routes[name] = replace(lab.target(name), host=host, port=port, timeout=1.0, retries=3)
        return routes.__getitem__

    async def play() -> runner.RunResult:
        try:
            return await runner.run(scenario.load(SCENARIO), network=lossy)
        finally:
            for p in proxies:
                p.close()

    result = asyncio.run(play())
    assert sum(p.dropped for p in proxies) > 50, "the path was not lossy: the test proves nothing"
    got = sorted((i["cause"], i["device"], i["port"]) for i in result.incidents)
    assert got == [("port_shutdown", "core-sw1", "GigabitEthernet1/0/10"),
                   ("transceiver_removed", "dist-sw2", "GigabitEthernet1/0/9")], [i["summary"] for i in result.incidents]
    partial = [t for snaps in result.snapshots.values() for s in snaps for t in s.tables if not t.status.known]
    assert partial, "no poll was ever incomplete: the faults did not bite"
