"""The snapshot as `saksi check` shows it: the JSON contract and the human table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from monitor.check.health import hardware_problems, problems, unused
from monitor.check.watch import WATCHED
from monitor.common.names import port_label, short_port
from monitor.model import DOM_KEYS, CliView, Hardware, HardwareUnit, Port, Sensor, Snapshot, Thresholds

NO_THRESHOLDS = "no thresholds stated by the device"


def _thresholds(t: Thresholds) -> dict[str, float | None]:
    return {"low_alarm": t.low_alarm, "low_warn": t.low_warn, "high_warn": t.high_warn, "high_alarm": t.high_alarm}


def _dom(sensors: list[Sensor]) -> dict[str, Any] | None:
    dom = [s for s in sensors if s.kind in DOM_KEYS]
    if not dom:
        return None
    out: dict[str, Any] = {k: None for k in DOM_KEYS.values()}
    out["thresholds"] = {}
    lanes: dict[int, dict[str, Any]] = {}
    for s in sorted(dom, key=lambda s: (s.lane or 0)):
        key = DOM_KEYS[s.kind]
        if out[key] is None:  # the first lane speaks for the module; every lane is listed below
            out[key] = s.value
            out["thresholds"][key] = _thresholds(s.thresholds)
        if s.lane is not None:
            lanes.setdefault(s.lane, {"lane": s.lane})[key] = s.value
    if len(lanes) > 1:
        out["lanes"] = [lanes[k] for k in sorted(lanes)]
    out["thresholds_stated"] = any(not s.thresholds.is_empty() for s in dom)
    if not out["thresholds_stated"]:  # Saksi invents none: the module's readings are shown, never judged
        out["note"] = NO_THRESHOLDS
    return out


def port_json(snap: Snapshot, p: Port, verdicts: Mapping[str, str] | None = None) -> dict[str, Any]:
    t = snap.transceiver_in(p.ifindex)
    n = snap.neighbor_on(p.ifindex)
    watch = None if verdicts is None else verdicts.get(p.name)
    return {
        "ifindex": p.ifindex, "name": p.name, "short": short_port(p.name), "descr": p.descr, "alias": p.alias,
        "type": p.if_type, "watch": watch, "watched": verdicts is None or watch in WATCHED,
        "admin": p.admin, "oper": p.oper, "speed_mbps": p.speed_mbps, "mtu": p.mtu, "mac": p.mac,
        "last_change_s": p.last_change_s,
        "counters": {"in_octets": p.in_octets, "out_octets": p.out_octets, "counters_64bit": p.counters_64bit,
                     "in_errors": p.in_errors, "out_errors": p.out_errors, "in_discards": p.in_discards,
                     "out_discards": p.out_discards},
        "transceiver": None if t is None else {"vendor": t.vendor, "model": t.model, "serial": t.serial,
                                               "type": t.type, "revision": t.revision, "source": t.source},
        "dom": _dom(snap.sensors_of(p.ifindex)),
        "neighbor": None if n is None else {"sys_name": n.sys_name, "port": n.port, "chassis_id": n.chassis_id},
    }


def snapshot_json(snap: Snapshot, ports: list[Port] | None = None,
                  verdicts: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`verdicts` (port → monitor.check.watch verdict) marks unused ports; without it every port is watched."""
    chosen = list(snap.ports) if ports is None else ports
    found = problems(snap, chosen, verdicts) + (hardware_problems(snap) if ports is None else [])
    return {
        "device": {"name": snap.device, "sys_name": snap.facts.sys_name, "sys_descr": snap.facts.sys_descr,
                   "sys_object_id": snap.facts.sys_object_id, "uptime_s": snap.facts.device_uptime_s,
                   "agent_uptime_s": snap.facts.uptime_s,
                   "reachable": snap.reachable, "poll": snap.poll_status, "error": snap.error},
        "ports": [port_json(snap, p, verdicts) for p in chosen],
        "unused": [p.name for p in chosen if unused(p, verdicts)],
        "sensors": [
            {"id": s.sensor_id, "kind": s.kind.value, "unit": s.kind.unit, "value": s.value, "status": s.status,
             "descr": s.descr, "ifindex": s.ifindex, "lane": s.lane, "entity_index": s.entity_index,
             "source": s.source, "thresholds": _thresholds(s.thresholds)}
            for s in snap.sensors if ports is None or s.ifindex in {p.ifindex for p in chosen}
        ],
        "tables": [{"table": t.table, "status": t.status.value, "rows": t.rows, "error": t.error}
                   for t in snap.tables],
        "skipped": dict(snap.skipped),
        "healthy": not found,
        "problems": found,
        "ssh": None if snap.cli is None else ssh_json(snap.cli, None if ports is None else {p.name for p in chosen}),
        "hardware": hardware_json(snap.hardware),
    }


