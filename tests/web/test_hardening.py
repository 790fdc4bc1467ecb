"""Issue 16's web reproductions, each through the real server: huge incident references, logout replay,
concurrent logins, the existence oracle, a link over a session, config history pages, and error answers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from monitor.confighist.history import ConfigHistory, ConfigVersion
from monitor.inventory import Inventory
from monitor.state.store import Store
from monitor.web import WebSettings, accounts, views
from tests.web.conftest import CONFIG_V1, SITE_A, SITE_B, Lab, csrf_of, login, serving

SECURITY = {"content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"}


def assert_secured(r: httpx.Response) -> None:
    missing = SECURITY - set(r.headers)
    assert not missing, (r.request.method, r.request.url, r.status_code, missing)
    assert r.headers["x-frame-options"] == "DENY"
    if not r.request.url.path.startswith("/static/") or r.status_code >= 400:
        assert r.headers.get("cache-control") == "no-store", (r.request.url, r.headers.get("cache-control"))


# --- 1: incident references too big for SQLite ---------------------------------------------------------


@pytest.mark.parametrize("ref", ["SAK-9223372036854775808", "99999999999999999999", "SAK-99999999999999999999",
                                 "١٢٣", "SAK-0", "sak-" + "0" * 28])
def test_huge_or_odd_incident_references_are_not_found(lab: Lab, ref: str) -> None:
    with httpx.Client(base_url=lab.url, headers={"Authorization": f"Bearer {lab.token_a}"}, timeout=10) as link:
        r = link.get(f"/api/incidents/{ref}")
        assert r.status_code == 404 and r.json() == {"detail": "Nothing here, or nothing you may see."}
        assert_secured(r)
    with closing(login(lab.url, "erin")) as c:
        page = c.get(f"/incidents/{ref}")
        assert page.status_code == 404 and "Traceback" not in page.text
        assert_secured(page)
        csrf = csrf_of(c.get(f"/incidents/{lab.ref_a}").text)
        for action in ("ack", "note", "assign", "resolve"):
            r = c.post(f"/incidents/{ref}/{action}", data={"csrf_token": csrf, "text": "x", "owner": "erin"})
            assert r.status_code == 404, (action, r.status_code)
            assert_secured(r)


# --- 2: sessions end on the server -----------------------------------------------------------------------


def test_a_cookie_kept_after_logout_is_worthless(lab: Lab) -> None:
    c = login(lab.url, "erin")
    with closing(c):
        kept = c.cookies["saksi_session"]
        csrf = csrf_of(c.get(f"/incidents/{lab.ref_a}").text)
        assert c.get("/api/me").json()["name"] == "erin"
        assert c.post("/logout", data={"csrf_token": csrf}).status_code == 303
    with httpx.Client(base_url=lab.url, cookies={"saksi_session": kept}, timeout=10) as replay:
        assert replay.get("/api/me").status_code == 401
        assert replay.get(f"/incidents/{lab.ref_a}").status_code == 401
        before = len(lab.store.incident(lab.ref_a).notes)  # type: ignore[union-attr]
        r = replay.post(f"/incidents/{lab.ref_a}/note", data={"csrf_token": csrf, "text": "replayed"})
        assert r.status_code in (401, 403)
        assert len(lab.store.incident(lab.ref_a).notes) == before  # type: ignore[union-attr]


def test_a_password_change_ends_the_users_sessions(lab: Lab) -> None:
    from tests.web import conftest

    accounts.add_user(lab.store.engine, "pat", "customer", "pat-acme-password", customer="acme")
    conftest.PASSWORDS["pat"] = "pat-acme-password"
    with closing(login(lab.url, "pat")) as c:
        assert c.get("/api/me").status_code == 200
        accounts.set_password(lab.store.engine, "pat", "pat-new-password")
        assert c.get("/api/me").status_code == 401
    conftest.PASSWORDS["pat"] = "pat-new-password"
    with closing(login(lab.url, "pat")) as c:
        accounts.set_disabled(lab.store.engine, "pat", True)
        assert c.get("/api/me").status_code == 401
        accounts.set_disabled(lab.store.engine, "pat", False)
        assert c.get("/api/me").status_code == 401  # enabling again does not bring old sessions back


# --- 3-4, 7: concurrent logins -----------------------------------------------------------------------------


def test_twenty_concurrent_wrong_passwords_run_at_most_two_argon2_checks(tmp_path: Path) -> None:
    """Issue 16 #4: all 20 were checked at once (limit 5) and the server grew to ~1.26 GiB."""
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    accounts.create_tables(store.engine)
    accounts.add_user(store.engine, "dave", "engineer", "dave-engineer-pw")
    settings = WebSettings(login_free_attempts=5, login_concurrency=2)
    with serving(store, Inventory({}, {}, {}, ()), settings) as (url, app):
        with httpx.Client(base_url=url, timeout=60) as first:
            csrf = csrf_of(first.get("/login").text)
            cookie = first.cookies["saksi_session"]
        start = threading.Barrier(20)

        def guess(n: int) -> int:
            with httpx.Client(base_url=url, cookies={"saksi_session": cookie}, timeout=120) as c:
                start.wait(timeout=60)
                return c.post("/login", data={"name": "dave", "password": f"guess-{n}",
                                              "csrf_token": csrf}).status_code

        with ThreadPoolExecutor(20) as pool:
            codes = sorted(pool.map(guess, range(20)))
        verifier = app.state.web.verifier
        assert set(codes) <= {401, 429, 503}, codes  # 503: no check slot within 20 s (a loaded machine)
        assert codes.count(401) == verifier.checks <= 5  # attempts were counted before they were checked
        assert verifier.peak <= 2  # at most two argon2 hashes (64 MiB each) in memory at once
    store.close()


