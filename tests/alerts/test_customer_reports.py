"""The customer's side through the daemon's own cycle: a lab site polled by `saksi run` itself (wall clock),
and by the daemon's Monitor with its pipeline on a stepped clock; real SQLite, an SMTP server for the
engineers and a webhook for the customer.

A pulled backbone SFP and three customer reports (one from `saksi report`, the NOC's phone line) make
one incident, one owner, three reports in its timeline and one message to the owner; the customer's
contact hears "opened", the note an engineer marked for them (never the internal one), and "resolved".
A report on a healthy path opens a customer_report incident whose triage says so.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from monitor.alerts.config import load_alerting
from monitor.alerts.people import Desk
from monitor.alerts.pipeline import Pipeline, build_pipeline
from monitor.daemon.monitor import Monitor, Settings, iso
from monitor.inventory import load_inventory
from monitor.lab import runner, scenario
from monitor.reports import ReportBook, receive
from monitor.state.store import Store
from tests.alerts.conftest import Mailbox, Webhook, alerting_yaml
from tests.conftest import run_saksi

SCENARIO = Path(__file__).parent.parent / "scenarios" / "customer-reports-backbone.yaml"
INTERNAL = "internal: the patch panel of the other tenant is unlabelled"
PUBLIC = "A technician is replacing the fibre module; service back within the hour"


def _setup(tmp: Path, lab: runner.Lab, smtp: Mailbox, noc: Webhook, customer: Webhook) -> tuple[Path, Path]:
    inv = tmp / "site.yaml"
    inv.write_text(lab.inventory_yaml(site="hq", customer="acme", timeout=0.5, retries=1))
    contacts = f'sites:\n  hq:\n    customer_contacts: ["{customer.url("acme-it")}"]\n'
    return inv, alerting_yaml(tmp, smtp, noc, report_wait=30, extra=contacts)


def _step(lab: runner.Lab, do: str) -> None:
    scenario.apply(lab.site, lab.scenario, next(s for s in lab.scenario.steps if s.do == do))
    lab.site.settle(lab.site.now + 1)


def _daemon(store: Store, inv_path: Path, alerting: Path, clock: dict[str, float]) -> tuple[Monitor, Pipeline]:
    inv = load_inventory(inv_path)
    pipeline = build_pipeline(load_alerting(alerting), store, fmt=iso)
    m = Monitor(inv, store, Settings(trap_port=None), clock=lambda: clock["t"], pipeline=pipeline)
    pipeline.track(i for w in m.witnesses.values() for i in w.state.incidents)  # as `saksi run` does
    return m, pipeline


def test_three_reports_of_a_pulled_backbone_sfp_make_one_incident_and_tell_the_customer(
        tmp_path: Path, smtp: Mailbox, webhook: Webhook, second_webhook: Webhook) -> None:
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    calls: list[dict[str, Any]] = yaml.safe_load(SCENARIO.read_text())["customer_reports"]
    clock = {"t": float(int(time.time()))}
    replies: list[Any] = []

    async def story() -> None:
        lab = await runner.start(scenario.load(SCENARIO), ssh=False)
        inv_path, alerting = _setup(tmp_path, lab, smtp, webhook, second_webhook)
        inv = load_inventory(inv_path)
        store = Store(db)
        m, p = _daemon(store, inv_path, alerting, clock)
        try:
            await m.poll_all()
            _step(lab, "remove_transceiver")
            clock["t"] += 60
            await m.poll_all()
            assert [n["transition"] for n in p.sent] == ["opened"]
            for call in calls:  # the second one is phoned in: the NOC records it with `saksi report`
                if call.get("device") == "dist-sw2":
                    args = ["report", "--site", "hq", "--device", call["device"], "--by", call["by"], "--inventory",
                            str(inv_path), "--db", db, "--json", call["text"]]
                    r = await asyncio.to_thread(run_saksi, *args)
                    assert r.returncode == 0, r.stderr
                    replies.append(json.loads(r.stdout))
                else:
                    reply = receive(store, inv, "hq", call.get("device"), call.get("port"), call["text"],
                                    call["by"], "web", clock["t"], iso)
                    replies.append(reply.to_json(iso))
            p.tick(clock["t"] + 5)
            assert [n["transition"] for n in p.sent] == ["opened"], "a burst of reports waits report_wait"
            p.tick(clock["t"] + 40)
            assert [n["transition"] for n in p.sent] == ["opened", "report"]
            desk = Desk(store)
            desk.note("SAK-000001", "alice", INTERNAL, clock["t"] + 45)
            desk.note("SAK-000001", "alice", PUBLIC, clock["t"] + 50, public=True)
            p.tick(clock["t"] + 60)
            p.tick(clock["t"] + 70)
            assert [n["transition"] for n in p.sent] == ["opened", "report", "public_note"]
            _step(lab, "insert_transceiver")
            clock["t"] += 120
            await m.poll_all()
            p.tick(clock["t"] + 130)  # resolve_hold: 120 s
            assert [n["transition"] for n in p.sent] == ["opened", "report", "public_note", "resolved"]
            assert p.flush(30)
        finally:
            m.close()
            p.close()
            store.close()
            lab.close()

    asyncio.run(story())

    assert [(r["incident"], r["attached"], r["owner"]) for r in replies] == [("SAK-000001", True, "alice")] * 3
    assert all(r["answer"].startswith("Already being handled by alice since ") for r in replies)
    with Store(db) as store:
        assert [(i.id, i.cause, i.owner) for i in store.incidents()] == [
            ("SAK-000001", "transceiver_removed", "alice")], "one incident, one owner"
        assert [r.by for r in ReportBook(store).for_incident("SAK-000001")] == ["Ann", "Bob", "Cid"]
    listed = run_saksi("reports", "--incident", "SAK-000001", "--db", db)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[3] for line in listed.stdout.splitlines()] == ["SAK-000001"] * 3
    shown = json.loads(run_saksi("incident", "show", "SAK-000001", "--db", db, "--json").stdout)
    assert [r["by"] for r in shown["reports"]] == ["Ann", "Bob", "Cid"], "the incident's timeline holds them"
    text = run_saksi("incident", "show", "SAK-000001", "--db", db).stdout
    assert "customer reports" in text and "(for the customer)" in text

    mails = smtp.wait_for(3)
    assert [m["Subject"].split()[1] for m in smtp.to("alice@example.net")] == ["OPENED", "REPORT", "RESOLVED"]
    report = next(m for m in mails if " REPORT " in m["Subject"])
    assert report["Subject"] == "[Saksi] REPORT SAK-000001: 3 customer reports at hq"
    body = Mailbox.text(report)
    assert all(c["text"] in body for c in calls), "one message carries the whole burst"

    told = second_webhook.wait_for(3)
    assert [t["path"] for t in told] == ["/acme-it"] * 3
    assert [t["title"].split(":")[0] for t in told] == [
        "[Saksi] Problem under investigation", "[Saksi] Update", "[Saksi] Resolved"]
    assert PUBLIC in told[1]["message"] and "module re-inserted" in told[2]["message"]
    everything = json.dumps(told)
    assert INTERNAL not in everything and "Evidence" not in everything, "nothing internal reaches the customer"
    assert len(webhook.wait_for(2)) == 2, "the NOC channel: opened and resolved, not the customer's news"


def test_a_report_on_a_healthy_path_opens_a_customer_report_incident_with_its_triage(
        tmp_path: Path, smtp: Mailbox, webhook: Webhook, second_webhook: Webhook) -> None:
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    clock = {"t": float(int(time.time()))}

    async def story() -> None:
        lab = await runner.start(scenario.load(SCENARIO), ssh=False)
        inv_path, alerting = _setup(tmp_path, lab, smtp, webhook, second_webhook)
        store = Store(db)
        m, p = _daemon(store, inv_path, alerting, clock)
        try:
            await m.poll_all()
            clock["t"] += 60
            await m.poll_all()
            assert p.sent == [], "a healthy site: nothing to say"
            args = ["report", "--site", "hq", "--device", "dist-sw2", "--port", "Gi1/0/25", "--by", "Dee",
                    "--inventory", str(inv_path), "--db", db, "Video calls keep freezing"]
            r = await asyncio.to_thread(run_saksi, *args)
            assert r.returncode == 0, r.stderr
            assert "your report opened SAK-000001" in r.stdout
            assert "Verdict: The network path looks healthy since" in r.stdout
            assert "likely not a network problem" in r.stdout
            p.tick(time.time())  # the daemon's clock finds the incident the CLI opened
            assert [(n["transition"], n["cause"], n["owner"]) for n in p.sent] == [
                ("opened", "customer_report", "alice")]
            assert p.flush(30)
            before = store.incident("SAK-000001")
            m.close()
            p.close()
            m, p = _daemon(store, inv_path, alerting, clock)  # a restart: correlation reloads what is open
            _step(lab, "remove_transceiver")
            clock["t"] = time.time() + 60
            await m.poll_all()
            found = {i.cause: i for i in store.open_incidents("hq")}
            assert set(found) == {"customer_report", "transceiver_removed"}, "a report is not correlation's"
            assert before is not None and found["customer_report"].to_json() == before.to_json()
            assert p.flush(30)
        finally:
            m.close()
            p.close()
            store.close()
            lab.close()

    asyncio.run(story())
    mail = smtp.wait_for(2)[0]
    assert mail["Subject"].startswith("[Saksi] OPENED SAK-000001 major: customer_report at dist-sw2")
    assert "likely not a network problem" in Mailbox.text(mail)
    triage = run_saksi("triage", "--site", "hq", "--device", "dist-sw2", "--port", "Gi1/0/25", "--inventory",
                       str(tmp_path / "site.yaml"), "--db", db, "--json")
    assert triage.returncode == 0, triage.stderr
    t = json.loads(triage.stdout)
    assert not t["healthy"] and t["port_state"]["oper"] == "down", "on demand: the path as it is now"
    assert t["verdict"].startswith("SAK-000002 (transceiver removed) is open on this path since ")
    assert {d["name"] for d in t["devices"]} == {"core-sw1", "dist-sw2"}
    told = second_webhook.wait_for(2)
    assert [t["title"] for t in told] == ["[Saksi] Problem under investigation: SAK-000001 at hq",
                                          "[Saksi] Problem under investigation: SAK-000002 at hq"]


async def _until(check: Any, what: str, timeout: float = 90.0) -> None:
    """Keep the lab's agents answering (this loop serves them) until `check()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(check):
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.5)


