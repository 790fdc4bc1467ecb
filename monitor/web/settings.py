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
    login_free_attempts: int = 5  # attempts per user name before each one must wait
    login_free_per_address: int = 20  # attempts per client address (an office behind one NAT shares it)
    login_max_delay_s: float = 30.0  # the wait doubles from 1 s up to this: slows guessing, never locks out
    login_concurrency: int = 2  # password checks (argon2, 64 MiB each) running at once
    trusted_proxies: tuple[str, ...] = ()  # addresses/networks whose X-Forwarded-For is believed (default none)
    max_body_bytes: int = 64 * 1024
    config_page_size: int = 20  # configuration versions per page (each one diffed on display)
    config_root: Path | None = None  # config history repositories (default: $SAKSI_CONFIG_HISTORY or var/)
    optics_reader: PointReader | None = None  # the time-series reader; None: the store's last snapshots
    optics_window_s: float = 7 * 86400.0  # how far back the optics charts look
    alerting: AlertingConfig | None = None  # people and teams: who an incident can be assigned to
    title: str = "Saksi"
