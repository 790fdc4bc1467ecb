"""A monitor that survives its network: an hour of simulated time through 30% loss and 2 s delays.

Every answer of every lab agent crosses a UDP proxy (tests/udp_proxy.py) that drops 30% of them and
holds 10% of the rest for 2 s. Polls come back partial or late; the monitor must invent nothing (no
module "removed", no device "down") and still find the two real changes of the scenario.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import yaml

from monitor.collectors.poll import poll_device
from monitor.collectors.snmp import PysnmpClient, SnmpTarget
from monitor.lab import runner, scenario
from monitor.model import DeviceFacts, Port, Snapshot, TableHealth, TableStatus, Transceiver
from monitor.witness.changes import ChangeKind
from monitor.witness.correlate import Correlator
from monitor.witness.observer import Witness
from monitor.witness.topology import Topology
from tests.conftest import Agent
from tests.udp_proxy import Faults, UdpProxy

SCENARIO = Path(__file__).parent.parent / "scenarios" / "lossy-hour.yaml"


def _lossy_run(scen: scenario.Scenario) -> tuple[runner.RunResult, list[UdpProxy]]:
    """The scenario played by the daemon's own cycle (the lab runner), every agent behind a lossy proxy."""
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
            return await runner.run(scen, network=lossy)
        finally:
            for p in proxies:
                p.close()

    return asyncio.run(play()), proxies


def test_a_quiet_hour_through_loss_and_delay_opens_no_incident() -> None:
    """Nothing happens on the site for an hour; 30 % of the answers are lost and some held 2 s. A lossy path is
    a degraded management path: no module inserted or removed, no device unreachable — zero incidents."""
    raw = yaml.safe_load(SCENARIO.read_text())
    raw.update(name="quiet-lossy-hour", steps=[], expect=[], expected_incidents=[])
    result, proxies = _lossy_run(scenario.parse(raw, "quiet-lossy-hour"))
    assert sum(p.dropped for p in proxies) > 50, "the path was not lossy: the test proves nothing"
    assert [t for snaps in result.snapshots.values() for s in snaps for t in s.tables if not t.status.known], \
        "no poll was ever incomplete: the faults did not bite"
    assert result.incidents == [], [i["summary"] for i in result.incidents]


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


# --- a module first seen after lossy walks is a first sighting, not an insertion -----------------------------

def _poll(t: float, ent: str, alias: str, serials: tuple[str, ...]) -> Snapshot:
    """One poll of a two-port switch: entPhysicalTable and entAliasMappingTable (both hold modules) as given."""
    status = {"ok": TableStatus.OK, "partial": TableStatus.PARTIAL, "timeout": TableStatus.TIMEOUT}
    ports = (Port(1, "GigabitEthernet1/0/25", admin="up", oper="up"), Port(2, "GigabitEthernet1/0/26"))
    return Snapshot("dist-c", t, True, DeviceFacts(uptime_s=10_000 + t), ports=ports,
                    transceivers=tuple(Transceiver("CISCO", "GLC-LH-SMD", s, ifindex=i + 1)
                                       for i, s in enumerate(serials) if s),
                    tables=(TableHealth("system", TableStatus.OK, 1), TableHealth("ifTable", TableStatus.OK, 2),
                            TableHealth("ifXTable", TableStatus.OK, 2),
                            TableHealth("entPhysicalTable", status[ent], 9),
                            TableHealth("entAliasMappingTable", status[alias], 2)))


def _inserted(polls: list[Snapshot]) -> list[str | None]:
    w = Witness(Correlator(Topology(devices={"dist-c"})))
    changes = [c for p in polls for c in w.observe([p], p.taken_at).changes]
    return [c.port for c in changes if c.kind is ChangeKind.TRANSCEIVER_INSERTED]


def test_a_module_first_seen_after_partial_walks_is_not_inserted() -> None:
    """The issue's dist-c Gi1/0/25: the first poll's entPhysicalTable was cut short (the module not yet read),
    the second read it whole but lost entAliasMappingTable; the third read everything. No complete walk ever
    showed the cage empty, so the module is a first sighting."""
    polls = [_poll(0, "partial", "ok", ("", "FNS0026")), _poll(30, "ok", "timeout", ("FNS0025", "FNS0026")),
             _poll(60, "ok", "ok", ("FNS0025", "FNS0026")), _poll(90, "ok", "ok", ("FNS0025", "FNS0026"))]
    assert _inserted(polls) == []


def test_a_complete_walk_that_showed_the_cage_empty_makes_it_an_insertion() -> None:
    polls = [_poll(0, "ok", "ok", ("", "FNS0026")), _poll(30, "ok", "timeout", ("FNS0025", "FNS0026")),
             _poll(60, "ok", "ok", ("FNS0025", "FNS0026"))]
    assert _inserted(polls) == ["GigabitEthernet1/0/25"]


# --- the system group lost, the interfaces answered: a degraded path, not an unreachable device --------------

def _poll_through(agent: Agent, faults: Faults) -> tuple[Snapshot, UdpProxy]:
    """The daemon's poll (`poll_device`, confirming a silence) of a real recording behind the proxy."""

    async def run() -> tuple[Snapshot, UdpProxy]:
        client = PysnmpClient()
        async with UdpProxy((agent.host, agent.port), faults) as proxy:
            host, port = proxy.address
            try:
                return await poll_device("core", SnmpTarget(host, port, community="ios_2960x", timeout=0.5,
                                                            retries=0), client), proxy
            finally:
                client.close()

    return asyncio.run(run())


def test_a_device_that_answers_its_interfaces_is_not_unreachable(snmpsim: Agent) -> None:
    """Its first three answers are lost: the system GET (once, then twice patiently). The interfaces answer, so
    the device is reachable on a degraded path: its ports, and every other table unknown (never "removed")."""
    snap, proxy = _poll_through(snmpsim, Faults(drop_first=3))
    assert proxy.dropped == 3
    assert snap.reachable and snap.ports, snap.error
    status = {t.table: t.status for t in snap.tables}
    assert status["system"] is TableStatus.TIMEOUT and status["ifTable"] is TableStatus.OK
    assert not status["entPhysicalTable"].known and not snap.transceivers


def test_a_device_that_answers_nothing_is_unreachable(snmpsim: Agent) -> None:
    snap, proxy = _poll_through(snmpsim, Faults(drop_probability=1.0))
    assert not snap.reachable and proxy.dropped == proxy.answers > 3
