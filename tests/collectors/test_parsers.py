"""The pure SNMP parsers on hand-written rows: what each vendor layout means, and that garbage never raises.

Rows are built the way `PysnmpClient.walk` returns them: column OID -> {index suffix -> int | bytes | str}.
"""

from __future__ import annotations

import doctest
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import monitor.collectors.decode
from monitor.collectors import entity, interfaces, lldp
from monitor.collectors.decode import as_int, as_mac, as_oid, as_text, finite
from monitor.collectors.entity import CONTAINER, MODULE, PORT, SENSOR, Entity, EntityTree, parse_entities
from monitor.collectors.interfaces import parse_interfaces
from monitor.collectors.lldp import parse_lldp
from monitor.collectors.snmp import WalkResult
from monitor.model import Port

CHASSIS = 3
Layout = dict[int, dict[str, Any]]  # entity index -> {Entity field: raw value}
Case = tuple[Layout, dict[str, str], dict[int, int]]  # rows, entAliasMapping, {transceiver entity: ifIndex}
IF, IFX = interfaces.IF_TABLE, interfaces.IF_X_TABLE
ENT, ALIAS = entity.ENT_PHYSICAL, entity.ENT_ALIAS_MAPPING
REM, LOC = lldp.REM, lldp.LOC_PORT


def walk(table: str, columns: Mapping[int, Mapping[str, Any]]) -> WalkResult:
    return WalkResult(rows={f"{table}.{c}": dict(v) for c, v in columns.items()})


# --- decode ---------------------------------------------------------------------------------------------------


def test_decode_doctests() -> None:
    assert doctest.testmod(monitor.collectors.decode).failed == 0


@pytest.mark.parametrize(("raw", "want"), [
    (42, 42), (-3, -3), (True, 1), (b"42", 42), (" 7 ", 7), (b"-12", -12), (b"1.5", None), (b"", None),
    (b"-", None), ("--5", None), ("²", None), ("٣", None), (b"\xff\xfe", None), ("9" * 5000, None),
    (None, None), (3.7, None), (b"0x1f", None),
])
def test_as_int(raw: object, want: int | None) -> None:
    assert as_int(raw) == want


@pytest.mark.parametrize(("raw", "want"), [
    (b"GLC-LX-SMD  \x00", "GLC-LX-SMD"), (b"caf\xc3\xa9", "café"), (b"caf\xe9", "café"), (None, ""),
    (5, "5"), (b"a\tb\r\nc\x07", "a b c"), ("  spaced  ", "spaced"), (b"\x00\x00", ""),
])
def test_as_text(raw: object, want: str) -> None:
    assert as_text(raw) == want


@pytest.mark.parametrize(("raw", "want"), [
    ("1.3.6.1.2.1.2.2.1.1.5", "1.3.6.1.2.1.2.2.1.1.5"), ("0.0", "0.0"), ("1..3", None), ("", None),
    (b"1.3.6", None), (7, None), ("not an oid", None), ("1.²", None),
])
def test_as_oid(raw: object, want: str | None) -> None:
    assert as_oid(raw) == want


@pytest.mark.parametrize(("raw", "want"), [
    (bytes.fromhex("ac7e8a19bf40"), "ac:7e:8a:19:bf:40"), (b"", ""), (b"Gi0/1", "Gi0/1"),
    (bytes.fromhex("0011"), ""), ("00:11:22:33:44:55", "00:11:22:33:44:55"),
])
def test_as_mac(raw: object, want: str) -> None:
    assert as_mac(raw) == want


@pytest.mark.parametrize(("raw", "want"), [
    (1.5, 1.5), (None, None), (math.nan, None), (math.inf, None), (-math.inf, None), (0.0, 0.0),
])
def test_finite(raw: float | None, want: float | None) -> None:
    assert finite(raw) == want


# --- IF-MIB ---------------------------------------------------------------------------------------------------

IF_ROW = {2: b"GigabitEthernet1/0/1", 3: 6, 4: 1500, 5: 1_000_000_000, 6: bytes.fromhex("ac7e8a19bf01"), 7: 1,
          8: 1, 9: 12345, 10: 111, 13: 1, 14: 2, 16: 222, 19: 3, 20: 4}
IFX_ROW = {1: b"Gi1/0/1", 6: 10**12, 10: 2 * 10**12, 15: 1000, 18: b"uplink to core"}


