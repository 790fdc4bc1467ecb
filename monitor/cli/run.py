"""`saksi run`: the long-running monitor (or one round with --once)."""

from __future__ import annotations

import logging
import math
import os
import socket
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.options import SecureCookiesOption, TrustedProxyOption

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        inventory: Annotated[list[Path], typer.Option("--inventory", "-i", help="inventory file or folder")] = [
            Path("inventory")],
        db: Annotated[str | None, typer.Option("--db", help="state store URL (default $SAKSI_DB or "
                                                  "sqlite:///var/saksi.db)")] = None,
        interval: Annotated[float, typer.Option(help="seconds between polls of a device")] = 60.0,
        trap_port: Annotated[int, typer.Option(help="UDP port for SNMP traps on --trap-host; 0: no traps")] = 1162,
        trap_host: Annotated[str, typer.Option(help="address to receive traps on")] = "127.0.0.1",
        concurrency: Annotated[int, typer.Option(help="devices polled at once")] = 32,
        once: Annotated[bool, typer.Option("--once", help="poll every device once, record, and exit")] = False,
        influx_url: Annotated[str | None, typer.Option(envvar="SAKSI_INFLUX_URL", help="InfluxDB for the time "
                              "series (default: the embedded points store next to the state DB)")] = None,
        influx_token: Annotated[str, typer.Option(envvar="SAKSI_INFLUX_TOKEN", help="token (1.8: user:password)")] = "",
        influx_org: Annotated[str, typer.Option(envvar="SAKSI_INFLUX_ORG", help="organisation (1.8: -)")] = "-",
        influx_bucket: Annotated[str, typer.Option(envvar="SAKSI_INFLUX_BUCKET", help="bucket (1.8: db/rp)")] = "saksi",
        spool_dir: Annotated[Path | None, typer.Option(help="where points wait while InfluxDB is down")] = None,
        spool_max_mb: Annotated[float, typer.Option(help="bound of the spool; the oldest points go first")] = 256.0,
        alerting: Annotated[Path | None, typer.Option(
            "--alerting", help="alerting configuration (routes, people, receivers); without it nothing is sent")] = None,
        member: Annotated[str | None, typer.Option(
            "--member", envvar="SAKSI_MEMBER", help="scale-out: this collector's name in the cluster (a PostgreSQL "
            "--db); its sites are shared with the other members. Default without it: one process, every site")] = None,
        cluster: Annotated[bool, typer.Option(
            "--cluster", help="scale-out with the default member name (hostname-pid)")] = False,
        member_timeout: Annotated[float, typer.Option(
            help="scale-out: a member silent this long is dead and its sites move")] = 15.0,
        heartbeat: Annotated[float, typer.Option(help="scale-out: seconds between heartbeats (and rebalances)")] = 5.0,
        alert_tick: Annotated[float, typer.Option(
            "--alert-tick", metavar="SECONDS", help="seconds between the alert pipeline's rounds: escalations, "
            "reminders, resolutions, news and delivery retries are sent at most this late")] = 10.0,
        web: Annotated[str | None, typer.Option(
            "--web", metavar="HOST:PORT", help="also serve the web view (as `saksi web`) from this process")] = None,
        secure_cookies: SecureCookiesOption = False,
        trusted_proxy: TrustedProxyOption = None,
    ) -> None:
        """Poll every device of the inventory on a schedule, answer traps, keep incidents in the store."""
        import asyncio

        from monitor.alerts import AlertingConfigError, build_pipeline, load_alerting
        from monitor.alerts.pipeline import record_deliveries_until
        from monitor.cli import runlog
        from monitor.common.clock import in_zone
        from monitor.confighist.history import default_root
        from monitor.daemon.cluster import Cluster, default_member, lead_tick
        from monitor.daemon.monitor import Monitor, Settings, iso, run_forever
        from monitor.inventory import InventoryError, load_inventory
        from monitor.state.store import StoreError
        from monitor.state.url import StoreUrlError, open_store, shown
        from monitor.timeseries import TimeseriesSettings, from_settings, points_db_for, role_map

        if (problem := number_problem(interval=interval, concurrency=concurrency, trap_port=trap_port,
                                      spool_max_mb=spool_max_mb, member_timeout=member_timeout,
                                      heartbeat=heartbeat, alert_tick=alert_tick)) is not None \
                or (problem := folder_problem("--spool-dir", spool_dir)) is not None:
            sys.stderr.write(f"saksi: {problem}\n")
            raise typer.Exit(2)
        if (problem := web_problem(web, secure_cookies, trusted_proxy)) is not None:
            sys.stderr.write(f"saksi: {problem}\n")
            raise typer.Exit(2)
        try:
            inv = load_inventory(inventory)
            alert_config = None if alerting is None else load_alerting(alerting)
        except (InventoryError, AlertingConfigError) as exc:
            sys.stderr.write(f"saksi: {exc}\n")
            raise typer.Exit(2) from None
        listener = None if web is None else _listen(web)  # a taken port stops us here, not mid-run
        try:  # a typo in --db is one line, and a directory someone typed is never made for them
            store = open_store(db, create=True)
        except StoreUrlError as exc:
            if listener is not None:
                listener.close()
            sys.stderr.write(f"saksi: {exc}\n")
            raise typer.Exit(2) from None
        db = store.url
        group = None
        if member is not None or cluster:
            try:
                group = Cluster(store, member or default_member(), timeout_s=member_timeout)
            except StoreError as exc:
                store.close()
                sys.stderr.write(f"saksi: {exc}\n")
                raise typer.Exit(2) from None
            if once:
                store.close()
                sys.stderr.write("saksi: --once polls every device itself; it does not join a cluster\n")
                raise typer.Exit(2)
        pipeline = None if alert_config is None else build_pipeline(
            alert_config, store, history_root=default_root(), fmt=iso,
            member="" if group is None else group.member,
            site_fmt=lambda site: in_zone(inv.sites[site].timezone) if site in inv.sites else iso)
        points_db = points_db_for(db)
        series = TimeseriesSettings(influx_url=influx_url, influx_token=influx_token, influx_org=influx_org,
                                    influx_bucket=influx_bucket, points_db=points_db, spool_max_mb=spool_max_mb,
                                    spool_dir=spool_dir or points_db.parent / "influx-spool")
        sink = from_settings(series, role_map((str(link.a), str(link.b), link.role) for link in inv.links))
        settings = Settings(interval_s=interval, concurrency=concurrency, trap_host=trap_host,
                            trap_port=trap_port or None, rebalance_s=heartbeat, tick_s=alert_tick,
                            jitter_s=Settings.jitter_for(interval))
        verbose = logging.getLogger().isEnabledFor(logging.INFO)  # -v: a line per round too
        runlog.log.setLevel(logging.INFO)  # what this process does is always said on start
        for line in runlog.start_lines(
                len(inv.devices), len(inv.sites), interval, None if once or not trap_port else f"{trap_host}:{trap_port}",
                shown(db), f"InfluxDB {influx_url}" if influx_url else f"embedded {points_db}",
                None if alerting is None else str(alerting), web, (member or default_member()) if group else None):
            runlog.log.info(line)

        async def main() -> int:
            monitor = Monitor(inv, store, settings, sinks=[sink], pipeline=pipeline,
                              owned=None if group is None else ())  # a member's sites come from rebalancing
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
                summary = runlog.round_summary(snaps, len(store.open_incidents()))
                sys.stdout.write(f"saksi run --once: {summary}\n")
                return 0
            stop = asyncio.Event()
            site_view = None if listener is None else asyncio.create_task(serve_web(listener, stop))
            rounds = None if not verbose else asyncio.create_task(runlog.log_rounds(
                lambda: [s for w in monitor.witnesses.values() for s in w.state.last.values()],
                lambda: len(store.open_incidents()), interval, stop))
            try:
                return await watch(monitor, stop)
            finally:
                stop.set()
                if site_view is not None:
                    await site_view
                if rounds is not None:
                    await rounds

        async def serve_web(sock: socket.socket, stop: asyncio.Event) -> None:
            """The site view in this process and loop, on the store the monitor writes; stops with it."""
            from monitor.web.server import server
            from monitor.web.settings import WebSettings

            settings = WebSettings(secret_key=os.environ.get("SAKSI_WEB_SECRET") or None, alerting=alert_config,
                                   config_root=default_root(), cookie_secure=secure_cookies,
                                   trusted_proxies=tuple(trusted_proxy or ()))
            host, port = sock.getsockname()[:2]
            srv = server(store, inv, settings, host, port, embedded=True)
            serving = asyncio.create_task(srv.serve(sockets=[sock]))
            runlog.log.info("web view on http://%s:%d/", host, port)
            waiting = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait([serving, waiting], return_when=asyncio.FIRST_COMPLETED)
            if serving in done:  # the monitor goes on without it
                waiting.cancel()
                log.error("the web view stopped: %s", serving.exception() or "exited")
                return
            srv.should_exit = True
            await serving

        async def watch(monitor: Monitor, stop: asyncio.Event) -> int:
            """The pipeline's clock is one of the daemon's jobs; in a cluster only the leader's ticks. Every
            process records its own finished deliveries as they come."""
            tick = None if pipeline is None else pipeline.tick if group is None else (
                lambda now: lead_tick(pipeline, store, set(monitor.witnesses), now, group.live))
            records = None if pipeline is None else asyncio.create_task(
                record_deliveries_until(pipeline, stop, math.inf))
            await run_forever(monitor, stop, cluster=group, tick=tick)
            if records is not None and pipeline is not None:
                await records
                pipeline.close()
            return 0

        try:
            raise typer.Exit(asyncio.run(main()))
        finally:
            sink.close()
            store.close()


