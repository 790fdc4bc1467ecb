"""The README's first command: `saksi lab demo` tells the SFP story, and the on-call engineer gets it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def test_the_demo_names_the_moved_module_and_shows_the_message_the_owner_received() -> None:
    saksi = Path(sys.executable).parent / "saksi"
    env = {**os.environ, "COLUMNS": "200", "TERM": "dumb"}
    out = subprocess.run([str(saksi), "lab", "demo"], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    text = " ".join(re.sub("[│╭╮╰╯─]", " ", out.stdout).split())  # rich wraps panels: compare words, not layout
    assert re.search(r"SFP S/N \S+ \(CISCO GLC-LX-SMD\) was moved from core-sw1 GigabitEthernet1/0/49 to GigabitEthernet1/0/50 at t=300s; "
                     r"no configuration change", text), text
    assert "transceiver_moved — core-sw1 GigabitEthernet1/0/49" in text
    assert "SAK-000001" in text and "SAK-000002" not in text, "one incident, not a removal plus an insertion"
    # the message came back through a real HTTP receiver on 127.0.0.1, addressed to the owner
    received = re.search(r"what on-call (\w+) received \(webhook on 127\.0\.0\.1\): \[Saksi\] OPENED SAK-000001", text)
    assert received is not None and received.group(1) == "aino", text
    assert "Owner: aino (tier 1, team network)" in text
    # the page left after the core's poll (the daemon's schedule): its evidence is the core's view of the move
    assert "Evidence:" in text and re.search(r"neighbor_found +- -> dist-sw2 (Gi|GigabitEthernet)1/0/25", text), text
