"""`PysnmpClient` against a real net-snmp `snmpd`, with net-snmp's own `snmpbulkwalk` as the reference.

The client sends v1/v2c requests through pysnmp's v1arch commands and SNMPv3 ones straight to its v3arch
command generators (no hlapi MIB resolution in either), and cuts OIDs as int tuples, so what it returns is
checked here against the C walker's view of the same agent: the same rows under the same index suffixes, for
GETBULK (v2c) and GETNEXT (v1) alike. Below, what the v1/v2c dispatcher must survive: garbage answers, a new
event loop, and being closed with a request still pending.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from pysnmp.proto import rfc1902

from monitor.collectors.snmp import PysnmpClient, SnmpTarget, WalkResult
from monitor.common.errors import SnmpError, SnmpTimeout
from monitor.lab.agent import MibView, serve
from tests.conftest import free_udp_port
from tests.udp_agent import UdpAgent

COMMUNITY = "clienttest"
IF_DESCR, IF_TYPE, IF_MTU = "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.3", "1.3.6.1.2.1.2.2.1.4"
SYS_OR_ID = "1.3.6.1.2.1.1.9.1.2"  # sysORTable: net-snmp lists its MIB modules, a stable OID-valued column
ENT_PHYS_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"  # ENTITY-MIB: net-snmp does not serve it, an empty column
STATIC = [IF_DESCR, IF_TYPE, IF_MTU, SYS_OR_ID]
ENV = {**os.environ, "MIBS": "", "MIBDIRS": ""}

pytestmark = pytest.mark.skipif(shutil.which("snmpd") is None or shutil.which("snmpbulkwalk") is None,
                                reason="net-snmp snmpd/snmpbulkwalk not installed (scripts/setup.sh installs them)")


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real snmpd on a free 127.0.0.1 port, stopped by PID."""
    work = tmp_path_factory.mktemp("snmpd")
    (work / "snmpd.conf").write_text(f"rocommunity {COMMUNITY} 127.0.0.1\nsysName client-test\n")
    port = free_udp_port()
    proc = subprocess.Popen(["snmpd", "-f", "-C", "-c", str(work / "snmpd.conf"), "-Lf", str(work / "log"),
                             f"udp:127.0.0.1:{port}"], env={**ENV, "SNMP_PERSISTENT_DIR": str(work)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while _reference(port, IF_DESCR) == {}:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"snmpd did not answer; see {work / 'log'}")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _reference(port: int, column: str) -> dict[str, str]:
    """net-snmp's walk of one column: index suffix -> value as snmpbulkwalk prints it (-Oqn)."""
    out = subprocess.run(["snmpbulkwalk", "-v2c", "-c", COMMUNITY, "-On", "-Oq", "-Oe", "-t", "2", "-r", "1",
                          f"127.0.0.1:{port}", column], capture_output=True, text=True, env=ENV, check=False).stdout
    rows = {}
    for line in out.splitlines():
        oid, _, value = line.partition(" ")
        if oid.startswith(f".{column}."):
            rows[oid[len(column) + 2:]] = value.strip().strip('"')
    return rows


def _walk(port: int, columns: list[str], version: str = "2c", max_repetitions: int = 25) -> WalkResult:
    async def run() -> WalkResult:
        client = PysnmpClient()
        try:
            return await client.walk(SnmpTarget("127.0.0.1", port, version=version, community=COMMUNITY,
                                                timeout=2, retries=1, max_repetitions=max_repetitions), columns)
        finally:
            client.close()

    return asyncio.run(run())


def _printed(value: object) -> str:
    """A client value the way snmpbulkwalk -Oqn prints it."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):  # an OID
        return f".{value}"
    return str(value)


@pytest.mark.parametrize(("version", "max_repetitions"), [("2c", 25), ("2c", 1), ("1", 25)])
def test_walk_matches_net_snmp(snmpd: int, version: str, max_repetitions: int) -> None:
    got = _walk(snmpd, [*STATIC, ENT_PHYS_NAME], version, max_repetitions)
    assert got.error is None
    assert got.rows[ENT_PHYS_NAME] == {}
    for column in STATIC:
        want = _reference(snmpd, column)
        assert want, f"snmpd served nothing under {column}"
        assert {k: _printed(v) for k, v in got.rows[column].items()} == want


def test_index_suffixes_are_dotted_and_ints_are_ints(snmpd: int) -> None:
    got = _walk(snmpd, [IF_TYPE, SYS_OR_ID])
    assert all(k.isdigit() for k in got.rows[IF_TYPE])
    assert all(isinstance(v, int) for v in got.rows[IF_TYPE].values())
    assert all(isinstance(v, str) and v.startswith("1.3.6.1.") for v in got.rows[SYS_OR_ID].values())


def test_get_returns_plain_values_and_none_for_missing(snmpd: int) -> None:
    async def run() -> dict[str, object]:
        client = PysnmpClient()
        try:
            return dict(await client.get(SnmpTarget("127.0.0.1", snmpd, community=COMMUNITY),
                                         ["1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.47.1.4.1.0"]))
        finally:
            client.close()

    got = asyncio.run(run())
    assert got["1.3.6.1.2.1.1.5.0"] == b"client-test"
    assert isinstance(got["1.3.6.1.2.1.1.3.0"], int)
    assert got["1.3.6.1.2.1.47.1.4.1.0"] is None


def test_a_malformed_oid_is_an_snmp_error_not_a_crash(snmpd: int) -> None:
    with pytest.raises(SnmpError, match="not a numeric OID"):
        _walk(snmpd, ["ifDescr"])


def test_wrong_community_times_out_into_the_walk_result(snmpd: int) -> None:
    async def run() -> WalkResult:
        client = PysnmpClient()
        try:
            return await client.walk(SnmpTarget("127.0.0.1", snmpd, community="wrong", timeout=0.3, retries=0),
                                     [IF_DESCR])
        finally:
            client.close()

    got = asyncio.run(run())
    assert isinstance(got.error, SnmpTimeout)
    assert got.rows == {IF_DESCR: {}}


def test_a_v1_get_with_an_oid_the_agent_lacks_still_returns_the_others(snmpd: int) -> None:
    """v1 answers noSuchName for the whole request; the system group must not be lost for one optional OID."""
    sys_name, ccm = "1.3.6.1.2.1.1.5.0", "1.3.6.1.4.1.9.9.43.1.1.1.0"  # the second is Cisco's, not net-snmp's

    async def run() -> dict[str, object]:
        client = PysnmpClient()
        try:
            return await client.get(SnmpTarget("127.0.0.1", snmpd, version="1", community=COMMUNITY, timeout=2,
                                               retries=1), [ccm, sys_name, ccm + ".1"])
        finally:
            client.close()

    got = asyncio.run(run())
    assert got == {sys_name: b"client-test", ccm: None, ccm + ".1": None}


def test_a_walk_sized_from_the_last_one_reads_the_table_as_it_is_now() -> None:
    """max-repetitions comes from the previous walk's row count, so an unchanged table is read in one request;
    a table that grew, shrank or emptied since must still come back whole (a real agent: the lab's, over UDP)."""
    column, after = (1, 3, 6, 1, 4, 1, 99999, 1, 1), (1, 3, 6, 1, 4, 1, 99999, 2, 1)
    size = {"rows": 5}

    def view() -> MibView:
        rows = [((*column, i), rfc1902.Integer32(i * 10)) for i in range(1, size["rows"] + 1)]
        return MibView([*rows, (after, rfc1902.Integer32(1))])

    async def run() -> list[tuple[int, dict[str, object], int]]:
        transport, agent, port = await serve(view, COMMUNITY, lambda: True)
        client, out = PysnmpClient(), []
        target = SnmpTarget("127.0.0.1", port, community=COMMUNITY, timeout=2, retries=1)
        try:
            for rows in (5, 5, 40, 40, 0, 0, 3):
                size["rows"] = rows
                before = agent.requests
                got = await client.walk(target, [".".join(map(str, column))])
                assert got.error is None
                out.append((rows, got.rows[".".join(map(str, column))], agent.requests - before))
        finally:
            client.close()
            transport.close()
        return out

    walks = asyncio.run(run())
    for rows, got, _ in walks:
        assert got == {str(i): i * 10 for i in range(1, rows + 1)}
    requests_per_walk = [requests for _, _, requests in walks]
    assert requests_per_walk[1] == 1  # 5 rows as last time: 6 repetitions, the sixth shows the end
    assert requests_per_walk[3] == 2  # 40 rows as last time: 25 (the target's max-repetitions caps) + 16
    assert requests_per_walk[5] == 1  # still empty: one repetition


GARBAGE = (b"\x30\x03garbage", b"\xff" * 40, b"\x30\x82\xff\xff\x02\x01\x01", b"")


@pytest.mark.parametrize("version", ["1", "2c"])
def test_garbage_answers_are_dropped_and_the_request_times_out(version: str) -> None:
    """Undecodable answers are no answer: the request times out after its retries, and nothing is raised
    inside the event loop (pysnmp's v1arch dispatcher would, from its socket callback)."""
    agent, errors = UdpAgent(GARBAGE), []

    async def run() -> WalkResult:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
        client = PysnmpClient()
        try:
            return await client.walk(SnmpTarget("127.0.0.1", agent.port, version=version, community=COMMUNITY,
                                                timeout=0.3, retries=1), [IF_DESCR])
        finally:
            client.close()

    try:
        got = asyncio.run(run())
    finally:
        agent.close()
    assert isinstance(got.error, SnmpTimeout) and got.rows == {IF_DESCR: {}}
    assert agent.requests == 2  # the request and its one retry
    assert errors == []


def test_a_client_used_again_under_a_new_event_loop_still_reads(snmpd: int) -> None:
    """The CLI and the tests run one client under several `asyncio.run` calls: each loop gets its own dispatcher."""
    client = PysnmpClient()
    target = SnmpTarget("127.0.0.1", snmpd, community=COMMUNITY, timeout=2, retries=1)
    try:
        first = asyncio.run(client.walk(target, [IF_DESCR]))
        second = asyncio.run(client.walk(target, [IF_DESCR]))
    finally:
        client.close()
    assert first.error is None and second.error is None
    assert first.rows[IF_DESCR] == second.rows[IF_DESCR] != {}


def test_closing_with_an_abandoned_request_pending_is_quiet() -> None:
    """A poll cancelled by its caller leaves pysnmp a pending request; closing the client must not raise."""
    agent = UdpAgent()

    async def run() -> None:
        client = PysnmpClient()
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.get(SnmpTarget("127.0.0.1", agent.port, community=COMMUNITY,
                                                              timeout=5, retries=0), ["1.3.6.1.2.1.1.5.0"]), 0.3)
        finally:
            client.close()

    try:
        asyncio.run(run())
    finally:
        agent.close()
