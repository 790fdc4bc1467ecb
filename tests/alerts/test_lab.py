"""Alerting on lab scenarios: real polls of simulated switches on a simulated clock, real incidents from
correlation, the real pipeline, and real receivers on 127.0.0.1 that count what arrived."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.config import load_alerting
from monitor.alerts.people import Desk
from monitor.alerts.pipeline import Pipeline, build_pipeline
from monitor.alerts.state import AlertState
from monitor.witness.incidents import Incident
from monitor.lab import runner, scenario
from monitor.state.store import Store
from tests.alerts.conftest import Mailbox, Webhook, alerting_yaml

SCENARIOS = Path(__file__).parent.parent / "scenarios"


def lab_has_inband_management() -> bool:
    """The lab models devices reached through the network (site.management: inband)."""
    source = inspect.getsource(scenario)
    return '"management"' in source or "'management'" in source


def make(tmp_path: Path, smtp: Mailbox, hook: Webhook, db: str = "sqlite://", **timing: Any) -> Pipeline:
    return build_pipeline(load_alerting(alerting_yaml(tmp_path, smtp, hook, **timing)), Store(db))


def play(name: str, sink: Any, at_round: Callable[[float], None] | None = None) -> runner.RunResult:
    """Run a scenario with the pipeline; the clock ticks it once per poll round, as the daemon's timer does."""
    def tick(_snaps: object, t: float) -> None:
        if at_round is not None:
            at_round(t)
        sink.tick(t)

    return asyncio.run(runner.run(scenario.load(SCENARIOS / f"{name}.yaml"), pipeline=sink, on_round=tick))


def one_page_for_the_backbone(p: Pipeline, smtp: Mailbox, hook: Webhook, result: runner.RunResult) -> None:
    assert p.flush()
    (page,) = p.sent
    assert (page["transition"], page["cause"], page["device"]) == ("opened", "transceiver_removed", "core-sw1")
    assert "Dark behind:  acc-sw3, acc-sw4, dist-sw2" in page["body"]
    (mail,) = smtp.wait_for(1)
    assert mail["To"] == "alice@example.net" and "transceiver_removed at core-sw1 Gi1/0/49" in mail["Subject"]
    assert len(hook.wait_for(1)) == 1
    assert [(i["cause"], i["owner"]) for i in result.incidents] == [("transceiver_removed", "alice")]


@pytest.mark.skipif(not lab_has_inband_management(),
                    reason="the lab does not model in-band management yet (site.management: inband, monitor_at)")
def test_a_backbone_sfp_pull_that_darkens_three_switches_is_one_page(tmp_path: Path, smtp: Mailbox,
                                                                     webhook: Webhook) -> None:
    p = make(tmp_path, smtp, webhook)
    one_page_for_the_backbone(p, smtp, webhook, play("alert-backbone-dark", p))
    p.close()


def test_a_backbone_pull_with_the_switches_behind_it_silent_is_one_page(tmp_path: Path, smtp: Mailbox,
                                                                        webhook: Webhook) -> None:
    p = make(tmp_path, smtp, webhook)
    one_page_for_the_backbone(p, smtp, webhook, play("alert-backbone-storm", p))
    p.close()


def test_a_port_bouncing_ten_times_is_one_page_with_a_count(tmp_path: Path, smtp: Mailbox,
                                                            webhook: Webhook) -> None:
    p = make(tmp_path, smtp, webhook)  # resolve_hold: 120 s
    result = play("alert-port-flapping", p)
    assert p.flush()
    assert [(n["transition"], n["at"]) for n in p.sent] == [("opened", 180.0), ("resolved", 1440.0)]
    (inc,) = result.incidents
    assert inc["flaps"] == 9 and "flap_counted:9" in [d["reason"] for d in inc["decisions"]]
    assert "Flapped:      9 time(s)" in p.sent[1]["body"]
    assert [m["Subject"].split()[1] for m in smtp.wait_for(2)] == ["OPENED", "RESOLVED"]
    p.close()


def test_an_incident_during_maintenance_pages_nobody(tmp_path: Path, smtp: Mailbox, webhook: Webhook) -> None:
    p = make(tmp_path, smtp, webhook)
    w = AlertState(p.state.store).add_window("alert-unacknowledged", "dist-sw2", None, 0.0, 5000.0,
                                             "CHG-42 replace optics", "aino", 0.0)
    result = play("alert-unacknowledged", p)
    assert p.flush()
    assert p.sent == [] and smtp.messages == [] and webhook.posts == []
    (inc,) = result.incidents
    assert inc["decisions"][0]["reason"] == f"in_maintenance:{w.id}" and inc["owner"] is None
    assert "CHG-42 replace optics" in inc["decisions"][0]["detail"]
    p.close()


class TwoCollectors:
    """Two daemons on one store seeing the same incidents at the same moment, each with its own copy."""

    def __init__(self, a: Pipeline, b: Pipeline) -> None:
        self.pipelines = (a, b)

    def _both(self, call: Callable[[Pipeline], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        with ThreadPoolExecutor(2) as pool:
            return [n for out in pool.map(call, self.pipelines) for n in out]

    def process(self, incidents: list[Incident], now: float) -> list[dict[str, Any]]:
        return self._both(lambda p: p.process([Incident.from_json(i.to_json()) for i in incidents], now))

    def tick(self, now: float) -> list[dict[str, Any]]:
        return self._both(lambda p: p.tick(now))


def test_an_unacknowledged_incident_escalates_on_time_once_even_with_two_collectors(
        tmp_path: Path, smtp: Mailbox, webhook: Webhook) -> None:
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    a, b = (make(tmp_path, smtp, webhook, db, escalate_after=300) for _ in range(2))
    play("alert-unacknowledged", TwoCollectors(a, b))
    a.flush()
    b.flush()
    sent = sorted(a.sent + b.sent, key=lambda n: n["at"])
    assert [(n["transition"], n["at"], n["owner"]) for n in sent] == [("opened", 120.0, "alice"),
                                                                       ("escalated", 420.0, "carol")]
    smtp.wait_for(2)
    assert [m["Subject"].split()[1] for m in smtp.to("alice")] == ["OPENED"]
    assert [m["Subject"].split()[1] for m in smtp.to("carol")] == ["ESCALATED"]
    assert len(webhook.wait_for(2)) == 2
    row = AlertState(Store(db)).get("INC-1")
    assert row is not None and row.owner == "carol" and row.tier == 2
    a.close()
    b.close()


def test_an_acknowledged_incident_stays_with_its_owner(tmp_path: Path, smtp: Mailbox, webhook: Webhook) -> None:
    p = make(tmp_path, smtp, webhook, escalate_after=300)
    desk = Desk(p.state.store)

    def alice_acks(t: float) -> None:
        if t == 180.0:
            desk.ack("INC-1", "alice", t, note="looking at it")

    result = play("alert-unacknowledged", p, alice_acks)
    assert [n["transition"] for n in p.sent] == ["opened"]
    (inc,) = result.incidents
    assert (inc["owner"], inc["acked_by"], inc["acked_at"]) == ("alice", "alice", 180.0)
    assert inc["notes"] == [{"at": 180.0, "author": "alice", "text": "looking at it"}]
    p.close()
