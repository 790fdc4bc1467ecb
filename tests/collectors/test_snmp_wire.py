"""The v1/v2c wire client answers exactly as pysnmp's engine does, good answers and bad alike.

A real UDP responder answers every request with a crafted message (the request's id, version and community
echoed); the same GET goes through `PysnmpClient` twice — on the wire, and with `wire=False` through pysnmp —
and both must return the same values or fail the same way. Bad answers are the ones a broken agent sends:
values outside their SMI range, types the version lacks, broken lengths, and random corruptions of a good
answer. pysnmp drops an answer it cannot decode (the request times out); the wire must do the same.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest

from monitor.collectors.snmp import PysnmpClient, SnmpTarget
from monitor.collectors.snmp_wire import WireError, read_response
from monitor.common.errors import SnmpError
from monitor.lab import ber

SYS_DESCR, SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 1, 0), (1, 3, 6, 1, 2, 1, 1, 3, 0)
Answer = Callable[[ber.Request], bytes]


def message(req: ber.Request, values: list[bytes], *, status: int = 0, index: int = 0, pdu: int = ber.RESPONSE,
            version: int | None = None, community: bytes | None = None, request_id: int | None = None) -> bytes:
    """A response to `req` whose varbinds carry these encoded values (names are the request's OIDs)."""
    body = b"".join(ber.tlv(0x30, ber.oid(o) + v) for o, v in zip(req.oids, values, strict=False))
    rid = (req.request_id if request_id is None else request_id).to_bytes(5, "big", signed=True)  # one length
    head = ber.tlv(0x02, rid) + ber.integer(2, status) + ber.integer(2, index)  # for both clients' ids
    return ber.tlv(0x30, ber.integer(2, req.version if version is None else version)
                   + ber.tlv(0x04, req.community if community is None else community)
                   + ber.tlv(pdu, head + ber.tlv(0x30, body)))


class Responder(asyncio.DatagramProtocol):
    """Answers each request with `answer(request)`; no answer when it returns b""."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = self.answer(ber.read_request(data))
        if reply and self.transport is not None:
            self.transport.sendto(reply, addr)


async def _outcome(client: PysnmpClient, answer: Answer, version: str) -> object:
    """What `client.get` of sysDescr and sysUpTime returns, or the type of error it raises; "no end" when it
    has not ended long after its timeout."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: Responder(answer), local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    target = SnmpTarget("127.0.0.1", port, version=version, community="wiretest", timeout=1.0, retries=0)
    try:
        return await asyncio.wait_for(
            client.get(target, [".".join(map(str, SYS_DESCR)), ".".join(map(str, SYS_UPTIME))]), 6)
    except SnmpError as exc:
        return type(exc).__name__
    except TimeoutError:
        return "no end"
    finally:
        transport.close()


Asked = tuple[Answer, str]  # (answer, version)


def outcomes(asked: list[Asked]) -> list[tuple[object, object]]:
    """(the wire's outcome, pysnmp's outcome) of each, all asked at once: two engines, one event loop."""

    async def run() -> list[tuple[object, object]]:
        wire, reference = PysnmpClient(), PysnmpClient(wire=False)
        try:
            got = await asyncio.gather(*(_outcome(c, a, v) for a, v in asked for c in (wire, reference)))
        finally:
            wire.close()
            reference.close()
        return list(zip(got[::2], got[1::2], strict=True))

    return asyncio.run(run())


def values(*encoded: bytes) -> Answer:
    return lambda req: message(req, list(encoded))


def tlv(tag: int, body: bytes) -> bytes:
    return ber.tlv(tag, body)


def _nested(depth: int) -> bytes:
    value = tlv(0x04, b"x")
    for _ in range(depth):
        value = tlv(0x24, value)
    return value


GOOD = tlv(0x04, b"a switch")
CASES: dict[str, Answer] = {
    "plain": values(GOOD, tlv(0x43, b"\x01\x00")),
    "counter64 and gauge": values(tlv(0x46, b"\x00\xff\xff\xff\xff\xff\xff\xff\xff"), tlv(0x42, b"\x00\xff\xff\xff\xff")),
    "negative Counter32": values(GOOD, tlv(0x41, b"\xff")),
    "Counter32 of five octets": values(GOOD, tlv(0x41, b"\x01\x00\x00\x00\x00")),
    "empty INTEGER": values(tlv(0x02, b""), GOOD),
    "IpAddress of five octets": values(GOOD, tlv(0x40, b"\x01\x02\x03\x04\x05")),
    "IpAddress": values(GOOD, tlv(0x40, b"\x0a\x00\x00\x01")),
    "BIT STRING": values(GOOD, tlv(0x03, b"\x00\x01")),
    "NULL": values(GOOD, b"\x05\x00"),
    "NULL with contents": values(GOOD, b"\x05\x01\x00"),
    "Opaque": values(tlv(0x44, b"\x9f\x78\x04"), GOOD),
    "NsapAddress": values(GOOD, tlv(0x45, b"abc")),
    "negative Counter64": values(GOOD, tlv(0x46, b"\xff")),
    "noSuchObject and endOfMibView": values(b"\x80\x00", b"\x82\x00"),
    "noSuchInstance with contents": values(GOOD, b"\x81\x01\x00"),
    "OID value": values(ber.oid((1, 3, 6, 1, 4, 1, 9, 1, 1208)), GOOD),
    "OID with 0x80": values(tlv(0x06, b"\x2b\x80\x01"), GOOD),
    "empty OID": values(tlv(0x06, b""), GOOD),
    "unterminated OID": values(tlv(0x06, b"\x2b\x81"), GOOD),
    "constructed OCTET STRING": values(tlv(0x24, tlv(0x04, b"ab") + tlv(0x04, b"cd")), GOOD),
    "constructed OCTET STRING nested 3,000 deep": values(_nested(3000), GOOD),
    "fewer varbinds": values(GOOD),
    "genErr": lambda req: message(req, [b"\x05\x00", b"\x05\x00"], status=5, index=2),
    "noSuchName": lambda req: message(req, [b"\x05\x00", b"\x05\x00"], status=2, index=1),
    "an unknown error status": lambda req: message(req, [GOOD, GOOD], status=77, index=1),
    "wrong request-id": lambda req: message(req, [GOOD, GOOD], request_id=req.request_id + 1),
    "wrong community": lambda req: message(req, [GOOD, GOOD], community=b"other"),
    "wrong version": lambda req: message(req, [GOOD, GOOD], version=1 - req.version),
    "a Report PDU": lambda req: message(req, [GOOD, GOOD], pdu=0xA8),
    "a GET echoed": lambda req: message(req, [GOOD, GOOD], pdu=ber.GET),
    "bytes after the message": lambda req: message(req, [GOOD, GOOD]) + b"\x00\x00",
    "INTEGER past Integer32": values(tlv(0x02, b"\x01\x00\x00\x00\x00"), GOOD),
    "truncated": lambda req: message(req, [GOOD, GOOD])[:-3],
    "silence": lambda req: b"",
}


ALIKE = [(c, v) for c in sorted(CASES) for v in ("2c", "1") if (c, v) != ("INTEGER past Integer32", "1")]


@pytest.fixture(scope="module")
def alike() -> dict[tuple[str, str], tuple[object, object]]:
    return dict(zip(ALIKE, outcomes([(CASES[c], v) for c, v in ALIKE]), strict=True))


@pytest.mark.parametrize(("case", "version"), ALIKE)  # the one case that differs: the next test
def test_the_wire_answers_as_pysnmp_does(case: str, version: str,
                                         alike: dict[tuple[str, str], tuple[object, object]]) -> None:
    wire, reference = alike[case, version]
    assert wire == reference


def test_a_v1_integer_past_32_bits_is_read_where_pysnmp_never_ends() -> None:
    """RFC 1155's INTEGER has no range; pysnmp decodes it, fails converting it to SMIv2's Integer32 inside its
    dispatcher, and leaves the request waiting for ever. The wire reads the value; an outer timeout shows
    pysnmp's side still waiting, so this test fails the day pysnmp ends such a request."""
    [(wire, reference)] = outcomes([(CASES["INTEGER past Integer32"], "1")])
    assert reference == "no end"
    assert wire == {".".join(map(str, SYS_DESCR)): 2**32, ".".join(map(str, SYS_UPTIME)): b"a switch"}


def _corrupt(seed: int) -> Answer:
    """A good answer with one to three octets replaced, the same ones for every request of this seed."""
    def answer(req: ber.Request) -> bytes:
        data = bytearray(message(req, [GOOD, tlv(0x43, b"\x01\x00")]))
        rng = random.Random(seed)
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    return answer


def test_a_corrupted_answer_is_read_or_dropped_as_pysnmp_does() -> None:
    seeds = range(120)
    got = outcomes([(_corrupt(seed), "2c") for seed in seeds])
    assert [seed for seed, (wire, reference) in zip(seeds, got, strict=True) if wire != reference] == []
    assert {type(wire) for wire, _ in got} == {dict, str}  # some read, some dropped: the corruption is real


def test_a_good_answer_reads_as_plain_values(alike: dict[tuple[str, str], tuple[object, object]]) -> None:
    wire, _ = alike["plain", "2c"]
    assert wire == {".".join(map(str, SYS_DESCR)): b"a switch", ".".join(map(str, SYS_UPTIME)): 256}


@pytest.mark.parametrize("data", [b"", b"\x30", b"\x30\x80\x00\x00", b"\x04\x00", b"\x30\x03\x02\x01\x03"])
def test_what_is_not_a_response_is_a_wire_error(data: bytes) -> None:
    with pytest.raises(WireError):
        read_response(data)