def test_saksi_run_tells_the_owner_once_and_the_customer_of_each_step(
        tmp_path: Path, smtp: Mailbox, webhook: Webhook, second_webhook: Webhook) -> None:
    """The whole story through `saksi run` itself (its own clock, its own pipeline tick) against the lab's
    agents: the CLI and the reporters write the store, the daemon finds and tells.

    Its time is the daemon's: polls every 3 s, and the news (the reports, the note, the resolution) leave on
    the pipeline's tick, every second (`--alert-tick 1`). The burst window is 5 s: the phoned-in report goes
    first (a process takes seconds to start) and the two web reports follow within milliseconds, so three
    reports still make one message, and the wait for it is 5 s and a tick, not 30."""
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    calls: list[dict[str, Any]] = yaml.safe_load(SCENARIO.read_text())["customer_reports"]
    answers: list[str] = []

    async def story() -> None:
        lab = await runner.start(scenario.load(SCENARIO), ssh=False)
        inv_path = tmp_path / "site.yaml"
        inv_path.write_text(lab.inventory_yaml(site="hq", customer="acme", timeout=0.5, retries=1))
        contacts = f'sites:\n  hq:\n    customer_contacts: ["{second_webhook.url("acme-it")}"]\n'
        alerting = alerting_yaml(tmp_path, smtp, webhook, report_wait=5, resolve_hold=0, extra=contacts)
        daemon = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "saksi"), "run", "--inventory", str(inv_path), "--db", db,
            "--alerting", str(alerting), "--interval", "3", "--alert-tick", "1", "--trap-port", "0",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        inv = load_inventory(inv_path)
        try:
            def polled() -> bool:
                with Store(db) as s:
                    return len(s.last_snapshots("hq")) == 2
            await _until(polled, "the first polls")
            _step(lab, "remove_transceiver")
            await _until(lambda: len(smtp.to("alice@example.net")) >= 1, "the owner's page")
            for call in sorted(calls, key=lambda c: c.get("device") != "dist-sw2"):  # the phoned-in one first
                if call.get("device") == "dist-sw2":  # phoned in
                    r = await asyncio.to_thread(
                        run_saksi, "report", "--site", "hq", "--device", call["device"], "--by", call["by"],
                        "--inventory", str(inv_path), "--db", db, call["text"])
                    assert r.returncode == 0, r.stderr
                    answers.append(r.stdout.splitlines()[0])
                else:
                    with Store(db) as s:
                        reply = receive(s, inv, "hq", call.get("device"), call.get("port"), call["text"],
                                        call["by"], "web", time.time(), iso)
                    answers.append(reply.words(iso))
            await _until(lambda: len(smtp.to("alice@example.net")) >= 2, "the report message")
            notes = [["incident", "note", "SAK-000001", "--by", "alice", "--db", db, INTERNAL],
                     ["incident", "note", "SAK-000001", "--by", "alice", "--db", db, "--public", PUBLIC]]
            for r in await asyncio.gather(*(asyncio.to_thread(run_saksi, *args) for args in notes)):
                assert r.returncode == 0, r.stderr
            await _until(lambda: len(second_webhook.posts) >= 2, "the note for the customer")
            _step(lab, "insert_transceiver")
            await _until(lambda: len(second_webhook.posts) >= 3 and len(smtp.to("alice@example.net")) >= 3,
                         "the resolution")
        finally:
            daemon.terminate()
            _, err = await daemon.communicate()
            lab.close()
        assert daemon.returncode == 0, err.decode()[-2000:]

    asyncio.run(story())
    assert len(answers) == 3 and all(a.startswith("Already being handled by alice since ") for a in answers)
    assert all("(SAK-000001)" in a for a in answers)
    assert [m["Subject"].split()[1] for m in smtp.to("alice@example.net")] == ["OPENED", "REPORT", "RESOLVED"]
    with Store(db) as store:
        assert [(i.id, i.owner) for i in store.incidents()] == [("SAK-000001", "alice")]
        assert len(ReportBook(store).for_incident("SAK-000001")) == 3
    told = second_webhook.posts
    assert [t["title"].split(":")[0] for t in told] == [
        "[Saksi] Problem under investigation", "[Saksi] Update", "[Saksi] Resolved"]
    assert PUBLIC in told[1]["message"] and INTERNAL not in json.dumps(told)