def if_walk(rows: Mapping[str, Mapping[int, Any]]) -> WalkResult:
    columns: Layout = {}
    for suffix, row in rows.items():
        for col, value in row.items():
            columns.setdefault(col, {})[suffix] = value
    return walk(IF, columns)


def ifx_walk(rows: Mapping[str, Mapping[int, Any]]) -> WalkResult:
    return WalkResult(rows={k.replace(IF, IFX, 1): v for k, v in if_walk(rows).rows.items()})


def test_interfaces_join_tables_and_prefer_64bit_counters() -> None:
    skipped: Counter[str] = Counter()
    (p,) = parse_interfaces(if_walk({"10101": IF_ROW}), ifx_walk({"10101": IFX_ROW}), skipped)

    assert p == Port(ifindex=10101, name="GigabitEthernet1/0/1", descr="GigabitEthernet1/0/1",
                     alias="uplink to core", if_type=6, admin="up", oper="up", speed_mbps=1000, mtu=1500,
                     mac="ac:7e:8a:19:bf:01", last_change_s=123.45, in_octets=10**12, out_octets=2 * 10**12,
                     counters_64bit=True, in_errors=2, out_errors=4, in_discards=1, out_discards=3)
    assert p.is_physical and not skipped


@pytest.mark.parametrize(("if_row", "ifx_row", "field", "want"), [
    ({5: 1_000_000_000}, {}, "speed_mbps", 1000),  # no ifXTable: ifSpeed in bit/s
    ({5: 4294967295}, {}, "speed_mbps", None),  # ifSpeed saturated, nothing better known
    ({5: 4294967295}, {15: 100000}, "speed_mbps", 100000),  # 100G: ifHighSpeed wins
    ({5: 0}, {15: 0}, "speed_mbps", 0),
    ({10: 5, 16: 6}, {}, "in_octets", 5),  # 32-bit counters when there are no HC ones
    ({10: 5, 16: 6}, {}, "counters_64bit", False),
    ({7: 2, 8: 7}, {}, "oper", "lowerLayerDown"),
    ({7: 2, 8: 7}, {}, "admin", "down"),
    ({}, {1: b"Te1/1/1"}, "name", "TenGigabitEthernet1/1/1"),  # ifName is canonicalised
    ({2: b"Ethernet1/1"}, {}, "name", "Ethernet1/1"),  # no ifName: ifDescr
    ({2: b"port\x00 1 "}, {}, "descr", "port 1"),
    ({9: b"soon"}, {}, "last_change_s", None),
])
def test_interface_fields(if_row: dict[int, Any], ifx_row: dict[int, Any], field: str, want: object) -> None:
    base = {2: b"Gi0/1", **if_row}
    ports = parse_interfaces(if_walk({"7": base}), ifx_walk({"7": ifx_row}) if ifx_row else None, Counter())
    assert getattr(ports[0], field) == want


@pytest.mark.parametrize(("rows", "names", "reasons"), [
    ({"1": {3: 6}}, [], {"interface without ifDescr or ifName": 1}),
    ({"1": {2: b"Gi0/1", 7: 77, 8: -3}}, ["GigabitEthernet0/1"], {"interface status outside IF-MIB's enumeration": 1}),
    ({"1": {2: b"Gi0/1", 3: b"six", 10: b"lots"}}, ["GigabitEthernet0/1"], {"interface value not a number": 2}),
    ({"abc": {2: b"Gi0/1"}, "2.5": {2: b"Gi0/2"}, "3": {2: b"Gi0/3"}}, ["GigabitEthernet0/3"], {}),
])
def test_interface_garbage_is_skipped_and_counted(rows: dict[str, dict[int, Any]], names: list[str],
                                                  reasons: dict[str, int]) -> None:
    skipped: Counter[str] = Counter()
    ports = parse_interfaces(if_walk(rows), None, skipped)
    assert [p.name for p in ports] == names
    assert dict(skipped) == reasons


def test_interfaces_only_in_ifxtable_still_appear() -> None:
    ports = parse_interfaces(if_walk({}), ifx_walk({"5": {1: b"Gi0/5"}}), Counter())
    assert [(p.ifindex, p.name, p.oper) for p in ports] == [(5, "GigabitEthernet0/5", "unknown")]


# --- ENTITY-MIB -----------------------------------------------------------------------------------------------

_FIELD_COLUMN = {"descr": 2, "vendor_type": 3, "contained_in": 4, "cls": 5, "name": 7, "hw_rev": 8, "serial": 11,
                 "mfg": 12, "model": 13, "alias": 14, "fru": 16}


