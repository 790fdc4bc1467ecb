"""The words of an incident: its summary, how sure it is, and what evidence is missing.

A pure function of the incident, the site's last snapshots and the correlator's sources (topology, time
format, configuration history): it says what the evidence shows and names the evidence it does not have (no
configuration history, no DOM on a module, no LLDP on a device) instead of claiming what it cannot see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from monitor.common.names import port_label
from monitor.model import SensorKind, TableStatus
from monitor.witness import hardware as hardware_causes
from monitor.witness.incidents import Incident
from monitor.witness.topology import end, split

if TYPE_CHECKING:
    from monitor.witness.correlate import Correlator, State


def describe(cx: Correlator, state: State, inc: Incident) -> None:
    """Summary, confidence and what is missing, from the incident's evidence and what the site shows now."""
    if inc.cause in hardware_causes.CAUSES:
        hardware_causes.describe(inc, state.last.get(inc.device), cx.fmt)
        return
    ev = {e["what"]: e for e in inc.evidence}
    where = f"{inc.device} {port_label(inc.port)}" if inc.port else inc.device
    peer = cx.topology.peer(end(inc.device, inc.port)) if inc.port else None
    peer_txt = f"{split(peer)[0]} {port_label(split(peer)[1])}" if peer and ":" in peer else peer
    t = cx.fmt(inc.started_at)
    module = module_words(inc)
    inc.missing, inc.confidence = [], "high"
    s: str
    if inc.cause == "transceiver_moved":
        ins = next((e for e in inc.evidence if e["what"] == "transceiver_inserted"), None)
        dest = f"{ins['device']} {port_label(ins['port'])}" if ins else "another port"
        if ins and ins["device"] == inc.device:
            dest = port_label(ins["port"])
        s = f"{module} was moved from {where} to {dest} at {t}"
        s += config_note(cx, inc, ins)
        inc.missing = absent_config(cx, inc, ins)
    elif inc.cause == "transceiver_removed":
        if "transceiver_removed" in ev:
            s = f"{module} was removed from {where} at {t}"
        else:
            s = f"a module in {where} was pulled and put back between two polls ({t}); the link flapped"
            inc.confidence = "medium"
    elif inc.cause == "transceiver_replaced":
        s = f"the module in {where} was replaced at {t}: now {module}"
    elif inc.cause == "transceiver_inserted":
        s = f"{module} was inserted into {where} at {t}"
    elif inc.cause == "transceiver_failed":
        s = f"{module or 'the module'} in {where} stopped transmitting at {t} (it is still in its cage)"
    elif inc.cause == "port_shutdown":
        s = f"{where} was shut down administratively at {t}"
    elif inc.cause == "cable_moved":
        seen = next((e for e in reversed(inc.evidence) if e["what"] in ("neighbor_found", "neighbor_changed")
                     and peer and end(e["device"], e["port"]) == peer and isinstance(e["after"], dict)), None)
        now_sees = f"{seen['after']['sys_name']} {port_label(seen['after']['port'])}" if seen else "another port"
        s = f"the cable from {peer_txt or 'the far end'} was re-patched at {t}: it left {where} and now " \
            f"reaches {now_sees}"
    elif inc.cause == "optics_degraded":
        d = ev.get("dom_breach") or ev.get("dom_drift")
        s = f"the light at {where} degraded at {t}" + (f": {d['detail']}" if d else " below the receiver's level")
    elif inc.cause == "cable_unplugged":
        dark = absent(state, [r for r in (end(inc.device, inc.port or ""), peer) if r], dom=True)
        s = f"the cable between {where} and {peer_txt} was unplugged at {t}"
        s += f" ({'; '.join(dark)})" if dark else " (both modules still light)"
        inc.confidence = "medium"
        inc.missing = ["which end was unplugged: both ends lose light at once", *dark]
    elif inc.cause == "config_changed":
        s = f"the configuration of {where} changed at {t}"
    elif inc.cause == "device_rebooted":
        s = f"{inc.device} rebooted at {t}"
    elif inc.cause == "device_unreachable":
        s = f"{inc.device} stopped answering at {t}; its links went down with it"
        inc.confidence = "medium"
        inc.missing = [f"why {inc.device} is silent: power, a crash, or the path to it"]
    elif inc.cause == "errors_rising":
        e = ev.get("errors_rising")
        s = f"input errors rising on {where} since {t}" + (f": {e['detail']}" if e else "")
    else:
        s = f"{where} went down at {t} and no physical change explains it"
        inc.confidence = "low"
        ends = [r for r in (end(inc.device, inc.port), peer) if r] if inc.port else []
        gaps = absent(state, ends, dom=True, lldp=True)
        inc.missing = gaps or ["DOM readings on both ends, or a poll of the far end"]
    configs = [e["detail"] for e in inc.evidence if e["what"] == "config_changed" and e["detail"]]
    if configs and inc.cause not in ("transceiver_moved",):
        s += f"; configuration: {'; '.join(configs)}"
    behind = [a.split(":", 1)[1] for a in inc.affected if a.startswith("device:") and a != f"device:{inc.device}"]
    if behind:
        s += f"; {len(behind)} device(s) behind it unreachable ({', '.join(sorted(behind))})"
    if peer and inc.cause not in ("device_rebooted", "device_unreachable", "cable_unplugged", "cable_moved"):
        s += f"; link to {peer_txt} affected"
    inc.summary = s


