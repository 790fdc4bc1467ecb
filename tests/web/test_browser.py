"""The web view in a real headless Chromium (Debian's, driven by Playwright): a customer follows the SFP
incident, an engineer acknowledges it and writes a note, and the customer sees the note.

Screenshots of the key pages go to tests/artifacts/web/ (printed at the end) for a person to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.common.clock import local
from monitor.web.views import words
from tests.web.conftest import ARTIFACTS, PASSWORDS, SITE_A, SITE_B, Lab

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
         "--disable-extensions", "--disable-sync", "--no-first-run", "--disable-default-apps"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
NOTE = "Patch lead re-seated in rack 4 <script>alert('x')</script> <img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (scripts/setup.sh installs it)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()
    print(f"\nscreenshots: {ARTIFACTS}")


def _page(browser: object, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport)  # type: ignore[attr-defined]
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    return page


def _login(page, lab: Lab, name: str, path: str) -> None:  # type: ignore[no-untyped-def]
    """Open a page while logged out: the login form answers in its place, and brings us back to it."""
    response = page.goto(lab.url + path)
    assert response.status == 401
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lab.url + path)


def test_customer_follows_the_sfp_incident_and_sees_nothing_else(browser: object, lab: Lab) -> None:
    page = _page(browser, DESKTOP)
    _login(page, lab, "alice", f"/sites/{SITE_A}")
    heading = page.get_by_role("heading", level=1)
    assert SITE_A in heading.inner_text()
    assert "degraded" in heading.inner_text()  # the backbone port the module left is down, one incident is open
    open_section = page.locator("section", has=page.get_by_role("heading", name="Open incidents"))
    assert lab.ref_a in open_section.inner_text()
    assert words(lab.incident_a.cause) in open_section.inner_text()  # the cause Saksi found (transceiver moved)
    assert lab.incident_a.summary in open_section.inner_text()
    assert page.locator("figure.chart svg").count() >= 5  # every reading of the module, against its thresholds
    assert "Rx power" in page.locator("figure.chart").first.inner_text() or page.locator(
        "figure.chart", has_text="Rx power").count()
    page.screenshot(path=str(ARTIFACTS / "1-customer-site.png"), full_page=True)

    page.get_by_role("link", name=lab.ref_a).first.click()
    page.wait_for_url(f"{lab.url}/incidents/{lab.ref_a}")
    timeline = page.locator("ol.timeline")
    steps = [li.inner_text() for li in timeline.locator("li").all()]
    assert len(steps) == len(lab.incident_a.evidence) >= 2
    for step, e in zip(steps, lab.incident_a.evidence, strict=True):  # in order, each with what, where and when
        assert words(e["what"]) in step and e["device"] in step, (step, e)
        assert local(e["at"], "Europe/Helsinki")[1] in step  # the site's time zone
    assert any("GigabitEthernet1/0/49" in s and "down" in s.lower() for s in steps), steps
    assert page.get_by_role("button", name="Acknowledge").count() == 0  # read-only: no action forms
    assert page.locator("form[action*='/note']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "2-customer-incident.png"), full_page=True)

    # another customer's things, by every kind of URL: not found, and nothing about them on any page
    for path in (f"/sites/{SITE_B}", f"/sites/{SITE_B}/incidents", f"/sites/{SITE_B}/config",
                 f"/sites/{SITE_B}/devices/gx-sw1", f"/incidents/{lab.ref_b}",
                 f"/sites/{SITE_B}/config/gx-sw1/{lab.commit_b}.diff"):
        response = page.goto(lab.url + path)
        assert response.status == 404, path
        assert "Globex" not in page.content() and "gx-sw1" not in page.locator("main").inner_text()
    for path in (f"/api/sites/{SITE_B}", f"/api/incidents/{lab.ref_b}", "/api/devices/gx-sw1",
                 "/api/devices/gx-sw1/ports", "/api/devices/gx-sw1/optics?port=Gi1/0/50",
                 f"/api/incidents?site={SITE_B}", f"/api/sites/{SITE_B}/devices"):
        assert page.request.get(lab.url + path).status == 404, path
    listing = page.request.get(lab.url + "/api/incidents").json()
    assert [i["id"] for i in listing] == [lab.ref_a]
    page.goto(lab.url + "/sites")
    assert SITE_B not in page.content()
    page.context.close()


def test_engineer_acks_and_notes_then_the_customer_sees_it(browser: object, lab: Lab) -> None:
    eng = _page(browser, DESKTOP)
    _login(eng, lab, "erin", f"/incidents/{lab.ref_a}")
    eng.get_by_role("button", name="Acknowledge").click()
    eng.wait_for_url(f"{lab.url}/incidents/{lab.ref_a}#people")
    people = eng.locator("#people")
    assert "by erin" in people.inner_text()
    eng.get_by_label("Add a progress note").fill(NOTE)
    eng.get_by_role("button", name="Add note").click()
    eng.wait_for_load_state()
    assert NOTE in eng.locator("ol.notes").inner_text()  # shown as text, never run
    eng.screenshot(path=str(ARTIFACTS / "3-engineer-incident.png"), full_page=True)
    assert eng.dialogs == []
    eng.context.close()

    customer = _page(browser, PHONE)
    _login(customer, lab, "alice", f"/sites/{SITE_A}")
    card = customer.locator("article.incident-card", has_text=lab.ref_a)
    assert NOTE in card.inner_text()
    assert "erin" in card.inner_text()
    customer.screenshot(path=str(ARTIFACTS / "4-customer-site-phone.png"), full_page=True)
    customer.goto(f"{lab.url}/incidents/{lab.ref_a}")
    assert NOTE in customer.locator("ol.notes").inner_text()
    assert "acknowledged" in customer.get_by_role("heading", level=1).inner_text()
    assert customer.locator("img[src=x]").count() == 0 and customer.dialogs == []
    # no horizontal scrolling of the page itself on a phone (wide tables scroll in their own box)
    assert customer.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    customer.screenshot(path=str(ARTIFACTS / "5-customer-incident-phone.png"), full_page=True)
    customer.context.close()


def test_read_only_link_opens_the_customers_sites(browser: object, lab: Lab) -> None:
    page = _page(browser, DESKTOP)
    page.goto(f"{lab.url}/t/{lab.token_a}")
    page.wait_for_url(f"{lab.url}/sites")
    assert SITE_A in page.locator("main").inner_text()
    assert SITE_B not in page.content()
    page.goto(f"{lab.url}/sites/{SITE_A}/config")
    diff = page.locator("pre.diff").inner_text()
    assert "+ switchport access vlan 20" in diff
    assert "+username noc secret 5 <redacted>" in diff  # shown as text, secret already gone
    assert not any(s in page.content() for s in lab.secrets)
    download = page.request.get(f"{lab.url}/sites/{SITE_A}/config/core-sw1/{lab.commit_a}.diff")
    assert download.status == 200 and "attachment" in download.headers["content-disposition"]
    assert "+username noc secret 5 <redacted>" in download.text()
    page.screenshot(path=str(ARTIFACTS / "6-config-changes.png"), full_page=True)
    page.context.close()


def test_logout_ends_the_session_even_for_a_kept_cookie(browser: object, lab: Lab) -> None:
    """Issue 16 #2: a cookie kept after logout went on working for its 12 hours."""
    page = _page(browser, DESKTOP)
    _login(page, lab, "erin", f"/incidents/{lab.ref_a}")
    kept = [c for c in page.context.cookies() if c["name"] == "saksi_session"]
    assert kept
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{lab.url}/login")
    page.context.close()

    replay = _page(browser, DESKTOP)
    replay.context.add_cookies(kept)  # another browser, the same cookie as it was before the logout
    response = replay.goto(f"{lab.url}/incidents/{lab.ref_a}")
    assert response.status == 401
    assert replay.get_by_role("button", name="Log in").count() == 1
    assert replay.get_by_role("button", name="Acknowledge").count() == 0
    assert replay.request.get(f"{lab.url}/api/me").status == 401
    replay.context.close()


def test_a_link_asks_before_it_replaces_a_logged_in_session(browser: object, lab: Lab) -> None:
    """Issue 16 #6: an engineer who opened a customer's link silently became that customer."""
    page = _page(browser, DESKTOP)
    _login(page, lab, "erin", "/sites")
    page.goto(f"{lab.url}/t/{lab.token_a}")
    assert "Open a read-only link?" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("link", name="Stay logged in as erin").click()
    page.wait_for_url(f"{lab.url}/sites")
    assert "erin" in page.locator("header .who").inner_text()
    assert page.request.get(f"{lab.url}/api/me").json()["role"] == "engineer"

    page.goto(f"{lab.url}/t/{lab.token_a}")
    page.get_by_role("button", name="Leave my session and open the link").click()
    page.wait_for_url(f"{lab.url}/sites")
    assert f"link {lab.token_a_id}" in page.locator("header .who").inner_text()
    assert page.request.get(f"{lab.url}/api/me").json()["role"] == "customer"
    assert SITE_B not in page.content()
    page.context.close()
