"""`saksi maintenance`, `saksi oncall` and `saksi incident ack|assign|escalate|note|resolve` through the real
entry point, on a real store; the daemon's pipeline then sends what the people's actions call for."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from monitor.alerts.config import load_alerting
from monitor.alerts.pipeline import build_pipeline
from monitor.state.store import Store
from tests.alerts.conftest import Mailbox, Webhook, alerting_yaml
from tests.alerts.test_pipeline import removed
from tests.conftest import run_saksi


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'saksi.db'}"


def saksi(*args: str) -> tuple[int, str, str]:
    r = run_saksi(*args)
    return r.returncode, r.stdout, r.stderr


def test_maintenance_add_list_remove(db: str) -> None:
    Store(db).close()
    code, out, err = saksi("maintenance", "add", "--device", "core-sw1", "--port", "Gi1/0/49", "--for", "2h",
                           "--reason", "CHG-1234 optics swap", "--by", "aino", "--db", db)
    assert code == 0, err
    assert out.startswith("maintenance #1: port core-sw1 Gi1/0/49 from ") and "CHG-1234 optics swap" in out
    code, out, _ = saksi("maintenance", "list", "--json", "--db", db)
    (w,) = json.loads(out)
    assert (w["device"], w["port"], w["created_by"]) == ("core-sw1", "Gi1/0/49", "aino")
    assert 7190 < w["ends_at"] - w["starts_at"] <= 7200
    assert saksi("maintenance", "list", "--db", db)[1].count("active") == 1
    assert saksi("maintenance", "remove", "1", "--db", db)[0] == 0
    assert json.loads(saksi("maintenance", "list", "--json", "--db", db)[1]) == []
    assert "removed" in saksi("maintenance", "list", "--all", "--db", db)[1]
    code, _, err = saksi("maintenance", "remove", "1", "--db", db)
    assert code == 2 and "no maintenance window #1" in err


@pytest.mark.parametrize("args,message", [
    (["--reason", "x", "--for", "1h"], "give --site, or --device"),
    (["--site", "hq", "--reason", "x"], "give the end"),
    (["--site", "hq", "--reason", "x", "--for", "soon"], "cannot read duration 'soon'"),
    (["--site", "hq", "--reason", "x", "--until", "2001-01-01T00:00:00Z"], "must end after it starts"),
    (["--port", "Gi1/0/1", "--reason", "x", "--for", "1h", "--site", "hq"], "--port needs --device"),
])
def test_maintenance_add_refuses_what_it_cannot_honour(db: str, args: list[str], message: str) -> None:
    Store(db).close()
    code, _, err = saksi("maintenance", "add", *args, "--db", db)
    assert code == 2 and message in err and "Traceback" not in err


def test_people_work_an_incident_and_the_daemon_tells_them(tmp_path: Path, db: str, smtp: Mailbox,
                                                           webhook: Webhook) -> None:
    alerting = alerting_yaml(tmp_path, smtp, webhook)
    store = Store(db)
    now = time.time()
    inc = store.upsert_incident(removed(t=now, ref=""))
    pipeline = build_pipeline(load_alerting(alerting), store)
    pipeline.track([inc])
    assert [n["owner"] for n in pipeline.process([inc], now)] == ["alice"]

    code, _, err = saksi("incident", "ack", "SAK-000001", "--by", "bob", "--db", db)
    assert code == 2 and "owned by alice" in err, "two people never work one incident without knowing"
    code, out, err = saksi("incident", "assign", "1", "bob", "--by", "alice", "--alerting", str(alerting),
                           "--db", db)
    assert code == 0 and out.startswith("SAK-000001: owner bob"), err
    code, out, err = saksi("incident", "assign", "1", "zed", "--by", "alice", "--alerting", str(alerting),
                           "--db", db)
    assert code == 2 and "unknown person 'zed'" in err
    code, out, err = saksi("incident", "ack", "SAK-000001", "--by", "bob", "--note", "checking optics", "--db", db)
    assert code == 0 and "acknowledged by bob" in out, err
    assert saksi("incident", "note", "SAK-000001", "dist-sw2 side is dark, driving there", "--by", "bob",
                 "--db", db)[0] == 0
    code, out, err = saksi("incident", "escalate", "SAK-000001", "--by", "bob", "--db", db)
    assert code == 2 and "--alerting" in err
    code, out, err = saksi("incident", "escalate", "SAK-000001", "--by", "bob", "--alerting", str(alerting),
                           "--db", db)
    assert code == 0 and "owner carol (tier 2)" in out and "the daemon will send the escalated message" in out
    (esc,) = pipeline.tick(time.time())
    assert (esc["transition"], esc["owner"]) == ("escalated", "carol")
    assert "dist-sw2 side is dark, driving there" in esc["body"]
    code, out, err = saksi("incident", "escalate", "SAK-000001", "--by", "carol", "--alerting", str(alerting),
                           "--db", db)
    assert code == 2 and "already at the last tier" in err
    code, out, err = saksi("incident", "resolve", "SAK-000001", "--by", "carol", "--note", "SFP re-seated",
                           "--db", db)
    assert code == 0, err
    (res,) = pipeline.tick(time.time())
    assert res["transition"] == "resolved" and "resolved by carol: SFP re-seated" in res["body"]
    assert pipeline.tick(time.time() + 3600) == []
    pipeline.close()
    smtp.wait_for(3)
    assert [m["Subject"].split()[1] for m in smtp.to("alice")] == ["OPENED"]
    assert [m["Subject"].split()[1] for m in smtp.to("carol")] == ["ESCALATED", "RESOLVED"]

    code, out, _ = saksi("incident", "show", "SAK-000001", "--db", db)
    assert "resolved" in out and "carol (tier 2)" in out
    for text in ("notes", "checking optics", "driving there", "alerting decisions", "assigned_by:alice",
                 "acked_by:bob", "escalated_by:bob", "resolved_by:carol", "escalation_to_tier:2"):
        assert text in out, text
    shown = json.loads(saksi("incident", "show", "SAK-000001", "--db", db, "--json")[1])
    assert shown["owner"] == "carol" and shown["resolved_at"] is not None
    assert [n["author"] for n in shown["notes"]] == ["bob", "bob", "carol"]
    code, _, err = saksi("incident", "ack", "SAK-000001", "--by", "carol", "--db", db)
    assert code == 2 and "is resolved" in err
    code, _, err = saksi("incident", "note", "SAK-9", "x", "--db", db)
    assert code == 2 and "no incident 'SAK-000009'" in err  # the reference in its one spelling


def test_round_robin_skips_people_marked_away(tmp_path: Path, db: str, smtp: Mailbox, webhook: Webhook) -> None:
    alerting = alerting_yaml(tmp_path, smtp, webhook)
    store = Store(db)
    pipeline = build_pipeline(load_alerting(alerting), store)
    code, _out, err = saksi("oncall", "away", "alice", "--reason", "holiday", "--alerting", str(alerting),
                           "--db", db)
    assert code == 0, err
    assert "alice (away)" in saksi("oncall", "list", "--alerting", str(alerting), "--db", db)[1]
    now = time.time()
    owners = [n["owner"] for i in range(3)
              for n in pipeline.process([removed(t=now, ref=f"SAK-{i + 1:06d}", key=f"k{i}", device=f"sw{i}",
                                                 link=None, affected=[])], now)]
    assert owners == ["bob", "bob", "bob"]
    assign = next(d for d in pipeline.tracked["SAK-000001"].decisions if d["stage"] == "route")
    assert assign["reason"] == "assigned:bob" and "away: alice" in assign["detail"]
    assert saksi("oncall", "back", "alice", "--db", db)[0] == 0
    (page,) = pipeline.process([removed(t=now, ref="SAK-000004", key="k4", device="sw4", link=None,
                                        affected=[])], now)
    assert page["owner"] == "alice"
    pipeline.close()
