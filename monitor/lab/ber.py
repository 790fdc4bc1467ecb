"""Just enough BER for the lab agent: read an SNMP v1/v2c request, write its response.

pyasn1 builds an object per tag; the lab agent answered a 64-varbind GETBULK in ~8 ms that way, more
than the poller it serves spends reading it. Requests and responses are a fixed shape (message →
PDU → varbinds), so the agent reads and writes them directly; each value is encoded once per MIB view.
Anything this reader does not know is a `BerError`, which the agent treats as an undecodable request.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pyasn1.codec.ber import encoder

Oid = tuple[int, ...]

GET, GET_NEXT, RESPONSE, SET, GET_BULK, TRAP_V2 = 0xA0, 0xA1, 0xA2, 0xA3, 0xA5, 0xA7
NULL = b"\x05\x00"
NO_SUCH_INSTANCE, END_OF_MIB_VIEW = b"\x81\x00", b"\x82\x00"
_APP_UNSIGNED = {"Counter32": 0x41, "Gauge32": 0x42, "Unsigned32": 0x42, "TimeTicks": 0x43, "Counter64": 0x46}


class BerError(ValueError):
    """Bytes that are not an SNMP v1/v2c request this agent reads."""


@dataclass(frozen=True, slots=True)
class Request:
    version: int  # 0: v1, 1: v2c
    community: bytes
    pdu: int  # GET, GET_NEXT, GET_BULK, ...
    request_id: int
    non_repeaters: int  # GETBULK; 0 otherwise
    max_repetitions: int  # GETBULK; 0 otherwise
    oids: list[Oid]


def length(n: int) -> bytes:
    """A BER length.

    >>> length(5), length(200), length(1000)
    (b'\\x05', b'\\x81\\xc8', b'\\x82\\x03\\xe8')
    """
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + length(len(body)) + body


def integer(tag: int, n: int) -> bytes:
    """A two's complement INTEGER (or an application type built on it).

    >>> integer(2, 0), integer(2, 128), integer(2, -1), integer(2, -128)
    (b'\\x02\\x01\\x00', b'\\x02\\x02\\x00\\x80', b'\\x02\\x01\\xff', b'\\x02\\x01\\x80')
    """
    return tlv(tag, n.to_bytes((n if n >= 0 else ~n).bit_length() // 8 + 1, "big", signed=True))


@functools.lru_cache(maxsize=65536)
def oid(o: Oid) -> bytes:
    """An OBJECT IDENTIFIER.

    >>> oid((1, 3, 6, 1, 2, 1, 1, 3, 0)).hex()
    '06082b06010201010300'
    >>> oid((1, 3, 6, 1, 4, 1, 2636)).hex()
    '06072b06010401944c'
    """
    if len(o) < 2:
        raise BerError(f"OID too short: {o}")
    out = bytearray((o[0] * 40 + o[1],))
    for arc in o[2:]:
        if arc < 0x80:
            out.append(arc)
            continue
        chunk = bytearray()
        while arc:
            chunk.append((arc & 0x7F) | (0x80 if chunk else 0))
            arc >>= 7
        out += chunk[::-1]
    return tlv(0x06, bytes(out))


def value(v: Any) -> bytes:
    """One pyasn1/pysnmp value as BER: the types the lab's MIB uses written directly, anything else by pyasn1."""
    name = type(v).__name__
    if name in _APP_UNSIGNED:
        return integer(_APP_UNSIGNED[name], int(v))
    if name in ("Integer32", "Integer"):
        return integer(0x02, int(v))
    if name == "OctetString":
        return tlv(0x04, v.asOctets())
    if name == "ObjectIdentifier":
        return oid(tuple(v))
    if name == "IpAddress":
        return tlv(0x40, v.asOctets())
    return bytes(encoder.encode(v))


def _read(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the body, end of the body) of the TLV at `pos`."""
    if pos + 2 > len(data):
        raise BerError("truncated")
    tag, n = data[pos], data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or pos + k > len(data):
            raise BerError("bad length")
        n = int.from_bytes(data[pos:pos + k], "big")
        pos += k
    if pos + n > len(data):
        raise BerError("truncated")
    return tag, pos, pos + n


def _int(data: bytes, pos: int) -> tuple[int, int]:
    tag, start, end = _read(data, pos)
    if tag != 0x02 or start == end:
        raise BerError("expected an INTEGER")
    return int.from_bytes(data[start:end], "big", signed=True), end


def _oid(body: bytes) -> Oid:
    if not body:
        raise BerError("empty OID")
    first = body[0]
    arcs = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    arc = 0
    for b in body[1:]:
        arc = (arc << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(arc)
            arc = 0
    return tuple(arcs)


def read_request(data: bytes) -> Request:
    """An SNMP v1/v2c request message.

    >>> r = read_request(bytes.fromhex("302902010104067075626c6963a51c0201070201000201"
    ...                               "0a3011300f060b2b060102010202010201000500"))
    >>> (r.version, r.community, r.pdu == GET_BULK, r.request_id, r.max_repetitions, r.oids)
    (1, b'public', True, 7, 10, [(1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 1, 0)])
    """
    tag, pos, end = _read(data, 0)
    if tag != 0x30:
        raise BerError("not a SEQUENCE")
    version, pos = _int(data, pos)
    tag, start, pos = _read(data, pos)
    if tag != 0x04 or version not in (0, 1):
        raise BerError("not SNMP v1/v2c")
    community = data[start:pos]
    pdu, pos, pdu_end = _read(data, pos)
    request_id, pos = _int(data, pos)
    a, pos = _int(data, pos)
    b, pos = _int(data, pos)
    tag, pos, vb_end = _read(data, pos)
    if tag != 0x30 or vb_end > pdu_end:
        raise BerError("bad varbind list")
    oids = []
    while pos < vb_end:
        tag, start, pos = _read(data, pos)
        if tag != 0x30:
            raise BerError("bad varbind")
        tag, o_start, o_end = _read(data, start)
        if tag != 0x06:
            raise BerError("varbind without an OID")
        oids.append(_oid(data[o_start:o_end]))
    bulk = pdu == GET_BULK
    return Request(version, bytes(community), pdu, request_id, a if bulk else 0, b if bulk else 0, oids)


def response(req: Request, varbinds: list[tuple[bytes, bytes]], error_status: int = 0, error_index: int = 0) -> bytes:
    """The response message: `varbinds` are (encoded OID, encoded value) pairs."""
    body = b"".join(tlv(0x30, o + v) for o, v in varbinds)
    pdu = integer(0x02, req.request_id) + integer(0x02, error_status) + integer(0x02, error_index) + tlv(0x30, body)
    return tlv(0x30, integer(0x02, req.version) + tlv(0x04, req.community) + tlv(RESPONSE, pdu))