def module_words(inc: Incident) -> str:
    """The incident's module as a person reads it: serial, vendor and model when the evidence names them."""
    for e in inc.evidence:
        for side in ("before", "after"):
            v = e.get(side)
            if isinstance(v, dict) and v.get("serial") == inc.serial and inc.serial:
                return f"SFP S/N {inc.serial} ({v.get('vendor', '')} {v.get('model', '')})".replace("( ", "(")
    return f"SFP S/N {inc.serial}" if inc.serial else ""


def config_reasons(cx: Correlator, inc: Incident, ins: dict[str, Any] | None) -> list[str]:
    """Why the configuration of the devices a move touched is not collected (empty: it is)."""
    if cx.config_missing is None:
        return []
    devices = dict.fromkeys(d for d in (inc.device, ins["device"] if ins else None) if d)
    return [r for r in (cx.config_missing(d) for d in devices) if r]


def absent_config(cx: Correlator, inc: Incident, ins: dict[str, Any] | None) -> list[str]:
    """The configuration history a move would be read against and does not have, in words."""
    return [f"configuration not collected ({r})" for r in config_reasons(cx, inc, ins)]


def absent(state: State, refs: list[str], dom: bool = False, lldp: bool = False) -> list[str]:
    """The evidence sources these port ends do not have: a module without DOM, a device without LLDP."""
    out: list[str] = []
    for ref in refs:
        if ":" not in ref:
            continue
        dev, port = split(ref)
        snap = state.last.get(dev)
        if snap is None or not snap.reachable:
            continue
        p = snap.port(port)
        if dom and p is not None and snap.transceiver_in(p.ifindex) is not None and not any(
                x.kind in (SensorKind.RX_POWER, SensorKind.TX_POWER) for x in snap.sensors_of(p.ifindex)):
            out.append(f"no DOM on the module in {dev} {port_label(port)}")
        if lldp and snap.table("lldpRemTable").status not in (TableStatus.OK, TableStatus.EMPTY) \
                and f"no LLDP on {dev}" not in out:
            out.append(f"no LLDP on {dev}")
    return out


def config_note(cx: Correlator, inc: Incident, ins: dict[str, Any] | None) -> str:
    """What the configuration says about a move: changed, unchanged, or not collected (then no claim)."""
    changed = any(e["what"] == "config_changed" for e in inc.evidence)
    gaps = absent_config(cx, inc, ins)
    if changed:
        note = "; a configuration change was seen"
    elif gaps:
        return "; " + "; ".join(gaps)  # no history: no claim either way
    else:
        note = "; no configuration change"
    if cx.config_of is None or ins is None or inc.port is None:
        return note
    new = cx.config_of(ins["device"], ins["port"])
    old = cx.config_of(inc.device, inc.port)
    if new or old:
        note += f"; {port_label(ins['port'])} is: {', '.join(new) or 'default'}; " \
                f"{port_label(inc.port)} was: {', '.join(old) or 'default'}"
    return note
