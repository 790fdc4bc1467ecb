"""What writing the time series costs: points per second and client CPU per point, through Saksi's
writer, next to plain line-protocol POSTs of the very same points — in one run.

Run from the project root (needs Debian's `influxd`, which scripts/setup.sh installs):

    .venv/bin/python benchmarks/write_path.py [--devices 200] [--ports 48] [--rounds 10]

It starts its own InfluxDB 1.6.7 on free 127.0.0.1 ports (data in a temporary folder, stopped by PID)
and, in a separate process, the test-only adapter that gives 1.6.7 the `/api/v2/write` endpoint
influxdb-client writes to (1.6.7 predates it). Synthetic polls of `--devices` switches with `--ports`
ports, four of them holding an SFP with DOM, are turned into points and written:

  (a) snapshot → points (`snapshot_points`), CPU only;
  (b) Saksi's `InfluxWriter`: line formatting, 5,000-point batches through influxdb-client's write
      service, the shipping thread — wall clock until the last point is acknowledged, process CPU;
  (c) plain POSTs of the same pre-formatted lines, 5,000 per request, with http.client: to the
      adapter's /api/v2/write (the same path as b) and straight to 1.6.7's /write;
  (d) the spool: the same batches written to disk as during an outage, then replayed in order by a
      writer that starts with the server up (what a restart after an outage does).

Each write goes to its own database, so no run overwrites another's points. CPU is
time.process_time() of this process (all its threads); the server's and the adapter's CPU are theirs.
"""

from __future__ import annotations

import argparse
import http.client
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.model import DeviceFacts, Port, Sensor, SensorKind, Snapshot, Thresholds, Transceiver
from monitor.timeseries import InfluxSettings, InfluxWriter
from monitor.timeseries.points import Point, snapshot_points, to_line
from monitor.timeseries.spool import Spool
from tests.timeseries.influxd import InfluxServer, free_tcp_port

BATCH = 5000
TH = Thresholds(-20.0, -19.0, -3.0, -2.0)


def polls(devices: int, ports: int, rounds: int) -> list[Snapshot]:
    out = []
    for r in range(rounds):
        t = 1_700_000_000.0 + 60 * r
        for d in range(devices):
            port_list = tuple(Port(i, f"GigabitEthernet1/0/{i}", alias=f"to rack {i}", admin="up", oper="up",
                                   speed_mbps=1000, in_octets=10**9 + r * 7_500_000 + i, out_octets=10**8 + r * i,
                                   in_errors=0, out_errors=0, in_discards=0, out_discards=0)
                              for i in range(1, ports + 1))
            sfps = range(ports - 3, ports + 1)
            sensors = tuple(Sensor(f"s{i}{k.value}", k, v + 0.01 * (r % 7), TH, "bench", ifindex=i) for i in sfps
                            for k, v in ((SensorKind.RX_POWER, -7.5), (SensorKind.TX_POWER, -6.0),
                                         (SensorKind.TEMPERATURE, 33.0), (SensorKind.VOLTAGE, 3.3),
                                         (SensorKind.BIAS, 6.0)))
            xcvrs = tuple(Transceiver("CISCO", "GLC-LX-SMD", f"FNS{d:04d}{i:02d}", ifindex=i) for i in sfps)
            out.append(Snapshot(f"sw{d:04d}", t, True, DeviceFacts(uptime_s=1e6 + 60 * r), port_list, xcvrs,
                                sensors, duration_s=0.8))
    return out


