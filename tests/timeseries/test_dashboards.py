"""The dashboards as code: the committed JSON is current, the provisioning files fit it, and every
query of every dashboard returns data on a real InfluxDB holding what the collectors wrote.

No Grafana server can run here, so Grafana's one step — replacing `$timeFilter`, `$__interval` and the
variables in each query — is done by `tests/timeseries/grafana.py`; the queries then run on the real
server, filled by the lab day (conftest). A query that fails or returns nothing fails the build.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards.influxql import DATASOURCE_UID
from monitor.model import DOM_KEYS
from monitor.timeseries.influx import InfluxReader, Series
from tests.conftest import ROOT, run_saksi
from tests.timeseries.conftest import CUSTOMER, LabDay
from tests.timeseries.grafana import Query, interpolate, queries

JSON_DIR = ROOT / "dashboards" / "json"
PROVISIONING = ROOT / "dashboards" / "provisioning"
DASHBOARDS = sorted(p.name for p in JSON_DIR.glob("*.json"))
PORT_VIEW = "saksi-port.json"


def load(name: str) -> dict[str, Any]:
    return json.loads((JSON_DIR / name).read_text(encoding="utf-8"))


def run(reader: InfluxReader, q: Query, dashboard: dict[str, Any], selected: dict[str, list[str]]) -> list[Series]:
    """The query as Grafana would send it; it must succeed and return at least one value."""
    text = interpolate(q.text, dashboard, selected)
    series = reader.query(text)  # raises QueryError with the server's message
    values = [v for s in series for row in s.values for v in row[1:] if v is not None]
    assert values, f"{q.where} returned nothing:\n{text}"
    return series


def test_the_committed_json_is_what_the_code_renders() -> None:
    result = run_saksi("dashboards", "build", "--check")
    assert result.returncode == 0, result.stderr
    assert DASHBOARDS == ["saksi-noc.json", "saksi-port.json", "saksi-site.json"]


def test_check_fails_on_stale_json_and_build_repairs_it(tmp_path: Path) -> None:
    out = tmp_path / "json"
    shutil.copytree(JSON_DIR, out)
    stale = out / "saksi-site.json"
    stale.write_text(stale.read_text().replace("Backbone links", "Backbone"))
    (out / "old.json").write_text("{}")
    result = run_saksi("dashboards", "build", "--check", "--out", str(out))
    assert result.returncode == 1
    assert "saksi-site.json" in result.stderr and "old.json" in result.stderr
    assert run_saksi("dashboards", "build", "--out", str(out)).returncode == 0
    (out / "old.json").unlink()
    assert run_saksi("dashboards", "build", "--check", "--out", str(out)).returncode == 0


def test_the_provisioning_files_fit_the_dashboards() -> None:
    (datasource,) = yaml.safe_load((PROVISIONING / "datasources" / "saksi.yaml").read_text())["datasources"]
    assert datasource["uid"] == DATASOURCE_UID and datasource["type"] == "influxdb"
    assert datasource["jsonData"]["version"] == "InfluxQL"
    (provider,) = yaml.safe_load((PROVISIONING / "dashboards" / "saksi.yaml").read_text())["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]
    for name in DASHBOARDS:
        text = (JSON_DIR / name).read_text()
        uids = {ref["uid"] for ref in _datasources(json.loads(text))}
        assert uids == {DATASOURCE_UID}, name


def _datasources(node: Any) -> list[dict[str, str]]:
    if isinstance(node, dict):
        found = [node["datasource"]] if isinstance(node.get("datasource"), dict) else []
        return found + [d for v in node.values() for d in _datasources(v)]
    if isinstance(node, list):
        return [d for v in node for d in _datasources(v)]
    return []


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_dashboard_has_the_variables_and_the_annotations(name: str) -> None:
    d = load(name)
    names = [v["name"] for v in d["templating"]["list"]]
    assert names == {"saksi-noc.json": ["customer", "site"], "saksi-site.json": ["customer", "site", "device"],
                     PORT_VIEW: ["customer", "site", "device", "port"]}[name]
    assert [a["name"] for a in d["annotations"]["list"]] == ["Physical changes", "Incidents"]
    assert len({p["id"] for p in d["panels"]}) == len(d["panels"])


@pytest.mark.parametrize("name", [n for n in DASHBOARDS if n != PORT_VIEW])
def test_every_query_returns_data_for_the_lab_devices(lab_day: LabDay, name: str) -> None:
    assert lab_day.influx is not None
    d = load(name)
    seen: set[str] = set()
    for q in queries(d):
        series = run(lab_day.influx, q, d, {})
        if "device" in q.grouped_by:
            devices = {s.tags["device"] for s in series}
            assert devices <= set(lab_day.devices), q.where
            seen |= devices
        if q.where == "variable device":
            assert {row[1] for s in series for row in s.values} == set(lab_day.devices)
        if q.where == "variable customer":
            assert [row[1] for s in series for row in s.values] == [CUSTOMER]
    assert seen == set(lab_day.devices)


def test_the_noc_overview_shows_what_went_wrong(lab_day: LabDay) -> None:
    reader = lab_day.influx
    assert reader is not None
    d = load("saksi-noc.json")
    panel = {q.where: q for q in queries(d)}

    def rows(where: str) -> set[tuple[str, ...]]:
        return {tuple(s.tags.get(k, "") for k in ("device", "port")) for s in run(reader, panel[where], d, {})}

    assert rows("panel 'Devices down'") == {("spine-n", "")}
    assert rows("panel 'Links down'") == {("spine-n", "Ethernet1/1"), ("leaf-a", "Ethernet2")}
    assert rows("panel 'Optics beyond thresholds'") == {("edge-j", "ge-0/0/8"), ("leaf-a", "Ethernet2")}
    assert {s.tags["incident"] for s in run(reader, panel["panel 'Open incidents'"], d, {})} >= {"SAK-000001"}


@pytest.fixture(scope="module")
def dom_readings(lab_day: LabDay) -> dict[tuple[str, str], set[str]]:
    """Which DOM readings each port's snapshots carried: what its optics panels must show."""
    out: dict[tuple[str, str], set[str]] = {}
    for snap in lab_day.snapshots:
        names = {p.ifindex: p.name for p in snap.ports}
        for s in snap.sensors:
            if s.ifindex in names and s.kind in DOM_KEYS and s.value is not None:
                out.setdefault((snap.device, names[s.ifindex]), set()).add(DOM_KEYS[s.kind])
    return out