def hardware_json(hw: Hardware | None) -> dict[str, Any] | None:
    """Power, cooling, chassis temperatures, CPU, memory, storage and disks; None when they were not read."""
    if hw is None:
        return None

    def unit(u: HardwareUnit) -> dict[str, Any]:
        return {"id": u.unit_id, "name": u.name, "state": u.state, "status": u.status_text, "source": u.source,
                "entity_index": u.entity_index}

    return {
        "power_supplies": [unit(u) for u in hw.power_supplies],
        "fans": [unit(u) for u in hw.fans],
        "temperatures": [{"id": t.sensor_id, "name": t.descr, "value": t.value, "unit": t.kind.unit,
                          "status": t.status, "breach": t.breach, "thresholds": _thresholds(t.thresholds),
                          "source": t.source} for t in hw.temperatures],
        "processors": [{"id": p.proc_id, "name": p.name, "load_pct": p.load_pct, "source": p.source}
                       for p in hw.processors],
        "memory": [{"id": m.pool_id, "name": m.name, "used_bytes": m.used_bytes, "total_bytes": m.total_bytes,
                    "used_pct": m.used_pct, "source": m.source} for m in hw.memory],
        "storage": [{"id": x.storage_id, "name": x.name, "kind": x.kind, "size_bytes": x.size_bytes,
                     "used_bytes": x.used_bytes, "used_pct": x.used_pct, "allocation_failures": x.allocation_failures,
                     "breach": x.breach, "thresholds": _thresholds(x.thresholds), "source": x.source}
                    for x in hw.storage],
        "disks": [{"id": d.disk_id, "name": d.name, "state": d.state, "status": d.status_text, "errors": d.errors,
                   "capacity_bytes": d.capacity_bytes, "source": d.source} for d in hw.disks],
    }


def render_hardware(hw: dict[str, Any] | None, console: Console) -> None:
    """`saksi check --hardware`: one small table per part the device states."""
    if hw is None:
        console.print("hardware: not read")
        return
    red = {"failed", "alarm"}
    parts: list[tuple[str, tuple[str, ...], list[tuple[list[str], str | None]]]] = [
        ("power and cooling", ("unit", "name", "state", "device says"),
         [([k.replace("power_supplies", "power supply").replace("fans", "fan"), u["name"], u["state"], u["status"]],
           u["state"]) for k in ("power_supplies", "fans") for u in hw[k]]),
        ("temperatures", ("sensor", "C", "warn", "alarm"),
         [([t["name"], _fmt(t["value"]), _fmt(t["thresholds"]["high_warn"]), _fmt(t["thresholds"]["high_alarm"])],
           t["breach"]) for t in hw["temperatures"]]),
        ("cpu", ("processor", "load %"), [([p["name"], _fmt(p["load_pct"])], None) for p in hw["processors"]]),
        ("memory", ("pool", "used", "total", "%"),
         [([m["name"], _bytes(m["used_bytes"]), _bytes(m["total_bytes"]), _fmt(m["used_pct"])], None)
          for m in hw["memory"]]),
        ("storage", ("mount", "size", "used %", "warn %", "alarm %"),
         [([x["name"], _bytes(x["size_bytes"]), _fmt(x["used_pct"]), _fmt(x["thresholds"]["high_warn"]),
            _fmt(x["thresholds"]["high_alarm"])], x["breach"]) for x in hw["storage"]]),
        ("disks", ("disk", "state", "device says", "errors"),
         [([d["name"], d["state"], d["status"], "" if d["errors"] is None else str(d["errors"])], d["state"])
          for d in hw["disks"]]),
    ]
    for title, cols, rows in parts:
        if not rows:
            continue
        table = Table(title=title, title_justify="left")
        for col in cols:
            table.add_column(col)
        for cells, level in rows:
            table.add_row(*cells, style="red" if level in red else "yellow" if level in ("warning", "absent")
                          else None)
        console.print(table)


