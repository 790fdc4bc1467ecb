"""`saksi discover` on a five-switch lab site (real agents on 127.0.0.x), through the real entry point:
every device and link found from the core, the file accepted by the strict loader, polled by `saksi run`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.common.names import canonical_port
from monitor.inventory import load_inventory
from monitor.lab.scenario import Step, apply
from tests.conftest import run_saksi
from tests.discover.conftest import RunningLab, running_lab

COMMUNITY_ENV = "SAKSI_TEST_DISCOVER_COMMUNITY"
SITE = """name: discover-five
site:
  devices:
    - {name: core-sw1, platform: cisco_ios, ports: 52}
    - {name: dist-sw2, platform: cisco_ios, ports: 28}
    - {name: dist-sw3, platform: juniper_junos, ports: 28}
    - {name: acc-sw4, platform: cisco_ios, ports: 28}
    - {name: acc-sw5, platform: arista_eos, ports: 8}
  links:
    - {a: core-sw1:Gi1/0/49, b: dist-sw2:Gi1/0/25, media: 1000base-lx, role: backbone}
    - {a: core-sw1:Gi1/0/50, b: dist-sw3:ge-0/0/24, media: 1000base-lx, role: backbone}
    - {a: dist-sw2:Gi1/0/26, b: dist-sw3:ge-0/0/25, media: 1000base-lx, role: backbone}
    - {a: dist-sw2:Gi1/0/27, b: acc-sw4:Gi1/0/25, media: 1000base-lx, role: uplink}
    - {a: dist-sw3:ge-0/0/26, b: acc-sw5:Ethernet1, media: 1000base-sx, role: uplink}
    - {a: acc-sw4:Gi1/0/1, b: pc-101, role: access}
poll_interval: 60
steps: []
run_until: 60
"""
SWITCH_LINKS = {  # the scenario's links between switches, as the inventory writes them (canonical ports)
    frozenset({"core-sw1:GigabitEthernet1/0/49", "dist-sw2:GigabitEthernet1/0/25"}): "backbone",
    frozenset({"core-sw1:GigabitEthernet1/0/50", "dist-sw3:ge-0/0/24"}): "backbone",
    frozenset({"dist-sw2:GigabitEthernet1/0/26", "dist-sw3:ge-0/0/25"}): "backbone",  # peers: same depth
    frozenset({"dist-sw2:GigabitEthernet1/0/27", "acc-sw4:GigabitEthernet1/0/25"}): "uplink",
    frozenset({"dist-sw3:ge-0/0/26", "acc-sw5:Ethernet1"}): "uplink",
}
PLATFORMS = {"core-sw1": "cisco_ios", "dist-sw2": "cisco_ios", "dist-sw3": "juniper_junos", "acc-sw4": "cisco_ios",
             "acc-sw5": "arista_eos"}


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    with running_lab(SITE) as running:
        yield running


@pytest.fixture
def community(monkeypatch: pytest.MonkeyPatch) -> str:
    from monitor.lab.runner import LAB_COMMUNITY

    monkeypatch.setenv(COMMUNITY_ENV, LAB_COMMUNITY)
    return LAB_COMMUNITY


def discover(lab: RunningLab, *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    r = run_saksi("discover", lab.hosts["core-sw1"], "--site", "hq", "--customer", "acme", "--community-env",
                  COMMUNITY_ENV, "--snmp-port", str(lab.port), "--timeout", "0.5", "--retries", "0", "--json",
                  *args)
    return r.returncode, json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}, r.stderr


def test_discovers_every_switch_and_link_from_the_core_and_saksi_run_polls_the_file(
        lab: RunningLab, community: str, tmp_path: Path) -> None:
    out = tmp_path / "hq.yaml"
    code, found, err = discover(lab, "--only", "127.0.0.0/8", "--out", str(out))
    assert code == 0, err
    assert {d["name"]: d["platform"] for d in found["devices"]} == PLATFORMS
    assert {d["name"]: d["host"] for d in found["devices"]} == lab.hosts
    assert {frozenset((link["a"], link["b"])): link["role"] for link in found["links"]} == SWITCH_LINKS
    assert found["unreached"] == [] and found["skipped_links"] == []

    text = out.read_text()
    assert community not in text and f"${{env:{COMMUNITY_ENV}}}" in text  # by reference, never in clear
    inv = load_inventory(out)  # the strict loader accepts it
    assert set(inv.devices) == set(PLATFORMS) and {d.site for d in inv.devices.values()} == {"hq"}
    assert inv.customer_of("core-sw1") == "acme"
    assert {d.port for d in inv.devices.values()} == {lab.port}
    assert inv.devices["dist-sw2"].snmp.community is not None
    assert inv.devices["dist-sw2"].snmp.community.reveal() == community
    assert {frozenset((str(link.a), str(link.b))): link.role for link in inv.links} == SWITCH_LINKS

    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    r = run_saksi("run", "--inventory", str(out), "--db", db, "--once")
    assert r.returncode == 0, r.stderr
    r = run_saksi("devices", "--inventory", str(out), "--db", db, "--json")
    assert r.returncode == 0, r.stderr
    rows = {d["name"]: d for d in json.loads(r.stdout)["devices"]}
    assert set(rows) == set(PLATFORMS)
    assert all(d["outcome"] == "answered" and d["last_poll_at"] is not None for d in rows.values()), rows

    code, _, err = discover(lab, "--only", "127.0.0.0/8", "--out", str(out))  # never over a file with hand edits
    assert code == 2 and "--update" in err and out.read_text() == text, err


def test_never_beyond_the_depth_or_the_addresses_allowed_and_says_why(lab: RunningLab, community: str) -> None:
    code, found, err = discover(lab, "--only", "127.0.0.0/8", "--max-depth", "1")
    assert code == 0, err
    assert {d["name"] for d in found["devices"]} == {"core-sw1", "dist-sw2", "dist-sw3"}
    assert {(u["name"], u["reason"], u["address"]) for u in found["unreached"]} == {
        ("acc-sw4", "depth", lab.hosts["acc-sw4"]), ("acc-sw5", "depth", lab.hosts["acc-sw5"])}

    core, dist2 = lab.hosts["core-sw1"], lab.hosts["dist-sw2"]
    code, found, err = discover(lab, "--only", f"{core}/32", "--only", f"{dist2}/32")
    assert code == 0, err
    assert {d["name"] for d in found["devices"]} == {"core-sw1", "dist-sw2"}
    assert {(u["name"], u["reason"]) for u in found["unreached"]} == {("dist-sw3", "filtered"),
                                                                      ("acc-sw4", "filtered")}
    only_inside = {frozenset((link["a"], link["b"])) for link in found["links"]}
    assert only_inside == {frozenset({"core-sw1:GigabitEthernet1/0/49", "dist-sw2:GigabitEthernet1/0/25"})}


def test_a_wrong_community_is_reported_and_nothing_is_written(lab: RunningLab, monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    monkeypatch.setenv(COMMUNITY_ENV, "not-the-community")
    code, _, err = discover(lab, "--out", str(tmp_path / "x.yaml"))
    assert code == 2 and "did not answer: timeout" in err and "community" in err, err
    assert not (tmp_path / "x.yaml").exists()
    monkeypatch.delenv(COMMUNITY_ENV)
    code, _, err = discover(lab)
    assert code == 2 and f"${COMMUNITY_ENV} is not set" in err, err


HAND_EDITED = """# our core site; keep this comment
customers:
  - {name: acme, display_name: "ACME Corp"}