# --- 5: one "not found" for everything a caller may not see ---------------------------------------------


def test_another_customers_objects_look_exactly_like_nothing(lab: Lab) -> None:
    """Issue 16 #5: B's device answered "no such site", an unknown one "no such device"."""
    pairs = [("/api/devices/gx-sw1", "/api/devices/no-such-device"),
             ("/api/devices/gx-sw1/ports", "/api/devices/no-such-device/ports"),
             ("/api/devices/gx-sw1/optics?port=Gi1/0/50", "/api/devices/no-such-device/optics?port=Gi1/0/50"),
             ("/api/devices/core-sw1/optics?port=Gi9/9/99", "/api/devices/no-such-device/optics?port=Gi9/9/99"),
             (f"/api/sites/{SITE_B}", "/api/sites/no-such-site"),
             (f"/api/incidents/{lab.ref_b}", "/api/incidents/SAK-999999"),
             (f"/sites/{SITE_B}/devices/gx-sw1", f"/sites/{SITE_A}/devices/no-such-device"),
             (f"/sites/{SITE_A}/devices/gx-sw1", f"/sites/{SITE_A}/devices/no-such-device"),
             (f"/sites/{SITE_B}/config/gx-sw1/{lab.commit_b}.diff", f"/sites/{SITE_A}/config/nope/{lab.commit_b}.diff"),
             (f"/sites/{SITE_A}/config/core-sw1/{lab.commit_b}.diff", f"/sites/{SITE_A}/config/nope/{lab.commit_b}.diff"),
             (f"/incidents/{lab.ref_b}", "/incidents/SAK-999999"),
             (f"/sites/{SITE_B}", "/sites/no-such-site")]
    with closing(login(lab.url, "alice")) as c:
        for hidden, absent in pairs:
            a, b = c.get(hidden), c.get(absent)
            assert a.status_code == b.status_code == 404, (hidden, a.status_code, b.status_code)
            body_a, body_b = (r.text.replace(r.request.url.path, "") for r in (a, b))
            assert body_a == body_b, (hidden, absent)


# --- 6: a link never replaces a session without asking --------------------------------------------------


