"""The hardware causes of correlation: the words, and how each ends.

`monitor.witness.rules` says which change names which cause; this module holds what is particular to
power supplies, fans, heat and storage, as pure functions of an incident, the device's last snapshot and
the trends — so a hardware incident reads the same in the lab, the CLI and a notification.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor.model import Snapshot
from monitor.witness.changes import Change
from monitor.witness.changes import ChangeKind as K
from monitor.witness.incidents import Incident
from monitor.witness.trends import TrendState

CAUSES = ("power_supply_failed", "fan_failed", "overheating", "storage_failing")


def _first(inc: Incident, *what: K) -> dict[str, Any] | None:
    names = {w.value for w in what}
    return next((e for e in inc.evidence if e["what"] in names), None)


def _all(inc: Incident, *what: K) -> list[dict[str, Any]]:
    names = {w.value for w in what}
    return [e for e in inc.evidence if e["what"] in names]


def _unit_names(items: list[dict[str, Any]]) -> str:
    names = []
    for e in items:
        name = (e.get("after") or {}).get("name") or (e.get("before") or {}).get("name") or "?"
        if name not in names:
            names.append(name)
    return " and ".join(names)


def describe(inc: Incident, snap: Snapshot | None, fmt: Callable[[float], str]) -> None:
    """Summary, confidence, what is missing, and severity of a hardware incident."""
    t = fmt(inc.started_at)
    hw = snap.hardware if snap is not None and snap.reachable else None
    inc.missing, inc.confidence = [], "high"
    if inc.cause in ("power_supply_failed", "fan_failed"):
        kind = K.POWER_SUPPLY_FAILED if inc.cause == "power_supply_failed" else K.FAN_FAILED
        failed = _all(inc, kind)
        what = "power supply" if kind is K.POWER_SUPPLY_FAILED else "fan"
        status = "; ".join(sorted({(e.get("after") or {}).get("status") or "failed" for e in failed}))
        s = f"{what} {_unit_names(failed)} of {inc.device} failed at {t} ({status})" if failed else \
            f"{inc.device} was running on its last {what}"  # seen that way from the first poll
        if hw is not None:
            units = hw.power_supplies if kind is K.POWER_SUPPLY_FAILED else hw.fans
            working = [u for u in units if u.state == "ok"]
            if kind is K.POWER_SUPPLY_FAILED and len(working) < len(units):
                s += f"; {len(working)} power supply still working" if len(working) == 1 else \
                    f"; {len(working)} power supplies still working"
                if len(working) <= 1:
                    s += ": no redundancy left"
            hottest = max((x for x in hw.temperatures if x.value is not None), key=lambda x: x.value or 0.0,
                          default=None)
            if kind is K.FAN_FAILED and hottest is not None:
                s += f"; hottest sensor {hottest.descr} at {hottest.value:g} C"
        silent = _first(inc, K.UNREACHABLE)
        if kind is K.POWER_SUPPLY_FAILED and silent is not None:
            s += f"; it stopped answering at {fmt(silent['at'])}: its last power supply is gone too"
            inc.severity, inc.confidence = "critical", "medium"
            inc.missing = [f"whether the last power supply of {inc.device} failed or its feed was cut"]
            back = _first(inc, K.REACHABLE, K.REBOOTED)
            if back is not None:
                s += f"; back at {fmt(back['at'])}"
        inc.summary = s
        return
    if inc.cause == "overheating":
        breach = _first(inc, K.TEMPERATURE_BREACH)
        rising = _first(inc, K.TEMPERATURE_RISING)
        silent = _first(inc, K.UNREACHABLE)
        s = f"{inc.device} is overheating since {t}"
        if rising is not None:
            s += f": {rising['detail']}"
        if breach is not None:
            s += f"; {breach['detail']} at {fmt(breach['at'])}" if rising else f": {breach['detail']}"
        inc.severity = "major" if breach else "warning"
        if rising and not breach:
            inc.confidence = "medium"
        if silent is not None:
            s += f"; it stopped answering at {fmt(silent['at'])} — a thermal shutdown"
            inc.severity = "critical"
            if not breach:
                inc.confidence = "medium"
                inc.missing = [(f"the log of {inc.device} after it is powered on: its temperature had not yet "
                                "crossed a threshold when it went silent")]
        fans = _all(inc, K.FAN_FAILED)
        if fans:
            s += f"; fan {_unit_names(fans)} had failed at {fmt(fans[0]['at'])}"
        back = _first(inc, K.REACHABLE, K.REBOOTED)
        if silent is not None and back is not None:
            s += f"; back at {fmt(back['at'])}"
        inc.summary = s
        return
    found = _all(inc, K.STORAGE_FULL, K.STORAGE_FILLING, K.DISK_FAILED, K.STORAGE_ALLOCATION_FAILED)
    parts = [e["detail"] for e in found]
    only_trend = all(e["what"] == K.STORAGE_FILLING.value for e in found)
    inc.severity = "warning" if only_trend else "major"
    inc.summary = f"storage of {inc.device} is failing since {t}: {'; '.join(dict.fromkeys(parts))}"


def resolution(inc: Incident, snap: Snapshot | None, trends: TrendState, links_up: bool,
               changes: list[Change]) -> str | None:
    """How a hardware incident ended, or None while it has not."""
    if snap is None or not snap.reachable or snap.hardware is None:
        return None
    hw = snap.hardware
    if inc.cause in ("power_supply_failed", "fan_failed"):
        kind = K.POWER_SUPPLY_FAILED if inc.cause == "power_supply_failed" else K.FAN_FAILED
        ids = {(e.get("before") or {}).get("id") for e in _all(inc, kind)}
        units = {u.unit_id: u for u in hw.units}
        if ids and all(i in units and units[i].state == "ok" for i in ids) and links_up:
            return "power supply working again" if kind is K.POWER_SUPPLY_FAILED else "fan working again"
        return None
    if inc.cause == "overheating":
        if any(x.breach for x in hw.temperatures) or trends.trending(inc.device, "temperature:") or not links_up:
            return None
        return "cooled down, back after a thermal shutdown" if _first(inc, K.UNREACHABLE) \
            else "temperature back within thresholds"
    if any(s.breach for s in hw.storage) or trends.trending(inc.device, "storage:"):
        return None
    failed = {(e.get("after") or {}).get("name") for e in _all(inc, K.DISK_FAILED)}
    if any(d.name in failed and d.state != "ok" for d in hw.disks):
        return None
    if any(c.kind is K.STORAGE_ALLOCATION_FAILED and c.device == inc.device for c in changes):
        return None
    return "storage back within thresholds" if not failed else "disk working again"
