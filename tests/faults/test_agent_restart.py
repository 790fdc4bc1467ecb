"""A restarted SNMP agent is not a rebooted device: a real net-snmp snmpd, restarted between two rounds of
the daemon (`saksi run --once` twice on one store), must leave no `device_rebooted`.

snmpd's sysUpTime is its own uptime and goes back to zero when it restarts; HOST-RESOURCES-MIB's
hrSystemUptime is the host's and does not, and snmpEngineBoots counts the restart (kept in the persistent
directory, as on a real server). The lab's own reboot test (tests/lab, scenario reboot-and-power) keeps a
real reboot — uptime going back with no host uptime to say otherwise — a `device_rebooted`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from monitor.model import DeviceFacts
from monitor.state.store import Store
from tests.conftest import run_saksi, start_snmpd, stop

COMMUNITY = "restarted"
# The agent's clock must be ahead when it is restarted, or its uptime would not go back: the first round polls it
# at about LEAD + t1 (t1: a `saksi run --once` from start to poll), the second at about t2 after the restart.
# The lead only has to cover t2 - t1, two like processes a few seconds apart: 15 s is several times that even on a
# loaded 2-core machine (it was 40 s, read by a `saksi check` process every second).
AGENT_LEAD_S = 15.0


def _inventory(path: Path, port: int) -> Path:
    path.write_text(f"""
customers:
  - {{name: acme}}
sites:
  - {{name: hq, customer: acme}}
credentials:
  snmp:
    server: {{version: 2c, community: {COMMUNITY}}}
devices:
  - {{name: linux-1, site: hq, host: 127.0.0.1, port: {port}, platform: linux, snmp: server, timeout: 2, retries: 1}}
""")
    return path


def _agent_uptime(port: int) -> float:
    r = run_saksi("check", "--host", "127.0.0.1", "--snmp-port", str(port), "--community", COMMUNITY, "--json")
    assert r.returncode in (0, 1), r.stderr
    return float(json.loads(r.stdout)["device"]["agent_uptime_s"])


def _facts(db: str) -> DeviceFacts:
    with Store(db) as store:
        return store.last_good_snapshots()["linux-1"].facts


def test_restarting_snmpd_is_not_a_reboot(tmp_path: Path) -> None:
    """One real restart between two rounds of the daemon on one store: snmpEngineBoots counts it, the agent's
    uptime goes back, the host's does not, and nothing says "rebooted". One restart is the whole proof: the
    verdict is a comparison of two polls, not a rate; the wait before it is AGENT_LEAD_S, and no longer."""
    work = tmp_path / "snmpd"
    work.mkdir()
    port, proc = start_snmpd(work, COMMUNITY)
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    inventory = _inventory(tmp_path / "site.yaml", port)
    try:
        # the agent's clock needs a lead over a restart and a round of polling, or it would not go back
        time.sleep(max(0.0, AGENT_LEAD_S - _agent_uptime(port)))
        first = run_saksi("run", "--once", "--trap-port", "0", "-i", str(inventory), "--db", db)
        assert first.returncode == 0, first.stderr
        before = _facts(db)
        stop(proc)
        port, proc = start_snmpd(work, COMMUNITY, port=port)  # same port, same persistent state
        second = run_saksi("run", "--once", "--trap-port", "0", "-i", str(inventory), "--db", db)
        assert second.returncode == 0, second.stderr
        check = run_saksi("check", "--host", "127.0.0.1", "--snmp-port", str(port), "--community", COMMUNITY,
                          "--json")
    finally:
        stop(proc)
    after = _facts(db)
    # what used to read as a reboot: the agent restarted (its boot counter says so) and its clock went back
    assert before.engine_boots is not None and after.engine_boots == before.engine_boots + 1
    assert after.uptime_s is not None and before.uptime_s is not None and after.uptime_s < before.uptime_s, \
        (before.uptime_s, after.uptime_s)
    assert after.host_uptime_s is not None and before.host_uptime_s is not None
    with Store(db) as store:
        kinds = [c.kind.value for c in store.changes(device="linux-1")]
        causes = [i.cause for i in store.incidents()]
    assert "device_rebooted" not in causes, causes
    assert "rebooted" not in kinds, kinds
    device = json.loads(check.stdout)["device"]
    assert device["uptime_s"] > device["agent_uptime_s"], device  # check shows the host's uptime


@pytest.mark.parametrize("boots", [(3, 4), (None, None)])
def test_the_agents_uptime_alone_still_means_a_reboot(boots: tuple[int | None, int | None]) -> None:
    """Without the host's uptime, the agent's uptime going back (its engine rebooted or unknown) stays a reboot:
    a switch's agent restarts with the switch."""
    from monitor.witness.changes import rebooted

    assert rebooted(DeviceFacts(uptime_s=500.0, engine_boots=boots[0]),
                    DeviceFacts(uptime_s=5.0, engine_boots=boots[1])) == "uptime went back to 5s"
