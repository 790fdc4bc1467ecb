"""Device and port view: traffic, errors, link state, the module in the port, and every DOM reading
drawn against its own warning and alarm thresholds."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as gd

from dashboards.influxql import DEVICE, PORT, Target, dashboard, event_annotations, variables
from dashboards.panels import big_number, graph, rows, status, thresholds_graph, timeline

UID = "saksi-port"
DOM = (("rx_dbm", "Received power", "dBm"), ("tx_dbm", "Transmitted power", "dBm"),
       ("temperature_c", "Module temperature", "celsius"), ("voltage_v", "Supply voltage", "volt"),
       ("bias_ma", "Laser bias current", "mamp"))


def dom_query(key: str) -> str:
    """One reading per lane with its four thresholds, as the module reports them."""
    return f"""SELECT mean("{key}") AS "{key}", last("{key}_low_alarm") AS "low alarm",
               last("{key}_low_warn") AS "low warning", last("{key}_high_warn") AS "high warning",
               last("{key}_high_alarm") AS "high alarm" FROM "dom" WHERE {PORT} AND $timeFilter
               GROUP BY time($__interval), "device", "port", "lane" fill(none)"""


def build() -> gd.Dashboard:
    d = dashboard(UID, "Saksi — device and port", "One device and port: traffic, errors, link state, the module "
                  "in it, and every DOM reading against its warning and alarm thresholds.")
    for v in variables("customer", "site", "device", "port"):
        d = d.with_variable(v)
    for a in event_annotations(DEVICE):
        d = d.annotation(a)
    d = (d.with_row(gd.Row("$device $port"))
         .with_panel(status("Device", Target(f'SELECT last("reachable") FROM "device" WHERE {DEVICE} AND $timeFilter'),
                            down="unreachable"))
         .with_panel(big_number("Uptime", Target(f"""SELECT last("uptime_s") FROM "device" WHERE {DEVICE}
                                AND $timeFilter"""), unit="s"))
         .with_panel(status("Port", Target(f'SELECT last("oper_up") FROM "interface" WHERE {PORT} AND $timeFilter')))
         .with_panel(big_number("Speed", Target(f"""SELECT last("speed_mbps") FROM "interface" WHERE {PORT}
                                AND $timeFilter"""), unit="Mbits"))
         .with_panel(rows("Modules seen in this port", Target(f"""SELECT first("breach") AS "first breach",
                          last("breach") AS "breach", last("vendor") AS "vendor", last("model") AS "model"
                          FROM "dom" WHERE {PORT} AND $timeFilter GROUP BY "device", "port", "serial\"""",
                                                               table=True), span=12, height=6))
         .with_panel(timeline("Link state", Target(f"""SELECT last("oper_up") FROM "interface" WHERE {PORT}
                              AND $timeFilter GROUP BY time($__interval), "device", "port" fill(previous)""",
                                                   alias="$tag_device $tag_port"), span=12))
         .with_row(gd.Row("Traffic and errors"))
         .with_panel(graph("Traffic", "bps", Target(f"""SELECT non_negative_derivative(last("in_octets"), 1s) * 8
                           AS "in", non_negative_derivative(last("out_octets"), 1s) * 8 AS "out" FROM "interface"
                           WHERE {PORT} AND $timeFilter GROUP BY time($__interval), "device", "port" fill(none)""",
                                                    alias="$tag_device $tag_port $col")))
         .with_panel(graph("Errors and discards", "pps", Target(f"""SELECT
                           non_negative_derivative(last("in_errors"), 1s) AS "in errors",
                           non_negative_derivative(last("out_errors"), 1s) AS "out errors",
                           non_negative_derivative(last("in_discards"), 1s) AS "in discards",
                           non_negative_derivative(last("out_discards"), 1s) AS "out discards" FROM "interface"
                           WHERE {PORT} AND $timeFilter GROUP BY time($__interval), "device", "port" fill(none)""",
                                                                alias="$tag_device $tag_port $col")))
         .with_row(gd.Row("Optics (DOM) against the module's thresholds")))
    for key, title, unit in DOM:
        d = d.with_panel(thresholds_graph(title, unit, Target(dom_query(key), alias="$tag_port $tag_lane $col"),
                                          span=12 if key != "bias_ma" else 24))
    return d
