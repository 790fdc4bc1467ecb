"""Unused ports are not problems: `saksi check` on a lab site through the real entry point.

The lab's core switch has 52 ports and one cable; the other 51 are admin up and oper down, as on a real
access switch. They are `unused` (exit 0) until a link, a watch: pattern or the store's memory of them
being up says otherwise.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.lab import runner, scenario
from monitor.lab.runner import LAB_COMMUNITY, Lab
from monitor.lab.scenario import Step, apply
from monitor.state.store import Store
from monitor.witness.changes import Change, ChangeKind
from tests.conftest import run_saksi
from tests.state.seed import seed

SCN: dict[str, Any] = {
    "name": "unused-ports",
    "site": {"devices": [{"name": "core-sw1", "platform": "cisco_ios", "ports": 52},
                         {"name": "dist-sw2", "platform": "cisco_ios", "ports": 28}],
             "links": [{"a": "core-sw1:Gi1/0/49", "b": "dist-sw2:Gi1/0/25", "media": "1000base-lx",
                        "role": "backbone"}]},
    "poll_interval": 60, "run_until": 600, "steps": [],
}
LINKED = "GigabitEthernet1/0/49"


class LiveLab:
    """The site served in real time from a background loop, so `saksi check` in another process polls it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lab: Lab = asyncio.run_coroutine_threadsafe(
            runner.start(scenario.parse(SCN, "unused-ports"), ssh=False), self.loop).result(30)

    def step(self, at: float, do: str, **args: Any) -> None:
        def go() -> None:
            apply(self.lab.site, self.lab.scenario, Step(at=at, do=do, args=args, number=1))
            self.lab.settle(at)

        self.loop.call_soon_threadsafe(go)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self.loop).result(5)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.lab.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveLab]:
    lab = LiveLab()
    try:
        yield lab
    finally:
        lab.close()


def inventory(live: LiveLab, tmp_path: Path, device_extra: str = "", site_extra: str = "") -> Path:
    """The lab's own inventory, with watch:/ignore: patterns added to core-sw1 and its site."""
    text = live.lab.inventory_yaml(site="lab")
    if site_extra:
        text = text.replace("timezone: UTC}", f"timezone: UTC, {site_extra}}}", 1)
    if device_extra:
        text = "\n".join(line[:-1] + f", {device_extra}}}" if "name: core-sw1," in line else line
                         for line in text.splitlines()) + "\n"
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return path


def check(inv: Path, *args: str, db: str = "") -> tuple[int, dict[str, Any]]:
    store = ["--db", db] if db else []
    r = run_saksi("check", "-i", str(inv), "core-sw1", "--no-ssh", "--json", *store, *args)
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stderr
    return r.returncode, json.loads(r.stdout)


def test_an_access_switch_with_unused_ports_is_healthy(live: LiveLab, tmp_path: Path) -> None:
    code, data = check(inventory(live, tmp_path))
    by_name = {p["name"]: p for p in data["ports"]}
    down = [p for p in data["ports"] if p["admin"] == "up" and p["oper"] != "up"]
    assert len(down) == 51 and len(data["unused"]) == 51, data["problems"]  # the "51 problems"
    assert code == 0 and data["healthy"] and data["problems"] == []
    assert by_name[LINKED]["watch"] == "link" and by_name[LINKED]["watched"]
    assert {by_name[n]["watch"] for n in data["unused"]} == {"unused"}

    table = run_saksi("check", "-i", str(inventory(live, tmp_path)), "core-sw1", "--no-ssh")
    assert table.returncode == 0, table.stdout + table.stderr
    assert "51 unused port(s)" in table.stdout and "problem" not in table.stdout.replace("not problems", "")


def test_a_port_the_store_saw_up_within_30_days_is_watched(live: LiveLab, tmp_path: Path) -> None:
    inv = inventory(live, tmp_path)
    url = f"sqlite:///{tmp_path / 'saksi.db'}"
    store = Store(url)
    now = time.time()
    seed(store, "lab", changes=[
        Change(ChangeKind.PORT_DOWN, "core-sw1", now - 86400, "GigabitEthernet1/0/10", before="up",
               after="down"),
        Change(ChangeKind.PORT_DOWN, "core-sw1", now - 40 * 86400, "GigabitEthernet1/0/11", before="up",
               after="down"),
    ])
    store.close()
    code, data = check(inv, db=url)
    assert code == 1 and data["problems"] == ["GigabitEthernet1/0/10: admin up but oper down"]
    by_name = {p["name"]: p for p in data["ports"]}
    assert by_name["GigabitEthernet1/0/10"]["watch"] == "recently_up"
    assert by_name["GigabitEthernet1/0/11"]["watch"] == "unused"  # 40 days ago is outside the window


def test_watch_and_ignore_patterns(live: LiveLab, tmp_path: Path) -> None:
    code, data = check(inventory(live, tmp_path, device_extra='watch: ["gi1/0/1", "Gi1/0/2"]'))
    assert code == 1 and sorted(data["problems"]) == ["GigabitEthernet1/0/1: admin up but oper down",
                                                      "GigabitEthernet1/0/2: admin up but oper down"]
    # the device's own ignore beats the site's watch; the site's watch applies to the rest
    code, data = check(inventory(live, tmp_path, device_extra='ignore: ["Gi1/0/2"]',
                                 site_extra='watch: ["GigabitEthernet1/0/[12]"]'))
    assert code == 1 and data["problems"] == ["GigabitEthernet1/0/1: admin up but oper down"]
    by_name = {p["name"]: p for p in data["ports"]}
    assert by_name["GigabitEthernet1/0/2"]["watch"] == "ignored"


def test_a_linked_port_that_goes_down_is_a_problem_even_when_ignored(live: LiveLab, tmp_path: Path) -> None:
    live.step(1, "unplug_cable", device="core-sw1", port="Gi1/0/49")
    try:
        code, data = check(inventory(live, tmp_path, device_extra='ignore: ["Gi1/0/*"]'))
        assert code == 1 and data["problems"][0] == f"{LINKED}: admin up but oper down"
        assert all(p.startswith(LINKED) for p in data["problems"])  # and its light, lost with the cable
    finally:
        live.step(2, "plug_cable", device="core-sw1", port="Gi1/0/49", peer="dist-sw2:Gi1/0/25")


def test_snmp_port_and_the_deprecated_port(live: LiveLab) -> None:
    host, port = live.lab.hosts["core-sw1"], str(live.lab.ports["core-sw1"])
    base = ["check", "--host", host, "--community", LAB_COMMUNITY, "--json"]
    new = run_saksi(*base, "--snmp-port", port)
    assert new.returncode == 0 and new.stderr == "", new.stderr  # no link, no history: 51 unused, healthy
    old = run_saksi(*base, "--port", port)
    assert old.returncode == 0 and json.loads(old.stdout)["unused"] == json.loads(new.stdout)["unused"]
    assert old.stderr == "saksi: --port is deprecated for the SNMP port; use --snmp-port\n"
