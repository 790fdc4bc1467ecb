"""Site view: the devices of one site, its backbone links, and the health of every optic in it."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as gd

from dashboards.influxql import DEVICE, SITE, Target, dashboard, event_annotations, variables
from dashboards.panels import graph, rows, timeline

UID = "saksi-site"
BACKBONE = f'"role" = \'backbone\' AND {DEVICE}'


def build() -> gd.Dashboard:
    d = dashboard(UID, "Saksi — site", "One site: its devices, its backbone links and every optic's light "
                  "against its thresholds.")
    for v in variables("customer", "site", "device"):
        d = d.with_variable(v)
    for a in event_annotations(SITE):
        d = d.annotation(a)
    d = (d.with_row(gd.Row("Devices"))
         .with_panel(rows("Devices", Target(f"""SELECT last("reachable") AS "reachable", last("poll_status") AS
                          "poll", last("uptime_s") AS "uptime_s", last("poll_duration_s") AS "poll_s",
                          last("tables_failed") AS "tables_failed" FROM "device" WHERE {DEVICE} AND $timeFilter
                          GROUP BY "site", "device\"""", table=True), span=12))
         .with_panel(timeline("Reachability", Target(f"""SELECT last("reachable") FROM "device" WHERE {DEVICE}
                              AND $timeFilter GROUP BY time($__interval), "device" fill(previous)""",
                                                     alias="$tag_device"), down="unreachable", span=12))
         .with_row(gd.Row("Backbone"))
         .with_panel(rows("Backbone links", Target(f"""SELECT last("oper") AS "oper", last("speed_mbps") AS
                          "speed_mbps", last("alias") AS "alias" FROM "interface" WHERE {BACKBONE} AND $timeFilter
                          GROUP BY "device", "port\"""", table=True), span=8))
         .with_panel(graph("Backbone traffic", "bps", Target(f"""SELECT non_negative_derivative(last("in_octets"),
                           1s) * 8 AS "in", non_negative_derivative(last("out_octets"), 1s) * 8 AS "out"
                           FROM "interface" WHERE {BACKBONE} AND $timeFilter
                           GROUP BY time($__interval), "device", "port" fill(none)""",
                                                             alias="$tag_device $tag_port $col"), span=8))
         .with_panel(graph("Backbone errors and discards", "pps", Target(f"""SELECT
                           non_negative_derivative(last("in_errors"), 1s) AS "in errors",
                           non_negative_derivative(last("out_errors"), 1s) AS "out errors",
                           non_negative_derivative(last("in_discards"), 1s) AS "in discards",
                           non_negative_derivative(last("out_discards"), 1s) AS "out discards"
                           FROM "interface" WHERE {BACKBONE} AND $timeFilter
                           GROUP BY time($__interval), "device", "port" fill(none)""",
                                                                        alias="$tag_device $tag_port $col"), span=8))
         .with_panel(timeline("Backbone link state", Target(f"""SELECT last("oper_up") FROM "interface"
                              WHERE {BACKBONE} AND $timeFilter GROUP BY time($__interval), "device", "port"
                              fill(previous)""", alias="$tag_device $tag_port"), span=24))
         .with_row(gd.Row("Optics"))
         .with_panel(rows("Optics health", Target(f"""SELECT last("rx_dbm") AS "rx_dbm",
                          last("rx_dbm") - last("rx_dbm_low_warn") AS "rx margin to warning (dB)",
                          last("tx_dbm") AS "tx_dbm", last("temperature_c") AS "temperature_c",
                          last("breach") AS "breach", last("model") AS "model" FROM "dom" WHERE {DEVICE}
                          AND $timeFilter GROUP BY "device", "port", "lane", "serial\"""", table=True), span=24,
                          description="breach: 1 a warning threshold crossed, 2 an alarm threshold crossed."))
         .with_panel(graph("Received power", "dBm", Target(f"""SELECT mean("rx_dbm") FROM "dom" WHERE {DEVICE}
                           AND $timeFilter GROUP BY time($__interval), "device", "port", "lane" fill(none)""",
                                                           alias="$tag_device $tag_port $tag_lane")))
         .with_panel(graph("Transmitted power", "dBm", Target(f"""SELECT mean("tx_dbm") FROM "dom" WHERE {DEVICE}
                           AND $timeFilter GROUP BY time($__interval), "device", "port", "lane" fill(none)""",
                                                              alias="$tag_device $tag_port $tag_lane"))))
    return d