DAY_S = 86400.0  # the longest a daemon's interval, heartbeat or member timeout may sensibly be


def folder_problem(option: str, path: Path | None) -> str | None:
    """What is wrong with a folder option (made on demand, but only inside a folder that exists).

    >>> folder_problem("--spool-dir", Path("/nonexistent/spool"))
    '--spool-dir /nonexistent/spool: no directory /nonexistent to make it in'
    >>> folder_problem("--spool-dir", None) is None
    True
    """
    if path is None or path.is_dir():
        return None
    if path.exists():
        return f"{option} {path}: not a directory"
    parent = path.absolute().parent
    return None if parent.is_dir() else f"{option} {path}: no directory {parent} to make it in"


def number_problem(*, interval: float, concurrency: int, trap_port: int, spool_max_mb: float,
                   member_timeout: float, heartbeat: float, alert_tick: float = 10.0) -> str | None:
    """What is wrong with `run`'s numbers, in the words of its options; None when nothing is.

    >>> number_problem(interval=60, concurrency=32, trap_port=1162, spool_max_mb=256, member_timeout=15,
    ...                heartbeat=5) is None
    True
    >>> number_problem(interval=float("nan"), concurrency=32, trap_port=1162, spool_max_mb=256,
    ...                member_timeout=15, heartbeat=5)
    '--interval must be a number > 0 and at most 86400 seconds'
    >>> number_problem(interval=60, concurrency=32, trap_port=1162, spool_max_mb=256, member_timeout=15,
    ...                heartbeat=5, alert_tick=0)
    '--alert-tick must be a number > 0 and at most 86400 seconds'
    """
    for name, value, most in (("--interval", interval, DAY_S), ("--spool-max-mb", spool_max_mb, 10**7),
                              ("--member-timeout", member_timeout, DAY_S), ("--heartbeat", heartbeat, DAY_S),
                              ("--alert-tick", alert_tick, DAY_S)):
        if not (math.isfinite(value) and 0 < value <= most):
            unit = " seconds" if name != "--spool-max-mb" else ""
            return f"{name} must be a number > 0 and at most {most:g}{unit}"
    if not 1 <= concurrency <= 100_000:
        return "--concurrency must be between 1 and 100000"
    if not 0 <= trap_port <= 65535:
        return "--trap-port must be between 0 (no traps) and 65535"
    return None


def web_problem(web: str | None, secure_cookies: bool, trusted_proxy: list[str] | None) -> str | None:
    """The web view's own options make sense only with --web, and a proxy must be an address or network.

    >>> web_problem(None, True, None)
    '--secure-cookies needs --web'
    >>> web_problem("8080", False, ["10.0.0.0/33"])
    "--trusted-proxy: not an address or network: '10.0.0.0/33'"
    >>> web_problem("8080", True, ["127.0.0.1"]) is None
    True
    """
    if web is None:
        given = [name for name, on in (("--secure-cookies", secure_cookies), ("--trusted-proxy", trusted_proxy))
                 if on]
        return f"{given[0]} needs --web" if given else None
    from monitor.web.throttle import networks

    try:
        networks(trusted_proxy or [])
    except ValueError as exc:
        return f"--trusted-proxy: {exc}"
    return None


def _listen(at: str) -> socket.socket:
    """A listening socket for --web HOST:PORT (or PORT: 127.0.0.1); a clear exit when it cannot be had."""
    host, _, port = at.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
        sock.listen(128)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"saksi: --web {at}: cannot listen there: {exc}\n")
        raise typer.Exit(2) from None
    return sock
