"""LLDP-MIB: the neighbour seen on each port, with the local port resolved to an ifIndex."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.collectors.decode import as_int, as_mac, as_text
from monitor.collectors.snmp import SnmpClient, SnmpTarget, WalkResult
from monitor.common.names import canonical_port
from monitor.model import Neighbor, Port

LOC_PORT = "1.0.8802.1.1.2.1.3.7.1"
REM = "1.0.8802.1.1.2.1.4.1.1"
LOC_COLUMNS = [f"{LOC_PORT}.{c}" for c in (2, 3, 4)]
REM_COLUMNS = [f"{REM}.{c}" for c in (4, 5, 6, 7, 8, 9)]
_MAC_SUBTYPE_CHASSIS, _MAC_SUBTYPE_PORT = 4, 3


def _local_ifindex(num: int, loc: WalkResult | None, ports: Sequence[Port]) -> tuple[int | None, str]:
    """lldpLocPortNum -> ifIndex: by the port's id or description first, then by number."""
    by_label: dict[str, int] = {}
    for p in ports:
        for label in (p.name, p.descr, p.alias):
            if label:
                by_label.setdefault(label, p.ifindex)
                by_label.setdefault(canonical_port(label), p.ifindex)
    label = ""
    if loc is not None:
        pid = loc.column(f"{LOC_PORT}.3").get(str(num))
        subtype = as_int(loc.column(f"{LOC_PORT}.2").get(str(num)))
        pdesc = as_text(loc.column(f"{LOC_PORT}.4").get(str(num)))
        pid_text = as_mac(pid) if subtype == _MAC_SUBTYPE_PORT else as_text(pid)
        for cand in (pid_text, pdesc):
            if cand and (cand in by_label or canonical_port(cand) in by_label):
                return by_label.get(cand, by_label.get(canonical_port(cand))), cand
        label = pdesc or pid_text
    if any(p.ifindex == num for p in ports):
        return num, label or next(p.name for p in ports if p.ifindex == num)
    return None, label or str(num)


def parse_lldp(rem: WalkResult, loc: WalkResult | None, ports: Sequence[Port]) -> list[Neighbor]:
    col = {c: rem.column(f"{REM}.{c}") for c in (4, 5, 6, 7, 8, 9)}
    out = []
    for suffix in col[9].keys() | col[7].keys():
        parts = suffix.split(".")
        if len(parts) < 3 or as_int(parts[1]) is None:
            continue
        num = as_int(parts[1]) or 0
        ifindex, local = _local_ifindex(num, loc, ports)
        port_subtype = as_int(col[6].get(suffix))
        port_id = as_mac(col[7].get(suffix)) if port_subtype == _MAC_SUBTYPE_PORT else as_text(col[7].get(suffix))
        port_descr = as_text(col[8].get(suffix))
        chassis = col[5].get(suffix)
        out.append(Neighbor(
            ifindex=ifindex,
            local_port=local,
            sys_name=as_text(col[9].get(suffix)),
            port=port_descr if port_subtype == _MAC_SUBTYPE_PORT and port_descr else port_id,
            port_descr=port_descr,
            chassis_id=as_mac(chassis) if as_int(col[4].get(suffix)) == _MAC_SUBTYPE_CHASSIS else as_text(chassis),
        ))
    return sorted(out, key=lambda n: (n.ifindex or 0, n.sys_name))


async def collect(client: SnmpClient, target: SnmpTarget) -> tuple[WalkResult, WalkResult]:
    rem = await client.walk(target, REM_COLUMNS)
    if rem.error is not None or not rem.row_count:
        return rem, WalkResult()
    return rem, await client.walk(target, LOC_COLUMNS)