def ent_walks(rows: Mapping[int, Mapping[str, Any]], aliases: Mapping[str, str] = {}
              ) -> tuple[WalkResult, WalkResult]:
    """entPhysicalTable rows by field name; aliases: "<entity>.<context>" -> ifIndex."""
    columns: Layout = {}
    for index, row in rows.items():
        for name, value in row.items():
            columns.setdefault(_FIELD_COLUMN[name], {})[str(index)] = value
    alias_walk = WalkResult(rows={ALIAS: {k: f"1.3.6.1.2.1.2.2.1.1.{v}" for k, v in aliases.items()}})
    return walk(ENT, columns), alias_walk


def tree_of(rows: Mapping[int, Mapping[str, Any]], aliases: Mapping[str, str] = {},
            ports: Mapping[str, int] = {}) -> EntityTree:
    return EntityTree(parse_entities(*ent_walks(rows, aliases)), ports)


CHASSIS_ROW: dict[str, Any] = {"cls": CHASSIS, "contained_in": 0, "descr": b"chassis", "serial": b"FOC1", "model": b"C9300", "fru": 1}
# Cisco IOS (2960X): chassis > fixed module > container > SFP, the SFP being a `port` entity mapped to its ifIndex.
IOS_SFP: Case = ({
    1001: CHASSIS_ROW,
    1002: {"cls": MODULE, "contained_in": 1001, "descr": b"Fixed Module 0", "serial": b"", "fru": 2},
    1061: {"cls": CONTAINER, "contained_in": 1002, "name": b"GigabitEthernet1/0/52 Container", "fru": 2},
    1062: {"cls": PORT, "contained_in": 1061, "descr": b"1000BaseSX SFP", "name": b"GigabitEthernet1/0/52",
           "serial": b"FNS192717K1", "model": b"GLC-SX-MMD", "hw_rev": b"V01", "fru": 1},
    1063: {"cls": SENSOR, "contained_in": 1062, "descr": b"GigabitEthernet1/0/52 Receive Power Sensor"},
}, {"1062.0": "10152"}, {1062: 10152})
# IOS-XE router: a transceiver `module` holding one `port` that is mapped.
XE_MODULE_WITH_PORT: Case = ({
    1: CHASSIS_ROW,
    10: {"cls": MODULE, "contained_in": 1, "descr": b"subslot 0/0 transceiver 0", "serial": b"AGM1",
         "model": b"SFP-10G-SR", "mfg": b"CISCO-AVAGO", "fru": 1},
    11: {"cls": PORT, "contained_in": 10, "descr": b"GigabitEthernet0/0/0", "fru": 2},
    12: {"cls": SENSOR, "contained_in": 10, "descr": b"subslot 0/0 transceiver 0 Temperature Sensor"},
}, {"11.0": "1"}, {10: 1})
# NX-OS: the transceiver `module` sits inside the mapped `port`.
NXOS_MODULE_IN_PORT: Case = ({
    22: CHASSIS_ROW,
    300: {"cls": PORT, "contained_in": 22, "descr": b"1/10/25G Ethernet Port", "name": b"Ethernet1/1", "fru": 2},
    301: {"cls": MODULE, "contained_in": 300, "descr": b"Fabric Extender Module: 10GBase-SR", "serial": b"FNS2",
          "model": b"SFP-10G-SR", "fru": 1},
}, {"300.0": "436207616"}, {301: 436207616})
# A line card with several ports below it is a module with a serial, but not a transceiver.
LINE_CARD: Case = ({
    1: CHASSIS_ROW,
    2: {"cls": MODULE, "contained_in": 1, "descr": b"48x1G line card", "serial": b"LC1", "model": b"WS-X4748",
        "fru": 1},
    **{10 + i: {"cls": PORT, "contained_in": 2, "name": f"Gi2/{i}".encode(), "fru": 2} for i in range(1, 5)},
}, {f"{10 + i}.0": str(200 + i) for i in range(1, 5)}, {})
# A line card with an SFP in one of its cages (Catalyst 4500): the SFP is found, the card is not.
LINE_CARD_WITH_SFP: Case = ({
    **LINE_CARD[0],
    20: {"cls": CONTAINER, "contained_in": 2, "name": b"Gi2/5 Container", "fru": 2},
    21: {"cls": PORT, "contained_in": 20, "name": b"Gi2/5", "serial": b"SFPX", "model": b"GLC-T", "fru": 1},
}, {**LINE_CARD[1], "21.0": "205"}, {21: 205})
# Broken agents: a containment cycle, and an entity that contains itself.
CYCLE: Case = ({
    40: {"cls": MODULE, "contained_in": 41, "serial": b"C40", "fru": 1},
    41: {"cls": MODULE, "contained_in": 40, "serial": b"C41", "fru": 1},
    42: {"cls": MODULE, "contained_in": 42, "serial": b"SELF", "fru": 1},
}, {}, {})
# A fixed port with a serial, and a module that says it is not field-replaceable, are chassis details.
NOT_FRU: Case = ({
    1: CHASSIS_ROW,
    5: {"cls": PORT, "contained_in": 1, "serial": b"P5", "model": b"fixed", "fru": 2},
    6: {"cls": MODULE, "contained_in": 1, "serial": b"CPU6", "model": b"RP", "fru": 2},
    7: {"cls": MODULE, "contained_in": 1, "serial": b"", "model": b"", "fru": 1},
}, {"5.0": "5", "6.0": "6", "7.0": "7"}, {})


