"""`saksi lab up --write-inventory` writes the lab's SSH login (by reference), so configuration history works on
the lab: `saksi config fetch`, then `history` and `diff` after the scenario changes a port's configuration."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from monitor.inventory import load_inventory
from tests.conftest import run_saksi

SAKSI = Path(sys.executable).parent / "saksi"
SCENARIO = """name: up-config
site:
  devices:
    - {name: core-sw1, platform: cisco_ios, ports: 28}
    - {name: dist-sw2, platform: cisco_ios, ports: 28}
  links:
    - {a: core-sw1:Gi1/0/25, b: dist-sw2:Gi1/0/25, media: 1000base-lx, role: backbone}
poll_interval: 60
steps:
  - {at: 20, do: change_config, device: core-sw1, interface: Gi1/0/3, lines: ["description CHG-42 new printer"]}
run_until: 60
"""


def test_config_fetch_history_and_diff_work_on_the_lab(tmp_path: Path) -> None:
    (tmp_path / "up.yaml").write_text(SCENARIO)
    inventory, history = tmp_path / "lab.yaml", tmp_path / "history"
    proc = subprocess.Popen([str(SAKSI), "lab", "up", str(tmp_path / "up.yaml"), "--write-inventory", str(inventory)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not inventory.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert inventory.exists(), proc.stdout.read() if proc.poll() is not None and proc.stdout else "no inventory"
        inv = load_inventory(inventory)
        login = inv.devices["core-sw1"].ssh
        assert login is not None and login.password is not None and login.known_hosts
        assert login.password.reveal() not in inventory.read_text(), "the password by reference, never in clear"

        def config(*args: str) -> subprocess.CompletedProcess[str]:
            return run_saksi("config", *args, "core-sw1", "--inventory", str(inventory), "--history", str(history))

        first = config("fetch")
        assert first.returncode == 0 and "new version" in first.stdout, first.stderr
        assert "CHG-42" not in config("show").stdout, "the first fetch came after the change (a very slow machine)"
        deadline = time.monotonic() + 90
        while True:  # the scenario changes Gi1/0/3's configuration 20 s after the lab came up
            again = config("fetch")
            assert again.returncode == 0, again.stderr
            if "new version" in again.stdout or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert "new version" in again.stdout, "the change never showed"
        listed = config("history")
        assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 2, listed.stdout
        diff = config("diff")
        assert diff.returncode == 0, diff.stderr
        assert "+ description CHG-42 new printer" in diff.stdout and "GigabitEthernet1/0/3" in diff.stdout, diff.stdout
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
