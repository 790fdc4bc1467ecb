"""Report a problem, in a real headless Chromium (Debian's, through Playwright), over its own store and
server: a customer reports from the site page and sees at once who handles it and the latest note marked
for them (never an internal one); a report on a port nothing covers opens a customer_report incident with
a triage of that site only; a link made with --can-report may report, a plain read-only link may not; and
nothing of another customer is offered, accepted or shown. Screenshots go to tests/artifacts/web/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from monitor.alerts.people import Desk
from monitor.inventory import load_inventory
from monitor.lab import runner
from monitor.reports import ReportBook
from monitor.reports.records import allow_link
from monitor.state.store import Store
from monitor.web import WebSettings, accounts
from tests.state.seed import seed
from tests.web.conftest import (
    ARTIFACTS,
    INVENTORY,
    PASSWORDS,
    SITE_A,
    SITE_B,
    csrf_of,
    login,
    serving,
    shifted,
    shifted_incident,
)
from tests.web.test_browser import DESKTOP, PHONE, _login, _page
from tests.web.test_browser import browser as browser  # noqa: F401 - the module's Chromium

INTERNAL = "internal: the other tenant's patch panel in rack 4 is unlabelled"
PUBLIC = "A technician is on site and re-seating the backbone module"


class World:
    def __init__(self, url: str, store: Store, ref_a: str, ref_b: str, link_report: str, link_read: str) -> None:
        self.url, self.store, self.ref_a, self.ref_b = url, store, ref_a, ref_b
        self.link_report, self.link_read = link_report, link_read


@pytest.fixture(scope="module")
def world(lab_run: runner.RunResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    import os

    work: Path = tmp_path_factory.mktemp("web-reports")
    os.environ.setdefault("SAKSI_WEB_TEST_COMMUNITY", "lab-community")
    (work / "inventory").mkdir()
    (work / "inventory" / "sites.yaml").write_text(INVENTORY)
    inv = load_inventory(work / "inventory")
    store = Store(f"sqlite:///{work / 'saksi.db'}")
    for snaps in lab_run.snapshots.values():
        seed(store, SITE_A, map(shifted, snaps))
    import dataclasses

    last = shifted(lab_run.snapshots["core-sw1"][-1])
    seed(store, SITE_B, [dataclasses.replace(last, device="gx-sw1")])
    a = store.upsert_incident(shifted_incident(lab_run.incidents[0], id="", customer="acme", resolved_at=None,
                                               resolution=""))
    b = store.upsert_incident(shifted_incident(lab_run.incidents[0], id="", key="globex-only", customer="globex",
                                               site=SITE_B, device="gx-sw1", link=None,
                                               summary="Globex secret incident on gx-sw1"))
    now = time.time()
    desk = Desk(store)
    desk.ack(a.id, "erin", now - 600)
    desk.note(a.id, "erin", INTERNAL, now - 500)
    desk.note(a.id, "erin", PUBLIC, now - 400, public=True)
    desk.note(b.id, "erin", "Globex: replacing gx-sw1's optics", now - 300, public=True)
    accounts.create_tables(store.engine)
    for name, role, customer in (("erin", "engineer", None), ("alice", "customer", "acme"),
                                 ("bob", "customer", "globex")):
        accounts.add_user(store.engine, name, role, PASSWORDS[name], customer=customer)
    reporter, secret_report = accounts.add_token(store.engine, "acme", SITE_A, "ACME IT desk")
    allow_link(store.engine, reporter.id, now)
    _, secret_read = accounts.add_token(store.engine, "acme", SITE_A, "ACME wall screen")
    try:
        with serving(store, inv, WebSettings()) as (url, _app):
            yield World(url, store, a.id, b.id, secret_report, secret_read)
    finally:
        store.close()


def _leaks(text: str) -> list[str]:
    return [w for w in ("Globex", "globex", "gx-sw1", SITE_B, INTERNAL) if w in text]


def test_a_customer_reports_and_sees_the_owner_and_the_note_for_them(browser: object, world: World) -> None:  # noqa: F811
    page = _page(browser, DESKTOP)
    _login(page, world, "alice", f"/sites/{SITE_A}")  # type: ignore[arg-type]
    card = page.locator("article.incident-card", has_text=world.ref_a)
    assert PUBLIC in card.inner_text() and INTERNAL not in page.content(), "customers see only notes for them"
    page.get_by_role("link", name="Report a problem").click()
    page.wait_for_url(f"{world.url}/sites/{SITE_A}/report")
    offered = page.locator("#report-place option").all_inner_texts()
    assert any("core-sw1" in o for o in offered) and not _leaks(" ".join(offered)), "only its own devices"
    page.get_by_label("What does not work?").fill("The whole second floor has no network since this morning")
    page.screenshot(path=str(ARTIFACTS / "7-customer-report-form.png"), full_page=True)
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url(re.compile(rf"{world.url}/sites/{SITE_A}/reports/\d+"))
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Already being handled by erin since ") and world.ref_a in heading
    assert PUBLIC in page.locator("blockquote.public-note").inner_text()
    assert not _leaks(page.content())
    page.screenshot(path=str(ARTIFACTS / "8-customer-report-answer.png"), full_page=True)

    # a second report, naming the device the incident is on: the same incident, two reports in its timeline
    page.goto(f"{world.url}/sites/{SITE_A}/report")
    page.get_by_label("What does not work?").fill("core-sw1 looks dark from our side")
    page.get_by_label("Where (optional)").select_option(label="core-sw1 (the whole device)")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url(re.compile(rf"{world.url}/sites/{SITE_A}/reports/\d+"))
    assert world.ref_a in page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("link", name=world.ref_a).first.click()
    page.wait_for_url(f"{world.url}/incidents/{world.ref_a}")
    reports = page.locator("ol.reports li").all_inner_texts()
    assert len(reports) == 2 and "core-sw1 looks dark from our side" in reports[1]
    assert PUBLIC in page.locator("ol.notes").inner_text() and not _leaks(page.content())
    page.screenshot(path=str(ARTIFACTS / "9-customer-incident-with-reports.png"), full_page=True)
    page.context.close()
    assert [r.incident for r in ReportBook(world.store).of_site(SITE_A)] == [world.ref_a] * 2
    assert len(world.store.open_incidents(SITE_A)) == 1, "one problem, one incident"


def test_a_report_nothing_covers_opens_an_incident_with_a_triage_of_that_site_only(browser: object,  # noqa: F811
                                                                                  world: World) -> None:
    page = _page(browser, PHONE)
    page.goto(f"{world.url}/t/{world.link_report}")
    page.wait_for_url(f"{world.url}/sites/{SITE_A}")
    page.get_by_role("link", name="Report a problem").click()
    page.get_by_label("What does not work?").fill("The meeting room PC on dist-sw2 port 3 cannot print")
    page.get_by_label("Where (optional)").select_option(label="dist-sw2 GigabitEthernet1/0/3")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url(re.compile(rf"{world.url}/sites/{SITE_A}/reports/\d+"))
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Thank you: your report opened SAK-")
    triage = page.locator("section.triage").inner_text()
    assert "What Saksi sees on this path" in triage and "dist-sw2" in triage
    assert not _leaks(page.content()), "the triage shown to a customer holds only their site"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    page.screenshot(path=str(ARTIFACTS / "10-link-report-triage-phone.png"), full_page=True)
    page.context.close()
    opened = [i for i in world.store.open_incidents(SITE_A) if i.cause == "customer_report"]
    assert len(opened) == 1 and opened[0].id in heading


def test_an_engineer_chooses_what_the_customer_reads(browser: object, world: World) -> None:  # noqa: F811
    eng = _page(browser, DESKTOP)
    _login(eng, world, "erin", f"/incidents/{world.ref_a}")  # type: ignore[arg-type]
    assert "Customer reports" in eng.locator("ol.reports").evaluate("e => e.previousElementSibling.textContent")
    eng.get_by_label("Add a progress note").fill("Spare module ordered (internal)")
    eng.get_by_label("For the customer too").uncheck()
    eng.get_by_role("button", name="Add note").click()
    eng.wait_for_load_state()
    eng.get_by_label("Add a progress note").fill("The spare module arrives at 14:00")
    eng.get_by_role("button", name="Add note").click()  # the box is ticked by default
    eng.wait_for_load_state()
    notes = eng.locator("ol.notes").inner_text()
    assert "Spare module ordered (internal)" in notes and "internal" in notes and "for the customer" in notes
    eng.screenshot(path=str(ARTIFACTS / "11-engineer-note-for-the-customer.png"), full_page=True)
    eng.context.close()
    customer = _page(browser, DESKTOP)
    _login(customer, world, "alice", f"/incidents/{world.ref_a}")  # type: ignore[arg-type]
    notes = customer.locator("ol.notes").inner_text()
    assert "The spare module arrives at 14:00" in notes and "Spare module ordered" not in notes
    customer.context.close()


def test_a_report_names_only_the_reporters_own_site_and_is_limited(world: World) -> None:
    with closing(login(world.url, "alice")) as c:
        csrf = csrf_of(c.get(f"/sites/{SITE_A}/report").text)
        for target, place in ((f"/sites/{SITE_B}/report", ""), (f"/sites/{SITE_A}/report", "gx-sw1"),
                              (f"/sites/{SITE_A}/report", "gx-sw1::GigabitEthernet1/0/50")):
            r = c.post(target, data={"csrf_token": csrf, "text": "let me in", "place": place})
            assert r.status_code == 404 and not _leaks(r.text), (target, place)
        assert c.post(f"/sites/{SITE_A}/report", data={"csrf_token": csrf, "text": "x" * 2001}).status_code == 422
        assert c.post(f"/sites/{SITE_A}/report", data={"csrf_token": "forged", "text": "hi"}).status_code == 403
        assert c.get(f"/sites/{SITE_B}/reports/1").status_code == 404
        notes = [n["text"] for n in c.get(f"/api/incidents/{world.ref_a}").json()["detail"]["notes"]]
        assert PUBLIC in notes and INTERNAL not in notes, "the API gives a customer only the notes for them"
        sent = ReportBook(world.store).count_by("alice", time.time() - 3600)
        codes = [c.post(f"/sites/{SITE_A}/report", data={"csrf_token": csrf, "text": f"again {n}"}).status_code
                 for n in range(6 - sent)]
        assert codes[-1] == 429 and set(codes[:-1]) == {303}, codes
    with httpx.Client(base_url=world.url, timeout=10) as c:  # a plain read-only link may not report
        c.get(f"/t/{world.link_read}")
        page = c.get(f"/sites/{SITE_A}")
        assert page.status_code == 200 and "Report a problem" not in page.text
        assert c.get(f"/sites/{SITE_A}/report").status_code == 403
        r = c.post(f"/sites/{SITE_A}/report", data={"csrf_token": csrf_of(page.text), "text": "hello"})
        assert r.status_code == 403
    with closing(login(world.url, "bob")) as c:  # the other customer sees none of it
        assert c.get(f"/sites/{SITE_A}/report").status_code == 404
        assert c.get(f"/sites/{SITE_A}/reports/1").status_code == 404
        assert c.get(f"/incidents/{world.ref_a}").status_code == 404
