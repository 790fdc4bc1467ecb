"""`saksi optics DEVICE PORT`: each DOM reading of a port drawn against its warning and alarm thresholds.

The history comes from the time-series reader (the embedded points store next to the state DB, or
InfluxDB), so the terminal shows what the dashboards and the web view show.
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from monitor.timeseries.reader import PointReader, Row

LEVELS = (("low_alarm", "red"), ("low_warn", "orange"), ("high_warn", "orange"), ("high_alarm", "red"))
UNITS = {"rx_dbm": "dBm", "tx_dbm": "dBm", "temperature_c": "C", "voltage_v": "V", "bias_ma": "mA"}


def parse_since(text: str) -> float:
    """A look-back like 7d, 12h, 30m or 90s, in seconds.

    >>> parse_since("7d"), parse_since("12h"), parse_since("90s"), parse_since("1.5h")
    (604800.0, 43200.0, 90.0, 5400.0)
    """
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    value = text.strip().lower()
    try:
        number = float(value[:-1]) if value[-1:] in units else float(value)
    except ValueError:
        raise ValueError(f"--since {text!r}: expected a duration such as 7d, 12h or 30m") from None
    seconds = number * units.get(value[-1:], 1)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"--since {text!r}: must be a positive duration")
    return seconds


def chart(key: str, series: dict[str, Any], end: float, width: int, height: int) -> str:
    """One reading over time (hours before now) with its thresholds as horizontal lines, as text."""
    import plotext as plt

    fig = plt.figure
    fig.clear()
    plt.terminal.limit(False, False)  # the size asked for, not the terminal's
    fig.plot_size(width, height)
    xs = [(t - end) / 3600 for t in series["times"]]
    fig.draw(fig.signal(xs, series["values"], marker="braille").lines().label(key))
    for level, _color in LEVELS:  # each threshold a flat line across the window
        limit = series["thresholds"].get(level)
        if limit is not None:
            flat = fig.signal([xs[0], xs[-1]], [limit, limit], marker="-")
            fig.draw(flat.lines().label(f"{level} {limit:g}"))
    span = series["values"] + [v for v in series["thresholds"].values() if v is not None]
    pad = max((max(span) - min(span)) * 0.05, 0.5)
    fig.ruler("y").lim(min(span) - pad, max(span) + pad)  # every threshold in view, not just the values
    fig.title(f"{key} ({UNITS.get(key.split('@')[0], '')}) against the module's own thresholds")
    fig.label("hours before now", axis=0)
    return str(fig.build().string(colorless=not sys.stdout.isatty())).rstrip("\n")


def summary(key: str, series: dict[str, Any]) -> str:
    """The last value, the range, and the thresholds, in one line.

    >>> summary("rx_dbm", {"values": [-7.0, -7.5], "thresholds": {"low_warn": -18.0, "low_alarm": -20.0},
    ...                    "times": [0, 1], "lane": None, "serial": "X1"})
    'rx_dbm: now -7.5 dBm (min -7.5, max -7); low_alarm -20, low_warn -18; serial X1'
    """
    v = series["values"]
    given = series["thresholds"]
    limits = ", ".join(f"{lv} {given[lv]:g}" for lv, _ in LEVELS if given.get(lv) is not None)
    lane = f" lane {series['lane']}" if series.get("lane") is not None else ""
    return (f"{key}{lane}: now {v[-1]:g} {UNITS.get(key, '')} (min {min(v):g}, max {max(v):g}); "
            f"{limits or 'no thresholds'}; serial {series.get('serial') or '-'}")


def _reader(db: str | None, influx_url: str | None, influx_token: str, influx_bucket: str) -> PointReader:
    from monitor.state.url import parse_store_url, store_url
    from monitor.timeseries import EmbeddedStore, InfluxReader, points_db_for

    if influx_url:
        return InfluxReader(influx_url, influx_token, influx_bucket)
    url = store_url(db)
    parse_store_url(url)  # a bad --db is one line (StoreUrlError is a ValueError), not SQLAlchemy's traceback
    points = points_db_for(url)
    if not points.exists():
        raise FileNotFoundError(f"no points store at {points} "
                                "(give --db of a `saksi run` store, or --influx-url)")
    return EmbeddedStore(points)


def register(app: typer.Typer) -> None:
    @app.command("optics")
    def optics(
        device: Annotated[str, typer.Argument(help="device name as the inventory spells it")],
        port: Annotated[str, typer.Argument(help="port, in either spelling (Gi1/0/49 or "
                                                 "GigabitEthernet1/0/49)")],
        since: Annotated[str, typer.Option("--since", help="how far back: 7d, 12h, 30m")] = "7d",
        db: Annotated[str | None, typer.Option("--db", help="state store URL; its embedded points store sits "
                                               "beside it (default $SAKSI_DB)")] = None,
        influx_url: Annotated[str | None, typer.Option(envvar="SAKSI_INFLUX_URL",
                                                       help="read from InfluxDB instead")] = None,
        influx_token: Annotated[str, typer.Option(envvar="SAKSI_INFLUX_TOKEN", help="InfluxDB token "
                                                  "(1.8: user:password)")] = "",
        influx_bucket: Annotated[str, typer.Option(envvar="SAKSI_INFLUX_BUCKET",
                                                   help="bucket (1.8: db/rp)")] = "saksi",
        width: Annotated[int, typer.Option(help="chart width in characters")] = 100,
        height: Annotated[int, typer.Option(help="chart height in lines")] = 16,
        as_json: Annotated[bool, typer.Option("--json", help="print the series, not charts")] = False,
    ) -> None:
        """Draw a port's optical readings (DOM) over time against its warning and alarm thresholds."""
        from monitor.common.names import port_label
        from monitor.timeseries.reader import reading_series

        try:
            window = parse_since(since)
            reader = _reader(db, influx_url, influx_token, influx_bucket)
        except (ValueError, FileNotFoundError) as exc:
            sys.stderr.write(f"saksi: {exc}\n")
            raise typer.Exit(2) from None
        end = time.time()
        name = port_label(port)
        try:
            rows: list[Row] = reader.optics(device, name, end - window, end)
        except Exception as exc:  # noqa: BLE001 - a reader's failure is one line, whatever the backend
            sys.stderr.write(f"saksi: cannot read the time series: {exc}\n")
            raise typer.Exit(2) from None
        finally:
            reader.close()
        series = reading_series(rows)
        if not series:
            sys.stderr.write(f"saksi: no optical readings for {device} {name} in the last {since}\n")
            raise typer.Exit(1)
        if as_json:
            sys.stdout.write(json.dumps({"device": device, "port": name, "series": series}, indent=2) + "\n")
            return
        sys.stdout.write(f"{device} {name}: {len(rows)} readings in the last {since}\n")
        for key, s in series.items():
            sys.stdout.write(summary(key.split("@")[0], s) + "\n")
            sys.stdout.write(chart(key, s, end, width, height) + "\n")
