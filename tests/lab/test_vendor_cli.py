"""Configuration history on Huawei VRP and MikroTik RouterOS lab devices, through real SSH and real netmiko.

`saksi lab up` serves each device's CLI in its vendor's format; `saksi config fetch/history/diff` read it with
netmiko's huawei and mikrotik_routeros drivers, redact its secrets and drop its noise. Through the daemon's own
cycle (`saksi lab run`), the Huawei and MikroTik scenarios then carry configuration evidence, and a device whose
every fetch failed says why instead of claiming "no configuration change".
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from monitor.inventory import load_inventory
from monitor.lab import runner, scenario
from monitor.lab.runner import Lab
from tests.conftest import run_saksi
from tests.lab.lab_up import LabUp

SCENARIOS = Path(__file__).parent.parent / "scenarios"
# Seconds after `lab up` starts. Before it: lab up's start and three saksi processes per device (fetch, show,
# fetch), the two devices at once: 15 s on this 2-core machine unloaded, so 30 s leaves twice that for a loaded
# one (the 40 s used before left the same margin to the same processes run one device after the other).
CHANGE_AT = 30
SCENARIO = """name: vendor-cli
site:
  devices:
    - {name: core-hw, platform: huawei_vrp, ports: 28}
    - {name: edge-mt, platform: mikrotik_routeros, ports: 16}
  links:
    - {a: core-hw:GE0/0/25, b: edge-mt:sfp-sfpplus1, media: 1000base-lx, role: backbone}
poll_interval: 60
steps:
  - {at: CHANGE_AT, do: change_config, device: core-hw, interface: GE0/0/3, lines: ["description CHG-42 new printer"]}
  - {at: CHANGE_AT, do: change_config, device: edge-mt, interface: sfp-sfpplus3, lines: ["description CHG-42 new printer"]}
