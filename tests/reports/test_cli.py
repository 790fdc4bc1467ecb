"""`saksi report`, `saksi reports`, `saksi triage` and `saksi tokens add --can-report` through the real entry
point, on a real SQLite store: one line and exit 2 for what cannot be taken, the answer otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.reports.records import link_may_report
from monitor.state.store import Store
from monitor.web import accounts
from tests.conftest import run_saksi
from tests.reports.conftest import healthy
from tests.state.seed import seed


@pytest.fixture
def world(tmp_path: Path, inv_file: Path) -> tuple[Path, str]:
    inv = inv_file
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    with Store(db) as store:
        for name, snap in healthy().items():
            seed(store, "far" if name == "edge-9" else "hq", [snap])
    return inv, db


@pytest.mark.parametrize(("args", "why"), [
    (["--site", "hq", "--device", "edge-9"], "saksi: no device 'edge-9' at site hq"),
    (["--site", "hq", "--device", "acc-sw3", "--port", "Gi1/0/99"], "saksi: no port 'Gi1/0/99' on acc-sw3"),
    (["--site", "nowhere"], "saksi: unknown site 'nowhere'"),
])
def test_what_cannot_be_taken_is_one_line(world: tuple[Path, str], args: list[str], why: str) -> None:
    inv, db = world
    r = run_saksi("report", *args, "--by", "Ann", "--inventory", str(inv), "--db", db, "it is broken")
    assert (r.returncode, r.stderr.strip()) == (2, why)
    assert run_saksi("reports", "--site", "hq", "--db", db).stdout == "no reports\n"


def test_a_phoned_in_report_opens_an_incident_with_a_triage(world: tuple[Path, str]) -> None:
    inv, db = world
    r = run_saksi("report", "--site", "hq", "--device", "acc-sw3", "--port", "Gi1/0/3", "--by", "Ann",
                  "--inventory", str(inv), "--db", db, "--json", "the meeting room PC has no network")
    assert r.returncode == 0, r.stderr
    reply = json.loads(r.stdout)
    assert (reply["incident"], reply["attached"]) == ("SAK-000001", False) and reply["triage"]["healthy"]
    again = json.loads(run_saksi("report", "--site", "hq", "--device", "acc-sw3", "--by", "Bob", "--inventory",
                                 str(inv), "--db", db, "--json", "still nothing").stdout)
    assert (again["incident"], again["attached"]) == ("SAK-000001", True)
    listed = run_saksi("reports", "--incident", "sak-1", "--db", db).stdout.splitlines()
    assert [line.split()[5] for line in listed] == ["Ann", "Bob"]
    t = run_saksi("triage", "--site", "hq", "--inventory", str(inv), "--db", db)
    assert t.returncode == 0 and "Triage of site hq" in t.stdout and "edge-9" not in t.stdout


def test_a_link_that_may_report(world: tuple[Path, str]) -> None:
    inv, db = world
    where = ("--customer", "acme", "--site", "hq", "--inventory", str(inv), "--db", db)
    r = run_saksi("tokens", "add", *where, "--can-report")
    assert r.returncode == 0, r.stderr
    plain = run_saksi("tokens", "add", *where)
    with Store(db) as store:
        accounts.create_tables(store.engine)
        assert link_may_report(store.engine, r.stdout.split()[0])
        assert not link_may_report(store.engine, plain.stdout.split()[0])
