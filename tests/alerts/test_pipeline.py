"""The alert pipeline on a real SQLite store, delivering through apprise to real receivers on 127.0.0.1.

Incidents here are built by hand (the lab tests feed real ones); time is passed in, as the daemon and
the lab do. Every assertion is on what the SMTP server and the webhook received, or on the decisions
the pipeline recorded on the incident.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.config import load_alerting
from monitor.alerts.people import Desk
from monitor.alerts.pipeline import Pipeline, build_pipeline
from monitor.alerts.state import AlertState
from monitor.confighist.history import ConfigHistory
from monitor.state.store import Store
from monitor.witness.incidents import Incident
from tests.alerts.conftest import Mailbox, Webhook, alerting_yaml

GI49, GI25 = "GigabitEthernet1/0/49", "GigabitEthernet1/0/25"
CONFIG = """hostname core-sw1
!
interface GigabitEthernet1/0/49
 description BACKBONE to dist-sw2:Gi1/0/25
 switchport mode trunk
!
interface GigabitEthernet1/0/50
 switchport mode access
!
end
"""


def removed(t: float = 300.0, ref: str = "SAK-000001", **kw: Any) -> Incident:
    """What correlation makes of a backbone SFP pulled at core-sw1 Gi1/0/49."""
    fields: dict[str, Any] = {
        "key": f"hq/core-sw1:{GI49}|dist-sw2:{GI25}/transceiver_removed", "cause": "transceiver_removed",
        "device": "core-sw1", "port": GI49, "site": "hq", "customer": "acme",
        "link": {"a": f"core-sw1:{GI49}", "b": f"dist-sw2:{GI25}"}, "started_at": t, "detected_at": t, "updated_at": t,
        "summary": f"SFP S/N FNS0001ABCD (CISCO GLC-LX-SMD) was removed from core-sw1 Gi1/0/49 at t={t:g}s; "
                "link to dist-sw2 Gi1/0/25 affected",
        "evidence": [{"at": t, "source": "poll", "device": "core-sw1", "port": GI49, "what": "transceiver_removed",
                   "before": {"vendor": "CISCO", "model": "GLC-LX-SMD", "serial": "FNS0001ABCD"}, "after": None},
                  {"at": t, "source": "trap", "device": "dist-sw2", "port": GI25, "what": "port_down",
                   "before": "up", "after": "down"}],
        "affected": [f"core-sw1:{GI49}", f"dist-sw2:{GI25}"], "serial": "FNS0001ABCD", "id": ref}
    fields.update(kw)
    return Incident(**fields)


def dark(t: float, ref: str, device: str) -> Incident:
    return Incident(key=f"hq/device:{device}/device_unreachable", cause="device_unreachable", device=device,
                    port=None, site="hq", customer="acme", started_at=t, detected_at=t, updated_at=t,
                    summary=f"{device} stopped answering at t={t:g}s", severity="critical", id=ref,
                    affected=[f"device:{device}"])


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'saksi.db'}"


def pipeline(tmp_path: Path, db: str, smtp: Mailbox, hook: Webhook, history: Path | None = None,
             **timing: Any) -> Pipeline:
    store = Store(db)
    cfg = load_alerting(alerting_yaml(tmp_path, smtp, hook, **timing))
    return build_pipeline(cfg, store, history_root=history)


def text(m: Any) -> str:
    return Mailbox.text(m)


def test_one_page_with_cause_where_evidence_diff_owner_and_link(tmp_path: Path, db: str, smtp: Mailbox,
                                                                 webhook: Webhook) -> None:
    history = tmp_path / "history"
    with ConfigHistory("hq", history) as h:
        h.record("core-sw1", "cisco_ios", CONFIG, at=100.0, source="ssh:show running-config")
        h.record("core-sw1", "cisco_ios", CONFIG.replace(" switchport mode trunk", " switchport mode trunk\n shutdown"),
                 at=290.0, source="ssh:show running-config")
    p = pipeline(tmp_path, db, smtp, webhook, history)
    inc = removed()
    sent = p.process([inc], 300.0)
    assert p.flush()
    assert [n["transition"] for n in sent] == ["opened"]
    (mail,) = smtp.wait_for(1)
    assert mail["To"] == "alice@example.net"
    assert mail["Subject"] == "[Saksi] OPENED SAK-000001 major: transceiver_removed at core-sw1 GigabitEthernet1/0/49 (hq)"
    body = text(mail)
    assert body.startswith("SFP S/N FNS0001ABCD (CISCO GLC-LX-SMD) was removed from core-sw1 Gi1/0/49")
    assert "site hq (acme), device core-sw1, port GigabitEthernet1/0/49" in body
    assert "core-sw1 GigabitEthernet1/0/49 <-> dist-sw2 GigabitEthernet1/0/25" in body
    assert "Owner:        alice (tier 1, team network)" in body
    assert "t=300s  trap  dist-sw2 GigabitEthernet1/0/25  port_down  up -> down" in body
    assert "GigabitEthernet1/0/49: + shutdown" in body and "+ shutdown" in body.split("GigabitEthernet1/0/49: + shutdown")[1]
    assert "https://saksi.example.net/incidents/SAK-000001" in body
    assert "first_notification" in body
    (post,) = webhook.wait_for(1)
    assert post["title"] == mail["Subject"] and "GigabitEthernet1/0/49: + shutdown" in post["message"]
    assert inc.owner == "alice" and inc.tier == 1
    reasons = [d["reason"] for d in inc.decisions]
    assert reasons[:5] == ["not_inhibited", "not_silenced", "new_incident", "first_notification", "assigned:alice"]
    assert "delivered:person:alice" in reasons and "delivered:receiver:noc-hook" in reasons


def test_new_symptoms_repeated_traps_and_a_restart_send_nothing_new(tmp_path: Path, db: str, smtp: Mailbox,
                                                                     webhook: Webhook) -> None:
    p = pipeline(tmp_path, db, smtp, webhook)
    inc = removed()
    assert len(p.process([inc], 300.0)) == 1
    inc.add_evidence([{"at": 330.0, "source": "trap", "device": "core-sw1", "port": GI49, "what": "port_down",
                       "before": "up", "after": "down"}])
    assert p.process([inc], 330.0) == []  # a new symptom
    assert p.process([inc], 331.0) == []  # the same trap again
    p.close()
    # a restart: a new process, the same store, the incident as the store gives it back
    again = pipeline(tmp_path, db, smtp, webhook)
    stored = Incident.from_json(removed().to_json())
    again.track([stored])
    assert again.process([stored], 400.0) == [] and again.tick(460.0) == []
    again.close()
    assert len(smtp.messages) == 1 and len(webhook.posts) == 1
    assert "updated_notified_incident" in [d["reason"] for d in stored.decisions]


def test_two_collectors_racing_on_one_store_page_once_with_one_owner(tmp_path: Path, db: str, smtp: Mailbox,
                                                                      webhook: Webhook) -> None:
    a, b = pipeline(tmp_path, db, smtp, webhook), pipeline(tmp_path, db, smtp, webhook)
    incidents = [removed(ref=f"SAK-{n:06d}", key=f"k{n}", device=f"acc-sw{n}", link=None,
                         affected=[f"acc-sw{n}:{GI49}"]) for n in range(1, 7)]  # six places, six problems
    start = threading.Barrier(2)
    results: dict[str, list[dict[str, Any]]] = {}

    def run(name: str, p: Pipeline) -> None:
        mine = [Incident.from_json(i.to_json()) for i in incidents]  # each collector has its own copy
        start.wait()
        results[name] = p.process(mine, 300.0)

    threads = [threading.Thread(target=run, args=(n, p)) for n, p in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a.close()
    b.close()
    pages = results["a"] + results["b"]
    assert sorted(n["incident"] for n in pages) == [i.id for i in incidents], "each incident paged exactly once"
    state = AlertState(Store(db))
    owners = {i.id: state.get(i.id).owner for i in incidents}  # type: ignore[union-attr]
    assert set(owners.values()) == {"alice", "bob"}, owners
    assert [list(owners.values()).count(p) for p in ("alice", "bob")] == [3, 3], "round robin"
    for i in incidents:
        (page,) = [n for n in pages if n["incident"] == i.id]
        assert page["owner"] == owners[i.id]


def test_a_symptom_behind_an_open_incident_is_inhibited_and_shown_inside_it(tmp_path: Path, db: str,
                                                                             smtp: Mailbox, webhook: Webhook) -> None:
    p = pipeline(tmp_path, db, smtp, webhook)
    link = removed(affected=[f"core-sw1:{GI49}", f"dist-sw2:{GI25}", "device:acc-sw3"])
    assert len(p.process([link], 300.0)) == 1
    behind = dark(330.0, "SAK-000002", "acc-sw3")  # raised on its own before correlation folded it in
    assert p.process([behind], 330.0) == []
    assert behind.decisions[-1] == {"at": 330.0, "stage": "inhibit", "reason": "inhibited_by:SAK-000001",
                                    "detail": "device_behind"}
    assert {"at": 330.0, "stage": "inhibit", "reason": "explains:SAK-000002"} in link.decisions
    # the link comes back while acc-sw3 stays dark: now it is a problem of its own, and it pages
    link.resolved_at = 400.0
    assert p.process([link], 400.0) == []
    (page,) = p.tick(420.0)
    assert page["incident"] == "SAK-000002" and page["reasons"][0] == "not_inhibited"
    p.close()


def test_maintenance_records_and_shows_but_pages_nobody_until_it_ends(tmp_path: Path, db: str, smtp: Mailbox,
                                                                       webhook: Webhook) -> None:
    p = pipeline(tmp_path, db, smtp, webhook)
    w = AlertState(Store(db)).add_window("hq", "core-sw1", "Gi1/0/49", 0.0, 600.0, "CHG-1234 optics swap",
                                         "aino", 0.0)
    inc = removed()
    assert p.process([inc], 300.0) == [] and p.tick(360.0) == []
    assert inc.decisions == [{"at": 300.0, "stage": "silence", "reason": f"in_maintenance:{w.id}",
                              "detail": "port core-sw1 Gi1/0/49: CHG-1234 optics swap (by aino)"}]
    assert inc.owner is None
    (page,) = p.tick(600.0)  # the window is over and the link is still down: the work left it broken
    assert page["transition"] == "opened" and page["owner"] == "alice"
    p.close()
    assert len(smtp.messages) == 1


def test_other_ports_and_sites_are_not_in_the_window(tmp_path: Path, db: str, smtp: Mailbox,
                                                    webhook: Webhook) -> None:
    p = pipeline(tmp_path, db, smtp, webhook)
    state = AlertState(Store(db))
    state.add_window("hq", "core-sw1", "Gi1/0/50", 0.0, 600.0, "other port", "aino", 0.0)
    state.add_window("branch", None, None, 0.0, 600.0, "other site", "aino", 0.0)
    assert len(p.process([removed()], 300.0)) == 1
    p.close()


def test_holidays_hold_all_but_critical_incidents(tmp_path: Path, db: str, smtp: Mailbox,
                                                  webhook: Webhook) -> None:
    cal = "calendars:\n  fi: {timezone: Europe/Helsinki, dates: ['1970-01-01'], page: [critical]}\n" \
          "sites:\n  hq: {calendar: fi}\n"
    cfg = load_alerting(alerting_yaml(tmp_path, smtp, webhook, extra=cal))
    p = build_pipeline(cfg, Store(db))
    major = removed()
    assert p.process([major], 300.0) == []
    assert major.decisions[-1]["reason"] == "holiday:fi:1970-01-01"
    assert [n["incident"] for n in p.process([dark(310.0, "SAK-000002", "acc-sw3")], 310.0)] == ["SAK-000002"]
    (page,) = p.tick(86400.0)  # the next working day, still open
    assert page["incident"] == "SAK-000001"
    p.close()


def test_a_flapping_incident_is_one_page_with_a_count_and_one_resolution(tmp_path: Path, db: str,
                                                                         smtp: Mailbox, webhook: Webhook) -> None:
    p = pipeline(tmp_path, db, smtp, webhook)  # resolve_hold: 120
    inc = removed()
    sent = p.process([inc], 300.0)
    t = 300.0
    for flap in range(1, 10):
        inc.resolved_at = t + 30
        sent += p.process([inc], t + 30) + p.tick(t + 60)
        inc.resolved_at, inc.flaps = None, flap
        sent += p.process([inc], t + 60) + p.tick(t + 90)
        t += 60
    inc.resolved_at, inc.resolution = t + 30, "module re-inserted"
    sent += p.process([inc], t + 30) + p.tick(t + 60)
    assert [n["transition"] for n in sent] == ["opened"]
    sent += p.tick(t + 150)
    assert [n["transition"] for n in sent] == ["opened", "resolved"]
    assert "Flapped:      9 time(s)" in sent[1]["body"] and "module re-inserted" in sent[1]["body"]
    assert "flap_counted:9" in [d["reason"] for d in inc.decisions]
    p.close()


def test_an_unacknowledged_incident_escalates_on_time_to_one_new_owner(tmp_path: Path, db: str, smtp: Mailbox,
                                                                       webhook: Webhook) -> None:
    p = pipeline(tmp_path, db, smtp, webhook, escalate_after=300, repeat_interval=200)
    inc = removed()
    p.process([inc], 300.0)
    assert p.tick(499.0) == []
    (reminder,) = p.tick(500.0)
    assert reminder["transition"] == "reminder" and reminder["owner"] == "alice"
    assert p.tick(599.0) == []
    (esc,) = p.tick(600.0)
    assert esc["transition"] == "escalated" and esc["owner"] == "carol" and esc["tier"] == 2
    assert "escalation_to_tier:2" in esc["reasons"] and "Escalated:    to tier 2 from alice" in esc["body"]
    (later,) = p.tick(10_000.0)  # no tier after the last: carol is reminded, once per interval
    assert (later["transition"], later["owner"]) == ("reminder", "carol") and p.tick(10_001.0) == []
    p.close()
    smtp.wait_for(4)
    assert [m["Subject"].split()[1] for m in smtp.to("alice")] == ["OPENED", "REMINDER"]
    assert [m["Subject"].split()[1] for m in smtp.to("carol")] == ["ESCALATED", "REMINDER"]
    assert inc.owner == "carol"


class Meanwhile:
    """A stage that lets something else happen at one exact point of the chain, once (a race, on purpose)."""

    def __init__(self, name: str, when: str, act: Any) -> None:
        self.name, self.when, self.act, self.done = name, when, act, False

    def decide(self, alert: Any, now: float) -> None:
        if alert.transition == self.when and not self.done:
            self.done = True
            self.act(now)


def test_a_second_collector_between_the_claim_and_the_assignment_does_not_escalate_again(
        tmp_path: Path, db: str, smtp: Mailbox, webhook: Webhook) -> None:
    a, b = (pipeline(tmp_path, db, smtp, webhook, escalate_after=300) for _ in range(2))
    a.process([removed()], 300.0)
    b.track([removed()])
    seen: list[list[dict[str, Any]]] = []
    # a has logged the escalation and not yet chosen the new owner when b looks at the same incident
    a.stages.insert(4, Meanwhile("b_ticks", "escalated", lambda now: seen.append(b.tick(now))))
    (esc,) = a.tick(600.0)
    assert seen == [[]], "b must see the escalation a already claimed"
    assert (esc["transition"], esc["owner"], esc["tier"]) == ("escalated", "carol", 2)
    assert b.tick(650.0) == [] and a.tick(650.0) == []
    a.close()
    b.close()
    log = AlertState(Store(db)).notified("SAK-000001")
    assert [(n["transition"], n["generation"]) for n in log] == [("opened", 0), ("escalated", 1)]
    smtp.wait_for(2)
    assert [m["Subject"].split()[1] for m in smtp.to("carol")] == ["ESCALATED"]


def test_an_ack_that_lands_while_the_escalation_is_being_decided_wins(tmp_path: Path, db: str, smtp: Mailbox,
                                                                       webhook: Webhook) -> None:
    p = pipeline(tmp_path, db, smtp, webhook, escalate_after=300)
    inc = removed()
    p.process([inc], 300.0)
    desk = Desk(Store(db))
    # alice acks after the pipeline read the alert state and before it claims the escalation
    p.stages.insert(3, Meanwhile("alice_acks", "escalated", lambda now: desk.ack("SAK-000001", "alice", now)))
    assert p.tick(600.0) == []
    assert "changed_meanwhile" in [d["reason"] for d in p.state.get("SAK-000001").decisions]  # type: ignore[union-attr]
    assert p.tick(2000.0) == [], "acknowledged: no escalation"
    assert inc.acked_by == "alice" and inc.owner == "alice"
    p.close()
    assert [n["transition"] for n in AlertState(Store(db)).notified("SAK-000001")] == ["opened"]


def test_an_acknowledged_incident_does_not_escalate(tmp_path: Path, db: str, smtp: Mailbox,
                                                   webhook: Webhook) -> None:
    p = pipeline(tmp_path, db, smtp, webhook, escalate_after=300)
    inc = removed()
    p.process([inc], 300.0)
    Desk(Store(db)).ack("SAK-000001", "alice", 320.0, note="on my way with a spare SFP")
    assert p.tick(2000.0) == []
    assert inc.acked_by == "alice" and inc.notes[0]["text"] == "on my way with a spare SFP"
    p.close()


def test_people_escalate_and_resolve_and_the_daemon_tells_everyone_once(tmp_path: Path, db: str, smtp: Mailbox,
                                                                        webhook: Webhook) -> None:
    p = pipeline(tmp_path, db, smtp, webhook)
    inc = removed()
    p.process([inc], 300.0)
    cfg = load_alerting(tmp_path / "alerting.yaml")
    desk = Desk(Store(db), cfg)
    desk.escalate("SAK-000001", "alice", 350.0)
    (esc,) = p.tick(360.0)
    assert esc["transition"] == "escalated" and esc["owner"] == "carol"
    assert p.tick(420.0) == []
    desk.note("SAK-000001", "carol", "fibre cleaned, SFP re-seated", 430.0)
    desk.resolve("SAK-000001", "carol", 440.0, "re-seated the SFP")
    (res,) = p.tick(450.0)
    assert res["transition"] == "resolved" and not inc.open and inc.resolution == "resolved by carol: re-seated the SFP"
    assert "fibre cleaned, SFP re-seated" in res["body"] and "resolved_by_person" in res["reasons"]
    assert p.tick(2000.0) == []
    p.close()


def test_a_failing_receiver_is_retried_with_backoff_and_the_failure_is_visible(
        tmp_path: Path, db: str, smtp: Mailbox, webhook: Webhook) -> None:
    webhook.fail_first = 1
    p = pipeline(tmp_path, db, smtp, webhook)  # delivery: backoff 60, attempts 3
    inc = removed()
    p.process([inc], 300.0)
    assert p.flush()
    assert p.tick(310.0) == []
    failed = [d for d in inc.decisions if d["reason"] == "delivery_failed:receiver:noc-hook"]
    assert failed and failed[0]["detail"].startswith("attempt 1:")
    (row,) = AlertState(Store(db)).deliveries(status=("failed",))
    assert row.next_at == 360.0 and row.attempts == 1
    p.tick(359.0)
    assert p.flush() and webhook.posts == []
    p.tick(360.0)
    assert p.flush()
    assert len(webhook.wait_for(1)) == 1 and len(smtp.messages) == 1
    p.tick(361.0)
    assert "delivered:receiver:noc-hook" in [d["reason"] for d in inc.decisions]
    p.close()


def test_a_receiver_that_hangs_does_not_hold_up_the_others(tmp_path: Path, db: str, smtp: Mailbox,
                                                          webhook: Webhook) -> None:
    webhook.hang = threading.Event()  # the webhook accepts and never answers until released
    p = pipeline(tmp_path, db, smtp, webhook)
    sent = p.process([removed()], 300.0) + p.process([dark(310.0, "SAK-000002", "acc-sw3")], 310.0)
    assert len(sent) == 2, "the pipeline itself never waits for a receiver"
    smtp.wait_for(2)
    assert sorted(m["To"] for m in smtp.messages) == ["alice@example.net", "bob@example.net"]
    webhook.wait_seen(1)
    assert webhook.posts == [], "the webhook is still holding its first message"
    webhook.hang.set()
    assert p.flush()
    assert len(webhook.wait_for(2)) == 2
    p.close()


def test_a_message_that_dies_with_its_process_every_time_is_given_up_not_sent_forever(
        tmp_path: Path, db: str, smtp: Mailbox, webhook: Webhook) -> None:
    state = AlertState(Store(db))
    (seq,) = state.enqueue("SAK-000001", "opened", ["receiver:noc-hook"], "t", "b", 300.0)  # left 'sending'
    for restart in range(1, 20):
        p = pipeline(tmp_path, db, smtp, webhook)  # a restart marks what was in flight as interrupted
        p.tick(400.0 + restart)  # its first tick sends it again at once, or gives it up
        if state.delivery(seq).status == "gave_up":  # type: ignore[union-attr]
            break
        assert state.delivery(seq).status == "sending"  # type: ignore[union-attr]
        p.workers.close()  # and the process dies before the answer is recorded
    limit = load_alerting(tmp_path / "alerting.yaml").delivery.attempts
    assert restart == limit and state.delivery(seq).attempts == limit  # type: ignore[union-attr]
    assert state.delivery(seq).error == "interrupted by a restart"  # type: ignore[union-attr]
    p.close()


def test_a_restart_retries_only_its_own_deliveries_and_the_leader_sweeps_a_dead_members(
        tmp_path: Path, db: str) -> None:
    store = Store(db)
    a, b = AlertState(store, "collector-a"), AlertState(store, "collector-b")
    (mine,) = a.enqueue("SAK-000001", "opened", ["receiver:noc"], "t", "b", 300.0)
    (theirs,) = b.enqueue("SAK-000002", "opened", ["receiver:noc"], "t", "b", 300.0)
    assert AlertState(store, "collector-a").interrupted() == 1  # collector-a restarted
    assert (a.delivery(mine).status, a.delivery(theirs).status) == ("failed", "sending")  # type: ignore[union-attr]
    assert a.orphaned(["collector-a", "collector-b"]) == 0, "b is alive: its delivery may be answering now"
    assert a.orphaned(["collector-a"]) == 1
    d = a.delivery(theirs)
    assert d is not None and (d.status, d.attempts, d.error) == ("failed", 1, "interrupted: its member stopped")


def test_an_outbox_from_before_members_gets_its_sender_column(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE alert_outbox (seq INTEGER PRIMARY KEY, ref VARCHAR NOT NULL, transition VARCHAR "
                    "NOT NULL, target VARCHAR NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, status VARCHAR NOT "
                    "NULL, attempts INTEGER NOT NULL, next_at FLOAT, error TEXT NOT NULL, created_at FLOAT NOT NULL)")
        con.execute("INSERT INTO alert_outbox VALUES (1, 'SAK-000001', 'opened', 'receiver:noc', 't', 'b', "
                    "'sending', 0, NULL, '', 300.0)")
    state = AlertState(Store(f"sqlite:///{path}"))
    assert state.interrupted() == 1, "an old in-flight row belongs to the single process"
    state.enqueue("SAK-000001", "resolved", ["receiver:noc"], "t", "b", 400.0)
    assert [d.status for d in state.deliveries()] == ["failed", "sending"]


def test_a_pipeline_that_never_ticks_still_forgets_what_is_settled(tmp_path: Path, db: str, smtp: Mailbox,
                                                                    webhook: Webhook) -> None:
    """A cluster member that does not lead only processes its own incidents: they must not pile up."""
    p = pipeline(tmp_path, db, smtp, webhook)
    inc = removed()
    inc.resolved_at, inc.resolution = 299.0, "module re-inserted"  # over before it was ever paged
    p.process([inc], 300.0)
    assert p.tracked == {} and p.sent == []
    p.close()