def _bytes(n: int | None) -> str:
    """Human sizes in binary units.

    >>> _bytes(1536), _bytes(17179869184), _bytes(None)
    ('1.5 KiB', '16.0 GiB', '')
    """
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def ssh_json(v: CliView, ports: set[str] | None = None) -> dict[str, Any]:
    """What SSH read, each value with its `source` (the command); the configuration text itself is never shown."""
    names = [p.name for p in v.ports] + [m.port for m in v.modules] + [r.port for r in v.readings] + \
        [n.local_port for n in v.neighbors]
    out_ports = []
    for name in dict.fromkeys(names):
        if ports is not None and name not in ports:
            continue
        p, m, n, readings = v.port(name), v.module_in(name), v.neighbor_on(name), v.readings_of(name)
        dom: dict[str, Any] | None = None
        if readings:
            dom = {"source": readings[0].source, "thresholds": {}}
            for r in readings:
                dom.setdefault(DOM_KEYS[r.kind], r.value)
                if not r.thresholds.is_empty():
                    dom["thresholds"][DOM_KEYS[r.kind]] = _thresholds(r.thresholds)
        out_ports.append({
            "name": name,
            "status": None if p is None else {"status": p.status, "admin": p.admin, "oper": p.oper, "vlan": p.vlan,
                                              "description": p.description, "speed": p.speed, "type": p.type,
                                              "source": p.source},
            "transceiver": None if m is None else {"vendor": m.vendor, "model": m.model, "serial": m.serial,
                                                   "type": m.descr, "revision": m.revision, "source": m.source},
            "dom": dom,
            "neighbor": None if n is None else {"sys_name": n.sys_name, "port": n.port, "chassis_id": n.chassis_id,
                                                "source": n.source},
        })
    return {
        "ok": v.ok, "error": v.error, "platform": v.platform, "duration_s": round(v.duration_s, 3),
        "commands": [{"role": c.role, "command": c.command, "status": c.status.value, "rows": c.rows,
                      "error": c.error} for c in v.commands],
        "ports": out_ports,
        "inventory": [{"name": i.name, "descr": i.descr, "model": i.model, "serial": i.serial, "source": i.source}
                      for i in v.inventory],
        "config": {"fetched": v.config is not None, "version": v.config_version},
        "disagreements": [{"port": d.port, "field": d.field, "snmp": d.snmp, "ssh": d.ssh}
                          for d in v.disagreements if ports is None or d.port in ports],
    }


def _rate_cells(r: Mapping[str, Any] | None) -> list[str]:
    """Traffic in Mb/s and input+output errors per second (blank where a counter is missing).

    >>> _rate_cells({"in_bps": 2_500_000.0, "out_bps": None, "in_errors_per_s": 0.5, "out_errors_per_s": 0.0})
    ['2.50', '', '0.50']
    """
    if r is None:
        return ["", "", ""]
    errs = [r.get(k) for k in ("in_errors_per_s", "out_errors_per_s")]
    known = [e for e in errs if e is not None]
    return [_fmt(None if r.get("in_bps") is None else r["in_bps"] / 1e6),
            _fmt(None if r.get("out_bps") is None else r["out_bps"] / 1e6), _fmt(sum(known) if known else None)]


def _fmt(v: float | None, unit: str = "") -> str:
    return "" if v is None else f"{v:.2f}{unit}"


def render(snap: Snapshot, ports: list[Port] | None, console: Console, hardware: bool = False,
           verdicts: Mapping[str, str] | None = None, rates: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    data = snapshot_json(snap, ports, verdicts)
    spare = set(data["unused"])
    d = data["device"]
    console.print(f"[bold]{snap.device}[/] {d['sys_name']}  uptime {_fmt(d['uptime_s'])}s  poll: {d['poll']}")
    table = Table(show_lines=False)
    cols = ["port", "admin", "oper", "speed", "module", "serial", "rx dBm", "tx dBm", "temp C", "neighbour"]
    for col in cols + (["in Mb/s", "out Mb/s", "errors/s"] if rates is not None else []):
        table.add_column(col)
    for p in data["ports"]:
        t, dom, n = p["transceiver"], p["dom"] or {}, p["neighbor"]
        oper = p["oper"]
        style = "red" if p["admin"] == "up" and oper != "up" else None
        if p["name"] in spare:
            oper, style = "unused", "dim"
        cells = [
            p["name"], p["admin"], oper, "" if p["speed_mbps"] is None else str(p["speed_mbps"]),
            "" if t is None else f"{t['vendor']} {t['model']}".strip(), "" if t is None else t["serial"],
            _fmt(dom.get("rx_dbm")), _fmt(dom.get("tx_dbm")), _fmt(dom.get("temperature_c")),
            "" if n is None else f"{n['sys_name']} {port_label(n['port'])}",
        ]
        if rates is not None:
            cells += _rate_cells(rates.get(p["name"]))
        table.add_row(*cells, style=style)
    console.print(table)
    unjudged = [p["name"] for p in data["ports"] if p["dom"] and not p["dom"]["thresholds_stated"]]
    if unjudged:
        console.print(f"[dim]{NO_THRESHOLDS}: {', '.join(unjudged)}[/]")
    if hardware:
        render_hardware(data["hardware"], console)
    if spare:
        console.print(f"{len(spare)} unused port(s), down and not watched (in no inventory link, no watch: "
                      "pattern, not up in 30 days) — not problems")
    for prob in data["problems"]:
        console.print(f"[red]problem[/] {prob}")
    ssh = data["ssh"]
    if ssh is not None:
        failed = [c for c in ssh["commands"] if c["status"] in ("error", "timeout")]
        console.print(f"ssh: {'ok' if ssh['ok'] else 'failed: ' + str(ssh['error'])}"
                      + "".join(f"; {c['command']}: {c['error']}" for c in failed))
        for d in ssh["disagreements"]:
            console.print(f"[yellow]disagreement[/] {d['port']} {d['field']}: snmp {d['snmp']} / ssh {d['ssh']}")
    if data["healthy"]:
        console.print("[green]healthy[/]")
