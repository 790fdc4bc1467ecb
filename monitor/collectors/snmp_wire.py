"""SNMP v1/v2c on the wire without pyasn1: build a request, read a response, one UDP socket per client.

pysnmp decodes an answer through pyasn1's generic BER decoder, ~46 µs per varbind — most of a poll's CPU.
A v1/v2c message has one fixed shape, so this reads it directly into plain Python values (~2 µs per varbind)
and accepts exactly the encodings pysnmp accepts: a value outside its SMI range (a negative Counter32, a
five-octet IpAddress), a type the version does not have or any broken length makes the whole answer
undecodable, which pysnmp drops and so does this (the request then times out, as it did). SNMPv3 stays
with pysnmp (`monitor.collectors.snmp`); tests/collectors/test_snmp_wire.py holds the two to one behaviour.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from dataclasses import dataclass

log = logging.getLogger(__name__)

Oid = tuple[int, ...]
Value = int | bytes | str  # as `monitor.collectors.snmp.Value`
GET, GET_NEXT, RESPONSE, GET_BULK, REPORT = 0xA0, 0xA1, 0xA2, 0xA5, 0xA8
_INT32, _UINT32, _UINT64 = (-(2**31), 2**31 - 1), (0, 2**32 - 1), (0, 2**64 - 1)
# application types (RFC 2578; RFC 1155 for v1): tag -> (value range, or None for a string); v1 has no Counter64
_APPLICATION = {0x41: _UINT32, 0x42: _UINT32, 0x43: _UINT32, 0x44: None, 0x46: _UINT64}
_V1_APPLICATION = {t: r for t, r in _APPLICATION.items() if t != 0x46}
_ERRORS = ("noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess", "wrongType",
           "wrongLength", "wrongEncoding", "wrongValue", "noCreation", "inconsistentValue", "resourceUnavailable",
           "commitFailed", "undoFailed", "authorizationError", "notWritable", "inconsistentName")


class WireError(ValueError):
    """Bytes that are not an SNMP v1/v2c response pysnmp would accept: the answer is dropped."""


class EndOfMibView:
    """The v2c exception that ends a walk (noSuchObject/noSuchInstance read as None)."""

    def __repr__(self) -> str:
        return "END_OF_MIB_VIEW"


END_OF_MIB_VIEW = EndOfMibView()
Read = Value | None | EndOfMibView


@dataclass(frozen=True, slots=True)
class Response:
    version: int  # 0: v1, 1: v2c
    community: bytes
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[tuple[Oid, Read]]



def error_name(status: int) -> str:
    """An error status as pysnmp prints it.

    >>> error_name(2), error_name(99)
    ('noSuchName', '99')
    """
    return _ERRORS[status] if 0 <= status < len(_ERRORS) else str(status)


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def _integer(n: int) -> bytes:
    return _tlv(0x02, n.to_bytes((n if n >= 0 else ~n).bit_length() // 8 + 1, "big", signed=True))


def encode_oid(oid: Oid) -> bytes:
    """An OBJECT IDENTIFIER as BER.

    >>> encode_oid((1, 3, 6, 1, 4, 1, 2636)).hex()
    '06072b06010401944c'
    """
    out = bytearray()
    for arc in (oid[0] * 40 + oid[1], *oid[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return _tlv(0x06, bytes(out))


def request(version: int, community: bytes, pdu: int, request_id: int, oids: list[Oid], reps: int = 0) -> bytes:
    """A GET, GETNEXT or GETBULK (non-repeaters 0) message, every value NULL.

    >>> request(1, b"public", GET_BULK, 7, [(1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 1, 0)], 10).hex()
    '302902010104067075626c6963a51c02010702010002010a3011300f060b2b060102010202010201000500'
    """
    varbinds = b"".join(_tlv(0x30, encode_oid(o) + b"\x05\x00") for o in oids)
    body = _integer(request_id) + _integer(0) + _integer(reps if pdu == GET_BULK else 0) + _tlv(0x30, varbinds)
    return _tlv(0x30, _integer(version) + _tlv(0x04, community) + _tlv(pdu, body))


def _read(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, start, end of the body) of the TLV at `pos`; definite lengths only, within `end`."""
    if pos + 2 > end:
        raise WireError("truncated")
    tag, n = data[pos], data[pos + 1]
    pos += 2
    if tag & 0x1F == 0x1F:
        raise WireError("multi-octet tag")
    if n & 0x80:
        k = n & 0x7F
        if k == 0:
            raise WireError("indefinite length")
        if pos + k > end:
            raise WireError("truncated length")
        n = int.from_bytes(data[pos:pos + k], "big")
        pos += k
    if pos + n > end:
        raise WireError("truncated")
    return tag, pos, pos + n


