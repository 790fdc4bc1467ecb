"""The daemon with alerting: a lab site polled in real time from an inventory, a real SQLite store, a
restart in the middle of an open incident, and an SMTP server and a webhook that count the messages."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from monitor.alerts.config import load_alerting
from monitor.alerts.pipeline import Pipeline, build_pipeline
from monitor.daemon.monitor import Monitor, Settings, iso
from monitor.inventory import load_inventory
from monitor.lab import runner, scenario
from monitor.state.store import Store
from tests.alerts.conftest import Mailbox, Webhook, alerting_yaml
from tests.conftest import run_saksi
from tests.daemon.test_monitor import SCENARIO, _inventory

T0 = 1_000_000.0


def test_a_restart_in_the_middle_of_an_open_incident_sends_nothing_new(tmp_path: Path, smtp: Mailbox,
                                                                       webhook: Webhook) -> None:
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    cfg = load_alerting(alerting_yaml(tmp_path, smtp, webhook))  # resolve_hold: 120 s
    clock = {"t": T0}

    async def story() -> None:
        lab = await runner.start(scenario.load(SCENARIO), ssh=False)
        inv = load_inventory(_inventory(tmp_path, lab))
        scn, site = lab.scenario, lab.site

        def daemon(store: Store) -> tuple[Monitor, Pipeline]:
            pipeline = build_pipeline(cfg, store, fmt=iso)
            m = Monitor(inv, store, Settings(trap_port=None), clock=lambda: clock["t"], pipeline=pipeline)
            pipeline.track(i for w in m.witnesses.values() for i in w.state.incidents)  # as `saksi run` does
            return m, pipeline

        try:
            store = Store(db)
            m, p = daemon(store)
            await m.poll_all()
            scenario.apply(site, scn, next(s for s in scn.steps if s.do == "remove_transceiver"))
            site.settle(site.now + 1)
            clock["t"] += 60
            await m.poll_all()
            assert [n["transition"] for n in p.sent] == ["opened"]
            m.close()
            p.close()
            store.close()

            store = Store(db)  # the restart
            m, p = daemon(store)
            for _ in range(3):
                clock["t"] += 60
                await m.poll_all()
                p.tick(clock["t"])
            assert p.sent == [], "a restart sends nothing new"
            scenario.apply(site, scn, next(s for s in scn.steps if s.do == "insert_transceiver"))
            site.settle(site.now + 1)
            clock["t"] += 60
            await m.poll_all()
            p.tick(clock["t"])
            p.tick(clock["t"] + 120)
            assert [n["transition"] for n in p.sent] == ["resolved"]
            m.close()
            p.close()
            store.close()
        finally:
            lab.close()

    asyncio.run(story())
    mails = smtp.wait_for(2)
    assert [m["Subject"].split()[1] for m in mails] == ["OPENED", "RESOLVED"]
    assert all(m["To"] == "alice@example.net" for m in mails)
    assert "SAK-000001" in mails[0]["Subject"] and "https://saksi.example.net/incidents/SAK-000001" in \
        Mailbox.text(mails[0])
    assert len(webhook.wait_for(2)) == 2

    r = run_saksi("incident", "show", "SAK-000001", "--db", db)
    assert r.returncode == 0, r.stderr
    assert "alice (tier 1)" in r.stdout and "alerting decisions" in r.stdout
    assert "first_notification" in r.stdout and "resolution_of_notified_incident" in r.stdout
    shown = json.loads(run_saksi("incident", "show", "SAK-000001", "--db", db, "--json").stdout)
    reasons = [d["reason"] for d in shown["decisions"]]
    assert shown["owner"] == "alice" and reasons.count("first_notification") == 1
    assert "updated_notified_incident" in reasons, "the restarted daemon saw it, and said why it stayed quiet"


def test_saksi_run_pages_through_the_real_entry_point(tmp_path: Path, smtp: Mailbox, webhook: Webhook) -> None:
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    alerting = alerting_yaml(tmp_path, smtp, webhook)

    async def story() -> None:
        lab = await runner.start(scenario.load(SCENARIO), ssh=False)
        try:
            inv = _inventory(tmp_path, lab)
            args = ("run", "--once", "--trap-port", "0", "--inventory", str(inv), "--db", db,
                    "--alerting", str(alerting))
            first = await asyncio.to_thread(run_saksi, *args)
            assert first.returncode == 0, first.stderr
            scenario.apply(lab.site, lab.scenario, next(s for s in lab.scenario.steps
                                                         if s.do == "remove_transceiver"))
            lab.site.settle(lab.site.now + 1)
            second = await asyncio.to_thread(run_saksi, *args)
            assert second.returncode == 0, second.stderr
        finally:
            lab.close()

    asyncio.run(story())
    (mail,) = smtp.wait_for(1)
    assert mail["Subject"].startswith("[Saksi] OPENED SAK-000001 major: transceiver_removed at dist-sw2 GigabitEthernet1/0/25")
    assert "Owner:        alice (tier 1, team network)" in Mailbox.text(mail)
    assert [p["title"] for p in webhook.wait_for(1)] == [mail["Subject"]]
