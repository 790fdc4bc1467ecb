"""`saksi incidents`, `saksi incident show`, `saksi whereis` through the real entry point, on a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.model import Port, Snapshot, TableHealth, TableStatus, Transceiver
from monitor.state.store import Store
from monitor.witness.incidents import Incident
from tests.conftest import run_saksi
from tests.state.seed import seed

SERIAL = "FNS6639DE3E"
GI49, GI50 = "GigabitEthernet1/0/49", "GigabitEthernet1/0/50"


def poll(t: float, port_ifindex: int) -> Snapshot:
    return Snapshot(
        "core-sw1", t, True, ports=(Port(10149, GI49), Port(10150, GI50)),
        transceivers=(Transceiver("CISCO", "GLC-LX-SMD", SERIAL, ifindex=port_ifindex),),
        tables=(TableHealth("ifTable", TableStatus.OK, 2), TableHealth("entPhysicalTable", TableStatus.OK, 3)))


MOVED = Incident(
    key="core-sw1:moved:FNS6639DE3E", cause="transceiver_moved", device="core-sw1", port=GI49, site="hq",
    customer="acme", link={"a": f"core-sw1:{GI49}", "b": "dist-sw2:GigabitEthernet1/0/25"},
    started_at=1_700_000_290.0, detected_at=1_700_000_300.0, updated_at=1_700_000_300.0,
    summary="module FNS6639DE3E moved from Gi1/0/49 to Gi1/0/50", confidence="medium",
    missing=["LLDP from dist-sw2"], serial=SERIAL,
    evidence=[
        {"at": 1_700_000_290.0, "seen_at": 1_700_000_300.0, "source": "poll", "device": "core-sw1", "port": GI49,
         "what": "transceiver_removed", "before": {"vendor": "CISCO", "model": "GLC-LX-SMD", "serial": SERIAL},
         "after": None, "detail": ""},
        {"at": 1_700_000_295.0, "seen_at": 1_700_000_300.0, "source": "trap", "device": "core-sw1", "port": GI49,
         "what": "port_down", "before": "up", "after": "down", "detail": ""},
    ])
REBOOT = Incident(key="dist-sw9:reboot", cause="device_rebooted", device="dist-sw9", port=None, site="branch",
                  started_at=1_700_000_000.0, detected_at=1_700_000_060.0, resolved_at=1_700_000_600.0,
                  summary="dist-sw9 rebooted", resolution="came back")


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'saksi.db'}"
    with Store(url) as store:
        store.upsert_incident(REBOOT)  # SAK-000001, resolved
        store.upsert_incident(MOVED)  # SAK-000002, open
        seed(store, "hq", [poll(1_700_000_000.0, 10149), poll(1_700_000_240.0, 10149), poll(1_700_000_300.0, 10150)])
    return url


def test_incidents_lists_all_or_open_or_one_site(db: str) -> None:
    r = run_saksi("incidents", "--db", db)
    assert r.returncode == 0, r.stderr
    assert "SAK-000001" in r.stdout and "SAK-000002" in r.stdout and "transceiver_moved" in r.stdout
    assert "2023-11-14T22:23:20Z" in r.stdout  # REBOOT.resolved_at, ISO 8601 UTC
    r = run_saksi("incidents", "--open", "--db", db)
    assert "SAK-000002" in r.stdout and "SAK-000001" not in r.stdout
    r = run_saksi("incidents", "--site", "branch", "--db", db)
    assert "SAK-000001" in r.stdout and "SAK-000002" not in r.stdout
    r = run_saksi("incidents", "--site", "nowhere", "--db", db)
    assert r.returncode == 0 and "no incidents" in r.stdout


def test_incidents_json_is_the_public_view(db: str) -> None:
    r = run_saksi("incidents", "--json", "--db", db)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    with Store(db) as store:
        assert data == [i.public() for i in store.incidents()]
    assert [d["id"] for d in data] == ["SAK-000001", "SAK-000002"] and data[1]["link"] == MOVED.link
    assert json.loads(run_saksi("incidents", "--open", "--json", "--db", db).stdout)[0]["id"] == "SAK-000002"


def test_incident_show_tells_cause_where_when_and_evidence(db: str) -> None:
    r = run_saksi("incident", "show", "SAK-000002", "--db", db)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for text in ("transceiver_moved", "site hq, device core-sw1, port GigabitEthernet1/0/49",
                 "dist-sw2:GigabitEthernet1/0/25", "2023-11-14T22:18:10Z", "2023-11-14T22:18:20Z",
                 "module FNS6639DE3E moved", "medium", "LLDP from dist-sw2", "evidence", "trap", "port_down",
                 "up → down", "CISCO GLC-LX-SMD FNS6639DE3E → -"):
        assert text in out, text
    assert out.index("transceiver_removed") < out.index("port_down")  # the timeline in time order
    assert "resolved" in run_saksi("incident", "show", "1", "--db", db).stdout  # a person may type just the number


def test_incident_show_json_and_unknown_id(db: str) -> None:
    r = run_saksi("incident", "show", "sak-000002", "--json", "--db", db)
    assert r.returncode == 0, r.stderr
    with Store(db) as store:
        assert json.loads(r.stdout) == store.incident("SAK-000002").public()  # type: ignore[union-attr]
    r = run_saksi("incident", "show", "SAK-000099", "--db", db)
    assert r.returncode == 2 and r.stdout == ""
    assert "no incident 'SAK-000099'" in r.stderr


def test_whereis_lists_places_newest_first(db: str) -> None:
    r = run_saksi("whereis", SERIAL, "--db", db)
    assert r.returncode == 0, r.stderr
    assert r.stdout.index(GI50) < r.stdout.index(GI49) and "GLC-LX-SMD" in r.stdout
    data = json.loads(run_saksi("whereis", SERIAL, "--json", "--db", db).stdout)
    assert [(d["port"], d["first_seen"], d["last_seen"]) for d in data] == [
        (GI50, 1_700_000_300.0, 1_700_000_300.0), (GI49, 1_700_000_000.0, 1_700_000_240.0)]
    r = run_saksi("whereis", "NOPE123", "--db", db)
    assert r.returncode == 1 and "never seen" in r.stderr
    assert run_saksi("whereis", "NOPE123", "--json", "--db", db).stdout.strip() == "[]"


def test_db_from_environment_and_missing_store(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAKSI_DB", db)  # run_saksi's child inherits the environment
    assert "SAK-000002" in run_saksi("incidents", "--open").stdout
    missing = tmp_path / "nothing" / "here.db"
    r = run_saksi("incidents", "--db", f"sqlite:///{missing}")
    assert r.returncode == 2 and "no store at" in r.stderr
    assert not missing.exists() and not missing.parent.exists()  # reading never creates an empty store
