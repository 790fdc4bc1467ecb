"""`saksi config ...` and `saksi check` with SSH, through the real entry point, against a running lab site."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.lab import runner, scenario
from monitor.lab.runner import LAB_COMMUNITY, Lab
from monitor.lab.scenario import Step, apply
from tests.conftest import run_saksi

SCN: dict[str, Any] = {
    "name": "cli-site",
    "site": {"devices": [{"name": "core-sw1", "platform": "cisco_ios", "ports": 52},
                         {"name": "dist-sw2", "platform": "cisco_ios", "ports": 28}],
             "links": [{"a": "core-sw1:Gi1/0/49", "b": "dist-sw2:Gi1/0/25", "media": "1000base-lx",
                        "role": "backbone"}]},
    "poll_interval": 60, "run_until": 600, "steps": [],
}


class LiveLab:
    """A lab site served in real time from a background event loop, so another process can poll it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lab: Lab = asyncio.run_coroutine_threadsafe(
            runner.start(scenario.parse(SCN, "cli-site")), self.loop).result(30)

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


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveLab, Path]]:
    lab = LiveLab()
    ssh = lab.lab.ssh
    assert ssh is not None
    monkeypatch.setenv("SAKSI_TEST_COMMUNITY", LAB_COMMUNITY)
    monkeypatch.setenv("SAKSI_TEST_SSH_PASSWORD", ssh.password)
    inv = tmp_path / "inventory.yaml"
    devices = "\n".join(
        f"  - {{name: {name}, site: cli-site, host: {lab.lab.hosts[name]}, port: {lab.lab.ports[name]}, platform: cisco_ios,"
        f" snmp: lab, ssh: lab, ssh_port: {server.port}, timeout: 1.0}}"
        for name, server in ssh.servers.items())
    inv.write_text(f"""customers:
  - {{name: acme, display_name: ACME}}
sites:
  - {{name: cli-site, customer: acme}}
credentials:
  snmp:
    lab: {{version: 2c, community: "${{env:SAKSI_TEST_COMMUNITY}}"}}
  ssh:
    lab: {{username: saksi, password: "${{env:SAKSI_TEST_SSH_PASSWORD}}", known_hosts: "{ssh.known_hosts}"}}
devices:
{devices}
""")
    try:
        yield lab, inv
    finally:
        lab.close()


def test_fetch_history_show_and_diff_through_the_entry_point(live: tuple[LiveLab, Path], tmp_path: Path) -> None:
    lab, inv = live
    hist = tmp_path / "history"
    common = ["-i", str(inv), "--history", str(hist)]
    first = run_saksi("config", "fetch", "core-sw1", *common)
    assert first.returncode == 0 and "new version" in first.stdout, first.stderr
    again = run_saksi("config", "fetch", "core-sw1", *common)
    assert again.returncode == 0 and "unchanged" in again.stdout, again.stderr
    lab.step(100, "shutdown_port", device="core-sw1", port="Gi1/0/49")
    lab.step(110, "change_config", device="core-sw1", interface="Gi1/0/50", remove=["switchport mode access"],
             lines=["switchport mode trunk"])
    assert "new version" in run_saksi("config", "fetch", "core-sw1", *common).stdout

    history = run_saksi("config", "history", "core-sw1", *common)
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert len(lines) == 2 and "first version" in lines[0] and "GigabitEthernet1/0/49: + shutdown" in lines[1]

    diff = run_saksi("config", "diff", "core-sw1", "--port", "Gi1/0/49", *common)
    assert diff.returncode == 0, diff.stderr
    assert "GigabitEthernet1/0/49: + shutdown" in diff.stdout and "GigabitEthernet1/0/50" not in diff.stdout
    diff50 = run_saksi("config", "diff", "core-sw1", "--port", "GigabitEthernet1/0/50", *common)
    assert "GigabitEthernet1/0/50: switchport mode access → trunk" in diff50.stdout

    shown = run_saksi("config", "show", "core-sw1", *common)
    assert shown.returncode == 0 and "hostname core-sw1" in shown.stdout and "<redacted>" in shown.stdout
    for secret in ("$1$lab$Q9saksiSecretHash0", "saksi-lab RO"):
        assert secret not in shown.stdout + diff.stdout + history.stdout
    old = run_saksi("config", "show", "core-sw1", "--at", "1970-01-01T00:00:00Z", *common)
    assert old.returncode == 2 and "no version at or before" in old.stderr


def test_config_errors_are_one_line_with_exit_2(live: tuple[LiveLab, Path], tmp_path: Path) -> None:
    _, inv = live
    empty = tmp_path / "empty"
    for args, message in ((["show", "core-sw1", "--site", "nowhere"], "no configuration history"),
                          (["history", "ghost", "-i", str(inv)], "unknown device"),
                          (["diff", "core-sw1", "--site", "x", "--from", "yesterday"], "cannot read time")):
        r = run_saksi("config", *args, "--history", str(empty))
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_check_includes_ssh_data_unless_told_not_to(live: tuple[LiveLab, Path]) -> None:
    _, inv = live
    r = run_saksi("check", "-i", str(inv), "core-sw1", "Gi1/0/49", "--json")
    assert r.returncode in (0, 1), r.stderr
    data = json.loads(r.stdout)
    ssh = data["ssh"]
    assert ssh["ok"] and ssh["disagreements"] == []
    [port] = ssh["ports"]
    assert port["name"] == "GigabitEthernet1/0/49" and port["transceiver"]["source"] == "ssh:show inventory"
    assert port["transceiver"]["serial"] == data["ports"][0]["transceiver"]["serial"]
    assert port["neighbor"]["sys_name"] == "dist-sw2" and port["dom"]["source"] == "ssh:show interface transceiver"
    assert {c["role"]: c["status"] for c in ssh["commands"]}["config"] == "ok"
    assert "enable secret" not in r.stdout and "saksi-lab" not in r.stdout

    r = run_saksi("check", "-i", str(inv), "core-sw1", "--json", "--no-ssh")
    assert json.loads(r.stdout)["ssh"] is None

    table = run_saksi("check", "-i", str(inv), "core-sw1", "Gi1/0/49")
    assert "ssh: ok" in table.stdout, table.stdout + table.stderr