@pytest.mark.parametrize(("layout", "aliases", "want"), [
    pytest.param(*IOS_SFP, id="ios-sfp-is-a-port-entity"),
    pytest.param(*XE_MODULE_WITH_PORT, id="module-with-one-child-port"),
    pytest.param(*NXOS_MODULE_IN_PORT, id="module-inside-a-port"),
    pytest.param(*LINE_CARD, id="line-card-is-not-a-transceiver"),
    pytest.param(*LINE_CARD_WITH_SFP, id="optic-on-a-line-card"),
    pytest.param(*CYCLE, id="containment-cycle"),
    pytest.param(*NOT_FRU, id="fixed-parts"),
])
def test_transceivers_per_layout(layout: Layout, aliases: dict[str, str],
                                 want: dict[int, int]) -> None:
    found = tree_of(layout, aliases).transceivers()
    assert {t.entity_index: t.ifindex for t in found} == want
    assert all(t.source == "entity-mib" and t.serial for t in found)


def test_ios_sfp_identity_and_its_sensor() -> None:
    tree = tree_of(*IOS_SFP[:2])
    (t,) = tree.transceivers()
    assert (t.vendor, t.model, t.serial, t.type, t.revision) == ("", "GLC-SX-MMD", "FNS192717K1", "1000BaseSX SFP",
                                                                 "V01")
    assert tree.port_of_sensor(1063) == (10152, 1062)
    assert tree.port_of_sensor(9999) == (None, None)


def test_module_sensor_is_placed_through_its_module() -> None:
    tree = tree_of(*XE_MODULE_WITH_PORT[:2])
    assert tree.port_of_sensor(12) == (1, 10)


def test_arista_container_named_after_its_interface() -> None:
    """Arista maps no alias: the transceiver is a `container` whose entPhysicalAlias is the interface name."""
    rows = {
        1: CHASSIS_ROW,
        100304000: {"cls": CONTAINER, "contained_in": 1, "descr": b"Xcvr Slot 4", "fru": 2},
        100304100: {"cls": CONTAINER, "contained_in": 100304000, "descr": b"Xcvr for Ethernet4",
                    "alias": b"Ethernet4", "serial": b"G1904016437", "mfg": b"Arista Networks",
                    "model": b"SFP-10GLR-31", "fru": 1},
    }
    tree = tree_of(rows, ports={"Ethernet4": 4})
    assert [(t.serial, t.ifindex, t.vendor) for t in tree.transceivers()] == [("G1904016437", 4, "Arista Networks")]
    assert tree_of(rows, ports={"Ethernet5": 5}).transceivers() == []  # not a port this device has


def test_cycles_terminate_everywhere() -> None:
    tree = tree_of(*CYCLE[:2])
    for index in tree.entities:
        assert len(tree.ancestors(index)) <= 2
        assert tree.port_of_sensor(index)[0] is None  # no port; at most "some module"
    mapped = tree_of({
        50: {"cls": PORT, "contained_in": 51, "serial": b"A", "fru": 1},
        51: {"cls": MODULE, "contained_in": 50, "serial": b"B", "fru": 1},
    }, {"50.0": "9"})
    assert len([t for t in mapped.transceivers() if t.ifindex == 9]) == 1  # never two modules in one cage


