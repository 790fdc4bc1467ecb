"""Links and their roles from what each device said about its neighbours: a pure function of the findings."""

from __future__ import annotations

import pytest

from monitor.discover.crawl import Discovery, Found
from monitor.discover.identify import identify
from monitor.discover.neighbours import Neighbour, NeighbourTables
from monitor.discover.site import draft, link_role

SWITCH, SERVER = ("1.3.6.1.4.1.9.1.1208", "Cisco IOS Software"), ("1.3.6.1.4.1.8072.3.2.10", "Linux web 5.15")


def found(name: str, address: str, depth: int, *neighbours: Neighbour, kind: tuple[str, str] = SWITCH) -> Found:
    return Found(address, depth, name, kind[1], kind[0], identify(*kind), "v2c", NeighbourTables(neighbours, "lldp"))


def n(local: str, name: str, port: str, *addresses: str) -> Neighbour:
    return Neighbour(local, name, port, addresses)


@pytest.mark.parametrize(("a", "b", "net_a", "net_b", "role"), [
    (0, 1, True, True, "backbone"),   # at the core
    (1, 1, True, True, "backbone"),   # two distribution switches joined to each other
    (1, 2, True, True, "uplink"),     # one depth down
    (3, 2, True, True, "uplink"),
    (1, 2, True, False, "access"),    # a server
    (0, 1, False, True, "access"),
])
def test_link_roles(a: int, b: int, net_a: bool, net_b: bool, role: str) -> None:
    assert link_role(a, b, net_a, net_b) == role


def test_each_link_once_with_each_end_named_by_its_own_device() -> None:
    d = Discovery("10.0.0.1", found=[
        found("core", "10.0.0.1", 0, n("GigabitEthernet1/0/49", "dist.example.net", "Gi1/0/25", "10.0.0.2")),
        # dist says its port loosely (an alias would do the same): its own local name wins
        found("dist", "10.0.0.2", 1, n("GigabitEthernet1/0/25", "core", "GigabitEthernet1/0/49", "10.0.0.1"),
              n("GigabitEthernet1/0/1", "web-01", "eno1", "10.0.0.9")),
        found("web-01", "10.0.0.9", 2, n("eno1", "dist", "GigabitEthernet1/0/1"), kind=SERVER),
    ])
    site = draft(d)
    assert [(link.a, link.b, link.role) for link in site.links] == [
        ("core:GigabitEthernet1/0/49", "dist:GigabitEthernet1/0/25", "backbone"),
        ("dist:GigabitEthernet1/0/1", "web-01:eno1", "access"),
    ]
    assert [dev.name for dev in site.devices] == ["core", "dist", "web-01"] and site.skipped == []


def test_a_neighbour_discovery_did_not_reach_makes_no_link() -> None:
    site = draft(Discovery("10.0.0.1", found=[
        found("core", "10.0.0.1", 0, n("Gi1/0/1", "phone-7", "Port 1", "172.16.0.7"), n("Gi1/0/2", "", "", ))]))
    assert site.links == [] and [d.name for d in site.devices] == ["core"]


def test_one_port_in_one_link_only_and_the_other_claim_is_reported() -> None:
    site = draft(Discovery("10.0.0.1", found=[
        found("core", "10.0.0.1", 0, n("Gi1/0/1", "a", "Gi0/1", "10.0.0.2"), n("Gi1/0/1", "b", "Gi0/1", "10.0.0.3")),
        found("a", "10.0.0.2", 1), found("b", "10.0.0.3", 1)]))  # (ports as parsers give them: canonical already)
    assert [(link.a, link.b) for link in site.links] == [("core:Gi1/0/1", "a:Gi0/1")]
    assert site.skipped == ["core:Gi1/0/1 -> b:Gi0/1: core:Gi1/0/1 is already linked to a:Gi0/1"]


def test_a_neighbour_that_names_no_port_and_cannot_be_asked_back_is_reported() -> None:
    site = draft(Discovery("10.0.0.1", found=[found("core", "10.0.0.1", 0, n("Gi1/0/1", "a", "", "10.0.0.2")),
                                              found("a", "10.0.0.2", 1)]))
    assert site.links == [] and site.skipped == ["core:Gi1/0/1 -> a: the neighbour did not say which port"]


def test_two_devices_with_one_sysname_stay_two_devices() -> None:
    site = draft(Discovery("10.0.0.1", found=[found("switch", "10.0.0.1", 0), found("switch", "10.0.0.2", 1)]))
    assert [d.name for d in site.devices] == ["switch", "switch-10-0-0-2"]
