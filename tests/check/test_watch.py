"""The watch rule as data: the inventory's watch:/ignore: lists (strict), and the web view agreeing."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.check.health import problems
from monitor.check.watch import IGNORED, LINKED, RECENTLY_UP, UNUSED, UP, WATCH_PATTERN, rule_for, verdict
from monitor.inventory import InventoryError, load_inventory
from monitor.model import Port, Snapshot
from monitor.web.views import port_rows

INVENTORY = """customers:
  - {name: acme}
sites:
  - {name: hq, customer: acme, ignore: ["Gi1/0/4*"], watch: ["Gi1/0/1"]}
credentials:
  snmp:
    lab: {version: 2c, community: public}
devices:
  - {name: sw1, site: hq, host: 127.0.0.1, platform: cisco_ios, snmp: lab,
     watch: ["Gi1/0/41"], ignore: [Gi1/0/1]}
  - {name: sw2, site: hq, host: 127.0.0.1, platform: cisco_ios, snmp: lab}
links:
  - {a: "sw1:Gi1/0/48", b: "sw2:Gi1/0/48", role: backbone}
"""


@pytest.fixture
def inv(tmp_path: Path):  # type: ignore[no-untyped-def]
    f = tmp_path / "inv.yaml"
    f.write_text(INVENTORY)
    return load_inventory(f)


@pytest.mark.parametrize(("device", "port", "up", "want"), [
    ("sw1", "GigabitEthernet1/0/48", False, LINKED),        # in a link: watched even under an ignore: glob
    ("sw1", "GigabitEthernet1/0/41", False, WATCH_PATTERN),  # the device's watch: beats the site's ignore:
    ("sw1", "GigabitEthernet1/0/42", True, IGNORED),        # the site's ignore:, even when up
    ("sw1", "GigabitEthernet1/0/1", False, IGNORED),        # the device's ignore: beats the site's watch:
    ("sw2", "GigabitEthernet1/0/1", False, WATCH_PATTERN),  # the site's watch:
    ("sw2", "GigabitEthernet1/0/2", True, UP),
    ("sw2", "GigabitEthernet1/0/3", False, UNUSED),
])
def test_the_rule_reads_the_inventory(inv, device: str, port: str, up: bool, want: str) -> None:  # type: ignore[no-untyped-def]
    assert verdict(rule_for(inv, device), port, up) == want


def test_a_port_up_recently_is_watched(inv) -> None:  # type: ignore[no-untyped-def]
    rule = rule_for(inv, "sw2", frozenset({"GigabitEthernet1/0/3"}))
    assert verdict(rule, "GigabitEthernet1/0/3") == RECENTLY_UP


@pytest.mark.parametrize(("line", "message"), [
    ("ignore: Gi1/0/1", "sites[0].ignore: expected a list, got str"),
    ("watch: [1]", "sites[0].watch[0]: expected a port name or glob such as 'Gi1/0/*', got int"),
    ('watch: [" "]', "sites[0].watch[0]: expected a port name or glob such as 'Gi1/0/*', got str (empty)"),
])
def test_watch_and_ignore_are_loaded_strictly(tmp_path: Path, line: str, message: str) -> None:
    f = tmp_path / "inv.yaml"
    f.write_text(INVENTORY.replace('ignore: ["Gi1/0/4*"], watch: ["Gi1/0/1"]', line))
    with pytest.raises(InventoryError) as err:
        load_inventory(f)
    assert f"{f}:4: {message}" in str(err.value)


def test_check_and_the_web_view_agree_on_unused_ports(inv) -> None:  # type: ignore[no-untyped-def]
    ports = tuple(Port(i, f"GigabitEthernet1/0/{i}", if_type=6, admin="up", oper="up" if i == 2 else "down")
                  for i in (1, 2, 3, 48))
    snap = Snapshot("sw2", 100.0, True, ports=ports)
    rule = rule_for(inv, "sw2")
    verdicts = {p.name: verdict(rule, p.name, p.oper == "up") for p in ports}
    found = problems(snap, verdicts=verdicts)
    assert found == ["GigabitEthernet1/0/1: admin up but oper down",
                     "GigabitEthernet1/0/48: admin up but oper down"]
    shown = {r.name: r.state for r in port_rows(snap, rule)}
    assert shown == {"GigabitEthernet1/0/1": "down", "GigabitEthernet1/0/2": "up",
                     "GigabitEthernet1/0/3": "unused", "GigabitEthernet1/0/48": "down"}
    assert {r.name: r.state for r in port_rows(snap)}["GigabitEthernet1/0/3"] == "down"  # no rule: as before
