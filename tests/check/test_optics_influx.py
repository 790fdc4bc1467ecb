"""`saksi optics` reading InfluxDB: `saksi run --once` writes a real poll to a real InfluxDB server (the
time-series tests' harness), and optics draws it back through InfluxQL."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_saksi
from tests.timeseries.conftest import influx_server  # noqa: F401 - the session's real InfluxDB server
from tests.timeseries.influxd import InfluxServer
from tests.timeseries.test_run_cli import saksi_run_once


def test_optics_from_influxdb(influx_server: InfluxServer, tmp_path: Path) -> None:  # noqa: F811
    influx_server.create_database("optics")
    code, err, _ = saksi_run_once(tmp_path, "--influx-url", influx_server.url, "--influx-bucket", "optics",
                                  "--spool-dir", str(tmp_path / "spool"))
    assert code == 0, err
    where = ["--influx-url", influx_server.url, "--influx-bucket", "optics"]
    r = run_saksi("optics", "edge-j", "ge-0/0/8", *where, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    rx = data["series"]["rx_dbm"]
    assert data["port"] == "ge-0/0/8" and len(rx["values"]) == 1 and rx["serial"]
    assert set(rx["thresholds"]) == {"low_alarm", "low_warn", "high_warn", "high_alarm"}
    drawn = run_saksi("optics", "core-sw1", "Gi1/0/49", *where, "--width", "70", "--height", "10")
    assert drawn.returncode == 0 and "rx_dbm: now" in drawn.stdout and "hours before now" in drawn.stdout, \
        drawn.stdout + drawn.stderr
