"""Panel shapes the Saksi dashboards share, each fed by raw InfluxQL targets."""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as gc
from grafana_foundation_sdk.builders import stat, statetimeline, table, timeseries
from grafana_foundation_sdk.models import common as gcm
from grafana_foundation_sdk.models import dashboard as gm

from dashboards.influxql import DATASOURCE, Target, dashed, fixed, steps, up_down

MIN_INTERVAL = "1m"  # a device is polled about once a minute: finer buckets only hold gaps


def _legend(table_mode: bool = False) -> gc.VizLegendOptions:
    mode = gcm.LegendDisplayMode.TABLE if table_mode else gcm.LegendDisplayMode.LIST
    return gc.VizLegendOptions().show_legend(True).display_mode(mode).placement(gcm.LegendPlacement.BOTTOM).calcs(
        ["lastNotNull", "min", "max"] if table_mode else [])


def graph(title: str, unit: str, *targets: Target, description: str = "", span: int = 12,
          height: int = 8) -> timeseries.Panel:
    panel = (timeseries.Panel().title(title).description(description).datasource(DATASOURCE).unit(unit)
             .interval(MIN_INTERVAL).span(span).height(height).legend(_legend(table_mode=True))
             .tooltip(gc.VizTooltipOptions().mode(gcm.TooltipDisplayMode.MULTI).sort(gcm.SortOrder.NONE))
             .line_width(1).fill_opacity(5).show_points(gcm.VisibilityMode.NEVER).span_nulls(True))
    return panel.targets(list(targets))


def thresholds_graph(title: str, unit: str, target: Target, description: str = "", span: int = 12) -> timeseries.Panel:
    """A reading drawn against its own warning (orange, dashed) and alarm (red, dashed) thresholds."""
    return (graph(title, unit, target, description=description, span=span)
            .override_by_regexp("/warning/", [fixed("orange"), dashed()])
            .override_by_regexp("/alarm/", [fixed("red"), dashed()]))


def big_number(title: str, target: Target, unit: str = "none", description: str = "", span: int = 6,
               bad_above: float | None = None) -> stat.Panel:
    panel = (stat.Panel().title(title).description(description).datasource(DATASOURCE).unit(unit).span(span)
             .height(4).graph_mode(gcm.BigValueGraphMode.NONE).color_mode(gcm.BigValueColorMode.BACKGROUND)
             .reduce_options(gc.ReduceDataOptions().calcs(["lastNotNull"]).values(False)).targets([target]))
    if bad_above is not None:
        panel = panel.thresholds(steps((None, "green"), (bad_above + 1, "red")))
    return panel


def status(title: str, target: Target, up: str = "up", down: str = "down", span: int = 6) -> stat.Panel:
    return (stat.Panel().title(title).datasource(DATASOURCE).span(span).height(4).mappings(up_down(up=up, down=down))
            .graph_mode(gcm.BigValueGraphMode.NONE).color_mode(gcm.BigValueColorMode.BACKGROUND)
            .reduce_options(gc.ReduceDataOptions().calcs(["lastNotNull"]).values(False)).targets([target]))


def rows(title: str, target: Target, description: str = "", span: int = 12, height: int = 8) -> table.Panel:
    return (table.Panel().title(title).description(description).datasource(DATASOURCE).span(span).height(height)
            .show_header(True).cell_height(gcm.TableCellHeight.SM).targets([target])
            .with_transformation(gm.DataTransformerConfig(id_val="merge", options={})))


def timeline(title: str, target: Target, up: str = "up", down: str = "down", span: int = 12,
             height: int = 6) -> statetimeline.Panel:
    return (statetimeline.Panel().title(title).datasource(DATASOURCE).span(span).height(height)
            .interval(MIN_INTERVAL).mappings(up_down(up=up, down=down)).show_value(gcm.VisibilityMode.NEVER)
            .merge_values(True).legend(_legend()).targets([target]))
