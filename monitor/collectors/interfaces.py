"""IF-MIB: ifTable and ifXTable into `Port`s with canonical names and IF-MIB status words; a vendor's interface
table (profile data) adds the interfaces IF-MIB does not list."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from monitor.collectors.decode import as_int, as_mac, as_text
from monitor.collectors.snmp import SnmpClient, SnmpTarget, WalkResult
from monitor.common.names import canonical_port
from monitor.model import Port
from monitor.profiles import InterfaceTable, Words

IF_TABLE = "1.3.6.1.2.1.2.2.1"
IF_X_TABLE = "1.3.6.1.2.1.31.1.1.1"
_IF = {2: "descr", 3: "type", 4: "mtu", 5: "speed", 6: "mac", 7: "admin", 8: "oper", 9: "last_change",
       10: "in_octets", 13: "in_discards", 14: "in_errors", 16: "out_octets", 19: "out_discards", 20: "out_errors"}
_IFX = {1: "name", 6: "hc_in_octets", 10: "hc_out_octets", 15: "high_speed", 18: "alias"}
_TEXT = {"descr", "mac", "name", "alias"}  # every other column is a number
IF_COLUMNS = [f"{IF_TABLE}.{c}" for c in _IF]
IFX_COLUMNS = [f"{IF_X_TABLE}.{c}" for c in _IFX]

ADMIN = {1: "up", 2: "down", 3: "testing"}
OPER = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}


def _rows(walk: WalkResult | None, table: str, columns: dict[int, str]) -> dict[int, dict[str, object]]:
    rows: dict[int, dict[str, object]] = {}
    if walk is None:
        return rows
    for col, name in columns.items():
        for suffix, value in walk.column(f"{table}.{col}").items():
            idx = as_int(suffix)
            if idx is not None:
                rows.setdefault(idx, {})[name] = value
    return rows


def parse_interfaces(if_walk: WalkResult, ifx_walk: WalkResult | None, skipped: Counter[str]) -> list[Port]:
    """Join ifTable and ifXTable by ifIndex; 64-bit counters win over 32-bit ones when present."""
    base = _rows(if_walk, IF_TABLE, _IF)
    ext = _rows(ifx_walk, IF_X_TABLE, _IFX)
    ports = []
    for idx in sorted(base.keys() | ext.keys()):
        r, x = base.get(idx, {}), ext.get(idx, {})
        descr, name = as_text(r.get("descr")), as_text(x.get("name"))
        if not (descr or name):
            skipped["interface without ifDescr or ifName"] += 1
            continue
        high, speed = as_int(x.get("high_speed")), as_int(r.get("speed"))
        if high:
            speed_mbps: int | None = high
        elif speed is not None and speed != 4294967295:
            speed_mbps = round(speed / 1_000_000)
        else:
            speed_mbps = high if high is not None else None
        hc_in, hc_out = as_int(x.get("hc_in_octets")), as_int(x.get("hc_out_octets"))
        last = as_int(r.get("last_change"))
        admin, oper = as_int(r.get("admin")), as_int(r.get("oper"))
        if admin is not None and admin not in ADMIN or oper is not None and oper not in OPER:
            skipped["interface status outside IF-MIB's enumeration"] += 1
        if bad := sum(1 for row in (r, x) for k, v in row.items() if k not in _TEXT and as_int(v) is None):
            skipped["interface value not a number"] += bad
        ports.append(Port(
            ifindex=idx,
            name=canonical_port(name or descr),
            descr=descr,
            alias=as_text(x.get("alias")),
            if_type=as_int(r.get("type")) or 0,
            admin=ADMIN.get(admin or 0, "unknown"),
            oper=OPER.get(oper or 0, "unknown"),
            speed_mbps=speed_mbps,
            mtu=as_int(r.get("mtu")),
            mac=as_mac(r.get("mac")),
            last_change_s=None if last is None else last / 100.0,
            in_octets=hc_in if hc_in is not None else as_int(r.get("in_octets")),
            out_octets=hc_out if hc_out is not None else as_int(r.get("out_octets")),
            counters_64bit=hc_in is not None,
            in_errors=as_int(r.get("in_errors")),
            out_errors=as_int(r.get("out_errors")),
            in_discards=as_int(r.get("in_discards")),
            out_discards=as_int(r.get("out_discards")),
        ))
    return ports


async def collect(client: SnmpClient, target: SnmpTarget) -> tuple[WalkResult, WalkResult]:
    if_walk = await client.walk(target, IF_COLUMNS)
    if if_walk.error is not None and not if_walk.row_count:
        return if_walk, WalkResult(error=if_walk.error)
    return if_walk, await client.walk(target, IFX_COLUMNS)


def ports_named_elsewhere(ports: list[Port], ifindexes: Iterable[int | None], names: Mapping[int, str]) -> list[Port]:
    """Ports the device names only outside IF-MIB (a DOM or module table keyed by an ifIndex that ifTable does
    not list), so their optics are shown and watched; their state is unknown, never "down".

    >>> [(p.ifindex, p.name, p.admin) for p in ports_named_elsewhere([Port(1, "Gi1")], [1, 52, None, 52], {})]
    [(52, 'ifIndex 52', 'unknown')]
    """
    have = {p.ifindex for p in ports}
    extra = sorted({i for i in ifindexes if i is not None and i not in have})
    return [Port(ifindex=i, name=canonical_port(names.get(i) or f"ifIndex {i}")) for i in extra]


def _index_key(suffix: str) -> tuple[int, ...]:
    """Numeric order of a row index, so the Base router (vRtrID 1) comes before the VPRNs."""
    return tuple(as_int(p) or 0 for p in suffix.split("."))


def _state(words: Words | None, row: Mapping[int, object], what: str, skipped: Counter[str]) -> str:
    if words is None or row.get(words.column) is None:
        return "unknown"  # not answered: unknown, never "down"
    value = as_int(row[words.column])
    if value is None:
        skipped[f"{what}: state not a number"] += 1
        return "unknown"
    return words.words.get(value, words.default)


def parse_interface_table(table: InterfaceTable, walk: WalkResult, ports: Sequence[Port],
                          skipped: Counter[str]) -> list[Port]:
    """The interfaces a vendor table names that `ports` (IF-MIB's) lacks, as ports keyed by the ifIndex the row
    index carries. A row whose ifIndex a port of another name holds (a VPRN interface numbered like a Base
    router one), or whose name another port has, is skipped and counted: one ifIndex, one name, one port."""
    rows: dict[str, dict[int, object]] = {}
    for col in table.columns():
        for suffix, value in walk.column(table.column_oid(col)).items():
            rows.setdefault(suffix, {})[col] = value
    if_mib = {p.ifindex: p.name for p in ports}
    by_index, names = dict(if_mib), set(if_mib.values())
    width = len(table.index.split("."))
    out: list[Port] = []
    for suffix in sorted(rows, key=_index_key):
        row, parts = rows[suffix], suffix.split(".")
        idx = as_int(parts[table.ifindex_at]) if len(parts) == width else None
        name = canonical_port(as_text(row.get(table.name_column)))
        if idx is None or idx <= 0 or not name:
            skipped[f"{table.name}: row without an ifIndex or a name"] += 1
            continue
        if if_mib.get(idx) == name:  # the same interface as IF-MIB's row: no news
            continue
        if idx in by_index or name in names:
            skipped[f"{table.name}: interface whose ifIndex or name another port holds"] += 1
            continue
        speed = as_int(row.get(table.speed.column)) if table.speed is not None else None
        if table.speed is not None and row.get(table.speed.column) is not None and speed is None:
            skipped[f"{table.name}: speed not a number"] += 1
        port = Port(
            ifindex=idx, name=name,
            descr=next((t for c in table.descr_columns if (t := as_text(row.get(c)))), ""),
            alias=as_text(row.get(table.alias_column)) if table.alias_column is not None else "",
            admin=_state(table.admin, row, table.name, skipped), oper=_state(table.oper, row, table.name, skipped),
            speed_mbps=None if speed is None or table.speed is None else round(speed * table.speed.factor),
        )
        by_index[idx] = name
        names.add(name)
        out.append(port)
    return out
