"""`saksi run`: the long-running monitor (or one round with --once)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from monitor.alerts import AlertingConfigError, build_pipeline, load_alerting, tick_forever
from monitor.confighistory import default_root
from monitor.daemon import Monitor, Settings, iso, run_forever
from monitor.inventory import InventoryError, load_inventory
from monitor.store import Store
from monitor.timeseries import TimeseriesSettings, from_settings, points_db_for, role_map

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        inventory: Annotated[list[Path], typer.Option("--inventory", "-i", help="inventory file or folder")] = [
            Path("inventory")],
        db: Annotated[Optional[str], typer.Option("--db", help="state store URL (default $SAKSI_DB)")] = None,
        interval: Annotated[float, typer.Option(help="seconds between polls of a device")] = 60.0,
        trap_port: Annotated[int, typer.Option(help="UDP port for SNMP traps on --trap-host; 0: no traps")] = 1162,
        trap_host: Annotated[str, typer.Option(help="address to receive traps on")] = "127.0.0.1",
        concurrency: Annotated[int, typer.Option(help="devices polled at once")] = 32,
        once: Annotated[bool, typer.Option("--once", help="poll every device once, record, and exit")] = False,
        influx_url: Annotated[Optional[str], typer.Option(envvar="SAKSI_INFLUX_URL", help="InfluxDB for the time "
                              "series (default: the embedded points store next to the state DB)")] = None,
        influx_token: Annotated[str, typer.Option(envvar="SAKSI_INFLUX_TOKEN", help="token (1.8: user:password)")] = "",
        influx_org: Annotated[str, typer.Option(envvar="SAKSI_INFLUX_ORG", help="organisation (1.8: -)")] = "-",
        influx_bucket: Annotated[str, typer.Option(envvar="SAKSI_INFLUX_BUCKET", help="bucket (1.8: db/rp)")] = "saksi",
        spool_dir: Annotated[Optional[Path], typer.Option(help="where points wait while InfluxDB is down")] = None,
        spool_max_mb: Annotated[float, typer.Option(help="bound of the spool; the oldest points go first")] = 256.0,
        alerting: Annotated[Optional[Path], typer.Option(
            "--alerting", help="alerting configuration (routes, people, receivers); without it nothing is sent")] = None,
    ) -> None:
        """Poll every device of the inventory on a schedule, answer traps, keep incidents in the store."""
        try:
            inv = load_inventory(inventory)
            alert_config = None if alerting is None else load_alerting(alerting)
        except (InventoryError, AlertingConfigError) as exc:
            sys.stderr.write(f"saksi: {exc}\n")
            raise typer.Exit(2) from None
        db = db or os.environ.get("SAKSI_DB", "sqlite:///var/saksi.db")
        store = Store(db)
        pipeline = None if alert_config is None else build_pipeline(
            alert_config, store, history_root=default_root(), save=store.upsert_incident, fmt=iso)
        points_db = points_db_for(db)
        series = TimeseriesSettings(influx_url=influx_url, influx_token=influx_token, influx_org=influx_org,
                                    influx_bucket=influx_bucket, points_db=points_db, spool_max_mb=spool_max_mb,
                                    spool_dir=spool_dir or points_db.parent / "influx-spool")
        sink = from_settings(series, role_map((str(link.a), str(link.b), link.role) for link in inv.links))
        settings = Settings(interval_s=interval, concurrency=concurrency, trap_host=trap_host,
                            trap_port=trap_port or None)

        async def main() -> int:
            monitor = Monitor(inv, store, settings, sinks=[sink], pipeline=pipeline)
            if pipeline is not None:  # a restart's open incidents: escalations and reminders go on
                pipeline.track(i for w in monitor.witnesses.values() for i in w.state.incidents)
            if once:
                snaps = await monitor.poll_all()
                monitor.close()
                if pipeline is not None:
                    pipeline.tick(time.time())
                    pipeline.close()
                for s in snaps:
                    if s is not None and not s.reachable:
                        sys.stderr.write(f"saksi: {s.device}: {s.error}\n")
                return 0
            stop = asyncio.Event()
            ticks = None if pipeline is None else asyncio.create_task(tick_forever(pipeline, stop))
            await run_forever(monitor, stop)
            if ticks is not None and pipeline is not None:
                await ticks
                pipeline.close()
            return 0

        try:
            raise typer.Exit(asyncio.run(main()))
        finally:
            sink.close()
            store.close()
