"""`saksi run`: the long-running monitor (or one round with --once)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from monitor.daemon import Monitor, Settings, run_forever
from monitor.inventory import InventoryError, load_inventory
from monitor.store import Store

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
    ) -> None:
        """Poll every device of the inventory on a schedule, answer traps, keep incidents in the store."""
        try:
            inv = load_inventory(inventory)
        except InventoryError as exc:
            sys.stderr.write(f"saksi: {exc}\n")
            raise typer.Exit(2) from None
        store = Store(db or os.environ.get("SAKSI_DB", "sqlite:///var/saksi.db"))
        settings = Settings(interval_s=interval, concurrency=concurrency, trap_host=trap_host,
                            trap_port=trap_port or None)

        async def main() -> int:
            monitor = Monitor(inv, store, settings)
            if once:
                snaps = await monitor.poll_all()
                monitor.close()
                for s in snaps:
                    if s is not None and not s.reachable:
                        sys.stderr.write(f"saksi: {s.device}: {s.error}\n")
                return 0
            await run_forever(monitor)
            return 0

        try:
            raise typer.Exit(asyncio.run(main()))
        finally:
            store.close()
