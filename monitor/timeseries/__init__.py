"""Time series: every poll's measurements, changes and incident transitions as points.

`from_settings` picks the backend: InfluxDB when a URL is given (writer with a disk spool, InfluxQL
reader), otherwise the embedded SQLite points store. Either way the daemon gets one `TimeseriesSink`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from monitor.timeseries.embedded import DEFAULT_RETENTION_S, EmbeddedStore
from monitor.timeseries.influx import InfluxReader, InfluxSettings, InfluxWriter
from monitor.timeseries.points import Point, Roles, role_map
from monitor.timeseries.reader import PointReader, Row
from monitor.timeseries.sink import PointWriter, TimeseriesSink

__all__ = ["EmbeddedStore", "InfluxReader", "InfluxSettings", "InfluxWriter", "Point", "PointReader",
           "PointWriter", "Row", "TimeseriesSettings", "TimeseriesSink", "from_settings", "points_db_for",
           "role_map"]


@dataclass(frozen=True)
class TimeseriesSettings:
    influx_url: str | None = None
    influx_token: str = ""
    influx_org: str = "-"
    influx_bucket: str = "saksi"
    spool_dir: Path = Path("var/influx-spool")
    spool_max_mb: float = 256.0
    points_db: Path = Path("var/saksi-points.db")
    retention_days: float = DEFAULT_RETENTION_S / 86400


def from_settings(settings: TimeseriesSettings, roles: Roles | None = None) -> TimeseriesSink:
    """The sink for these settings: InfluxDB when `influx_url` is set, else the embedded store."""
    s = settings
    if s.influx_url:
        writer = InfluxWriter(InfluxSettings(url=s.influx_url, token=s.influx_token, org=s.influx_org,
                                             bucket=s.influx_bucket, spool_dir=s.spool_dir,
                                             spool_max_bytes=int(s.spool_max_mb * 2**20)))
        return TimeseriesSink(writer, InfluxReader(s.influx_url, s.influx_token, s.influx_bucket), roles)
    store = EmbeddedStore(s.points_db, retention_s=s.retention_days * 86400)
    return TimeseriesSink(store, store, roles)


def points_db_for(state_url: str) -> Path:
    """The embedded points file next to a SQLite state DB (var/ for any other database).

    >>> points_db_for("sqlite:///var/saksi.db")
    PosixPath('var/saksi-points.db')
    >>> points_db_for("postgresql://saksi@db/saksi")
    PosixPath('var/saksi-points.db')
    """
    url = make_url(state_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        db = Path(url.database)
        return db.with_name(f"{db.stem}-points.db")
    return Path("var/saksi-points.db")
