"""What `saksi check` calls a problem: a watched admin-up port that is down, or optics beyond a threshold.

A port nobody uses (see `monitor.check.watch`) is shown as unused, never as a problem.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.check.watch import WATCHED
from monitor.model import DOM_KEYS, Port, Snapshot, Thresholds

_DOWN = {"down", "lowerLayerDown", "notPresent"}


def port_problems(snap: Snapshot, port: Port) -> list[str]:
    problems = []
    if port.admin == "up" and port.oper in _DOWN:
        problems.append(f"{port.name}: admin up but oper {port.oper}")
    if port.admin != "up" or snap.transceiver_in(port.ifindex) is None and not snap.sensors_of(port.ifindex):
        return problems  # DOM on an admin-down port or an empty cage is not a problem
    for s in snap.sensors_of(port.ifindex):
        if s.kind not in DOM_KEYS:
            continue
        level = s.breach
        if level and s.value is not None:
            limit = _limit(s.thresholds, s.value, level)
            lane = f" lane {s.lane}" if s.lane is not None else ""
            problems.append(f"{port.name}: {DOM_KEYS[s.kind]}{lane} {s.value:g} {s.kind.unit} beyond "
                            f"{level} threshold {limit:g}")
    return problems


def unused(port: Port, verdicts: Mapping[str, str] | None) -> bool:
    """An unwatched port that is not up: nothing in it matters (without verdicts every port is watched)."""
    return verdicts is not None and port.oper != "up" and verdicts.get(port.name) not in WATCHED


def problems(snap: Snapshot, ports: list[Port] | None = None,
             verdicts: Mapping[str, str] | None = None) -> list[str]:
    if not snap.reachable:
        return [f"device not reachable: {snap.error}"]
    out = []
    for t in snap.tables:
        if not t.status.known and t.status.value != "skipped":
            out.append(f"table {t.table} {t.status.value}: {t.error}")
    for p in ports if ports is not None else snap.ports:
        if not unused(p, verdicts):
            out += port_problems(snap, p)
    if ports is None:  # the whole device: its power, cooling, temperatures and storage too
        out += hardware_problems(snap)
    return out


def hardware_problems(snap: Snapshot) -> list[str]:
    """A failed power supply, fan or disk; a temperature beyond a threshold the device states; storage
    past Saksi's fill thresholds. A part that was not read is unknown, never a problem."""
    hw = snap.hardware
    if hw is None:
        return []
    out = [f"{u.kind.value.replace('_', ' ')} {u.name}: {u.state} ({u.status_text})"
           for u in hw.units if u.state == "failed"]
    for t in hw.temperatures:
        if t.breach and t.value is not None:
            out.append(f"temperature {t.descr}: {t.value:g} C beyond {t.breach} threshold "
                       f"{_limit(t.thresholds, t.value, t.breach):g}")
    for s in hw.storage:
        if s.breach:
            limit = s.thresholds.high_alarm if s.breach == "alarm" else s.thresholds.high_warn
            out.append(f"storage {s.name}: {s.used_pct:g}% used, beyond {s.breach} threshold {limit:g}%")
    out += [f"disk {d.name}: {d.state} ({d.status_text})" for d in hw.disks if d.state == "failed"]
    return out


def _limit(t: Thresholds, value: float, level: str) -> float:
    """The threshold a breaching value went past.

    >>> _limit(Thresholds(high_warn=60.0, high_alarm=68.0), 70.0, "alarm")
    68.0
    """
    high, low = (t.high_alarm, t.low_alarm) if level == "alarm" else (t.high_warn, t.low_warn)
    return high if high is not None and value > high else low if low is not None else float("nan")
