"""`saksi devices` through the real entry point, after real polls by `saksi run --once` of lab switches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_udp_port, run_saksi
from tests.discover.conftest import RunningLab, running_lab

SITE = """name: devices-cli
site:
  devices:
    - {name: core-sw1, platform: cisco_ios, ports: 52}
    - {name: dist-sw2, platform: arista_eos, ports: 8}
    - {name: branch-sw3, platform: juniper_junos, ports: 28}
  links:
    - {a: core-sw1:Gi1/0/49, b: dist-sw2:Ethernet1, media: 1000base-lx, role: backbone}
poll_interval: 60
steps: []
run_until: 60
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    with running_lab(SITE) as running:
        yield running


@pytest.fixture
def inventory(lab: RunningLab, tmp_path: Path) -> Path:
    """Two sites, and a switch that never answers (nothing listens on its port)."""
    folder = tmp_path / "inventory"
    folder.mkdir()
    (folder / "lab.yaml").write_text(lab.lab.inventory_yaml(
        site=lambda name: "branch" if name.startswith("branch") else "hq", customer="acme", timeout=0.5, retries=0))
    (folder / "gone.yaml").write_text(
        f"devices:\n  - {{name: gone-sw9, site: hq, host: 127.0.0.1, port: {free_udp_port()}, platform: cisco_ios, "
        "snmp: lab, timeout: 0.3, retries: 0}\n")
    return folder


def devices(inventory: Path, db: str, *args: str) -> list[dict]:  # type: ignore[type-arg]
    r = run_saksi("devices", "--inventory", str(inventory), "--db", db, "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["devices"]


def test_every_device_with_its_last_poll_and_outcome(lab: RunningLab, inventory: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    r = run_saksi("run", "--inventory", str(inventory), "--db", db, "--once")
    assert r.returncode == 0, r.stderr
    (inventory / "new.yaml").write_text(  # added after the poll: never polled
        "devices:\n  - {name: new-sw10, site: hq, host: 127.0.0.1, port: 161, platform: cisco_ios, snmp: lab}\n")
    rows = {d["name"]: d for d in devices(inventory, db)}
    assert list(rows) == ["branch-sw3", "core-sw1", "dist-sw2", "gone-sw9", "new-sw10"]  # by site, then name
    modules = {name: sum(1 for p in dev.ports.values() if p.module is not None)
               for name, dev in lab.lab.site.devices.items()}
    for name in ("core-sw1", "dist-sw2", "branch-sw3"):
        row = rows[name]
        assert row["outcome"] == "answered" and row["error"] is None, row
        assert row["last_poll_at"] == row["last_answer_at"] and row["last_poll_at"] is not None
        assert row["modules"] == modules[name] and row["sys_name"] == name
        assert row["platform"] == lab.lab.site.devices[name].platform and row["host"] == lab.hosts[name]
        assert row["open_incidents"] == []
    gone = rows["gone-sw9"]
    assert gone["outcome"] == "timed_out" and gone["error"] and gone["last_poll_at"] is not None
    assert gone["last_answer_at"] is None and gone["modules"] is None
    assert rows["new-sw10"]["outcome"] == "never polled" and rows["new-sw10"]["last_poll_at"] is None

    assert [d["name"] for d in devices(inventory, db, "--site", "branch")] == ["branch-sw3"]
    table = run_saksi("devices", "--inventory", str(inventory), "--db", db)
    assert table.returncode == 0
    for words in ("core-sw1", "answered", "timed_out", "never polled", f"{lab.hosts['dist-sw2']}:{lab.port}"):
        assert words in table.stdout, table.stdout


def test_bad_input_is_one_line_and_exit_2(inventory: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "saksi.db"
    r = run_saksi("devices", "--inventory", str(inventory), "--db", f"sqlite:///{missing}")
    assert r.returncode == 2 and "cannot read the state store" in r.stderr and "Traceback" not in r.stderr
    assert not missing.exists(), "reading never creates a store"
    r = run_saksi("devices", "--inventory", str(inventory), "--db", f"sqlite:///{missing}", "--site", "nope")
    assert r.returncode == 2 and "unknown site 'nope'" in r.stderr and "branch, hq" in r.stderr
    r = run_saksi("devices", "--inventory", str(tmp_path / "none.yaml"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
