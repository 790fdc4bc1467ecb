"""What `saksi check` calls a problem: an admin-up port that is down, or optics beyond a threshold."""

from __future__ import annotations

from monitor.model import DOM_KEYS, Port, Snapshot

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
        if level:
            t = s.thresholds
            limit = t.high_alarm if level == "alarm" and t.high_alarm is not None and s.value > t.high_alarm \
                else t.low_alarm if level == "alarm" \
                else t.high_warn if t.high_warn is not None and s.value > t.high_warn else t.low_warn
            lane = f" lane {s.lane}" if s.lane is not None else ""
            problems.append(f"{port.name}: {DOM_KEYS[s.kind]}{lane} {s.value:g} {s.kind.unit} beyond "
                            f"{level} threshold {limit:g}")
    return problems


def problems(snap: Snapshot, ports: list[Port] | None = None) -> list[str]:
    if not snap.reachable:
        return [f"device not reachable: {snap.error}"]
    out = []
    for t in snap.tables:
        if not t.status.known and t.status.value != "skipped":
            out.append(f"table {t.table} {t.status.value}: {t.error}")
    for p in ports if ports is not None else snap.ports:
        out += port_problems(snap, p)
    return out