run_until: 120
""".replace("CHANGE_AT", str(CHANGE_AT))
# What each device's configuration must show after the change, and what it must never store.
SHOWS = {"core-hw": ("sysname core-hw", "interface GigabitEthernet0/0/3", "+ description CHG-42 new printer"),
         "edge-mt": ("/system identity set name=edge-mt",
                     "/interface ethernet set [ find default-name=sfp-sfpplus3 ]", 'comment="CHG-42 new printer"')}
SECRETS = ("saksiAdminHash", "saksiLabCommunityCipher", "labAuthSecret", "name=saksi-lab")
NOISE = ("!Last configuration was updated", "by RouterOS")


def _before_the_change(device: str, config: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    """The first fetch stores a redacted, noise-free version; a second one, still before the change, only
    differs from it by the clock in its header, so it stores nothing new."""
    first = config(device, "fetch")
    assert first.returncode == 0 and "new version" in first.stdout, (device, first.stdout, first.stderr)
    shown = config(device, "show").stdout
    assert SHOWS[device][0] in shown and SHOWS[device][1].split(" [")[0] in shown, shown
    assert not any(s in shown for s in SECRETS), f"{device}: a secret was stored"
    assert "<redacted>" in shown and not any(n in shown for n in NOISE), shown
    assert "CHG-42" not in shown, f"{device}: the first fetch came after the change (a very slow machine)"
    again = config(device, "fetch")
    assert again.returncode == 0, again.stderr
    assert "new version" not in again.stdout, \
        f"{device}: a second fetch stored a new version (noise kept, or it came after the change): {again.stdout}"


def _after_the_change(device: str, config: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    """One fetch after the lab changed port 3 stores the second version; history lists two, diff shows it."""
    fetched = config(device, "fetch")
    assert fetched.returncode == 0 and "new version" in fetched.stdout, (device, fetched.stdout, fetched.stderr)
    listed = config(device, "history")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 2, (device, listed.stdout)
    diff = config(device, "diff")
    assert diff.returncode == 0, diff.stderr
    assert SHOWS[device][2] in diff.stdout and SHOWS[device][1] in diff.stdout, diff.stdout
    assert not any(s in diff.stdout for s in SECRETS)


def test_config_fetch_history_and_diff_on_huawei_and_mikrotik(tmp_path: Path) -> None:
    """Both vendors' whole history cycle, each device in its own thread (their SSH sessions are independent):
    before the lab's change at CHANGE_AT, two fetches and a show; after the lab says it applied the change
    (its own log line, not a guess of the time), one fetch, history and diff."""
    lab = LabUp(SCENARIO, tmp_path)
    history = tmp_path / "history"
    try:
        inventory = lab.started()
        inv = load_inventory(inventory)
        assert {inv.devices[d].platform for d in SHOWS} == {"huawei_vrp", "mikrotik_routeros"}

        def config(device: str, *args: str) -> subprocess.CompletedProcess[str]:
            return run_saksi("config", *args, device, "--inventory", str(inventory), "--history", str(history))

        with ThreadPoolExecutor(len(SHOWS)) as pool:
            for done in [pool.submit(_before_the_change, device, config) for device in SHOWS]:
                done.result()
            for step in (1, 2):  # the scenario's two changes, one per device
                lab.wait_line(f"applied step {step}: change_config", timeout=CHANGE_AT + 60)
            for done in [pool.submit(_after_the_change, device, config) for device in SHOWS]:
                done.result()
        assert lab.stop() == 0
    finally:
        lab.kill()


@pytest.mark.parametrize("name, port_lines", [
    ("huawei-sfp-moved-on-core", "GigabitEthernet0/0/28 is: port link-type access; "
                                 "GigabitEthernet0/0/27 was: port link-type trunk"),
    ("mikrotik-sfp-moved-on-core", "sfp-sfpplus16 is: /interface bridge port add bridge=bridge1 "),
])
def test_vendor_move_is_read_against_its_configuration(name: str, port_lines: str) -> None:
    out = run_saksi("lab", "run", "--json", str(SCENARIOS / f"{name}.yaml"))
    assert out.returncode == 0, out.stderr
    moved = [i for i in json.loads(out.stdout)["incidents"] if i["cause"] == "transceiver_moved"]
    assert len(moved) == 1, out.stdout
    summary = moved[0]["summary"]
    assert "no configuration change" in summary and port_lines in summary, summary
    assert "configuration not collected" not in summary and not moved[0]["missing"], moved[0]


@pytest.mark.parametrize("name, port, line", [
    ("huawei-port-shutdown-and-config", "GigabitEthernet0/0/27", "GigabitEthernet0/0/27: + shutdown"),
    ("mikrotik-port-shutdown-and-config", "sfp-sfpplus15", "sfp-sfpplus15: + /interface ethernet disabled=yes"),
])
def test_a_vendor_port_change_shows_in_its_incident(name: str, port: str, line: str) -> None:
    """The engineer's shutdown and new description are the port's configuration evidence, as on Cisco."""
    result = asyncio.run(runner.run(scenario.load(SCENARIOS / f"{name}.yaml")))
    assert [i["cause"] for i in result.incidents] == ["port_shutdown"], [i["summary"] for i in result.incidents]
    inc = result.incidents[0]
    assert line in inc["summary"] and "MAINTENANCE CHG-1234" in inc["summary"], inc["summary"]
    ports = [e["port"] for e in inc["evidence"] if e["what"] == "config_changed"]
    assert ports and set(ports) == {port}, inc["evidence"]


def _answer(device: str, command: str, text: str) -> Callable[[Lab], Any]:
    """A `network` hook for the runner that makes one lab device print `text` for `command` (before any poll)."""
    async def hook(lab: Lab) -> Callable[[str], Any]:
        assert lab.ssh is not None
        lab.ssh.servers[device].behaviour.outputs[command] = text
        return lambda name: lab.target(name, 0.3, 0)
    return hook


def test_a_device_whose_every_fetch_failed_makes_no_claim_about_its_configuration() -> None:
    """SSH credentials, but each answer is truncated: the summary says the history is missing, and why."""
    truncated = "!Software Version V200R010C00SPC600\n#\nsysname core-sw1\n#\ninterface GigabitEthernet0/0/1\n"
    scn = scenario.load(SCENARIOS / "huawei-sfp-moved-on-core.yaml")
    result = asyncio.run(runner.run(scn, network=_answer("core-sw1", "display current-configuration", truncated)))
    (inc,) = [i for i in result.incidents if i["cause"] == "transceiver_moved"]
    assert "no configuration change" not in inc["summary"], inc["summary"]
    assert "configuration not collected (no version collected yet: " in inc["summary"], inc["summary"]
    assert "truncated" in inc["summary"] and any("no version collected yet" in m for m in inc["missing"]), inc
