"""The daemon's poll path against a lab site in real time, with a real SQLite store and a restart.

The lab's agents answer over UDP on 127.0.0.1; the monitor polls them from an inventory file exactly
as it would poll real switches, records incidents in the store, and after a restart (a new Monitor on
the same store) neither re-raises nor forgets anything.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from monitor.alerts.config import load_alerting
from monitor.alerts.pipeline import build_pipeline
from monitor.daemon.monitor import Monitor, Settings
from monitor.inventory import load_inventory
from monitor.lab import runner, scenario
from monitor.state.store import Store
from tests.alerts.conftest import Mailbox, Webhook, alerting_yaml
from tests.conftest import run_saksi

SCENARIO = Path(__file__).parent.parent / "scenarios" / "sfp-removed-reinserted.yaml"


def _inventory(tmp: Path, lab: runner.Lab) -> Path:
    f = tmp / "site.yaml"
    f.write_text(lab.inventory_yaml(site="hq", customer="acme", timeout=0.5, retries=1, timezone="Europe/Helsinki"))
    return f


@pytest.fixture
def lab_site(tmp_path: Path):  # type: ignore[no-untyped-def]
    async def start() -> runner.Lab:
        return await runner.start(scenario.load(SCENARIO), ssh=False)
    return start


def test_incident_survives_a_restart_without_being_raised_twice(tmp_path: Path, lab_site) -> None:  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    clock = {"t": 1_000_000.0}

    async def scenario_run() -> None:
        lab = await lab_site()
        inv = load_inventory(_inventory(tmp_path, lab))
        scn, site = lab.scenario, lab.site
        try:
            store = Store(db)
            m = Monitor(inv, store, Settings(trap_port=None), clock=lambda: clock["t"])
            await m.poll_all()  # baseline
            scenario.apply(site, scn, next(s for s in scn.steps if s.do == "remove_transceiver"))
            site.settle(site.now + 1)
            clock["t"] += 60
            await m.poll_all()
            m.close()
            opened = store.open_incidents("hq")
            assert [(i.cause, i.device, i.port) for i in opened] == [
                ("transceiver_removed", "dist-sw2", "GigabitEthernet1/0/25")]
            assert opened[0].id.startswith("SAK-")
            store.close()

            # restart: a new process would build exactly this from the same store
            store = Store(db)
            m = Monitor(inv, store, Settings(trap_port=None), clock=lambda: clock["t"])
            clock["t"] += 60
            await m.poll_all()
            assert [i.id for i in store.incidents()] == [opened[0].id], "nothing re-raised, nothing forgotten"
            scenario.apply(site, scn, next(s for s in scn.steps if s.do == "insert_transceiver"))
            site.settle(site.now + 1)
            clock["t"] += 60
            await m.poll_all()
            m.close()
            (inc,) = store.incidents()
            assert inc.resolved_at is not None and inc.resolution == "module re-inserted"
            assert [s.port for s in store.whereis(inc.serial or "")][:1] == ["GigabitEthernet1/0/25"]
            store.close()
        finally:
            lab.close()

    asyncio.run(scenario_run())
    r = run_saksi("incidents", "--db", db, "--json")
    assert r.returncode == 0, r.stderr
    (listed,) = json.loads(r.stdout)
    assert listed["cause"] == "transceiver_removed" and listed["resolved_at"] is not None


def test_a_guess_waits_for_the_far_end_so_the_page_names_the_real_cause(tmp_path: Path, lab_site, smtp: Mailbox,  # type: ignore[no-untyped-def]
                                                                         webhook: Webhook) -> None:
    """core-sw1 is polled first after the far end's SFP was pulled: alone, it can only guess (its link went
    down). The daemon polls dist-sw2 at once and pages after it: transceiver removed at dist-sw2."""
    clock = {"t": 1_000_000.0}

    async def scenario_run() -> list[dict[str, object]]:
        lab = await lab_site()
        inv = load_inventory(_inventory(tmp_path, lab))
        scn, site = lab.scenario, lab.site
        store = Store(f"sqlite:///{tmp_path / 'saksi.db'}")
        pipeline = build_pipeline(load_alerting(alerting_yaml(tmp_path, smtp, webhook)), store)
        m = Monitor(inv, store, Settings(trap_port=None), clock=lambda: clock["t"], pipeline=pipeline)
        try:
            await m.poll_all()  # baseline
            scenario.apply(site, scn, next(s for s in scn.steps if s.do == "remove_transceiver"))
            site.settle(site.now + 1)
            clock["t"] += 60
            before = m.polls
            await m.poll("core-sw1")
            assert pipeline.sent == [], "a guess is not paged before the far end is heard"
            for _ in range(100):  # the far end's poll was asked for by the daemon itself
                if m.polls > before + 1 and pipeline.sent:
                    break
                await asyncio.sleep(0.1)
            return list(pipeline.sent)
        finally:
            m.close()
            pipeline.close()
            store.close()
            lab.close()

    sent = asyncio.run(scenario_run())
    assert [(n["transition"], n["cause"], n["device"]) for n in sent] == [
        ("opened", "transceiver_removed", "dist-sw2")]


def test_a_trap_during_a_running_poll_of_its_device_polls_it_again_after(tmp_path: Path, lab_site) -> None:  # type: ignore[no-untyped-def]
    """The running poll may have read the tables before the change the trap reports: one more poll, not
    a wait of a whole interval. A scheduled poll meanwhile is simply skipped."""
    async def scenario_run() -> list[str]:
        lab = await lab_site()
        inv = load_inventory(_inventory(tmp_path, lab))
        store = Store(f"sqlite:///{tmp_path / 'saksi.db'}")
        m = Monitor(inv, store, Settings(trap_port=None))
        reasons: list[str] = []
        recorded = m._record

        def record(device, snap, extra=None):  # type: ignore[no-untyped-def]
            reasons.append(device.name)
            recorded(device, snap, extra)

        m._record = record  # type: ignore[method-assign]
        try:
            running = asyncio.create_task(m.poll("core-sw1"))
            while not m._locks["core-sw1"].locked():
                await asyncio.sleep(0)
            assert await m.poll("core-sw1", reason="trap linkDown") is None  # busy: queued
            assert await m.poll("core-sw1") is None  # a schedule tick while busy: skipped, not queued
            await running
            for _ in range(100):
                if len(reasons) >= 2 and not m._locks["core-sw1"].locked():
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            return reasons
        finally:
            m.close()
            store.close()
            lab.close()

    assert asyncio.run(scenario_run()) == ["core-sw1", "core-sw1"]


def test_a_silent_switch_waits_for_its_path_across_a_restart_and_becomes_a_symptom(tmp_path: Path) -> None:
    """alert-backbone-dark: acc-sw3 is polled first after the backbone SFP at the core was pulled. Its
    silence is held (in the store, so a restart keeps it), the devices on its path are polled at once,
    and the one incident is the core's transceiver_removed with the dark switches as its symptoms."""
    path = Path(__file__).parent.parent / "scenarios" / "alert-backbone-dark.yaml"
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    clock = {"t": 1_000_000.0}

    async def scenario_run() -> tuple[list[str], list[tuple[str, str, str | None, list[str]]]]:
        lab = await runner.start(scenario.load(path), ssh=False)
        inv = load_inventory(_inventory(tmp_path, lab))
        scn, site = lab.scenario, lab.site
        try:
            store = Store(db)
            m = Monitor(inv, store, Settings(trap_port=None), clock=lambda: clock["t"])
            await m.poll_all()  # baseline
            scenario.apply(site, scn, next(s for s in scn.steps if s.do == "remove_transceiver"))
            site.settle(site.now + 1)
            clock["t"] += 60
            await m.poll("acc-sw3")
            m.close()  # stopped before the polls it asked for could run
            assert store.incidents() == [], "a silence is no incident before its path is heard"
            store.close()

            store = Store(db)  # restart: the held silence comes back from the store
            m = Monitor(inv, store, Settings(trap_port=None), clock=lambda: clock["t"])
            held = sorted(m.witnesses["hq"].state.silent)
            clock["t"] += 1
            await m.poll("core-sw1")
            await m.idle()  # the polls of the devices on the dark switches' path, asked for by the daemon
            m.close()
            found = [(i.cause, i.device, i.port, sorted(a for a in i.affected if a.startswith("device:")))
                     for i in store.incidents()]
            store.close()
            return held, found
        finally:
            lab.close()

    held, found = asyncio.run(scenario_run())
    assert held == ["acc-sw3"]
    assert found == [("transceiver_removed", "core-sw1", "GigabitEthernet1/0/49",
                      ["device:acc-sw3", "device:acc-sw4", "device:dist-sw2"])]