sites:
  - name: hq
    customer: acme
    timezone: Europe/Helsinki   # set by hand
credentials:
  snmp:
    v2c-saksi-test-discover-community: {version: 2c, community: "${env:SAKSI_TEST_DISCOVER_COMMUNITY}"}
devices:
  - name: core                  # renamed by hand: discovery must not add core-sw1 a second time
    site: hq
    host: 127.0.0.10
    port: PORT
    platform: cisco_ios
    snmp: v2c-saksi-test-discover-community
    description: Core switch, rack A1
    timeout: 1.5
  - {name: old-sw9, site: hq, host: 127.0.0.99, port: PORT, platform: cisco_ios, snmp: v2c-saksi-test-discover-community}
links:
  - {a: "core:Gi1/0/49", b: "dist-sw2:Gi1/0/25", role: uplink, description: chosen by hand}
"""


def test_update_keeps_hand_edits_and_adds_what_is_new(lab: RunningLab, community: str, tmp_path: Path) -> None:
    f = tmp_path / "hq.yaml"
    f.write_text(HAND_EDITED.replace("PORT", str(lab.port)))
    # the hand-written link names dist-sw2, which is not yet in the file: add it by hand too, as a person would
    code, found, err = discover(lab, "--only", "127.0.0.0/8", "--update", str(f))
    assert code == 0, err
    text = f.read_text()
    assert "# our core site; keep this comment" in text and "# set by hand" in text
    inv = load_inventory(f)
    assert "core-sw1" not in inv.devices, "found under the name a person gave it"
    assert inv.devices["core"].description == "Core switch, rack A1" and inv.devices["core"].timeout == 1.5
    assert inv.sites["hq"].timezone == "Europe/Helsinki"
    assert "old-sw9" in inv.devices  # not seen, kept
    assert found["update"]["not_seen"] == ["old-sw9"]
    assert set(inv.devices) == {"core", "old-sw9", "dist-sw2", "dist-sw3", "acc-sw4", "acc-sw5"}
    by_ends = {frozenset((str(link.a), str(link.b))): link for link in inv.links}
    hand = by_ends[frozenset({"core:GigabitEthernet1/0/49", "dist-sw2:GigabitEthernet1/0/25"})]
    assert hand.role == "uplink" and hand.description == "chosen by hand"  # the person's role stays
    assert len(inv.links) == len(SWITCH_LINKS)
    assert frozenset({"core:GigabitEthernet1/0/50", "dist-sw3:ge-0/0/24"}) in by_ends

    again = f.read_text()
    code, found, err = discover(lab, "--only", "127.0.0.0/8", "--update", str(f))
    assert code == 0, err
    assert f.read_text() == again, "a second update of an unchanged site changes nothing"
    assert found["update"]["added_devices"] == [] and found["update"]["added_links"] == []


def test_an_open_incident_shows_in_saksi_devices(lab: RunningLab, community: str, tmp_path: Path) -> None:
    out, db = tmp_path / "hq.yaml", f"sqlite:///{tmp_path / 'saksi.db'}"
    code, _, err = discover(lab, "--only", "127.0.0.0/8", "--out", str(out))
    assert code == 0, err
    assert run_saksi("run", "--inventory", str(out), "--db", db, "--once").returncode == 0
    site = lab.lab.site
    modules = {name: sum(1 for p in dev.ports.values() if p.module is not None) for name, dev in site.devices.items()}
    r = run_saksi("devices", "--inventory", str(out), "--db", db, "--json")
    assert {d["name"]: d["modules"] for d in json.loads(r.stdout)["devices"]} == modules

    def pull() -> None:
        step = Step(at=site.now + 1, do="remove_transceiver",
                    args={"device": "acc-sw4", "port": canonical_port("Gi1/0/25")}, number=1)
        apply(site, lab.lab.scenario, step)
        lab.lab.settle(step.at)

    lab.call(pull)
    try:
        assert run_saksi("run", "--inventory", str(out), "--db", db, "--once").returncode == 0
        r = run_saksi("devices", "--inventory", str(out), "--db", db, "--json")
        rows = {d["name"]: d for d in json.loads(r.stdout)["devices"]}
        assert rows["acc-sw4"]["modules"] == modules["acc-sw4"] - 1
        opened = rows["acc-sw4"]["open_incidents"] or rows["dist-sw2"]["open_incidents"]
        assert opened and all(i.startswith("SAK-") for i in opened), rows
        r = run_saksi("devices", "--inventory", str(out), "--db", db)
        assert r.returncode == 0 and opened[0] in r.stdout
    finally:
        def put_back() -> None:
            step = Step(at=site.now + 1, do="insert_transceiver",
                        args={"device": "acc-sw4", "port": canonical_port("Gi1/0/25")}, number=2)
            apply(site, lab.lab.scenario, step)
            lab.lab.settle(step.at)
        lab.call(put_back)


def test_progress_shows_on_a_terminal_and_the_file_stays_clean(lab: RunningLab, community: str,
                                                               tmp_path: Path) -> None:
    """On a terminal the spinner names each device as it is asked; what goes to the file is the inventory only."""
    import os
    import pty
    import re
    import subprocess
    import sys

    out = tmp_path / "hq.yaml"
    main, tty = pty.openpty()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "saksi"), "discover", lab.hosts["core-sw1"], "--site", "hq",
         "--community-env", COMMUNITY_ENV, "--snmp-port", str(lab.port), "--only", "127.0.0.0/8", "--out", str(out)],
        stdin=tty, stdout=tty, stderr=tty, env={**os.environ, "TERM": "xterm", "COLUMNS": "200"})
    os.close(tty)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(60) == 0, seen.decode(errors="replace")
    os.close(main)
    text = seen.decode(errors="replace")
    # the spinner shows the step it is on (how many steps it draws depends on the terminal's refresh rate)
    assert re.search(r"discovering: (depth \d: asking 127\.0\.0\.\d+|found \S+ \(\w+\) at 127\.0\.0\.)", text), text
    assert "inventory written to" in text
    assert "discovering" not in out.read_text() and load_inventory(out).devices.keys() == PLATFORMS.keys()


def test_a_neighbour_table_that_does_not_answer_is_reported_not_taken_for_no_neighbours(
        lab: RunningLab, community: str) -> None:
    def fault(how: str | None) -> None:
        dev = lab.lab.site.devices["dist-sw3"]
        if how is None:
            dev.table_faults.clear()
        else:
            apply(lab.lab.site, lab.lab.scenario, Step(lab.lab.site.now, "stop_answering",
                                                       {"device": "dist-sw3", "tables": ["lldpRemTable"], "how": how}, 1))
        lab.lab.settle(lab.lab.site.now)  # a new model version: the agents render their MIB again

    lab.call(lambda: fault("silent"))
    try:
        code, found, err = discover(lab, "--only", "127.0.0.0/8")
    finally:
        lab.call(lambda: fault(None))
    assert code == 0, err
    rows = {d["name"]: d for d in found["devices"]}
    assert set(rows) == set(PLATFORMS) - {"acc-sw5"}  # reachable only through dist-sw3's neighbours
    assert rows["dist-sw3"]["problems"] and "lldpRemTable" in rows["dist-sw3"]["problems"][0]
    assert "timeout" in rows["dist-sw3"]["problems"][0].lower() or "response" in rows["dist-sw3"]["problems"][0]
    assert all(not d["problems"] for name, d in rows.items() if name != "dist-sw3")
    # dist-sw3's links are still known from the other ends
    links = {frozenset((link["a"], link["b"])) for link in found["links"]}
    assert frozenset({"core-sw1:GigabitEthernet1/0/50", "dist-sw3:ge-0/0/24"}) in links