def test_parse_entities_fields_and_alias_mapping() -> None:
    rows: Layout = {
        7: {"cls": PORT, "contained_in": 3, "descr": b"SFP\x00", "vendor_type": "1.3.6.1.4.1.9.12.3.1.10.169",
            "name": b"Gi1/0/1", "hw_rev": b"V01 ", "serial": b"S1", "mfg": b"CISCO", "model": b"M", "alias": b"",
            "fru": 1},
        8: {"cls": b"module", "vendor_type": b"garbage", "contained_in": b"x"},
        9: {"fru": 2},
    }
    phys, aliases = ent_walks(rows, {"7.0": "101", "7.1": "202", "8.0": "303"})
    aliases.rows[ALIAS]["9.0"] = b"not an oid"
    aliases.rows[ALIAS]["x.0"] = "1.3.6.1.2.1.2.2.1.1.5"
    aliases.rows[ALIAS]["10.0"] = "1.3.6.1.2.1.31.1.1.1.1.5"  # not an ifIndex
    got = parse_entities(phys, aliases)

    assert got[7] == Entity(index=7, cls=PORT, descr="SFP", name="Gi1/0/1", vendor_type="1.3.6.1.4.1.9.12.3.1.10.169",
                            contained_in=3, hw_rev="V01", serial="S1", mfg="CISCO", model="M", fru=True,
                            ifindex=101)  # context 0 wins over context 1
    assert (got[8].cls, got[8].vendor_type, got[8].contained_in, got[8].fru, got[8].ifindex) == (0, "", 0, None, 303)
    assert (got[9].fru, got[9].ifindex) == (False, None)
    assert set(got) == {7, 8, 9}


def test_parse_entities_without_alias_table() -> None:
    phys, _ = ent_walks(IOS_SFP[0])
    got = parse_entities(phys, None)
    assert got[1062].ifindex is None
    assert [t.ifindex for t in EntityTree(got, {"GigabitEthernet1/0/52": 10152}).transceivers()] == [10152]


# --- LLDP-MIB -------------------------------------------------------------------------------------------------

PORTS = [Port(ifindex=10101, name="GigabitEthernet1/0/1", descr="GigabitEthernet1/0/1"),
         Port(ifindex=10102, name="GigabitEthernet1/0/2", descr="GigabitEthernet1/0/2", alias="to core"),
         Port(ifindex=3, name="Ethernet3", descr="Ethernet3")]


def rem_walk(rows: Mapping[str, Mapping[int, Any]]) -> WalkResult:
    columns: Layout = {}
    for suffix, row in rows.items():
        for col, value in row.items():
            columns.setdefault(col, {})[suffix] = value
    return walk(REM, columns)


def loc_walk(rows: Mapping[str, Mapping[int, Any]]) -> WalkResult:
    return WalkResult(rows={k.replace(REM, LOC, 1): v for k, v in rem_walk(rows).rows.items()})


NEIGHBOUR = {4: 4, 5: bytes.fromhex("00000c9ff001"), 6: 5, 7: b"Te1/0/1", 8: b"TenGigabitEthernet1/0/1",
             9: b"core-sw1"}


@pytest.mark.parametrize(("rem", "loc", "want"), [
    pytest.param({"0.1.1": NEIGHBOUR}, {"1": {2: 7, 3: b"Gi1/0/1", 4: b"GigabitEthernet1/0/1"}},
                 [(10101, "Gi1/0/1", "core-sw1", "Te1/0/1", "00:00:0c:9f:f0:01")], id="local-port-by-name"),
    pytest.param({"0.2.1": NEIGHBOUR}, {"2": {2: 7, 3: b"unknown-id", 4: b"to core"}},
                 [(10102, "to core", "core-sw1", "Te1/0/1", "00:00:0c:9f:f0:01")], id="local-port-by-alias"),
    pytest.param({"0.3.1": NEIGHBOUR}, None, [(3, "Ethernet3", "core-sw1", "Te1/0/1", "00:00:0c:9f:f0:01")],
                 id="no-loc-table-number-is-ifindex"),
    pytest.param({"0.99.1": NEIGHBOUR}, {}, [(None, "99", "core-sw1", "Te1/0/1", "00:00:0c:9f:f0:01")],
                 id="unresolvable-local-port"),
    pytest.param({"0.3.1": {**NEIGHBOUR, 4: 7, 5: b"core-sw1.example", 6: 3, 7: bytes.fromhex("00000c9ff0aa"),
                            8: b"eth0"}},
                 None, [(3, "Ethernet3", "core-sw1", "eth0", "core-sw1.example")], id="mac-port-id-uses-descr"),
    pytest.param({"0.3.1": {**NEIGHBOUR, 6: 3, 7: bytes.fromhex("00000c9ff0aa"), 8: b""}},
                 None, [(3, "Ethernet3", "core-sw1", "00:00:0c:9f:f0:aa", "00:00:0c:9f:f0:01")], id="bare-mac-port"),
    pytest.param({"3.1": NEIGHBOUR, "0.x.1": NEIGHBOUR}, None, [], id="malformed-index-skipped"),
    pytest.param({"0.3.1": {9: b"only-a-name"}}, None, [(3, "Ethernet3", "only-a-name", "", "")],
                 id="sparse-row"),
])
def test_lldp_neighbours(rem: dict[str, dict[int, Any]], loc: dict[str, dict[int, Any]] | None,
                         want: list[tuple[object, ...]]) -> None:
    got = parse_lldp(rem_walk(rem), None if loc is None else loc_walk(loc), PORTS)
    assert [(n.ifindex, n.local_port, n.sys_name, n.port, n.chassis_id) for n in got] == want


