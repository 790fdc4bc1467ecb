"""`saksi lab up --write-inventory` writes the lab's SSH login (by reference), so configuration history works on
the lab: `saksi config fetch`, then `history` and `diff` after the scenario changes a port's configuration."""

from __future__ import annotations

import subprocess
from pathlib import Path

from monitor.inventory import load_inventory
from tests.conftest import run_saksi
from tests.lab.lab_up import LabUp

# Seconds after `lab up` starts; before it come lab up's start, one fetch and one show: 6 s here unloaded.
CHANGE_AT = 15
SCENARIO = """name: up-config
site:
  devices:
    - {name: core-sw1, platform: cisco_ios, ports: 28}
    - {name: dist-sw2, platform: cisco_ios, ports: 28}
  links:
    - {a: core-sw1:Gi1/0/25, b: dist-sw2:Gi1/0/25, media: 1000base-lx, role: backbone}
poll_interval: 60
steps:
  - {at: CHANGE_AT, do: change_config, device: core-sw1, interface: Gi1/0/3, lines: ["description CHG-42 new printer"]}
run_until: 60
""".replace("CHANGE_AT", str(CHANGE_AT))


def test_config_fetch_history_and_diff_work_on_the_lab(tmp_path: Path) -> None:
    """One fetch before the lab's change and one after it (awaited from lab up's own line, not guessed) make
    two versions, and the diff between them is the change."""
    lab = LabUp(SCENARIO, tmp_path)
    history = tmp_path / "history"
    try:
        inventory = lab.started()
        inv = load_inventory(inventory)
        login = inv.devices["core-sw1"].ssh
        assert login is not None and login.password is not None and login.known_hosts
        assert login.password.reveal() not in inventory.read_text(), "the password by reference, never in clear"

        def config(*args: str) -> subprocess.CompletedProcess[str]:
            return run_saksi("config", *args, "core-sw1", "--inventory", str(inventory), "--history", str(history))

        first = config("fetch")
        assert first.returncode == 0 and "new version" in first.stdout, first.stderr
        assert "CHG-42" not in config("show").stdout, "the first fetch came after the change (a very slow machine)"
        lab.wait_line("applied step 1: change_config", timeout=CHANGE_AT + 60)
        again = config("fetch")
        assert again.returncode == 0, again.stderr
        assert "new version" in again.stdout, "the change never showed"
        listed = config("history")
        assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 2, listed.stdout
        diff = config("diff")
        assert diff.returncode == 0, diff.stderr
        assert "+ description CHG-42 new printer" in diff.stdout and "GigabitEthernet1/0/3" in diff.stdout, diff.stdout
        assert lab.stop() == 0
    finally:
        lab.kill()