def measure(work: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def post_lines(port: int, path: str, lines: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for i in range(0, len(lines), BATCH):
        conn.request("POST", path, body="\n".join(lines[i:i + BATCH]).encode(),
                     headers={"Content-Type": "text/plain; charset=utf-8"})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 204:
            raise SystemExit(f"POST {path}: {resp.status} {body[:200]!r}")
        conn.close()  # the adapter answers one request per connection
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--ports", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    snaps = polls(args.devices, args.ports, args.rounds)
    with tempfile.TemporaryDirectory(prefix="saksi-bench-") as tmp:
        server = InfluxServer(Path(tmp) / "influxd")
        server.start()
        server.adapter.close()  # type: ignore[union-attr]  # this process must not serve it: see below
        adapter_port = free_tcp_port()
        adapter = subprocess.Popen([sys.executable, "-m", "tests.timeseries.influxd", str(server.http_port),
                                    str(adapter_port)], cwd=ROOT)
        try:
            time.sleep(1.0)
            for db in ("writer", "plain_v2", "plain_v1", "warmup", "replay"):
                server.create_database(db)
            report(snaps, server, adapter_port, Path(tmp))
        finally:
            adapter.terminate()
            adapter.wait(10)
            server.stop()


def report(snaps: list[Snapshot], server: InfluxServer, adapter_port: int, tmp: Path) -> None:
    points: list[Point] = []

    def build() -> None:
        for s in snaps:
            points.extend(snapshot_points(s, "hq", "acme"))

    wall, cpu = measure(build)
    n = len(points)
    lines = [to_line(p) for p in points]
    print(f"{len(snaps)} polls → {n} points ({n // len(snaps)} per poll), {sum(map(len, lines)) / n:.0f} bytes each")
    print(f"{'path':58} {'points/s':>10} {'CPU µs/point':>13}")
    print(f"{'(a) snapshot → points (snapshot_points)':58} {n / wall:>10,.0f} {cpu / n * 1e6:>13.2f}")
    fmt_wall, fmt_cpu = measure(lambda: [to_line(p) for p in points])
    print(f"{'    points → line protocol (to_line)':58} {n / fmt_wall:>10,.0f} {fmt_cpu / n * 1e6:>13.2f}")

    url = f"http://127.0.0.1:{adapter_port}"
    warm = InfluxWriter(InfluxSettings(url=url, bucket="warmup", spool_dir=tmp / "spool-warm"))
    warm.write(points[:BATCH])
    warm.flush(60)
    warm.close()
    writer = InfluxWriter(InfluxSettings(url=url, bucket="writer", spool_dir=tmp / "spool", batch_size=BATCH))

    def write_all() -> None:
        for i in range(0, n, 1000):  # as the daemon does: a poll's worth at a time
            writer.write(points[i:i + 1000])
        assert writer.flush(600), "the writer could not deliver everything"

    wall, cpu = measure(write_all)
    writer.close()
    assert writer.stats.written == n and writer.stats.spooled == 0
    print(f"{'(b) InfluxWriter → adapter → /api/v2/write (format + send)':58} {n / wall:>10,.0f} "
          f"{cpu / n * 1e6:>13.2f}")
    q = "/api/v2/write?" + urllib.parse.urlencode({"org": "-", "bucket": "plain_v2", "precision": "ns"})
    wall, cpu = measure(lambda: post_lines(adapter_port, q, lines))
    print(f"{'(c) plain POSTs → adapter → /api/v2/write (send only)':58} {n / wall:>10,.0f} {cpu / n * 1e6:>13.2f}")
    q = "/write?" + urllib.parse.urlencode({"db": "plain_v1", "precision": "n"})
    wall, cpu = measure(lambda: post_lines(server.http_port, q, lines))
    print(f"{'    plain POSTs → 1.6.7 /write directly (send only)':58} {n / wall:>10,.0f} {cpu / n * 1e6:>13.2f}")

    # (d) the spool: an outage's worth of points on disk, then a writer that finds the server back
    spool_dir = tmp / "spool-replay"
    spool = Spool(spool_dir, 2**40)

    def to_disk() -> None:
        for i in range(0, n, BATCH):  # the batches the writer would have shipped, spooled instead
            spool.append(lines[i:i + BATCH])

    wall, cpu = measure(to_disk)
    size = sum(f.stat().st_size for f in spool_dir.iterdir())
    print(f"{'(d) outage: batches → spool on disk':58} {n / wall:>10,.0f} {cpu / n * 1e6:>13.2f}"
          f"   ({size / 2**20:.1f} MiB)")
    replayer = InfluxWriter(InfluxSettings(url=url, bucket="replay", spool_dir=spool_dir, batch_size=BATCH))
    wall, cpu = measure(lambda: replayer.flush(600))
    replayer.close()
    assert replayer.stats.replayed == n and not len(replayer.spool), "the spool was not replayed whole"
    print(f"{'    server back: spool replayed in order → /api/v2/write':58} {n / wall:>10,.0f} "
          f"{cpu / n * 1e6:>13.2f}")
    counts = {db: _count(server, db) for db in ("writer", "plain_v2", "plain_v1", "replay")}
    print(f"stored device points per database (each should be {len(snaps)}): {counts}")


def _count(server: InfluxServer, db: str) -> int:
    from monitor.timeseries import InfluxReader

    (series,) = InfluxReader(server.direct_url, bucket=db).query('SELECT count("reachable") FROM "device"')
    return int(series.values[0][1])


if __name__ == "__main__":
    main()