def test_the_port_view_shows_every_link_port(lab_day: LabDay, dom_readings: dict[tuple[str, str], set[str]]) -> None:
    assert lab_day.influx is not None
    d = load(PORT_VIEW)
    dom_panels = {q.where: key for q in queries(d) for key in DOM_KEYS.values() if f'mean("{key}")' in q.text}
    assert len(dom_panels) == len(DOM_KEYS)
    assert len(dom_readings) >= 6  # the fibre link ports: optics panels are checked on real readings
    for device, port in lab_day.link_ports:
        selected = {"device": [device], "port": [port]}
        readings = dom_readings.get((device, port), set())  # none on a copper port
        for q in queries(d):
            if q.where.startswith(("annotation", "variable")):
                lab_day.influx.query(interpolate(q.text, d, selected))  # may be empty for a quiet device
                continue
            absent = dom_panels[q.where] not in readings if q.where in dom_panels else (
                'FROM "dom"' in q.text and not readings)
            if absent:
                assert lab_day.influx.query(interpolate(q.text, d, selected)) == [], (device, port, q.where)
                continue
            series = run(lab_day.influx, q, d, selected)
            for s in series:
                assert s.tags.get("device", device) == device and s.tags.get("port", port) == port, q.where
            if q.where in dom_panels:  # the reading and its four thresholds
                columns = set(series[0].columns)
                assert {"low alarm", "low warning", "high warning", "high alarm"} <= columns, (device, port, q.where)


def test_the_port_view_with_several_ports_selected(lab_day: LabDay) -> None:
    """Grafana joins a multi-value selection as (a|b) of regex-escaped names: `/` in a port name included."""
    assert lab_day.influx is not None
    d = load(PORT_VIEW)
    (q,) = [q for q in queries(d) if q.where == "panel 'Received power'"]
    selected = {"device": ["core-sw1"], "port": ["GigabitEthernet1/0/49", "GigabitEthernet1/0/50"]}
    ports = {s.tags["port"] for s in run(lab_day.influx, q, d, selected)}
    assert ports == {"GigabitEthernet1/0/49", "GigabitEthernet1/0/50"}
