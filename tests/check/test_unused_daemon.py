"""The daemon opens no incident for a port an ignore: pattern covers, through its own poll cycle."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from monitor.daemon.monitor import Monitor, Settings
from monitor.inventory import load_inventory
from monitor.lab import runner, scenario
from monitor.lab.scenario import Step
from monitor.state.store import Store

SCN = {
    "name": "ignored-port",
    "site": {"devices": [{"name": "core-sw1", "platform": "cisco_ios", "ports": 52},
                         {"name": "dist-sw2", "platform": "cisco_ios", "ports": 28}],
             "links": [{"a": "core-sw1:Gi1/0/49", "b": "dist-sw2:Gi1/0/25", "media": "1000base-lx",
                        "role": "backbone"},
                       {"a": "dist-sw2:Gi1/0/1", "b": "pc-101", "role": "access"}]},  # a PC: no link
    "poll_interval": 60, "run_until": 600, "steps": [],
}


def incidents_after_unplugging_the_pc(tmp_path: Path, ignore: str) -> list[tuple[str, str, str | None]]:
    async def go() -> list[tuple[str, str, str | None]]:
        lab = await runner.start(scenario.parse(SCN, "ignored-port"), ssh=False)
        try:
            text = lab.inventory_yaml(site="hq", customer="acme", timeout=0.5, retries=1)
            if ignore:
                text = "\n".join(line[:-1] + f", ignore: [\"{ignore}\"]}}" if "name: dist-sw2," in line
                                 else line for line in text.splitlines()) + "\n"
            (tmp_path / "site.yaml").write_text(text)
            inv = load_inventory(tmp_path / "site.yaml")
            store = Store(f"sqlite:///{tmp_path / 'saksi.db'}")
            clock = {"t": 1_000_000.0}
            m = Monitor(inv, store, Settings(trap_port=None), clock=lambda: clock["t"])
            await m.poll_all()  # baseline: the PC's port is up
            unplug = Step(at=1, do="unplug_cable", args={"device": "dist-sw2", "port": "Gi1/0/1"}, number=1)
            scenario.apply(lab.site, lab.scenario, unplug)
            lab.site.settle(lab.site.now + 1)
            clock["t"] += 60
            await m.poll_all()
            m.close()
            found = [(i.cause, i.device, i.port) for i in store.open_incidents("hq")]
            downs = [c for c in store.changes(device="dist-sw2") if c.kind.value == "port_down"]
            assert [c.port for c in downs] == ["GigabitEthernet1/0/1"], "the change is recorded either way"
            store.close()
            return found
        finally:
            lab.close()

    return asyncio.run(go())


@pytest.mark.parametrize("ignore", ["", "gi1/0/1"])
def test_an_ignored_port_going_down_opens_no_incident(tmp_path: Path, ignore: str) -> None:
    found = incidents_after_unplugging_the_pc(tmp_path, ignore)
    if ignore:
        assert found == []
    else:
        assert [(d, p) for _, d, p in found] == [("dist-sw2", "GigabitEthernet1/0/1")]
