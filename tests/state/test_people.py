"""The incident record has two owners: correlation and people each write only their own fields.

Real SQLite files, the daemon's own write path (`Monitor.save`), the people's own (`Desk`, and `saksi incident
note/ack` through the real entry point), at the same time: nothing either side writes is lost, and the CLI
and the API read one state.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from monitor.alerts.people import Desk
from monitor.daemon.monitor import Monitor, Settings, Unsaved
from monitor.inventory import load_inventory
from monitor.model import Snapshot, TableHealth, TableStatus
from monitor.state.store import Store
from monitor.witness.incidents import Incident
from tests.conftest import run_saksi

INVENTORY = """\
customers:
  - {name: acme}
sites:
  - {name: hq, customer: acme, timezone: UTC}
credentials:
  snmp:
    lab: {version: 2c, community: "public"}
devices:
  - {name: sw1, site: hq, host: 127.0.0.1, port: 9, platform: cisco_ios, snmp: lab}
"""
PORT = "GigabitEthernet1/0/1"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'saksi.db'}"


def monitor(tmp_path: Path, store: Store) -> Monitor:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(INVENTORY)
    return Monitor(load_inventory(inv), store, Settings(trap_port=None, config_root=tmp_path / "configs"))


def silent(t: float) -> Snapshot:
    return Snapshot("sw1", t, False, error="timeout", tables=(TableHealth("system", TableStatus.TIMEOUT),))


def evidence(t: float) -> dict[str, object]:
    return {"at": t, "seen_at": t, "source": "poll", "device": "sw1", "port": PORT, "what": "port_down",
            "before": "up", "after": "down", "detail": f"poll {t:g}"}


def daemon_writes(m: Monitor, inc: Incident, t: float) -> None:
    """What the daemon does after correlation touched `inc` at `t`: its one write path."""
    inc.add_evidence([evidence(t)])
    inc.updated_at = t
    inc.summary = f"{PORT} down, seen {len(inc.evidence)} times"
    assert m.save(Unsaved("sw1", "hq", silent(t), [], [inc]))


def opened(m: Monitor) -> Incident:
    inc = Incident(key=f"hq/sw1:{PORT}/unknown", cause="unknown", device="sw1", port=PORT, site="hq",
                   customer="acme", started_at=1.0, detected_at=1.0, updated_at=1.0)
    daemon_writes(m, inc, 1.0)
    assert inc.id == "SAK-000001", "the reference is given once, by the write that stores it"
    return inc


def test_notes_and_acks_survive_the_daemon_rewriting_the_incident(tmp_path: Path, db: str) -> None:
    """The daemon rewrites one incident in a loop while people (threads with their own connections, and
    real `saksi` processes) add notes and acknowledge it: every note, the ack and every poll are kept."""
    m = monitor(tmp_path, Store(db))
    inc = opened(m)
    polls, notes = 120, 30
    failures: list[BaseException] = []

    def daemon() -> None:
        try:
            for n in range(polls):
                daemon_writes(m, inc, 10.0 + n)
        except BaseException as exc:  # reported below, with the assertion that lost it
            failures.append(exc)

    def person(name: str) -> None:
        try:
            with Store(db) as store:
                desk = Desk(store)
                for n in range(notes):
                    desk.note(inc.id, name, f"{name} {n}", 100.0 + n)
                    if name == "aino" and n == notes // 2:
                        desk.ack(inc.id, "aino", 200.0)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=daemon), threading.Thread(target=person, args=("aino",)),
               threading.Thread(target=person, args=("bo",))]
    for t in threads:
        t.start()
    cli = [run_saksi("incident", "note", inc.id, f"from the CLI {n}", "--by", "cid", "--db", db)
           for n in range(3)]
    for t in threads:
        t.join(120)
    m.close()
    assert not failures, failures
    assert all(r.returncode == 0 for r in cli), [r.stderr for r in cli]

    with Store(db) as store:
        got = store.incident(inc.id)
    assert got is not None
    texts = {n["text"] for n in got.notes}
    wanted = {f"{who} {n}" for who in ("aino", "bo") for n in range(notes)} | {f"from the CLI {n}" for n in range(3)}
    assert wanted <= texts, f"lost notes: {sorted(wanted - texts)}"
    assert (got.owner, got.acked_by, got.state) == ("aino", "aino", "acknowledged")
    assert len(got.evidence) == polls + 1 and got.summary == f"{PORT} down, seen {polls + 1} times"


def test_a_note_without_alerting_survives_the_next_daemon_write_and_the_cli_shows_one_state(
        tmp_path: Path, db: str) -> None:
    m = monitor(tmp_path, Store(db))
    inc = opened(m)
    r = run_saksi("incident", "note", inc.id, "optic cleaned, watching it", "--by", "aino", "--db", db)
    assert r.returncode == 0, r.stderr
    daemon_writes(m, inc, 60.0)  # no --alerting: nothing copies the note back, and nothing needs to
    shown = run_saksi("incident", "show", inc.id, "--db", db)
    assert "optic cleaned, watching it" in shown.stdout, shown.stdout

    assert run_saksi("incident", "ack", inc.id, "--by", "aino", "--db", db).returncode == 0
    daemon_writes(m, inc, 120.0)
    listed = json.loads(run_saksi("incidents", "--json", "--db", db).stdout)
    assert [(i["id"], i["state"], i["owner"]) for i in listed] == [(inc.id, "acknowledged", "aino")]
    table = run_saksi("incidents", "--db", db).stdout
    assert "acknowledged" in table, table
    m.close()


def test_a_resolution_by_hand_holds_until_correlation_sees_the_problem_again(tmp_path: Path, db: str) -> None:
    m = monitor(tmp_path, Store(db))
    inc = opened(m)
    with Store(db) as store:
        Desk(store).resolve(inc.id, "aino", 50.0, "replaced the patch cord")
    daemon_writes(m, inc, 60.0)  # correlation still has it open: the person's word stands
    with Store(db) as store:
        got = store.incident(inc.id)
        assert got is not None and got.state == "resolved" and got.resolved_at == 50.0
        assert got.resolution == "resolved by aino: replaced the patch cord"
        assert store.open_incidents() == []
    inc.resolved_at, inc.resolution = 70.0, "link back up"  # correlation's own resolution, then a flap
    daemon_writes(m, inc, 70.0)
    inc.resolved_at, inc.resolution, inc.flaps = None, "", 1
    daemon_writes(m, inc, 80.0)
    with Store(db) as store:
        assert [i.id for i in store.open_incidents()] == [inc.id], "the problem came back: open again"
    m.close()


def test_the_problem_raised_anew_after_a_resolution_by_hand_is_a_new_incident(tmp_path: Path, db: str) -> None:
    """Once a person resolved it, correlation reads the incident closed (the pipeline and a restart both join
    the people's side) and never writes it again; the same problem later is a new incident of the same key."""
    m = monitor(tmp_path, Store(db))
    inc = opened(m)
    with Store(db) as store:
        Desk(store).resolve(inc.id, "aino", 50.0, "replaced the patch cord")
    again = Incident(key=inc.key, cause="unknown", device="sw1", port=PORT, site="hq", customer="acme",
                     started_at=5000.0, detected_at=5000.0, updated_at=5000.0)
    daemon_writes(m, again, 5000.0)
    with Store(db) as store:
        assert [(i.id, i.state) for i in store.incidents()] == [(inc.id, "resolved"), (again.id, "open")]
        assert store.incident(inc.id).resolution == "resolved by aino: replaced the patch cord"  # type: ignore[union-attr]
    m.close()