def _int(data: bytes, start: int, end: int, bounds: tuple[int, int] | None) -> int:
    n = int.from_bytes(data[start:end], "big", signed=True)  # an empty INTEGER is 0, as pyasn1 reads it
    if bounds is not None and not bounds[0] <= n <= bounds[1]:
        raise WireError(f"{n} out of range")
    return n


def _octets(data: bytes, tag: int, start: int, end: int) -> bytes:
    """A primitive OCTET STRING, or a constructed one (chunks that are OCTET STRINGs), as pyasn1 reads both."""
    if not tag & 0x20:
        return data[start:end]
    out, pos = bytearray(), start
    while pos < end:
        inner, s, pos = _read(data, pos, end)
        if inner & 0xDF != 0x04:
            raise WireError("a constructed OCTET STRING holds something else")
        out += _octets(data, inner, s, pos)
    return bytes(out)


def decode_oid(body: bytes) -> Oid:
    """BER OBJECT IDENTIFIER contents as a tuple of arcs, refusing what pyasn1 refuses.

    >>> decode_oid(bytes.fromhex("2b06010401944c")), decode_oid(b"\\x88\\x37\\x03")
    ((1, 3, 6, 1, 4, 1, 2636), (2, 999, 3))
    """
    if not body:
        raise WireError("empty OID")
    arcs: list[int] = []
    arc, fresh = 0, True
    for b in body:
        if fresh and b == 0x80:
            raise WireError("0x80 in an OID")
        arc = (arc << 7) | (b & 0x7F)
        fresh = not b & 0x80
        if fresh:
            arcs.append(arc)
            arc = 0
    if not fresh:
        raise WireError("unterminated OID")
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


def _value(data: bytes, tag: int, start: int, end: int, version: int) -> Read:
    if tag == 0x02:
        return _int(data, start, end, _INT32 if version else None)
    if tag in (0x04, 0x24):
        return _octets(data, tag, start, end)
    if tag == 0x06:
        return ".".join(map(str, decode_oid(data[start:end])))
    if tag == 0x40:
        if end - start != 4:
            raise WireError("an IpAddress is four octets")
        return ".".join(map(str, data[start:end]))
    kinds = _APPLICATION if version else _V1_APPLICATION
    if tag in kinds:
        bounds = kinds[tag]
        return data[start:end] if bounds is None else _int(data, start, end, bounds)
    if tag in (0x05, 0x80, 0x81, 0x82) and (version or tag == 0x05):
        if end != start:
            raise WireError("a NULL with contents")
        return END_OF_MIB_VIEW if tag == 0x82 else None if tag != 0x05 else b""
    raise WireError(f"tag {tag:#x} is not a v{'2c' if version else '1'} value")


