"""The state store on real SQLite files: snapshots, module sightings, changes, incidents, crash safety."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from monitor.common.names import canonical_port
from monitor.lab import runner, scenario
from monitor.model import Snapshot, TableHealth, TableStatus
from monitor.state.serialize import snapshot_to_dict
from monitor.state.store import Store
from monitor.witness.changes import ChangeKind, detect
from monitor.witness.correlate import Correlator
from monitor.witness.incidents import Incident
from monitor.witness.observer import Witness
from monitor.witness.topology import Topology

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
ROOT = Path(__file__).resolve().parents[2]
SITE = "hq"


@pytest.fixture(scope="module")
def lab() -> dict[str, list[Snapshot]]:
    """sfp-moved-on-core: the backbone module moves from core-sw1 Gi1/0/49 to Gi1/0/50 at t=300."""
    return asyncio.run(runner.run(scenario.load(SCENARIOS / "sfp-moved-on-core.yaml"))).snapshots


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state' / 'saksi.db'}"


def unreachable(device: str, t: float) -> Snapshot:
    return Snapshot(device, t, False, error="timeout",
                    tables=(TableHealth("system", TableStatus.TIMEOUT),))


def with_entity_status(s: Snapshot, status: TableStatus) -> Snapshot:
    return dataclasses.replace(s, tables=tuple(
        dataclasses.replace(t, status=status) if t.table == "entPhysicalTable" else t for t in s.tables))


def incident(key: str = "core-sw1:Gi1/0/49:moved", **kw: object) -> Incident:
    base: dict[str, object] = {"key": key, "cause": "transceiver_moved", "device": "core-sw1",
                               "port": "GigabitEthernet1/0/49", "site": SITE, "customer": "acme",
                               "started_at": 300.0, "detected_at": 300.0, "updated_at": 300.0,
                               "summary": "module moved"}
    base.update(kw)
    return Incident(**base)  # type: ignore[arg-type]


def test_creates_folder_and_uses_wal(url: str, tmp_path: Path) -> None:
    with Store(url):
        pass
    db = tmp_path / "state" / "saksi.db"
    assert db.is_file()
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_latest_snapshot_per_device_survives_reopen(url: str, lab: dict[str, list[Snapshot]]) -> None:
    with Store(url) as store:
        for core, dist in itertools.zip_longest(lab["core-sw1"], lab["dist-sw2"]):  # polls need not pair up
            if core is not None:
                store.save_observation(SITE, core)
            if dist is not None:
                store.save_observation("branch", dist)
    with Store(url) as store:
        last = store.last_snapshots()
        assert last == {"core-sw1": lab["core-sw1"][-1], "dist-sw2": lab["dist-sw2"][-1]}
        assert store.last_snapshots(site=SITE) == {"core-sw1": lab["core-sw1"][-1]}
        assert store.last_good_snapshots(site="branch") == {"dist-sw2": lab["dist-sw2"][-1]}
        assert store.last_snapshots(site="nowhere") == {}


def test_unreachable_poll_is_last_but_not_last_good(url: str, lab: dict[str, list[Snapshot]]) -> None:
    good = lab["core-sw1"][3]
    with Store(url) as store:
        store.save_observation(SITE, good)
        store.save_observation(SITE, unreachable("core-sw1", good.taken_at + 60))
    with Store(url) as store:
        assert store.last_snapshots()["core-sw1"] == unreachable("core-sw1", good.taken_at + 60)
        assert store.last_good_snapshots()["core-sw1"] == good


def test_sightings_follow_a_moved_module(url: str, lab: dict[str, list[Snapshot]]) -> None:
    core = lab["core-sw1"]
    moved = core[0].transceivers[0]
    with Store(url) as store:
        for s in core + lab["dist-sw2"]:
            store.save_observation(SITE, s)
        seen = store.whereis(moved.serial)
    assert [(s.device, s.port) for s in seen] == [("core-sw1", canonical_port("Gi1/0/50")),
                                                 ("core-sw1", canonical_port("Gi1/0/49"))]
    new, old = seen
    assert old.first_seen == core[0].taken_at and new.last_seen == core[-1].taken_at
    assert old.last_seen < 300 <= new.first_seen  # the move happened at t=300
    assert (new.vendor, new.model, new.serial) == (moved.vendor, moved.model, moved.serial)
    far = lab["dist-sw2"][0].transceivers[0]
    (only,) = Store(url).whereis(far.serial)  # the far end never moved: one sighting, the whole run
    assert (only.device, only.first_seen, only.last_seen) == (
        "dist-sw2", lab["dist-sw2"][0].taken_at, lab["dist-sw2"][-1].taken_at)
    assert Store(url).whereis("NO-SUCH-SERIAL") == []


@pytest.mark.parametrize("bad", ["unreachable", TableStatus.PARTIAL, TableStatus.TIMEOUT, "no entity table"])
def test_no_sighting_from_a_silent_or_partial_poll(url: str, lab: dict[str, list[Snapshot]], bad: object) -> None:
    core = lab["core-sw1"]
    before, after = core[0], next(s for s in core if s.taken_at >= 300)  # after: the module sits in Gi1/0/50
    serial = before.transceivers[0].serial
    if bad == "unreachable":
        doubtful = dataclasses.replace(after, reachable=False)
    elif bad == "no entity table":
        doubtful = dataclasses.replace(after, tables=tuple(t for t in after.tables if t.table != "entPhysicalTable"))
    else:
        doubtful = with_entity_status(after, bad)  # type: ignore[arg-type]
    with Store(url) as store:
        store.save_observation(SITE, before)
        store.save_observation(SITE, doubtful)
        (only,) = store.whereis(serial)
        assert (only.port, only.first_seen, only.last_seen) == (
            canonical_port("Gi1/0/49"), before.taken_at, before.taken_at)
        store.save_observation(SITE, with_entity_status(after, TableStatus.OK))
        assert [s.port for s in store.whereis(serial)] == [canonical_port("Gi1/0/50"), canonical_port("Gi1/0/49")]


def test_changes_are_kept_in_order(url: str, lab: dict[str, list[Snapshot]]) -> None:
    found = {d: [c for a, b in itertools.pairwise(s) for c in detect(a, b, b.taken_at)] for d, s in lab.items()}
    with Store(url) as store:
        store.save_observation(SITE, changes=found["core-sw1"])
        store.save_observation("branch", changes=found["dist-sw2"])
        store.save_observation(SITE, changes=[])
    with Store(url) as store:
        assert store.changes(device="core-sw1") == found["core-sw1"]
        assert store.changes(site="branch") == found["dist-sw2"]
        every = store.changes()
        assert sorted(every, key=lambda c: c.at) == every and len(every) == sum(map(len, found.values()))
        assert ChangeKind.TRANSCEIVER_INSERTED in {c.kind for c in store.changes(device="core-sw1", since=300)}
        assert store.changes(since=10_000) == []


def test_incidents_are_written_by_id_and_numbered_once(url: str) -> None:
    ev1 = {"at": 300.0, "seen_at": 300.0, "source": "poll", "device": "core-sw1", "port": "GigabitEthernet1/0/49",
           "what": "transceiver_removed", "before": {"serial": "S1"}, "after": None, "detail": ""}
    with Store(url) as store:
        first = incident(evidence=[ev1])
        assert store.upsert_incident(first) is first and first.id == "SAK-000001"
        first.updated_at, first.summary = 360.0, "module moved, seen again"
        store.upsert_incident(first)  # correlation's next view of the same incident: written by its id
        other = store.upsert_incident(incident(key="dist-sw2:Gi1/0/25:down", device="dist-sw2", site="branch"))
        assert other.id == "SAK-000002"
        assert [(i.id, i.summary) for i in store.open_incidents()] == [
            ("SAK-000001", "module moved, seen again"), ("SAK-000002", "module moved")]
        with pytest.raises(IntegrityError):  # one open incident per key: correlation groups, the store does not
            store.upsert_incident(incident(evidence=[ev1]))

        first.resolved_at, first.resolution = 900.0, "module back in its port"
        store.upsert_incident(first)
        assert [i.id for i in store.open_incidents()] == ["SAK-000002"]
        reraised = store.upsert_incident(incident(started_at=1000.0))  # same key after resolution: a new one
        assert reraised.id == "SAK-000003", "the refused insert rolled back whole: its number too"

        assert store.incident("SAK-000001").resolution == "module back in its port"  # type: ignore[union-attr]
        assert store.incident("sak-1") == store.incident("1") == store.incident("SAK-000001")
        assert store.incident("SAK-000999") is None and store.incident("garbage") is None
        assert [i.id for i in store.incidents(site="branch")] == ["SAK-000002"]
        assert [i.id for i in store.incidents(customer="acme", open_only=True)] == ["SAK-000002", "SAK-000003"]
        assert [i.id for i in store.incidents(site=SITE, resolved_since=900.0)] == ["SAK-000001", "SAK-000003"]
        assert [i.id for i in store.incidents(site=SITE, resolved_since=901.0)] == ["SAK-000003"]
        assert store.incidents(customer="other") == []


def test_incident_ids_are_stable_and_never_reused_across_restart(url: str) -> None:
    with Store(url) as store:
        a = store.upsert_incident(incident(key="a"))
        b = store.upsert_incident(incident(key="b"))
    with Store(url) as store:  # the daemon restarts: it resumes, it does not re-raise
        assert [i.id for i in store.open_incidents(site=SITE)] == [a.id, b.id]
        assert store.upsert_incident(a).id == a.id
        c = store.upsert_incident(incident(key="c"))
    with Store(url) as store:
        d = store.upsert_incident(incident(key="d"))
        ids = [i.id for i in store.incidents()]
    assert ids == ["SAK-000001", "SAK-000002", "SAK-000003", "SAK-000004"] and [c.id, d.id] == ids[2:]
    rows = sqlite3.connect(url.removeprefix("sqlite:///")).execute("SELECT data FROM incidents").fetchall()
    assert Incident.from_json(json.loads(rows[0][0])) == Store(url).incident(a.id)


def test_a_store_written_before_the_memory_table_resumes_from_its_meta_keys(url: str) -> None:
    links = {"core-sw1:GigabitEthernet1/0/49": "dist-sw2:GigabitEthernet1/0/25"}
    removal = {"at": 300.0, "key": "hq/core-sw1:GigabitEthernet1/0/49/transceiver_removed", "device": "core-sw1",
               "port": "GigabitEthernet1/0/49"}
    with Store(url) as store:
        assert store.get_meta("learned:hq") is None and store.get_meta("x", default=[]) == []
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:  # what an older Saksi wrote, key by key
        db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
            ("learned:hq", json.dumps(links)), ("removals:hq", json.dumps({"FNS1": removal}))])
    w = Witness(Correlator(Topology()))
    with Store(url) as store:
        assert store.get_meta("learned:hq") == links
        store.resume(w, "hq", resolved_since=0.0)
    assert w.correlator.topology.learned == links and w.state.removals == {"FNS1": removal}


# --- crash safety: a real process killed with SIGKILL in the middle of a transaction ----------------

CHILD = textwrap.dedent("""
    import json, sys, time
    from sqlalchemy import event
    from monitor.witness.incidents import Incident
    from monitor.state.serialize import snapshot_from_dict
    from monitor.state.store import Store

    url, op, snap_file = sys.argv[1:4]
    store = Store(url)
    writes = 0

    @event.listens_for(store.engine, "after_cursor_execute")
    def stall(conn, cursor, statement, params, context, executemany):
        global writes
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            writes += 1
            if writes == 3:  # some of the transaction is written, not all of it
                print("IN-TRANSACTION", flush=True)
                time.sleep(600)

    if op == "snapshot":
        store.save_observation("hq", snapshot_from_dict(json.load(open(snap_file))))
    else:
        store.upsert_incident(Incident(key="k2", cause="unknown", device="x", port=None, summary="half"))
        store.upsert_incident(Incident(key="k3", cause="unknown", device="x", port=None, summary="never"))
    print("FINISHED", flush=True)
