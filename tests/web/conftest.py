"""A real web view over a real store: the SFP lab story for customer A, a second customer B, accounts, a
read-only link — served by uvicorn on a free 127.0.0.1 port and stopped at the end."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.confighist.history import ConfigHistory
from monitor.inventory import Inventory, load_inventory
from monitor.lab import runner, scenario
from monitor.model import Snapshot
from monitor.state.store import Store
from monitor.timeseries.embedded import EmbeddedStore
from monitor.timeseries.points import snapshot_points
from monitor.web import WebSettings, accounts
from monitor.web.server import server
from monitor.witness.incidents import Incident
from tests.state.seed import seed

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "scenarios" / "sfp-moved-on-core.yaml"
ARTIFACTS = ROOT / "tests" / "artifacts" / "web"
BASE = 1_794_200_000.0  # the lab's second 0, moved to a recent date so times read like a real site's
SITE_A, SITE_B = "sfp-moved-on-core", "globex-hq"
PASSWORDS = {"erin": "erin-engineer-pw", "alice": "alice-acme-pw1", "bob": "bob-globex-pw1"}

INVENTORY = f"""
customers:
  - {{name: acme, display_name: "ACME Corp"}}
  - {{name: globex, display_name: "Globex Inc"}}
sites:
  - {{name: {SITE_A}, customer: acme, timezone: Europe/Helsinki, description: "Head office, Helsinki"}}
  - {{name: {SITE_B}, customer: globex, timezone: America/New_York, description: "Globex secret plant"}}
credentials:
  snmp:
    lab: {{version: 2c, community: "${{env:SAKSI_WEB_TEST_COMMUNITY}}"}}
devices:
  - {{name: core-sw1, site: {SITE_A}, host: 127.0.0.1, platform: cisco_ios, snmp: lab, description: Core switch}}
  - {{name: dist-sw2, site: {SITE_A}, host: 127.0.0.1, platform: cisco_ios, snmp: lab, description: Distribution}}
  - {{name: gx-sw1, site: {SITE_B}, host: 127.0.0.1, platform: cisco_ios, snmp: lab, description: Globex core}}
links:
  - {{a: "core-sw1:Gi1/0/49", b: "dist-sw2:Gi1/0/25", role: backbone, media: 1000base-lx}}
"""

CONFIG_V1 = """version 15.2
hostname {host}
enable secret 5 {secret}
snmp-server community {community} RO
interface GigabitEthernet1/0/49
 switchport mode trunk
interface GigabitEthernet1/0/50
 switchport mode access
