"""Which open incident a report belongs to: a pure function of the report's place and the open incidents.

Same site, and the device or port when the customer named one; any open incident of the site when the
customer named nothing. A place is where an incident is: its device and port, both ends of its link,
and what it affected (a port it explains, a device that went dark behind it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from monitor.common.names import canonical_port
from monitor.reports.records import CAUSE, Report
from monitor.witness.incidents import Incident


def _end(ref: str) -> tuple[str, str | None]:
    dev, _, port = ref.partition(":")
    return dev, (canonical_port(port) if port else None)


def places(inc: Incident, reports: Iterable[Report] = ()) -> set[str]:
    """Where an incident is, as `device:D` and `D:PORT` (canonical); a customer_report incident is where
    its reports pointed.

    >>> sorted(places(Incident("k", "transceiver_removed", "sw1", "Gi1/0/49",
    ...                        link={"a": "sw1:GigabitEthernet1/0/49", "b": "sw2:GigabitEthernet1/0/25"})))
    ['device:sw1', 'device:sw2', 'sw1:GigabitEthernet1/0/49', 'sw2:GigabitEthernet1/0/25']
    """
    refs: list[tuple[str, str | None]] = []
    if inc.device:
        refs.append((inc.device, canonical_port(inc.port) if inc.port else None))
    refs += [_end(r) for r in (inc.link or {}).values()]
    refs += [(a.split(":", 1)[1], None) if a.startswith("device:") else _end(a) for a in inc.affected]
    refs += [(r.device, canonical_port(r.port) if r.port else None) for r in reports if r.device]
    out = set()
    for dev, port in refs:
        out.add(f"device:{dev}")
        if port:
            out.add(f"{dev}:{port}")
    return out


def covers(inc: Incident, site: str, device: str | None, port: str | None,
           reports: Sequence[Report] = ()) -> bool:
    """The incident is open on the site and at the place the customer named.

    A port is covered by an incident on that port, on its link, or on its whole device (a reboot, a
    dead power supply, the device dark behind a failed link); a device by any incident on it.

    >>> inc = Incident("k", "transceiver_removed", "sw1", "Gi1/0/49", site="s1", link={"a": "sw1:Gi1/0/49",
    ...                "b": "sw2:Gi1/0/25"})
    >>> covers(inc, "s1", None, None), covers(inc, "s1", "sw2", None), covers(inc, "s1", "sw2", "Gi1/0/25")
    (True, True, True)
    >>> covers(inc, "s1", "sw2", "Gi1/0/1"), covers(inc, "s1", "sw3", None), covers(inc, "s2", None, None)
    (False, False, False)
    """
    if inc.site != site or not inc.open:
        return False
    if device is None:
        return True
    where = places(inc, reports)
    if not where:  # a report about the whole site: every later report of the site joins it
        return True
    if port is None:
        return f"device:{device}" in where
    if f"{device}:{canonical_port(port)}" in where:
        return True
    named_port = any(r.port for r in reports if r.device == device)  # a customer_report keeps no port itself
    whole_device = inc.device == device and inc.port is None and not (inc.cause == CAUSE and named_port)
    return whole_device or f"device:{device}" in inc.affected


def match(site: str, device: str | None, port: str | None, incidents: Iterable[Incident],
          reports: Mapping[str, Sequence[Report]] | None = None) -> Incident | None:
    """The open incident this report joins (the earliest detected of those that cover it), or None."""
    reports = reports or {}
    found = [i for i in incidents if covers(i, site, device, port, reports.get(i.id, ()))]
    return min(found, key=lambda i: (i.detected_at, i.id), default=None)