def test_lldp_neighbours_are_sorted_by_port() -> None:
    rem = {"0.2.1": {**NEIGHBOUR, 9: b"b"}, "0.1.1": {**NEIGHBOUR, 9: b"a"}, "0.1.2": {**NEIGHBOUR, 9: b"c"}}
    got = parse_lldp(rem_walk(rem), None, [Port(1, "Ethernet1"), Port(2, "Ethernet2")])
    assert [(n.ifindex, n.sys_name) for n in got] == [(1, "a"), (1, "c"), (2, "b")]


# --- fuzz: random rows never raise ----------------------------------------------------------------------------

_values = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70), st.binary(max_size=12),
    st.text(max_size=12), st.sampled_from(["1.3.6.1.2.1.2.2.1.1.5", "1.3.6.1.2.1.2.2.1.1.", "0.0", "--5", "²"]),
)
_suffixes = st.one_of(
    st.integers(min_value=-3, max_value=60).map(str),
    st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=4).map(lambda xs: ".".join(map(str, xs))),
    st.text(max_size=8),
)


def _rows_for(columns: list[str]) -> st.SearchStrategy[WalkResult]:
    column = st.sampled_from(columns + ["1.3.6.1.9.9"])
    return st.dictionaries(column, st.dictionaries(_suffixes, _values, max_size=8), max_size=len(columns)).map(
        lambda rows: WalkResult(rows=rows))


_FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FUZZ
@given(_rows_for(interfaces.IF_COLUMNS), st.one_of(st.none(), _rows_for(interfaces.IFX_COLUMNS)))
def test_fuzz_parse_interfaces(if_rows: WalkResult, ifx_rows: WalkResult | None) -> None:
    skipped: Counter[str] = Counter()
    ports = parse_interfaces(if_rows, ifx_rows, skipped)
    assert len({p.ifindex for p in ports}) == len(ports)
    assert all(p.name or p.descr for p in ports)


@_FUZZ
@given(_rows_for(entity.COLUMNS), st.one_of(st.none(), _rows_for([ALIAS])),
       st.dictionaries(st.text(max_size=6), st.integers(min_value=0, max_value=40), max_size=5))
def test_fuzz_parse_entities(phys: WalkResult, aliases: WalkResult | None, port_names: dict[str, int]) -> None:
    tree = EntityTree(parse_entities(phys, aliases), port_names)
    found = tree.transceivers()
    assert all(t.ifindex is not None for t in found)
    for index in tree.entities:
        tree.port_of_sensor(index)
        tree.ancestors(index)


@_FUZZ
@given(_rows_for(lldp.REM_COLUMNS), st.one_of(st.none(), _rows_for(lldp.LOC_COLUMNS)),
       st.lists(st.builds(Port, ifindex=st.integers(0, 40), name=st.text(max_size=6), descr=st.text(max_size=6),
                          alias=st.text(max_size=6)), max_size=4))
def test_fuzz_parse_lldp(rem: WalkResult, loc: WalkResult | None, ports: list[Port]) -> None:
    for n in parse_lldp(rem, loc, ports):
        assert n.ifindex is None or any(p.ifindex == n.ifindex for p in ports)