end
"""


@dataclass
class Lab:
    """Everything the web tests need to know about the world they run in."""

    url: str
    app: Any
    store: Store
    inventory: Inventory
    ref_a: str
    ref_b: str
    commit_a: str
    commit_b: str
    token_a: str
    token_a_id: str
    incident_a: Incident  # as the lab raised it (the SFP story), stored under ref_a
    secrets: tuple[str, ...]  # strings that must never appear in any page


def shifted(snap: Snapshot) -> Snapshot:
    return dataclasses.replace(snap, taken_at=snap.taken_at + BASE)


def shifted_incident(data: dict[str, Any], **over: Any) -> Incident:
    # the lab reports `public()`, which has no dedup key: one made of the incident's identity
    inc = Incident.from_json({"key": f"{data['site']}:{data['cause']}:{data['device']}:{data['port']}", **data})
    for attr in ("started_at", "detected_at", "updated_at"):
        setattr(inc, attr, getattr(inc, attr) + BASE)
    if inc.resolved_at is not None:
        inc.resolved_at += BASE
    inc.evidence = [{**e, "at": e["at"] + BASE, "seen_at": e.get("seen_at", e["at"]) + BASE} for e in inc.evidence]
    for k, v in over.items():
        setattr(inc, k, v)
    return inc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def lab_run() -> runner.RunResult:
    return asyncio.run(runner.run(scenario.load(SCENARIO)))


@pytest.fixture(scope="session")
def lab(lab_run: runner.RunResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    import os

    work = tmp_path_factory.mktemp("web")
    os.environ.setdefault("SAKSI_WEB_TEST_COMMUNITY", "lab-community")
    (work / "inventory").mkdir()
    (work / "inventory" / "sites.yaml").write_text(INVENTORY)
    inv = load_inventory(work / "inventory")
    store = Store(f"sqlite:///{work / 'saksi.db'}")
    points = EmbeddedStore(work / "points.db")

    # customer A: the SFP story, every poll round in order, its points in the time-series store
    for snaps in lab_run.snapshots.values():
        for snap in map(shifted, snaps):
            seed(store, SITE_A, [snap])
            points.write(snapshot_points(snap, SITE_A, "acme"))
    assert lab_run.incidents, "the SFP scenario raised no incident"
    incident_a = store.upsert_incident(shifted_incident(lab_run.incidents[0], id="", customer="acme"))
    ref_a = incident_a.id

    # customer B: one switch (the lab's core, renamed) and one incident of its own
    last = shifted(lab_run.snapshots["core-sw1"][-1])
    seed(store, SITE_B, [dataclasses.replace(last, device="gx-sw1")])
    b = shifted_incident(lab_run.incidents[0], id="", key="globex-only", customer="globex", site=SITE_B,
                         device="gx-sw1", summary="Globex secret incident on gx-sw1", link=None)
    ref_b = store.upsert_incident(b).id

    # configuration history, with secrets that the history redacts before storing
    root = work / "config-history"
    with ConfigHistory(SITE_A, root) as h:
        h.record("core-sw1", "cisco_ios", CONFIG_V1.format(host="core-sw1", secret="$1$acmeSECRET",
                                                           community="acme-ro-community"), BASE + 10, "ssh:test")
        v2 = CONFIG_V1.format(host="core-sw1", secret="$1$acmeSECRET2", community="acme-ro-community").replace(
            " switchport mode access\n", " switchport mode access\n switchport access vlan 20\n").replace(
            "end\n", "username noc secret 5 $1$nocSECRET\nend\n")
        commit_a = h.record("core-sw1", "cisco_ios", v2, BASE + 360, "ssh:test").commit  # type: ignore[union-attr]
    with ConfigHistory(SITE_B, root) as h:
        h.record("gx-sw1", "cisco_ios", CONFIG_V1.format(host="gx-sw1", secret="$1$gxSECRET",
                                                         community="globex-ro"), BASE + 10, "ssh:test")
        v2 = CONFIG_V1.format(host="gx-sw1", secret="$1$gxSECRET", community="globex-rw").replace(
            "hostname gx-sw1\n", "hostname gx-sw1\nip domain-name globex-plant.example\n")
        commit_b = h.record("gx-sw1", "cisco_ios", v2, BASE + 20, "ssh:test").commit  # type: ignore[union-attr]

    accounts.create_tables(store.engine)
    accounts.add_user(store.engine, "erin", "engineer", PASSWORDS["erin"])
    accounts.add_user(store.engine, "alice", "customer", PASSWORDS["alice"], customer="acme")
    accounts.add_user(store.engine, "bob", "customer", PASSWORDS["bob"], customer="globex")
    token, secret = accounts.add_token(store.engine, "acme", label="ACME IT on-call")

    settings = WebSettings(config_root=root, optics_reader=points, optics_window_s=3600)
    try:
        with serving(store, inv, settings) as (url, app):
            print(f"\nweb view under test: {url}")
            yield Lab(url, app, store, inv, ref_a, ref_b, commit_a, commit_b, secret, token.id, incident_a,
                      ("$1$acmeSECRET", "acme-ro-community", "$1$nocSECRET", "$1$gxSECRET", "globex-ro", "globex-rw"))
    finally:
        points.close()
        store.close()


@contextmanager
def serving(store: Store, inv: Inventory, settings: WebSettings) -> Iterator[tuple[str, Any]]:
    """The app under uvicorn on a free 127.0.0.1 port, in a thread; stopped (and joined) at the end."""
    srv = server(store, inv, settings, "127.0.0.1", free_port())
    thread = threading.Thread(target=srv.run, name="saksi-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{srv.config.port}", srv.config.app
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def login(url: str, name: str) -> httpx.Client:
    """An HTTP client logged in through the real login form."""
    c = httpx.Client(base_url=url, follow_redirects=False, timeout=10)
    page = c.get("/login")
    csrf = csrf_of(page.text)
    r = c.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf_token": csrf, "next": "/sites"})
    assert r.status_code == 303, r.text
    return c


def csrf_of(html: str) -> str:
    import re

    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)
