"""What Grafana does to a panel's InfluxQL before sending it, done here so the real server can run it.

Grafana's InfluxDB datasource replaces `$timeFilter` with the dashboard's range, `$__interval` with the
panel's interval, and each variable with its value — for multi-value and All variables regex-escaped
(`/` included) and joined as `(a|b)`, All being the variable's `allValue`. No Grafana server can run
on this machine (none is packaged for it), so this is the one step of the path that is emulated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_TIME_FILTER = "time >= now() - 6h"  # the dashboards' default range: now-6h to now
_REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")


def escape_regex(value: str) -> str:
    r"""Grafana's escapeRegex.

    >>> escape_regex("Gi1/0/49")
    'Gi1\\/0\\/49'
    """
    return _REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), value)


def variable_value(definition: Mapping[str, Any], values: Sequence[str]) -> str:
    if list(values) == ["$__all"]:
        return str(definition.get("allValue") or ".*")
    if not (definition.get("multi") or definition.get("includeAll")):
        return values[0]
    escaped = [escape_regex(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def interpolate(query: str, dashboard: Mapping[str, Any], selected: Mapping[str, Sequence[str]],
                interval: str = "1m", time_filter: str = DEFAULT_TIME_FILTER) -> str:
    out = query.replace("$timeFilter", time_filter).replace("$__interval", interval).replace("$interval", interval)
    for var in dashboard.get("templating", {}).get("list", []):
        value = variable_value(var, selected.get(var["name"], ["$__all"]))
        out = re.sub(r"\$" + re.escape(var["name"]) + r"\b", _literally(value), out)
    return out


def _literally(text: str) -> Callable[[re.Match[str]], str]:
    """A re.sub replacement that takes `text` as it is (a regex-escaped value is full of backslashes)."""
    return lambda _match: text


@dataclass(frozen=True)
class Query:
    where: str  # "panel 'Links down'", "variable device", "annotation Incidents"
    text: str
    grouped_by: tuple[str, ...]  # the tags its outermost GROUP BY names


def queries(dashboard: Mapping[str, Any]) -> Iterator[Query]:
    """Every InfluxQL statement of a dashboard: panel targets, variables, annotations."""
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            yield Query(f"panel {panel['title']!r}", target["query"], _grouped_by(target["query"]))
    for var in dashboard.get("templating", {}).get("list", []):
        yield Query(f"variable {var['name']}", var["query"], ())
    for anno in dashboard.get("annotations", {}).get("list", []):
        yield Query(f"annotation {anno['name']}", anno["target"]["query"], ())


def _grouped_by(query: str) -> tuple[str, ...]:
    tail = query.rsplit("GROUP BY", 1)
    if len(tail) < 2 or ")" in tail[1].split("fill(")[0].replace("time($__interval)", ""):
        return ()
    return tuple(re.findall(r'"(\w+)"', tail[1]))
