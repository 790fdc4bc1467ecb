"""Alerting on lab scenarios, through the daemon users run: real polls of simulated switches on a simulated
clock, the daemon's correlation, store and alert pipeline (its own tick job), and real receivers on
127.0.0.1 that count what arrived. People act through the same store the daemon writes (`people`)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.people import Desk
from monitor.alerts.state import AlertState
from monitor.daemon.monitor import Settings
from monitor.lab import runner, scenario
from monitor.state.store import Store
from tests.alerts.conftest import Mailbox, Webhook, alerting_yaml

SCENARIOS = Path(__file__).parent.parent / "scenarios"
NOC = "receiver:noc-hook"


def lab_has_inband_management() -> bool:
    """The lab models devices reached through the network (site.management: inband)."""
    source = inspect.getsource(scenario)
    return '"management"' in source or "'management'" in source


def play(name: str, alerting: Path, people: Callable[[Store, float], None] | None = None) -> runner.RunResult:
    return asyncio.run(runner.run(scenario.load(SCENARIOS / f"{name}.yaml"), alerting=alerting, people=people))


def to_noc(result: runner.RunResult) -> list[dict[str, Any]]:
    return [n for n in result.notifications if n["receiver"] == NOC]


def one_page_for_the_backbone(smtp: Mailbox, hook: Webhook, result: runner.RunResult) -> None:
    (page,) = to_noc(result)
    assert (page["transition"], page["cause"], page["device"]) == ("opened", "transceiver_removed", "core-sw1")
    (post,) = hook.wait_for(1)
    assert "Dark behind:  acc-sw3, acc-sw4, dist-sw2" in post["message"]
    (mail,) = smtp.wait_for(1)
    assert mail["To"] == "alice@example.net"
    assert "transceiver_removed at core-sw1 GigabitEthernet1/0/49" in mail["Subject"]  # the canonical port name
    assert [(i["cause"], i["owner"]) for i in result.incidents] == [("transceiver_removed", "alice")]


# The two backbone plays are the longest here: each in an xdist group of its own, so they run beside the rest.
@pytest.mark.xdist_group("alerts-lab:backbone-dark")
@pytest.mark.skipif(not lab_has_inband_management(),
                    reason="the lab does not model in-band management yet (site.management: inband, monitor_at)")
def test_a_backbone_sfp_pull_that_darkens_three_switches_is_one_page(tmp_path: Path, smtp: Mailbox,
                                                                     webhook: Webhook) -> None:
    one_page_for_the_backbone(smtp, webhook, play("alert-backbone-dark", alerting_yaml(tmp_path, smtp, webhook)))


@pytest.mark.xdist_group("alerts-lab:backbone-storm")
def test_a_backbone_pull_with_the_switches_behind_it_silent_is_one_page(tmp_path: Path, smtp: Mailbox,
                                                                        webhook: Webhook) -> None:
    one_page_for_the_backbone(smtp, webhook, play("alert-backbone-storm", alerting_yaml(tmp_path, smtp, webhook)))


def test_a_port_bouncing_ten_times_is_one_page_with_a_count(tmp_path: Path, smtp: Mailbox,
                                                            webhook: Webhook) -> None:
    result = play("alert-port-flapping", alerting_yaml(tmp_path, smtp, webhook))  # resolve_hold: 120 s
    pages = to_noc(result)
    assert [n["transition"] for n in pages] == ["opened", "resolved"]
    last_plug = max(s.at for s in scenario.load(SCENARIOS / "alert-port-flapping.yaml").steps)
    assert pages[1]["at"] >= last_plug + 120, "resolved only after the hold-down"
    (inc,) = result.incidents
    assert inc["flaps"] == 9 and "flap_counted:9" in [d["reason"] for d in inc["decisions"]]
    posts = webhook.wait_for(2)
    assert "Flapped:      9 time(s)" in posts[1]["message"]
    assert [m["Subject"].split()[1] for m in smtp.wait_for(2)] == ["OPENED", "RESOLVED"]


def test_an_incident_during_maintenance_pages_nobody(tmp_path: Path, smtp: Mailbox, webhook: Webhook) -> None:
    windows = []

    def planned(store: Store, t: float) -> None:
        if not windows:  # at the first moment of the scenario, before anything broke
            windows.append(AlertState(store).add_window("alert-unacknowledged", "dist-sw2", None, 0.0, 5000.0,
                                                        "CHG-42 replace optics", "aino", t))

    result = play("alert-unacknowledged", alerting_yaml(tmp_path, smtp, webhook), planned)
    assert result.notifications == [] and smtp.messages == [] and webhook.posts == []
    (inc,) = result.incidents
    assert inc["decisions"][0]["reason"] == f"in_maintenance:{windows[0].id}" and inc["owner"] is None
    assert "CHG-42 replace optics" in inc["decisions"][0]["detail"]


def test_an_unacknowledged_incident_escalates_on_time_once(tmp_path: Path, smtp: Mailbox, webhook: Webhook) -> None:
    result = play("alert-unacknowledged", alerting_yaml(tmp_path, smtp, webhook, escalate_after=300))
    pages = to_noc(result)
    assert [(n["transition"], n["owner"]) for n in pages] == [("opened", "alice"), ("escalated", "carol")]
    waited = pages[1]["at"] - pages[0]["at"]
    assert 300 <= waited <= 300 + Settings.tick_s, "escalated at the first tick after escalate_after"
    smtp.wait_for(2)
    assert [m["Subject"].split()[1] for m in smtp.to("alice")] == ["OPENED"]
    assert [m["Subject"].split()[1] for m in smtp.to("carol")] == ["ESCALATED"]
    assert len(webhook.wait_for(2)) == 2
    (inc,) = result.incidents
    assert (inc["owner"], inc["tier"]) == ("carol", 2)


def test_an_acknowledged_incident_stays_with_its_owner(tmp_path: Path, smtp: Mailbox, webhook: Webhook) -> None:
    acked: list[float] = []

    def alice_acks(store: Store, t: float) -> None:
        if t >= 180.0 and not acked and store.incidents(open_only=True):
            ref = store.incidents(open_only=True)[0].id
            Desk(store).ack(ref, "alice", t, note="looking at it")
            acked.append(t)

    result = play("alert-unacknowledged", alerting_yaml(tmp_path, smtp, webhook, escalate_after=300), alice_acks)
    assert [n["transition"] for n in to_noc(result)] == ["opened"]
    (inc,) = result.incidents
    assert (inc["owner"], inc["acked_by"], inc["acked_at"]) == ("alice", "alice", acked[0])
    assert [(n["author"], n["text"]) for n in inc["notes"]] == [("alice", "looking at it")]
