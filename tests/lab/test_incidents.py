"""Root cause on lab scenarios: exactly one incident per root cause, named where the change happened.

Each scenario lists its `expected_incidents`; the run must produce exactly those (cause, device, port),
each once, resolved or not as stated, and detected within `max_delay` simulated seconds of the change
(one poll interval with polling alone, 2 s with traps) — plus, when polling, the jitter the daemon's
schedule adds to each interval. The scenarios are played by the daemon (`monitor.lab.runner.run`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.common.names import canonical_port
from monitor.common.refs import parse_incident_ref
from monitor.daemon.monitor import Settings
from monitor.lab import scenario
from tests.conftest import SCENARIOS, on_scenario, played, scenario_params

WITH_INCIDENTS = [p for p in SCENARIOS if "expected_incidents" in scenario.load(p).raw]
MOVED = next(p for p in SCENARIOS if p.stem == "sfp-moved-on-core")
SILENT = next(p for p in SCENARIOS if p.stem == "device-goes-silent")


def _key(i: dict[str, Any]) -> tuple[str, str, str | None]:
    return i["cause"], i["device"], canonical_port(i["port"]) if i.get("port") else None


@pytest.mark.parametrize("path", scenario_params(WITH_INCIDENTS))
def test_one_incident_per_root_cause(path: Path) -> None:
    scn = scenario.load(path)
    result = played(path)
    got = [_key(i) for i in result.incidents]
    want = [_key(e) for e in scn.raw["expected_incidents"]]
    assert sorted(got, key=str) == sorted(want, key=str), "\n".join(i["summary"] for i in result.incidents)
    first_step = min(s.at for s in scn.steps)
    jitter = Settings.jitter_for(scn.poll_interval)
    for e in scn.raw["expected_incidents"]:
        inc = next(i for i in result.incidents if _key(i) == _key(e))
        assert (inc["resolved_at"] is not None) is e["resolved"], inc
        assert inc["started_at"] >= first_step - scn.poll_interval
        max_delay = e.get("max_delay", scn.poll_interval)
        assert inc["detected_at"] - inc["started_at"] <= max_delay + (0 if scn.traps else jitter), inc
        assert inc["evidence"], inc
        assert all({"at", "source", "before", "after"} <= set(ev) for ev in inc["evidence"])
        assert inc["summary"] and parse_incident_ref(inc["id"]), "the store's reference, SAK-nnnnnn"


@on_scenario(MOVED)
def test_the_moved_module_names_both_ports_and_its_serial() -> None:
    inc = next(i for i in played(MOVED).incidents if i["cause"] == "transceiver_moved")
    assert inc["serial"] and inc["serial"] in inc["summary"]
    assert "GigabitEthernet1/0/49" in inc["summary"] and "GigabitEthernet1/0/50" in inc["summary"]
    assert inc["link"] == {"a": "core-sw1:GigabitEthernet1/0/49", "b": "dist-sw2:GigabitEthernet1/0/25"}


@on_scenario(SILENT)
def test_a_silent_device_never_loses_its_modules() -> None:
    result = played(SILENT)
    assert not [c for c in result.changes if c["what"] == "transceiver_removed"]
    inc = next(i for i in result.incidents if i["cause"] == "device_unreachable")
    assert inc["confidence"] != "high" and inc["missing"]
