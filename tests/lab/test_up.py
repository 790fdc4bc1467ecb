"""`saksi lab up`: a site in real time that `saksi check` and `saksi run` can poll, sending real traps."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import run_saksi

SAKSI = Path(sys.executable).parent / "saksi"
SCENARIO = """name: up-test
site:
  devices:
    - {name: core-sw1, platform: cisco_ios, ports: 52}
    - {name: dist-sw2, platform: cisco_ios, ports: 28}
  links:
    - {a: core-sw1:Gi1/0/49, b: dist-sw2:Gi1/0/25, media: 1000base-lx, role: backbone}
poll_interval: 60
steps:
  - {at: 4, do: remove_transceiver, device: dist-sw2, port: Gi1/0/25}
run_until: 60
"""


def test_lab_up_writes_an_inventory_check_can_use_and_traps_its_changes(tmp_path: Path) -> None:
    (tmp_path / "up.yaml").write_text(SCENARIO)
    inventory = tmp_path / "lab-inventory.yaml"
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.settimeout(15)
    proc = subprocess.Popen([str(SAKSI), "lab", "up", str(tmp_path / "up.yaml"), "--trap-sink",
                             f"127.0.0.1:{sink.getsockname()[1]}", "--write-inventory", str(inventory)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not inventory.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert inventory.exists(), proc.stdout.read() if proc.poll() is not None and proc.stdout else "no inventory"
        r = run_saksi("check", "--inventory", str(inventory), "dist-sw2", "--json", "--no-ssh")
        assert r.returncode in (0, 1), r.stderr  # 1: it reports problems (the lab's ports that are down)
        out = json.loads(r.stdout)
        assert out["device"]["name"] == "dist-sw2" and out["device"]["reachable"] is True, r.stdout[:300]
        senders = set()
        while len(senders) < 2:  # linkDown from both ends of the backbone once the SFP is pulled at t=4
            data, (host, _) = sink.recvfrom(65535)
            assert data[:1] == b"\x30", "an SNMP message"
            senders.add(host)
        assert senders == {"127.0.0.10", "127.0.0.11"}, senders  # each device from its own address
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    finally:
        sink.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
