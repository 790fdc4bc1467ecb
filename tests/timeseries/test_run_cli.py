"""`saksi run` writes its time series: to InfluxDB when told, else to the embedded store next to the
state DB — through the real entry point, polling a lab site over real SNMP."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from monitor.lab import runner, scenario
from monitor.timeseries import InfluxReader
from tests.conftest import VENV_BIN
from tests.timeseries.influxd import InfluxServer

SCENARIO = Path(__file__).parent / "noc-day.yaml"


def inventory(tmp: Path, lab: runner.Lab) -> Path:
    f = tmp / "site.yaml"
    f.write_text(lab.inventory_yaml(site="hq", customer="acme", timeout=0.5, retries=1))
    return f


def saksi_run_once(tmp: Path, *options: str) -> tuple[int, str, list[str]]:
    """One `saksi run --once` while this process serves the lab's agents."""
    async def main() -> tuple[int, str, list[str]]:
        lab = await runner.start(scenario.load(SCENARIO), ssh=False)
        try:
            proc = await asyncio.create_subprocess_exec(
                str(VENV_BIN / "saksi"), "run", "--once", "--trap-port", "0", "--inventory", str(inventory(tmp, lab)),
                "--db", f"sqlite:///{tmp / 'state' / 'saksi.db'}", *options,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            _, err = await asyncio.wait_for(proc.communicate(), 120)
            return proc.returncode or 0, err.decode(), list(lab.ports)
        finally:
            lab.close()

    (tmp / "state").mkdir(exist_ok=True)
    return asyncio.run(main())


def test_run_writes_to_influxdb(influx_server: InfluxServer, tmp_path: Path) -> None:
    influx_server.create_database("daemon")
    code, err, devices = saksi_run_once(tmp_path, "--influx-url", influx_server.url, "--influx-bucket", "daemon",
                                        "--spool-dir", str(tmp_path / "spool"))
    assert code == 0, err
    reader = InfluxReader(influx_server.url, bucket="daemon")
    polled = reader.query('SELECT last("reachable") FROM "device" GROUP BY "customer", "site", "device"')
    assert {(s.tags["customer"], s.tags["site"], s.tags["device"]) for s in polled} == {
        ("acme", "hq", d) for d in devices}
    backbone = reader.query('SELECT last("oper_up") FROM "interface" WHERE "role" = \'backbone\' GROUP BY "port"')
    assert len(backbone) >= 4
    assert not list((tmp_path / "spool").glob("*.lp.gz"))  # delivered, nothing left waiting


def test_run_without_influxdb_keeps_points_next_to_the_state_db(tmp_path: Path) -> None:
    code, err, devices = saksi_run_once(tmp_path)
    assert code == 0, err
    with sqlite3.connect(tmp_path / "state" / "saksi-points.db") as db:
        polled = {d for (d,) in db.execute("SELECT DISTINCT device FROM points WHERE measurement = 'device'")}
        dom = db.execute("SELECT count(*) FROM points WHERE measurement = 'dom'").fetchone()[0]
    assert polled == set(devices) and dom > 0