def read_response(data: bytes) -> Response:
    """An SNMP v1/v2c Response message; anything else is a `WireError`.

    >>> r = read_response(bytes.fromhex("302902010104067075626c6963a21c020107020100020100"
    ...                                 "3011300f060a2b060102010202010201410111"))
    >>> (r.version, r.community, r.request_id, r.error_status, r.varbinds)
    (1, b'public', 7, 0, [((1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 1), 17)])
    """
    tag, pos, end = _read(data, 0, len(data))
    if tag != 0x30 or end != len(data):  # pysnmp drops a datagram with bytes after the message
        raise WireError("not one SEQUENCE")
    tag, s, pos = _read(data, pos, end)
    if tag != 0x02:
        raise WireError("no version")
    version = _int(data, s, pos, None)
    if version not in (0, 1):
        raise WireError(f"SNMP version {version}")
    tag, s, pos = _read(data, pos, end)
    if tag & 0xDF != 0x04:
        raise WireError("no community")
    community = _octets(data, tag, s, pos)
    pdu, pos, pdu_end = _read(data, pos, end)
    if pdu != RESPONSE and (pdu, version) != (REPORT, 1):  # pysnmp answers a v2c request with a Report too
        raise WireError(f"PDU {pdu:#x} is not a response")
    head = []
    for bounds in (_INT32, None, (0, 2**31 - 1)):  # request-id, error-status, error-index
        tag, s, pos = _read(data, pos, pdu_end)
        if tag != 0x02:
            raise WireError("bad PDU header")
        head.append(_int(data, s, pos, bounds))
    tag, pos, vb_end = _read(data, pos, pdu_end)
    if tag != 0x30:
        raise WireError("bad varbind list")
    varbinds: list[tuple[Oid, Read]] = []
    while pos < vb_end:
        tag, s, pos = _read(data, pos, vb_end)
        if tag != 0x30:
            raise WireError("bad varbind")
        tag, o_start, o_end = _read(data, s, pos)
        if tag != 0x06:
            raise WireError("a varbind without an OID")
        tag, v_start, v_end = _read(data, o_end, pos)
        if v_end != pos:
            raise WireError("a varbind with more than a name and a value")
        varbinds.append((decode_oid(data[o_start:o_end]), _value(data, tag, v_start, v_end, version)))
    if vb_end != pdu_end or pdu_end != end:
        raise WireError("bytes after the varbinds")
    return Response(version, community, head[0], head[1], head[2], varbinds)


class WireTransport(asyncio.DatagramProtocol):
    """One UDP socket for every v1/v2c agent: requests matched to answers by request-id, sender and community."""

    def __init__(self) -> None:
        self._transport: asyncio.DatagramTransport | None = None
        self._sock: socket.socket | None = None
        self._pending: dict[int, tuple[tuple[str, int], int, bytes, asyncio.Future[Response]]] = {}
        self._next_id = random.randrange(1, 2**30)

    @classmethod
    async def open(cls) -> WireTransport:
        proto = cls()
        proto._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        proto._sock.setblocking(False)
        await asyncio.get_running_loop().create_datagram_endpoint(lambda: proto, sock=proto._sock)
        return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def close(self) -> None:
        """Close the socket, also after its event loop has ended (a daemon closes its client last)."""
        try:
            if self._transport is not None:
                self._transport.close()
        except RuntimeError:  # the loop is closed: the transport cannot schedule its own close
            if self._sock is not None:
                self._sock.close()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            answer = read_response(data)
        except (WireError, RecursionError) as exc:  # RecursionError: constructed strings nested past reason
            log.debug("%s:%s: undecodable answer dropped: %s", *addr[:2], exc)
            return
        pending = self._pending.get(answer.request_id)
        if pending is None or pending[0] != addr[:2] or (pending[1], pending[2]) != (answer.version,
                                                                                    answer.community):
            log.debug("%s:%s: an answer to no request of ours dropped", *addr[:2])
            return
        if not pending[3].done():
            pending[3].set_result(answer)

    async def ask(self, addr: tuple[str, int], version: int, community: bytes, pdu: int, oids: list[Oid],
                  reps: int, timeout: float, retries: int) -> Response | None:
        """The answer to one request, sent again (the same message) `retries` times; None: no answer."""
        assert self._transport is not None
        request_id = self._next_id
        self._next_id = self._next_id % (2**31 - 1) + 1
        message = request(version, community, pdu, request_id, oids, reps)
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (addr, version, community, future)
        try:
            for _ in range(retries + 1):
                self._transport.sendto(message, addr)
                done, _ = await asyncio.wait((future,), timeout=timeout)
                if done:
                    return future.result()
            return None
        finally:
            del self._pending[request_id]
            future.cancel()