""")


@pytest.mark.parametrize("op", ["snapshot", "incident"])
def test_sigkill_mid_transaction_keeps_the_previous_state(url: str, tmp_path: Path,
                                                          lab: dict[str, list[Snapshot]], op: str) -> None:
    core = lab["core-sw1"]
    before, after = core[0], next(s for s in core if s.taken_at >= 300)
    with Store(url) as store:
        store.save_observation(SITE, before)
        first = store.upsert_incident(incident(key="k1"))
    snap_file = tmp_path / "after.json"
    snap_file.write_text(json.dumps(snapshot_to_dict(after)))
    # with op=incident the stall comes in the second upsert: the first one commits
    proc = subprocess.Popen([sys.executable, "-c", CHILD, url, op, str(snap_file)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline() if ready else ""  # type: ignore[union-attr]
        assert line.strip() == "IN-TRANSACTION", proc.stderr.read() if proc.poll() is not None else line  # type: ignore[union-attr]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    db = url.removeprefix("sqlite:///")
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Store(url) as store:  # reopen, as the restarted daemon does
        assert store.last_snapshots() == {"core-sw1": before}
        serial = before.transceivers[0].serial
        assert [(s.port, s.last_seen) for s in store.whereis(serial)] == [(canonical_port("Gi1/0/49"), 0.0)]
        ids = [i.id for i in store.incidents()]
        if op == "snapshot":
            assert ids == [first.id]
        else:
            assert ids == [first.id, "SAK-000002"]  # k2 committed; k3 died half-written and left nothing
            assert store.incident("SAK-000002").key == "k2"  # type: ignore[union-attr]
        # the lock died with the process: the store takes writes again, and numbering goes on
        store.save_observation(SITE, after)
        assert store.last_snapshots()["core-sw1"] == after
        assert store.upsert_incident(incident(key="k9")).id == f"SAK-{len(ids) + 1:06d}"
