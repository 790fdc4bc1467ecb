"""Vendor interface tables (snmp profiles `interface_tables`): interfaces IF-MIB does not list become ports.

Nokia SR OS lists only the Base router's IP interfaces in IF-MIB; its VPRN interfaces and "management" are rows
of TIMETRA-VRTR-MIB vRtrIfTable (index vRtrID.vRtrIfIndex). The rows below are copied from LibreNMS's
recording of a real 7705 SAR (`librenms-wide/timos_7705.snmprec`, GPL-3.0-or-later); the MIB columns are
written out again here rather than read from the profile, so a wrong profile fails.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.collectors.interfaces import parse_interface_table
from monitor.collectors.snmp import WalkResult
from monitor.model import Port, Snapshot, TableHealth, TableStatus, Transceiver
from monitor.profiles import InterfaceTable, snmp_profiles
from monitor.witness.changes import ChangeKind, detect
from tests.conftest import Agent, run_saksi, start_snmpsim, stop

V_RTR_IF = "1.3.6.1.4.1.6527.3.1.2.3.4.1"  # vRtrIfEntry
NAME, ADMIN, OPER, ALIAS, DESCR = (f"{V_RTR_IF}.{c}" for c in (4, 8, 9, 10, 34))
SPEED = "1.3.6.1.4.1.6527.3.1.2.3.54.1.103"  # vRtrIfSpeed, bps, same index

# vRtrID.vRtrIfIndex -> vRtrIfName, as the 7705 answers: Base (1), two VPRNs (2, 5), management (4095).
NAMES = {"1.1": "system", "1.2": "PtP-OC-Loopback", "1.5": "to-SITEA-7750-1-1-8",
         "2.3": "to-GU-AWS-GLATOYCELL-6500-Main", "2.4": "to-GU-AWS-GLATOYCELL-6500-OAM",
         "2.5": "to-PakiPlaza-LTE-AWS-Main", "2.6": "to-PakiPlaza-LTE-AWS-OAM",
         "2.7": "to-GLTAM010-LTE-66010-Main", "2.8": "to-GLTAM010-LTE-66010-OAM",
         "2.9": "to-GLTAM869-TOY-LTE-66869-Main", "2.10": "to-GLTAM869-TOY-LTE-66869-OAM",
         "5.2": "TEST-CISCO-2911", "4095.1280": "management"}
SPEEDS = {k: 0 if k == "4095.1280" else 100_000_000 if k in ("1.1", "1.2") else 1_000_000_000 for k in NAMES}
# What IF-MIB lists on the same device: the Base router's interfaces, under their vRtrIfIndex.
IF_MIB = [Port(1, "system"), Port(2, "PtP-OC-Loopback"), Port(5, "to-SITEA-7750-1-1-8")]


def vrtr() -> InterfaceTable:
    return next(t for t in snmp_profiles().interface_tables if t.name == "vRtrIfTable")


def recorded_walk() -> WalkResult:
    return WalkResult(rows={NAME: {k: v.encode() for k, v in NAMES.items()},
                            DESCR: {k: b"" for k in NAMES}, ALIAS: {k: b"" for k in NAMES}, SPEED: dict(SPEEDS)})


def test_profile_reads_the_mib_columns() -> None:
    t = vrtr()
    assert t.applies("1.3.6.1.4.1.6527.6.1.1.2.1") and not t.applies("1.3.6.1.4.1.890.1.15")
    assert (t.column_oid(t.name_column), [t.column_oid(c) for c in t.descr_columns]) == (NAME, [DESCR, NAME])
    assert t.alias_column is not None and t.column_oid(t.alias_column) == ALIAS
    assert t.admin is not None and t.oper is not None and t.speed is not None
    assert (t.column_oid(t.admin.column), t.column_oid(t.oper.column), t.column_oid(t.speed.column)) == (
        ADMIN, OPER, SPEED)
    # TmnxAdminState noop(1) inService(2) outOfService(3); TmnxOperState unknown(1) inService(2)
    # outOfService(3) transition(4)
    assert t.admin.words == t.oper.words == {2: "up", 3: "down"} and t.oper.default == "unknown"
    assert t.speed.factor == 1e-6 and sorted(t.column_oids()) == sorted({NAME, ADMIN, OPER, ALIAS, DESCR, SPEED})


def test_vprn_and_management_interfaces_become_ports_and_base_ones_stay_if_mibs() -> None:
    skipped: Counter[str] = Counter()
    got = parse_interface_table(vrtr(), recorded_walk(), IF_MIB, skipped)
    assert [(p.ifindex, p.name, p.speed_mbps) for p in got] == [
        (3, "to-GU-AWS-GLATOYCELL-6500-Main", 1000), (4, "to-GU-AWS-GLATOYCELL-6500-OAM", 1000),
        (6, "to-PakiPlaza-LTE-AWS-OAM", 1000), (7, "to-GLTAM010-LTE-66010-Main", 1000),
        (8, "to-GLTAM010-LTE-66010-OAM", 1000), (9, "to-GLTAM869-TOY-LTE-66869-Main", 1000),
        (10, "to-GLTAM869-TOY-LTE-66869-OAM", 1000), (1280, "management", 0)]
    # no description stated: the name describes it; no state answered: unknown, never "down"
    assert all(p.descr == p.name and p.alias == "" and (p.admin, p.oper) == ("unknown", "unknown") for p in got)
    # VPRN 2's vRtrIfIndex 5 and VPRN 5's 2 are numbered like Base interfaces IF-MIB lists: skipped, counted
    assert skipped == Counter({"vRtrIfTable: interface whose ifIndex or name another port holds": 2})


def test_states_and_stated_description() -> None:
    walk = WalkResult(rows={NAME: {"2.3": b"to-ce-a", "2.4": b"to-ce-b", "2.6": b"to-ce-c"},
                            DESCR: {"2.3": b"CE A, VLAN 100"}, ALIAS: {"2.4": b"ce-b"},
                            ADMIN: {"2.3": 2, "2.4": 3, "2.6": 1}, OPER: {"2.3": 2, "2.4": 3, "2.6": 4}})
    got = {p.name: p for p in parse_interface_table(vrtr(), walk, IF_MIB, Counter())}
    assert (got["to-ce-a"].descr, got["to-ce-a"].admin, got["to-ce-a"].oper) == ("CE A, VLAN 100", "up", "up")
    assert (got["to-ce-b"].alias, got["to-ce-b"].admin, got["to-ce-b"].oper) == ("ce-b", "down", "down")
    assert (got["to-ce-c"].admin, got["to-ce-c"].oper) == ("unknown", "unknown")  # noop, transition
    assert got["to-ce-a"].speed_mbps is None  # not answered: unknown, not 0


def test_garbage_is_skipped_and_counted() -> None:
    walk = WalkResult(rows={NAME: {"2.3": b"ok", "2.4": b"", "7": b"short-index", "2.x": b"bad-index",
                                   "2.0": b"zero", "3.3": b"ok", "2.9": b"system"},
                            ADMIN: {"2.3": b"up?"}, SPEED: {"2.3": b"fast"}})
    skipped: Counter[str] = Counter()
    got = parse_interface_table(vrtr(), walk, IF_MIB, skipped)
    assert [(p.ifindex, p.name, p.admin, p.speed_mbps) for p in got] == [(3, "ok", "unknown", None)]
    assert skipped == Counter({
        "vRtrIfTable: row without an ifIndex or a name": 4,  # "", "7", "2.x", "2.0"
        "vRtrIfTable: interface whose ifIndex or name another port holds": 2,  # 3.3 again; "system" is IF-MIB's
        "vRtrIfTable: state not a number": 1, "vRtrIfTable: speed not a number": 1})


@pytest.mark.parametrize("cell", [None, b"\xff\xfe", -1, 2**70, "", b"\x00" * 8, 3.5])
def test_never_raises(cell: object) -> None:
    rows: dict[str, dict[str, object]] = {c: {"2.3": cell} for c in (NAME, DESCR, ALIAS, ADMIN, OPER, SPEED)}
    parse_interface_table(vrtr(), WalkResult(rows=rows), IF_MIB, Counter())  # type: ignore[arg-type]


def test_loader_rejects_what_it_cannot_read(tmp_path: Path) -> None:
    base = {"name": "t", "oid": "1.3.6.1.4.1.9999.1", "name_column": 2}
    for bad, why in (({"index": "_._"}, "exactly one ifindex"), ({"index": "ifindex.lane"}, "dotted fields"),
                     ({"speed": {"column": 3, "unit": "Gbps"}}, "speed unit")):
        (tmp_path / f"bad-{why.split()[0]}.yaml").write_text(yaml.safe_dump({"interface_tables": [base | bad]}))
        with pytest.raises(ValueError, match=why):
            snmp_profiles(tmp_path / f"bad-{why.split()[0]}.yaml")


def test_every_interface_table_names_its_mib_and_vendor() -> None:
    tables = snmp_profiles().interface_tables
    assert "vRtrIfTable" in {t.name for t in tables}
    assert all(t.mib and t.enterprises for t in tables), "a vendor table is asked of its vendor's devices only"


def test_an_unanswered_interface_table_does_not_hide_a_pulled_module() -> None:
    """vRtrIfTable holds ports, not modules: its timeout leaves the module picture a fact."""
    ok = (TableHealth("system", TableStatus.OK, 1), TableHealth("ifTable", TableStatus.OK, 3),
          TableHealth("ifXTable", TableStatus.OK, 3), TableHealth("entPhysicalTable", TableStatus.OK, 9))
    port = Port(35684352, "1/1/1", if_type=6)
    sfp = Transceiver("NOKIA", "3HE00027CA", "SN1", ifindex=port.ifindex)
    prev = Snapshot("sar", 0.0, True, ports=(port,), transceivers=(sfp,),
                    tables=(*ok, TableHealth("vRtrIfTable", TableStatus.OK, 13)))
    curr = Snapshot("sar", 60.0, True, ports=(port,),
                    tables=(*ok, TableHealth("vRtrIfTable", TableStatus.TIMEOUT, 0, "no answer")))
    assert [c.kind for c in detect(prev, curr, 60.0)] == [ChangeKind.TRANSCEIVER_REMOVED]


# --- through the real CLI, against snmpsim serving the device's own rows ---------------------------------

def _recording() -> str:
    """The 7705's system group, IF-MIB rows and router interface rows, in snmpsim's OID order."""
    lines = ["1.3.6.1.2.1.1.1.0|4|TiMOS-B-9.0.R11 both/hops Nokia 7705 SAR Copyright (c) 2000-2020 Nokia.",
             "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.6527.6.1.1.2.1", "1.3.6.1.2.1.1.3.0|67|761831869",
             "1.3.6.1.2.1.1.5.0|4|sar-7705"]
    if_rows = {2: ("system, Loopback IP interface", "PtP-OC-Loopback, Loopback IP interface, \\IP interface\\",
                   "to-SITEA-7750-1-1-8, IP interface"), 3: ("24", "24", "142"), 7: ("1", "1", "1"),
               8: ("1", "1", "1")}
    for col, values in if_rows.items():
        lines += [f"1.3.6.1.2.1.2.2.1.{col}.{i}|{4 if col == 2 else 2}|{v}" for i, v in zip((1, 2, 5), values,
                                                                                             strict=True)]
    lines += [f"1.3.6.1.2.1.31.1.1.1.1.{i}|4|{NAMES[f'1.{i}']}" for i in (1, 2, 5)]
    order = sorted(NAMES, key=lambda k: tuple(int(x) for x in k.split(".")))
    lines += [f"{NAME}.{k}|4|{NAMES[k]}" for k in order] + [f"{DESCR}.{k}|4|" for k in order]
    lines += [f"{SPEED}.{k}|70|{SPEEDS[k]}" for k in order]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def sar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    work = tmp_path_factory.mktemp("vrtr")
    data = work / "data"
    data.mkdir()
    (data / "sar.snmprec").write_text(_recording())
    agent, proc = start_snmpsim(data, work, "sar")
    try:
        yield agent
    finally:
        stop(proc)


def test_saksi_check_shows_router_interfaces(sar: Agent) -> None:
    r = run_saksi("check", "--host", sar.host, "--snmp-port", str(sar.port), "--community", "sar", "--timeout", "5",
                  "--json")
    assert r.returncode in (0, 1), r.stderr
    snap: dict[str, Any] = json.loads(r.stdout)
    ports = {p["ifindex"]: p for p in snap["ports"]}
    assert sorted(ports) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1280]
    assert ports[5]["descr"] == "to-SITEA-7750-1-1-8, IP interface"  # IF-MIB's row, not VPRN 2's vRtrIfIndex 5
    assert (ports[3]["name"], ports[3]["speed_mbps"], ports[3]["oper"]) == (
        "to-GU-AWS-GLATOYCELL-6500-Main", 1000, "unknown")
    assert ports[1280]["name"] == "management"
    assert {"table": "vRtrIfTable", "status": "ok", "rows": 13, "error": None} in snap["tables"]
    assert snap["skipped"]["vRtrIfTable: interface whose ifIndex or name another port holds"] == 2