def test_a_link_asks_before_it_replaces_a_logged_in_session(lab: Lab) -> None:
    """Issue 16 #6: an engineer opening another customer's /t/<token> silently became that customer."""
    with closing(login(lab.url, "erin")) as c:
        page = c.get(f"/t/{lab.token_a}")
        assert page.status_code == 200 and "Open a read-only link?" in page.text
        assert c.get("/api/me").json()["name"] == "erin"  # still the engineer
        assert c.post(f"/t/{lab.token_a}", data={}).status_code == 403  # a forged POST (no CSRF token)
        assert c.get("/api/me").json()["name"] == "erin"
        r = c.post(f"/t/{lab.token_a}", data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 303
        assert c.get("/api/me").json() == {"name": f"link {lab.token_a_id}", "role": "customer",
                                           "customer": "acme", "site": None}
        assert c.get(f"/t/{lab.token_a}").status_code == 303  # the same link again: nothing to ask
    with httpx.Client(base_url=lab.url, timeout=10) as anonymous:
        assert anonymous.get(f"/t/{lab.token_a}").status_code == 303  # nobody logged in: opens at once


# --- 8: configuration history pages ---------------------------------------------------------------------


def test_config_pages_read_only_the_versions_they_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16 #8: every stored version was diffed before 50 were kept (1.06 s a page at 200 versions)."""
    root = tmp_path / "history"
    with ConfigHistory("s1", root) as h:
        for n in range(60):
            h.record("sw1", "cisco_ios", CONFIG_V1.format(host="sw1", secret="x", community="c").replace(
                " switchport mode trunk\n", f" switchport mode trunk\n description rev {n}\n"),
                     1000.0 + n, "ssh:test")
    reads: list[str] = []
    real_text = ConfigHistory.text

    def counted(self: ConfigHistory, version: ConfigVersion) -> str:  # the real read, counted
        reads.append(version.commit)
        return real_text(self, version)

    monkeypatch.setattr(ConfigHistory, "text", counted)
    page1, more = views.config_log("s1", ["sw1"], root, page=1, per_page=20)
    assert len(page1) == 20 and more and len(reads) <= 2 * 20
    assert [c.at for c in page1] == sorted((c.at for c in page1), reverse=True) and page1[0].at == 1059.0
    page3, more = views.config_log("s1", ["sw1"], root, page=3, per_page=20)
    assert len(page3) == 20 and not more and page3[-1].first
    reads.clear()
    one = views.config_change("s1", "sw1", page1[5].commit, root)
    assert one is not None and one.diff == page1[5].diff and len(reads) == 2


def test_config_page_is_paginated(lab: Lab) -> None:
    with closing(login(lab.url, "alice")) as c:
        assert c.get(f"/sites/{SITE_A}/config?page=1").status_code == 200
        assert c.get(f"/sites/{SITE_A}/config?page=0").status_code == 422
        assert "No configuration recorded" in c.get(f"/sites/{SITE_A}/config?page=50").text


# --- 9: one error handler ----------------------------------------------------------------------------------


HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/nowhere", 404), ("GET", "/sites/x/y/z/w", 404), ("PUT", "/sites", 405), ("DELETE", "/login", 405),
    ("POST", "/sites", 405), ("GET", "/logout", 405),
])
def test_error_pages_have_the_same_headers_and_follow_accept(lab: Lab, method: str, path: str, status: int) -> None:
    with closing(login(lab.url, "alice")) as c:
        page = c.request(method, path, headers=HTML)
        assert page.status_code == status and page.headers["content-type"].startswith("text/html")
        assert_secured(page)
        data = c.request(method, path, headers={"Accept": "application/json"})
        assert data.status_code == status and "detail" in data.json()
        assert_secured(data)
        api = c.request(method, "/api" + path, headers=HTML)
        assert api.status_code in (404, 405) and "detail" in api.json()  # the API always answers JSON
        assert_secured(api)
        if status == 405:
            assert "allow" in page.headers


def test_a_too_large_body_gets_the_same_headers(lab: Lab) -> None:
    with httpx.Client(base_url=lab.url, timeout=10) as c:
        r = c.post("/login", content=b"x" * 200_000, headers={**HTML, "Content-Type": "application/octet-stream"})
        assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
        assert_secured(r)
        r = c.post("/api/me", content=b"x" * 200_000)
        assert r.status_code == 413 and r.json() == {"detail": "request too large"}
        assert_secured(r)


