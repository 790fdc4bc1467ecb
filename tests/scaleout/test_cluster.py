"""Membership, slicing and leadership on a real PostgreSQL: pure slicing first, then two members."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from monitor.daemon.cluster import Cluster, lock_key, members, owner, slice_of
from monitor.state.store import Store, StoreError
from tests.conftest import run_saksi
from tests.pg import Postgres

SITES = [f"site-{n}" for n in range(40)]


@pytest.mark.parametrize("names", [["a"], ["a", "b"], ["a", "b", "c"], ["c1", "c2", "c3", "c4", "c5"]])
def test_slices_are_disjoint_and_cover_every_site(names: list[str]) -> None:
    slices = [slice_of(m, SITES, names) for m in names]
    assert set().union(*slices) == set(SITES)
    assert sum(len(s) for s in slices) == len(SITES)
    if len(names) > 1:
        assert all(slices), "40 sites: every member gets some"


def test_a_death_moves_only_the_dead_members_sites() -> None:
    before = {s: owner(s, ["a", "b", "c"]) for s in SITES}
    after = {s: owner(s, ["a", "c"]) for s in SITES}
    moved = {s for s in SITES if before[s] != after[s]}
    assert moved == {s for s in SITES if before[s] == "b"}
    assert lock_key("saksi:leader") == lock_key("saksi:leader") != lock_key("saksi:site:x")


def test_sqlite_cannot_be_shared(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store, pytest.raises(StoreError, match="PostgreSQL"):
        Cluster(store, "a")


def test_two_members_split_sites_and_one_leads_until_its_connection_dies(postgres: Postgres) -> None:
    sa, sb = Store(postgres.url), Store(postgres.url)
    a, b = Cluster(sa, "a", timeout_s=30), Cluster(sb, "b", timeout_s=30)
    try:
        pa = a.step(SITES, set())
        assert pa.take == frozenset(SITES) and pa.leader, "alone: every site, and the lead"
        pb = b.step(SITES, set())
        assert pb.take == frozenset() and not pb.leader, "a holds every lock until it lets go"
        pa = a.step(SITES, set(SITES))  # a now sees b alive: it gives b's slice up...
        assert pa.drop == frozenset(slice_of("b", SITES, ["a", "b"])) and pa.leader
        a.release(pa.drop)
        pb = b.step(SITES, set())  # ...and b takes it
        assert pb.take == pa.drop and not pb.leader
        rows = {r["name"]: r for r in members(sa)}
        assert set(rows["a"]["sites"]).isdisjoint(rows["b"]["sites"])
        assert set(rows["a"]["sites"]) | set(rows["b"]["sites"]) == set(SITES)

        # a's process dies: its connection (and its session locks) go with it
        assert a._conn is not None
        with sb.engine.connect() as admin:
            pid = a._conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            for _ in range(100):  # termination is asynchronous: the locks go when the backend has exited
                gone = admin.execute(text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :p"), {"p": pid})
                if gone.scalar():
                    break
                time.sleep(0.05)
        pb = b.step(SITES, set(slice_of("b", SITES, ["a", "b"])))
        assert pb.leader, "the lead moved at b's next attempt"
        assert pb.take == frozenset(), "a is still within its heartbeat timeout: its sites wait"
    finally:
        a.leave()
        b.leave()
        sa.close()
        sb.close()


def test_saksi_run_refuses_a_member_on_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    inv = tmp_path / "inv.yaml"
    inv.write_text("customers: [{name: acme}]\nsites: [{name: hq, customer: acme}]\ndevices: []\n")
    r = run_saksi("run", "--member", "a", "--inventory", str(inv), "--db", f"sqlite:///{tmp_path / 's.db'}")
    assert r.returncode == 2 and "needs a shared PostgreSQL store" in r.stderr, r.stderr
