"""`saksi optics` from the embedded points store fed by real polls, and `saksi check --rates`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.check.test_unused import LiveLab, live  # noqa: F401 - the module-scoped lab fixture
from tests.conftest import run_saksi

PORT = "GigabitEthernet1/0/49"


def test_optics_draws_readings_polled_by_the_daemon_against_their_thresholds(live: LiveLab,  # noqa: F811
                                                                              tmp_path: Path) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(live.lab.inventory_yaml(site="lab"))
    db = f"sqlite:///{tmp_path / 'saksi.db'}"
    for _ in range(2):
        r = run_saksi("run", "--once", "-i", str(inv), "--db", db, "--trap-port", "0")
        assert r.returncode == 0, r.stderr
    r = run_saksi("optics", "core-sw1", "Gi1/0/49", "--db", db, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["port"] == PORT
    rx = data["series"]["rx_dbm"]
    assert len(rx["values"]) == 2 and rx["serial"]
    limits = rx["thresholds"]
    assert limits["low_alarm"] < limits["low_warn"] < min(rx["values"])  # a healthy link: light above both

    drawn = run_saksi("optics", "core-sw1", "gi1/0/49", "--db", db, "--width", "80", "--height", "12")
    assert drawn.returncode == 0, drawn.stderr
    assert f"rx_dbm: now {rx['values'][-1]:g} dBm" in drawn.stdout
    assert f"low_alarm {limits['low_alarm']:g}" in drawn.stdout and "hours before now" in drawn.stdout

    missing = run_saksi("optics", "core-sw1", "Gi1/0/2", "--db", db)
    assert missing.returncode == 1 and "no optical readings" in missing.stderr
    bad = run_saksi("optics", "core-sw1", PORT, "--db", db, "--since", "soon")
    assert bad.returncode == 2 and bad.stderr.startswith("saksi: --since 'soon'")


def test_check_rates_comes_from_two_polls(live: LiveLab, tmp_path: Path) -> None:  # noqa: F811
    inv = tmp_path / "inventory.yaml"
    inv.write_text(live.lab.inventory_yaml(site="lab"))
    r = run_saksi("check", "-i", str(inv), "core-sw1", "Gi1/0/49", "--no-ssh", "--json", "--rates",
                  "--rate-interval", "1")
    assert r.returncode == 0, r.stderr
    [port] = json.loads(r.stdout)["ports"]
    rates = port["rates"]
    assert rates["interval_s"] > 0 and rates["in_bps"] is not None and rates["in_bps"] >= 0
    assert rates["in_errors_per_s"] == 0
    table = run_saksi("check", "-i", str(inv), "core-sw1", "Gi1/0/49", "--no-ssh", "--rates",
                      "--rate-interval", "1")
    assert table.returncode == 0 and "in Mb/s" in table.stdout, table.stdout + table.stderr
