"""Customer contacts: loaded strictly from the alerting file, told in customer-safe words through the same
pipeline (dedup, outbox, workers), only about their own site, and quiet inside maintenance windows.

Real SQLite, real apprise deliveries to webhooks on 127.0.0.1; incidents built by hand, time passed in.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.alerts.config import AlertingConfigError, load_alerting
from monitor.alerts.people import Desk
from monitor.alerts.pipeline import build_pipeline
from monitor.alerts.state import AlertState
from monitor.common.clock import in_zone, local
from monitor.reports import ReportBook
from monitor.state.store import Store
from tests.alerts.conftest import Mailbox, Webhook, alerting_yaml
from tests.alerts.test_pipeline import removed

INTERNAL = "internal: blame the cleaner who unplugged it"
PUBLIC = "The module is being replaced; back within the hour"


def contacts(customer: Webhook) -> str:
    return (f'sites:\n  hq:\n    customer_contacts: ["{customer.url("acme")}"]\n'
            f'  branch:\n    customer_contacts: ["{customer.url("globex")}"]\n')


def test_customer_contacts_are_opt_in_per_site(tmp_path: Path, smtp: Mailbox, webhook: Webhook,
                                               second_webhook: Webhook) -> None:
    cfg = load_alerting(alerting_yaml(tmp_path, smtp, webhook, extra=contacts(second_webhook)))
    assert [u.reveal() for u in cfg.contacts_of("hq")] == [second_webhook.url("acme")]
    assert cfg.contacts_of("elsewhere") == ()
    assert {"customer:hq", "customer:branch"} <= set(cfg.targets())


@pytest.mark.parametrize(("sites", "why"), [
    ('sites:\n  hq:\n    customer_contacts: []\n', "expected at least one apprise URL"),
    ('sites:\n  hq:\n    customer_contacts: ["not a url"]\n', "not a URL"),
    ('sites:\n  hq:\n    customer_contacts: ["nosuchscheme://x"]\n', "not a valid apprise URL"),
    ('sites:\n  hq: {}\n', "a site entry needs a calendar or customer_contacts"),
    ('sites:\n  hq:\n    customer_contact: ["json://127.0.0.1:1/x"]\n', "customer_contact"),
])
def test_customer_contacts_are_loaded_strictly(tmp_path: Path, smtp: Mailbox, webhook: Webhook, sites: str,
                                               why: str) -> None:
    with pytest.raises(AlertingConfigError, match=why) as err:
        load_alerting(alerting_yaml(tmp_path, smtp, webhook, extra=sites))
    assert "alerting.yaml:" in str(err.value), "file:line: key: reason"


def test_the_customer_hears_opened_the_note_for_them_and_resolved_and_nothing_else(
        tmp_path: Path, smtp: Mailbox, webhook: Webhook, second_webhook: Webhook) -> None:
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    p = build_pipeline(load_alerting(alerting_yaml(tmp_path, smtp, webhook, extra=contacts(second_webhook))),
                       Store(db))
    inc = removed()
    p.process([inc], 300.0)
    desk = Desk(Store(db))
    desk.note(inc.id, "alice", INTERNAL, 310.0)
    p.tick(320.0)
    desk.note(inc.id, "alice", PUBLIC, 330.0, public=True)
    p.tick(340.0)
    p.tick(350.0)  # told once
    inc.resolved_at, inc.resolution = 400.0, "module re-inserted"
    p.process([inc], 400.0)
    p.tick(600.0)  # resolve_hold: 120 s
    assert p.flush()
    assert [n["transition"] for n in p.sent] == ["opened", "public_note", "resolved"]
    told = second_webhook.wait_for(3)
    assert [t["path"] for t in told] == ["/acme"] * 3, "only hq's customer: never branch's"
    assert [t["title"] for t in told] == ["[Saksi] Problem under investigation: SAK-000001 at hq",
                                          "[Saksi] Update: SAK-000001 at hq", "[Saksi] Resolved: SAK-000001 at hq"]
    assert PUBLIC in told[1]["message"] and "module re-inserted" in told[2]["message"]
    everything = json.dumps(told)
    assert INTERNAL not in everything and "FNS0001ABCD" not in everything and "Evidence" not in everything
    assert "https://saksi.example.net/sites/hq" in told[0]["message"]
    reasons = [n["reason"] for n in AlertState(Store(db)).notified("SAK-000001")]
    assert reasons == ["first_notification", "note_for_customer:1", "resolution_of_notified_incident"]
    assert [d.target for d in AlertState(Store(db)).deliveries(status=("delivered",))
            if d.target.startswith("customer:")] == ["customer:hq"] * 3


def test_the_customer_is_not_told_during_a_maintenance_window(tmp_path: Path, smtp: Mailbox, webhook: Webhook,
                                                              second_webhook: Webhook) -> None:
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    p = build_pipeline(load_alerting(alerting_yaml(tmp_path, smtp, webhook, extra=contacts(second_webhook))),
                       Store(db))
    inc = removed()
    p.process([inc], 300.0)
    AlertState(Store(db)).add_window("hq", None, None, 320.0, 900.0, "CHG-7 fibre works", "alice", 310.0)
    Desk(Store(db)).note(inc.id, "alice", PUBLIC, 330.0, public=True)
    p.tick(340.0)
    p.tick(800.0)
    assert [n["transition"] for n in p.sent] == ["opened"], "a note for the customer waits for the window's end"
    p.tick(901.0)
    assert [n["transition"] for n in p.sent] == ["opened", "public_note"]
    assert p.flush()
    assert [t["title"].split(":")[0] for t in second_webhook.wait_for(2)] == [
        "[Saksi] Problem under investigation", "[Saksi] Update"]


def test_reports_on_planned_work_reach_the_noc_channel_and_the_customer_hears_nothing(
        tmp_path: Path, smtp: Mailbox, webhook: Webhook, second_webhook: Webhook) -> None:
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    store = Store(db)
    cfg = load_alerting(alerting_yaml(tmp_path, smtp, webhook, report_wait=60,
                                      extra=contacts(second_webhook)))
    p = build_pipeline(cfg, store)
    AlertState(store).add_window("hq", None, None, 0.0, 10_000.0, "CHG-9 core swap", "alice", 0.0)
    inc = store.upsert_incident(removed(ref=""))
    p.process([inc], 300.0)
    book = ReportBook(store)
    for n, who in enumerate(("ann", "bob")):
        book.add("hq", "acme", None, None, f"no network ({who})", who, "web", 310.0 + n, inc.id, "attached")
    p.tick(400.0)
    assert p.sent == [], "no page during planned work; the reports wait in case it pages"
    p.tick(310.0 + 4 * 60)  # BURST_CAP report_wait periods after the first report
    assert [n["transition"] for n in p.sent] == ["report"]
    assert p.sent[0]["targets"] == ["receiver:noc-hook"], "nobody owns it: the route's channel hears it"
    assert p.flush()
    (post,) = webhook.wait_for(1)
    assert post["title"] == f"[Saksi] REPORT {inc.id}: 2 customer reports at hq"
    assert "nobody owns" in post["message"] and "no network (bob)" in post["message"]
    p.tick(2000.0)
    assert len(p.sent) == 1, "told once"
    assert second_webhook.posts == [] and smtp.messages == []


def test_the_customer_reads_times_on_their_own_site_clock(tmp_path: Path, smtp: Mailbox, webhook: Webhook,
                                                          second_webhook: Webhook) -> None:
    """A customer in Helsinki reads 02:05 EET, not 00:05 UTC; the engineers' messages keep the daemon's format."""
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    zones = {"hq": "Europe/Helsinki"}
    p = build_pipeline(load_alerting(alerting_yaml(tmp_path, smtp, webhook, extra=contacts(second_webhook))),
                       Store(db), site_fmt=lambda site: in_zone(zones[site]))
    inc = removed()
    p.process([inc], 300.0)
    assert p.flush()
    told = second_webhook.wait_for(1)
    since = next(line for line in told[0]["message"].splitlines() if line.startswith("Since:"))
    assert since.endswith(local(inc.started_at, "Europe/Helsinki")[1]) and since.endswith(" EET"), since

