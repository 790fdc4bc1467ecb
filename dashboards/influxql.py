"""What grafana-foundation-sdk lacks for InfluxDB: an InfluxQL target, InfluxQL annotations, and the
shared pieces (datasource, variables, filters) every Saksi dashboard uses.

Every query is raw InfluxQL over the schema of `monitor.timeseries.points`; variables are used as
`"tag" =~ /^$var$/`, the form Grafana regex-escapes for multi-value variables (a port name's `/` too).
"""

from __future__ import annotations

from typing import Literal

from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard as gm

DATASOURCE_UID = "saksi-influxdb"  # the uid dashboards/provisioning/datasources/saksi.yaml gives the datasource
DATASOURCE = gm.DataSourceRef(type_val="influxdb", uid=DATASOURCE_UID)
VARIABLES = ("customer", "site", "device", "port")
CUSTOMER = '"customer" =~ /^$customer$/'
SITE = f'{CUSTOMER} AND "site" =~ /^$site$/'
DEVICE = f'{SITE} AND "device" =~ /^$device$/'
PORT = f'{DEVICE} AND "port" =~ /^$port$/'
NOISY_CHANGES = "errors_rising|dom_drift"  # repeated every poll while they last: a panel shows them, not annotations


class InfluxQLQuery(cogvariants.Dataquery):
    """A raw InfluxQL panel target, as Grafana's InfluxDB datasource stores one."""

    def __init__(self, ref_id: str, query: str, alias: str = "",
                 result_format: Literal["time_series", "table"] = "time_series") -> None:
        self.ref_id, self.query, self.alias, self.result_format = ref_id, query, alias, result_format

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"refId": self.ref_id, "datasource": DATASOURCE, "query": self.query,
                                  "rawQuery": True, "resultFormat": self.result_format}
        if self.alias:
            out["alias"] = self.alias
        return out


class Target(cogbuilder.Builder[cogvariants.Dataquery]):
    def __init__(self, query: str, alias: str = "", table: bool = False, ref_id: str = "A") -> None:
        self._query = InfluxQLQuery(ref_id, " ".join(query.split()), alias, "table" if table else "time_series")

    def build(self) -> cogvariants.Dataquery:
        return self._query


class InfluxAnnotation(gm.AnnotationQuery):
    """An InfluxQL annotation: the query and which columns hold title, text and tags.

    Written both as a `target` (Grafana 9+) and in the legacy top-level form older Grafana reads.
    """

    def __init__(self, name: str, query: str, color: str) -> None:
        super().__init__(name=name, datasource=DATASOURCE, enable=True, hide=False, icon_color=color)
        self.query = " ".join(query.split())

    def to_json(self) -> dict[str, object]:
        columns = {"titleColumn": "title", "textColumn": "text", "tagsColumn": "tags"}
        out = super().to_json()
        out.update(query=self.query, **columns)
        out["target"] = {"refId": "Anno", "query": self.query, "rawQuery": True, "fromAnnotations": True,
                         "textEditor": True, "resultFormat": "table", **columns}
        return out


class Annotation(cogbuilder.Builder[gm.AnnotationQuery]):
    def __init__(self, name: str, query: str, color: str) -> None:
        self._annotation = InfluxAnnotation(name, query, color)

    def build(self) -> gm.AnnotationQuery:
        return self._annotation


def event_annotations(scope: str) -> list[cogbuilder.Builder[gm.AnnotationQuery]]:
    """Physical changes and incident transitions inside `scope` (a WHERE fragment), drawn from InfluxDB."""
    return [
        Annotation("Physical changes", f"""SELECT "title", "text", "tags" FROM "event"
                   WHERE "type" = 'change' AND "kind" !~ /^({NOISY_CHANGES})$/ AND {scope} AND $timeFilter""",
                   "orange"),
        Annotation("Incidents", f"""SELECT "title", "text", "tags" FROM "event"
                   WHERE "type" = 'incident' AND "state" != 'updated' AND {scope} AND $timeFilter""", "red"),
    ]


def variable(name: str, query: str) -> gd.QueryVariable:
    """A multi-value variable with All (= any value, tag absent included) from an InfluxQL SHOW query."""
    return (gd.QueryVariable(name).id(name).label(name.capitalize()).query(" ".join(query.split())).datasource(DATASOURCE)
            .multi(True).include_all(True).all_value(".*").refresh(gm.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(gm.VariableSort.ALPHABETICAL_ASC)
            .current(gm.VariableOption(selected=True, text=["All"], value=["$__all"])))


def variables(*names: str) -> list[cogbuilder.Builder[gm.VariableModel]]:
    """The chained variables, each narrowed by the ones before it."""
    queries = {
        "customer": 'SHOW TAG VALUES FROM "device" WITH KEY = "customer"',
        "site": f'SHOW TAG VALUES FROM "device" WITH KEY = "site" WHERE {CUSTOMER}',
        "device": f'SHOW TAG VALUES FROM "device" WITH KEY = "device" WHERE {SITE}',
        "port": f'SHOW TAG VALUES FROM "interface" WITH KEY = "port" WHERE {DEVICE}',
    }
    return [variable(n, queries[n]) for n in VARIABLES if n in names]


def navigation() -> gd.DashboardLink:
    return (gd.DashboardLink("Saksi").type(gm.DashboardLinkType.DASHBOARDS).tags(["saksi"]).as_dropdown(True)
            .include_vars(True).keep_time(True))


def dashboard(uid: str, title: str, description: str) -> gd.Dashboard:
    return (gd.Dashboard(title).uid(uid).description(description).tags(["saksi"]).refresh("1m")
            .time("now-6h", "now").timezone("browser").tooltip(gm.DashboardCursorSync.CROSSHAIR)
            .readonly().link(navigation()))


def up_down(*, up: str = "up", down: str = "down") -> list[gm.ValueMapping]:
    return [gm.ValueMap(options={"1": gm.ValueMappingResult(text=up, color="green", index=0),
                                 "0": gm.ValueMappingResult(text=down, color="red", index=1)})]


def fixed(color: str) -> gm.DynamicConfigValue:
    return gm.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": color})


def dashed() -> gm.DynamicConfigValue:
    return gm.DynamicConfigValue(id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]})


def steps(*pairs: tuple[float | None, str]) -> gd.ThresholdsConfig:
    return gd.ThresholdsConfig().mode(gm.ThresholdsMode.ABSOLUTE).steps(
        [gm.Threshold(value=v, color=c) for v, c in pairs])
