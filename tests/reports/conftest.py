"""A small two-customer world for the report tests: an inventory (the site hq with three switches in a line,
another customer's site far) and the last polls of a healthy day."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.inventory import Inventory, load_inventory
from monitor.model import Port, Snapshot

NOW = 1_000_000.0
DAY = 86400.0
UP = "GigabitEthernet1/0/"


def fmt(t: float) -> str:
    return f"t={t:g}"


INVENTORY = """customers: [{name: acme}, {name: other}]
sites:
  - {name: hq, customer: acme}
  - {name: far, customer: other}
credentials: {snmp: {lab: {version: 2c, community: "public-ro"}}}
devices:
  - {name: core-sw1, site: hq, host: 127.0.0.1, port: 1161, platform: cisco_ios, snmp: lab}
  - {name: dist-sw2, site: hq, host: 127.0.0.1, port: 1162, platform: cisco_ios, snmp: lab}
  - {name: acc-sw3, site: hq, host: 127.0.0.1, port: 1163, platform: cisco_ios, snmp: lab}
  - {name: edge-9, site: far, host: 127.0.0.1, port: 1169, platform: cisco_ios, snmp: lab}
links:
  - {a: "core-sw1:Gi1/0/49", b: "dist-sw2:Gi1/0/25", role: backbone}
  - {a: "dist-sw2:Gi1/0/26", b: "acc-sw3:Gi1/0/25", role: uplink}
"""


@pytest.fixture
def inv_file(tmp_path: Path) -> Path:
    f = tmp_path / "inv.yaml"
    f.write_text(INVENTORY)
    return f


@pytest.fixture
def inv(inv_file: Path) -> Inventory:
    return load_inventory(inv_file)


def snap(device: str, *ports: tuple[int, str], reachable: bool = True) -> Snapshot:
    return Snapshot(device, NOW - 30, reachable, ports=tuple(Port(n, f"{UP}{n}", admin="up", oper=oper)
                                                             for n, oper in ports))


def healthy() -> dict[str, Snapshot]:
    return {"core-sw1": snap("core-sw1", (49, "up")), "dist-sw2": snap("dist-sw2", (1, "up"), (25, "up"), (26, "up")),
            "acc-sw3": snap("acc-sw3", (25, "up"), (3, "up")), "edge-9": snap("edge-9", (1, "down"))}
