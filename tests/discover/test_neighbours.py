"""Neighbours and their management addresses from real devices' tables (trimmed LibreNMS recordings served by
snmpsim, a real agent): LLDP with lldpRemManAddrTable on an Arista, CDP on a Catalyst 2960-X that has no LLDP.

Fixtures: tests/fixtures/snmprec/discover-*.snmprec, cut from the LibreNMS test suite (GPL-3.0-or-later,
commit 0367517c): the system group, ifDescr/ifName and the neighbour tables only; sysName, which the recordings
hide as "<private>", is given a name."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from monitor.collectors.snmp import PysnmpClient, SnmpTarget
from monitor.discover import neighbours as nb
from monitor.inventory import load_inventory
from tests.conftest import Agent, run_saksi

ARISTA, CATALYST = "discover-lldp-arista", "discover-cdp-2960x"  # snmpsim: the community is the file's name


def collect(agent: Agent, community: str, oid: str) -> nb.NeighbourTables:
    async def go() -> nb.NeighbourTables:
        client = PysnmpClient()
        try:
            return await nb.collect(client, SnmpTarget(agent.host, agent.port, community=community, timeout=2), oid)
        finally:
            client.close()
    return asyncio.run(go())


def test_lldp_neighbours_with_their_management_addresses(snmpsim: Agent) -> None:
    got = collect(snmpsim, ARISTA, "1.3.6.1.4.1.30065.1.3011.7050.1958.128")
    assert got.protocol == "lldp" and got.problems == ()
    named = {n.local_port: (n.name, n.port, n.addresses) for n in got.neighbours if n.name}
    assert named == {
        # port ID subtype 1 (an alias, a person's text) -> the port description names the port
        "Ethernet47": ("3750E-Estudio1.example.net", "TenGigabitEthernet1/0/1", ("172.20.21.194",)),
        # subtype 5 (interfaceName) "Te1/3"; its IPv6 management address is left out
        "Ethernet48": ("4900M-CORE.example.net", "TenGigabitEthernet1/3", ("84.232.18.1",)),
    }
    anonymous = sorted((n.local_port, n.chassis, n.addresses) for n in got.neighbours if not n.name)
    assert anonymous[0] == ("Ethernet1", "00:1b:21:bb:e6:f0", ()) and len(anonymous) == 4


def test_cdp_when_a_cisco_device_speaks_no_lldp(snmpsim: Agent) -> None:
    got = collect(snmpsim, CATALYST, "1.3.6.1.4.1.9.1.1208")
    assert got.protocol == "cdp"
    rows = sorted((n.local_port, n.name, n.port, n.addresses) for n in got.neighbours)
    assert rows[0] == ("GigabitEthernet1/0/3", "acme-fr-ap-011", "GigabitEthernet0", ("172.27.49.84",))
    assert ("GigabitEthernet1/0/52", "acme-fr-s-001", "GigabitEthernet1/0/3", ("10.54.64.5",)) in rows
    assert len(rows) == 7


def test_no_cdp_walk_on_a_device_that_is_not_cisco(snmpsim: Agent) -> None:
    got = collect(snmpsim, CATALYST, "1.3.6.1.4.1.30065.1")  # the same agent, claimed to be an Arista
    assert got.protocol == "none" and got.neighbours == ()


def test_discover_reports_every_neighbour_outside_only_and_writes_the_seed(snmpsim: Agent,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAKSI_TEST_CDP_COMMUNITY", CATALYST)
    r = run_saksi("discover", snmpsim.host, "--snmp-port", str(snmpsim.port), "--site", "fr", "--community-env",
                  "SAKSI_TEST_CDP_COMMUNITY", "--only", "127.0.0.0/8", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [(d["name"], d["platform"]) for d in out["devices"]] == [("acme-fr-s-002", "cisco_ios")]
    filtered = {(u["name"], u["address"], u["reason"]) for u in out["unreached"]}
    assert filtered == {("acme-fr-ap-011", "172.27.49.84", "filtered"), ("acme-fr-ap-012", "172.27.49.78", "filtered"),
                        ("acme-fr-ap-013", "172.27.49.77", "filtered"), ("acme-fr-ap-014", "172.27.49.72", "filtered"),
                        ("acme-fr-ap-015", "172.27.49.73", "filtered"), ("acme-fr-s-001", "10.54.64.5", "filtered")}
    assert out["links"] == []


def test_a_neighbour_without_a_management_address_is_reported(snmpsim: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAKSI_TEST_LLDP_COMMUNITY", ARISTA)
    r = run_saksi("discover", snmpsim.host, "--snmp-port", str(snmpsim.port), "--site", "x", "--community-env",
                  "SAKSI_TEST_LLDP_COMMUNITY", "--only", "127.0.0.0/8", "--json")
    assert r.returncode == 0, r.stderr
    reasons = sorted((u["reason"], u["seen_by"]) for u in json.loads(r.stdout)["unreached"])
    assert reasons == [("filtered", "arista-7050tx:Ethernet47"), ("filtered", "arista-7050tx:Ethernet48"),
                       ("no_address", "arista-7050tx:Ethernet1"), ("no_address", "arista-7050tx:Ethernet3"),
                       ("no_address", "arista-7050tx:Ethernet5"), ("no_address", "arista-7050tx:Ethernet6")]


def test_snmpv3_refused_is_auth_not_timeout(snmpsim: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAKSI_TEST_V3_KEY", "not-the-auth-key")
    monkeypatch.setenv("SAKSI_TEST_V3_PRIV", "saksi-priv-key")
    r = run_saksi("discover", snmpsim.host, "--snmp-port", str(snmpsim.port), "--site", "x", "--v3-user", "saksi",
                  "--v3-auth-protocol", "SHA256", "--v3-auth-key-env", "SAKSI_TEST_V3_KEY", "--v3-priv-protocol",
                  "AES", "--v3-priv-key-env", "SAKSI_TEST_V3_PRIV", "--timeout", "1")
    assert r.returncode == 2 and "did not answer: auth" in r.stderr and "wrong auth key" in r.stderr, r.stderr
    assert "not-the-auth-key" not in r.stderr


def test_credential_sets_are_tried_in_turn_and_written_by_reference(snmpsim: Agent, monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    """A community the agent does not know first (silence), then SNMPv3 with privacy, which answers."""
    monkeypatch.setenv("SAKSI_TEST_WRONG_COMMUNITY", "no-such-community")
    monkeypatch.setenv("SAKSI_TEST_V3_AUTH", "saksi-auth-key")
    monkeypatch.setenv("SAKSI_TEST_V3_PRIV", "saksi-priv-key")
    out = tmp_path / "x.yaml"
    r = run_saksi("discover", snmpsim.host, "--snmp-port", str(snmpsim.port), "--site", "x", "--community-env",
                  "SAKSI_TEST_WRONG_COMMUNITY", "--v3-user", "saksi", "--v3-auth-protocol", "sha256",
                  "--v3-auth-key-env", "SAKSI_TEST_V3_AUTH", "--v3-priv-protocol", "AES", "--v3-priv-key-env",
                  "SAKSI_TEST_V3_PRIV", "--v3-context", ARISTA, "--only", "127.0.0.0/8", "--timeout", "0.5",
                  "--retries", "0", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert [(d["name"], d["snmp"]) for d in json.loads(r.stdout)["devices"]] == [("arista-7050tx", "v3-saksi")]
    text = out.read_text()
    assert "saksi-auth-key" not in text and "saksi-priv-key" not in text and "no-such-community" not in text
    assert "SAKSI_TEST_WRONG_COMMUNITY" not in text, "a credential set no device answered is not written"
    snmp = load_inventory(out).devices["arista-7050tx"].snmp
    assert (snmp.version, snmp.user, snmp.auth_protocol, snmp.priv_protocol, snmp.context) == (
        "3", "saksi", "SHA256", "AES", ARISTA)
    assert snmp.auth_key is not None and snmp.auth_key.reveal() == "saksi-auth-key"
