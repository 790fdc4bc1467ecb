"""What the web application is told at start: where config history lives, how long sessions last, limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor.alerts.config import AlertingConfig
from monitor.timeseries.reader import PointReader


@dataclass(frozen=True)
class WebSettings:
    """`secret_key` signs the session cookies; None: the one kept in the store (created on first start)."""

    secret_key: str | None = None
    session_max_age_s: int = 12 * 3600
    cookie_secure: bool = False  # True behind TLS (the cookie is then never sent over plain HTTP)
    login_attempts: int = 5  # failed logins allowed per window, per client address and per user name
    login_window_s: float = 300.0
    max_body_bytes: int = 64 * 1024
    config_root: Path | None = None  # config history repositories (default: $SAKSI_CONFIG_HISTORY or var/)
    optics_reader: PointReader | None = None  # the time-series reader; None: the store's last snapshots
    optics_window_s: float = 7 * 86400.0  # how far back the optics charts look
    alerting: AlertingConfig | None = None  # people and teams: who an incident can be assigned to
    title: str = "Saksi"