def test_a_server_error_gets_the_same_headers_and_no_traceback(tmp_path: Path) -> None:
    """A store whose incidents table is gone: the request fails inside, the answer is still ours."""
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    accounts.create_tables(store.engine)
    _, secret = accounts.add_token(store.engine, "acme")
    with store.write() as conn:
        conn.execute(text("DROP TABLE incidents"))
    with serving(store, Inventory({}, {}, {}, ()), WebSettings()) as (url, _), \
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"}, timeout=10) as c:
        r = c.get("/api/incidents")
        assert r.status_code == 500 and r.json()["detail"].startswith("Saksi could not answer")
        assert_secured(r)
        page = c.get("/incidents", headers=HTML)
        assert page.status_code in (401, 500)  # a bearer token opens the API only
        r = httpx.get(f"{url}/t/{secret}", follow_redirects=False)
        assert r.status_code == 303
        page = httpx.get(f"{url}/incidents", cookies=r.cookies, headers=HTML)
        assert page.status_code == 500 and "text/html" in page.headers["content-type"]
        assert not any(w in page.text for w in ("Traceback", "OperationalError", "no such table"))
        assert_secured(page)
    store.close()


def test_head_is_get_without_a_body_and_options_lists_the_methods(lab: Lab) -> None:
    with closing(login(lab.url, "alice")) as c:
        for path in ("/login", f"/sites/{SITE_A}", "/api/sites", "/static/style.css"):
            get, head = c.get(path), c.head(path)
            assert head.status_code == get.status_code == 200, path
            assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
            assert_secured(head)
        assert c.head(f"/sites/{SITE_B}").status_code == 404
        r = c.options(f"/sites/{SITE_A}")
        assert r.status_code == 204 and set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
        assert_secured(r)
        r = c.options(f"/incidents/{lab.ref_a}/ack")
        assert set(r.headers["allow"].split(", ")) == {"POST", "OPTIONS"}
        assert c.options("/nowhere").status_code == 404


def _peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


def test_twenty_concurrent_logins_keep_saksi_web_memory_bounded(tmp_path: Path) -> None:
    """Issue 16 #4 as an operator sees it: `saksi web` grew to ~1.26 GiB under 20 concurrent wrong passwords
    (argon2 takes 64 MiB a check). With two checks at a time, its peak grows by at most about two checks."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.web.conftest import INVENTORY, free_port

    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "sites.yaml").write_text(INVENTORY)
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    with Store(db) as store:
        accounts.create_tables(store.engine)
        accounts.add_user(store.engine, "dave", "engineer", "dave-engineer-pw")
    port = free_port()
    env = {**os.environ, "SAKSI_DB": db, "SAKSI_WEB_TEST_COMMUNITY": "lab-community"}
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "web", "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/login", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "saksi web did not start"
                time.sleep(0.2)
        with httpx.Client(base_url=url, timeout=60) as c:  # one check first: the baseline holds one argon2 run
            csrf = csrf_of(c.get("/login").text)
            assert c.post("/login", data={"name": "dave", "password": "warm-up-guess", "csrf_token": csrf}
                          ).status_code == 401
            cookie = c.cookies["saksi_session"]
        baseline = _peak_rss_mib(proc.pid)
        start = threading.Barrier(20)

        def guess(n: int) -> int:
            with httpx.Client(base_url=url, cookies={"saksi_session": cookie}, timeout=120) as c:
                start.wait(timeout=60)
                return c.post("/login", data={"name": f"user{n}", "password": f"guess-{n}",
                                              "csrf_token": csrf}).status_code

        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(guess, range(20)))
        assert set(codes) <= {401, 429, 503}, codes  # 503: no check slot within 20 s (a loaded machine)
        growth = _peak_rss_mib(proc.pid) - baseline
        assert growth < 2.5 * 64, f"peak memory grew by {growth:.0f} MiB under 20 concurrent logins"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
