"""NOC overview: every site at a glance — devices down, open incidents, links and optics in trouble."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as gd

from dashboards.influxql import SITE, Target, dashboard, event_annotations, variables
from dashboards.panels import big_number, graph, rows

UID = "saksi-noc"

# the latest answer of each device in the time range, one series per device
LAST_POLL = f"""SELECT last("reachable") AS "reachable" FROM "device" WHERE {SITE} AND $timeFilter
                GROUP BY "customer", "site", "device\""""
# the latest transition of each incident: open = 1 until it resolves
LAST_INCIDENT = f"""SELECT last("open") AS "open", last("title") AS "title", last("summary") AS "summary"
                    FROM "event" WHERE "type" = 'incident' AND {SITE} AND $timeFilter
                    GROUP BY "incident", "site", "device", "port\""""


def build() -> gd.Dashboard:
    d = dashboard(UID, "Saksi — NOC overview", "Every site at a glance: what is down, what is open, what is "
                  "fading. Links are the inventory's links (a port with a role).")
    for v in variables("customer", "site"):
        d = d.with_variable(v)
    for a in event_annotations(SITE):
        d = d.annotation(a)
    d = (d.with_row(gd.Row("Now"))
         .with_panel(big_number("Sites", Target(f"""SELECT count("reachable") FROM (SELECT last("reachable") AS
                                 "reachable" FROM "device" WHERE {SITE} AND $timeFilter GROUP BY "site")""")))
         .with_panel(big_number("Devices", Target(f'SELECT count("reachable") FROM ({LAST_POLL})')))
         .with_panel(big_number("Devices down", Target(f"""SELECT sum("down") FROM (SELECT 1 - last("reachable")
                                 AS "down" FROM "device" WHERE {SITE} AND $timeFilter GROUP BY "site", "device")"""),
                                bad_above=0, description="Devices whose latest poll got no answer."))
         .with_panel(big_number("Open incidents", Target(f'SELECT sum("open") FROM ({LAST_INCIDENT})'),
                                bad_above=0))
         .with_panel(rows("Sites", Target(f"""SELECT count("reachable") AS "devices", sum("down") AS "down" FROM
                          (SELECT last("reachable") AS "reachable", 1 - last("reachable") AS "down" FROM "device"
                          WHERE {SITE} AND $timeFilter GROUP BY "customer", "site", "device")
                          GROUP BY "customer", "site\"""", table=True), span=8))
         .with_panel(rows("Devices down", Target(f"""SELECT "reachable" FROM ({LAST_POLL}) WHERE "reachable" = 0
                          GROUP BY "customer", "site", "device\"""", table=True), span=16))
         .with_row(gd.Row("In trouble"))
         .with_panel(rows("Open incidents", Target(f"""SELECT "title", "summary" FROM ({LAST_INCIDENT})
                          WHERE "open" = 1 GROUP BY "incident", "site", "device", "port\"""", table=True), span=24))
         .with_panel(rows("Links down", Target(f"""SELECT "oper_up", "alias" FROM (SELECT last("oper_up") AS
                          "oper_up", last("admin_up") AS "admin_up", last("alias") AS "alias" FROM "interface"
                          WHERE "role" != '' AND {SITE} AND $timeFilter GROUP BY "site", "device", "port", "role")
                          WHERE "oper_up" = 0 AND "admin_up" = 1 GROUP BY "site", "device", "port", "role\"""",
                                                table=True),
                          description="Ports of the inventory's links that are enabled but down."))
         .with_panel(rows("Optics beyond thresholds", Target(f"""SELECT "breach", "rx_dbm", "tx_dbm", "model" FROM
                          (SELECT last("breach") AS "breach", last("rx_dbm") AS "rx_dbm", last("tx_dbm") AS "tx_dbm",
                          last("model") AS "model" FROM "dom" WHERE {SITE} AND $timeFilter
                          GROUP BY "site", "device", "port", "lane") WHERE "breach" > 0
                          GROUP BY "site", "device", "port", "lane\"""", table=True),
                          description="breach: 1 a warning threshold crossed, 2 an alarm threshold crossed."))
         .with_row(gd.Row("Over time"))
         .with_panel(graph("Availability", "percentunit", Target(f"""SELECT mean("reachable") FROM "device"
                           WHERE {SITE} AND $timeFilter GROUP BY time($__interval), "site", "device" fill(none)""",
                                                                 alias="$tag_site $tag_device")))
         .with_panel(graph("Poll duration", "s", Target(f"""SELECT max("poll_duration_s") FROM "device"
                           WHERE {SITE} AND $timeFilter GROUP BY time($__interval), "device" fill(none)""",
                                                        alias="$tag_device")))
         .with_panel(rows("Recent events", Target(f"""SELECT "title", "text", "site", "device", "port", "type"
                          FROM "event" WHERE {SITE} AND $timeFilter
                          ORDER BY time DESC LIMIT 200""", table=True), span=24, height=10)))
    return d
