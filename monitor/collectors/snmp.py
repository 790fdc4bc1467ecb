"""The SNMP edge: a narrow client protocol and its pysnmp 7 implementation.

Collectors only ever see `SnmpClient.get` and `SnmpClient.walk`, returning plain Python values
(int, bytes, dotted OID strings), so parsing stays pure and testable on recorded rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyasn1.type import univ
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch import asyncio as hl
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto import errind, rfc1902, rfc1905

from monitor.collectors import snmp_wire
from monitor.common.errors import SnmpAuthError, SnmpError, SnmpTimeout

log = logging.getLogger(__name__)

_NULL = univ.Null("")
Value = int | bytes | str  # INTEGER/Counter/Gauge/TimeTicks -> int, OCTET STRING -> bytes, OID/IpAddress -> str
Rows = dict[str, dict[str, Value]]  # column OID -> {index suffix -> value}
Oid = tuple[int, ...]
_Answer = tuple[int, int, list[tuple[Oid, snmp_wire.Read]]]  # error status, error index, (OID, value)s

_AUTH = {
    "MD5": hl.usmHMACMD5AuthProtocol,
    "SHA": hl.usmHMACSHAAuthProtocol,
    "SHA224": hl.usmHMAC128SHA224AuthProtocol,
    "SHA256": hl.usmHMAC192SHA256AuthProtocol,
    "SHA384": hl.usmHMAC256SHA384AuthProtocol,
    "SHA512": hl.usmHMAC384SHA512AuthProtocol,
}
_PRIV = {
    "DES": hl.usmDESPrivProtocol,
    "AES": hl.usmAesCfb128Protocol,
    "AES128": hl.usmAesCfb128Protocol,
    "AES192": hl.usmAesCfb192Protocol,
    "AES256": hl.usmAesCfb256Protocol,
}
# pysnmp's USM error indications, with what an operator should check for each.
_V3_AUTH_ERRORS: dict[type[errind.ErrorIndication], str] = {
    errind.WrongDigest: "wrong auth key or auth protocol",
    errind.DecryptionError: "wrong privacy key or privacy protocol",
    errind.UnknownUserName: "the agent does not know this user",
    errind.UnknownSecurityName: "the agent does not know this user",
    errind.UnsupportedSecurityLevel: "the agent wants another security level (auth/priv) for this user",
    errind.NotInTimeWindow: "the agent's engine boots/time do not match (clock or engine ID)",
    errind.UnknownEngineID: "the agent's engine ID is unknown",
    errind.AuthenticationError: "authentication failed",
    errind.AuthenticationFailure: "authentication failed",
}


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    """Where and how to reach one agent; secrets are plain strings only inside this object."""

    host: str
    port: int = 161
    version: str = "2c"  # "1" | "2c" | "3"
    community: str = "public"
    user: str = ""
    auth_protocol: str | None = None
    auth_key: str | None = None
    priv_protocol: str | None = None
    priv_key: str | None = None
    context: str = ""
    timeout: float = 2.0
    retries: int = 1
    max_repetitions: int = 25

    def __repr__(self) -> str:  # never print a secret
        return f"SnmpTarget({self.host}:{self.port} v{self.version})"


@dataclass(slots=True)
class WalkResult:
    """Rows of a walk, and whether the walk ended normally; a failed walk keeps what it got."""

    rows: Rows = field(default_factory=dict)
    error: SnmpError | None = None

    def column(self, oid: str) -> dict[str, Value]:
        return self.rows.get(oid, {})

    @property
    def row_count(self) -> int:
        return max((len(c) for c in self.rows.values()), default=0)


class SnmpClient(Protocol):
    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> dict[str, Value | None]: ...

    async def walk(self, target: SnmpTarget, columns: Sequence[str]) -> WalkResult: ...


def to_python(value: object) -> Value | None:
    """pysnmp value -> plain Python; None for noSuchObject/noSuchInstance/endOfMibView.

    Integers are tested first: counters and gauges are most of what a poll receives. The
    exception values come before OctetString, which they subclass (through Null).
    """
    if isinstance(value, univ.Integer):  # Integer32, Counter32/64, Gauge32, TimeTicks, Unsigned32
        return int(value)
    if isinstance(value, (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)):
        return None
    if isinstance(value, rfc1902.IpAddress):
        return ".".join(str(b) for b in value.asOctets())
    if isinstance(value, univ.OctetString):  # also Opaque and Bits
        return value.asOctets()
    if isinstance(value, univ.ObjectIdentifier):
        return str(value)
    return None


class PysnmpClient:
    """One shared pysnmp engine (SNMPv3) and one `snmp_wire` socket (v1/v2c) for every device; concurrency is
    bounded by the caller. `wire=False` sends v1/v2c through pysnmp too: the reference the wire is tested on."""

    def __init__(self, varbinds_per_request: int = 60, *, wire: bool = True) -> None:
        self._engine_: hl.SnmpEngine | None = None  # made when first needed: v1/v2c never need it
        self._targets: dict[tuple[str, int, float, int], hl.UdpTransportTarget] = {}
        self._budget = varbinds_per_request
        self._seen: dict[tuple[str, int, str, str], int] = {}  # (host, port, context, column) -> rows last walk
        self._use_wire = wire
        self._wire: tuple[asyncio.AbstractEventLoop, snmp_wire.WireTransport] | None = None

    @property
    def _engine(self) -> hl.SnmpEngine:
        if self._engine_ is None:
            self._engine_ = hl.SnmpEngine()
        return self._engine_

    def close(self) -> None:
        if self._engine_ is not None:
            self._engine_.close_dispatcher()
        if self._wire is not None:
            self._wire[1].close()
            self._wire = None

    async def _wire_transport(self) -> snmp_wire.WireTransport:
        loop = asyncio.get_running_loop()
        if self._wire is None or self._wire[0] is not loop:  # a client used again under a new event loop
            if self._wire is not None:
                self._wire[1].close()
            self._wire = (loop, await snmp_wire.WireTransport.open())
        return self._wire[1]

    async def _transport(self, t: SnmpTarget) -> hl.UdpTransportTarget:
        key = (t.host, t.port, t.timeout, t.retries)
        if key not in self._targets:
            try:
                self._targets[key] = await hl.UdpTransportTarget.create(
                    (t.host, t.port), timeout=t.timeout, retries=t.retries
                )
            except PySnmpError as exc:  # an unresolvable name or a bad address: not a bug, an answer
                raise SnmpError(f"{t.host}:{t.port}: bad address: {str(exc).split(' caused by ')[0]}") from None
        return self._targets[key]

    @staticmethod
    def _auth(t: SnmpTarget) -> hl.CommunityData | hl.UsmUserData:
        if t.version in ("1", "2c"):
            return hl.CommunityData(t.community, mpModel=0 if t.version == "1" else 1)
        return hl.UsmUserData(
            t.user,
            authKey=t.auth_key,
            privKey=t.priv_key,
            authProtocol=_AUTH[t.auth_protocol.upper()] if t.auth_protocol else hl.usmNoAuthProtocol,
            privProtocol=_PRIV[t.priv_protocol.upper()] if t.priv_protocol else hl.usmNoPrivProtocol,
        )

    @staticmethod
    def _indication(t: SnmpTarget, error_indication: object) -> None:
        """pysnmp's error indication (no answer, SNMPv3 refused) as the error that names what to check."""
        if error_indication:
            text = str(error_indication)
            if isinstance(error_indication, errind.RequestTimedOut) or "timeout" in text.lower():
                raise _timeout(t)
            hint = next((h for cls, h in _V3_AUTH_ERRORS.items() if isinstance(error_indication, cls)), None)
            if hint is not None:
                raise SnmpAuthError(f"{t.host}:{t.port}: SNMPv3 authentication failed for user {t.user!r}: "
                                    f"{hint} (agent: {text})")
            raise SnmpError(f"{t.host}:{t.port}: {text}")

    @staticmethod
    def _check(t: SnmpTarget, error_status: int, index: int) -> None:
        if error_status:
            raise SnmpError(f"{t.host}:{t.port}: agent error {snmp_wire.error_name(error_status)} at varbind {index}")

    async def _request(self, target: SnmpTarget, transport: hl.UdpTransportTarget, kind: str,
                       oids: Sequence[Oid], reps: int = 0) -> _Answer:
        """One GET, GETNEXT or GETBULK: v1/v2c on the wire, SNMPv3 (or `wire=False`) through pysnmp."""
        if target.version == "3" or not self._use_wire:
            return await self._pysnmp_request(target, transport, kind, oids, reps)
        try:
            community = target.community.encode("latin-1")  # as pysnmp encodes an OCTET STRING given as text
        except UnicodeEncodeError:
            raise SnmpError(f"{target.host}:{target.port}: the community is not latin-1 text") from None
        sock = await self._wire_transport()
        pdu = snmp_wire.GET if kind == "get" else snmp_wire.GET_NEXT if kind == "next" else snmp_wire.GET_BULK
        answer = await sock.ask(transport.transport_address, 0 if target.version == "1" else 1, community, pdu,
                                list(oids), reps, target.timeout, target.retries)
        if answer is None:
            raise _timeout(target)
        return answer.error_status, answer.error_index, answer.varbinds

    async def _pysnmp_request(self, target: SnmpTarget, transport: hl.UdpTransportTarget, kind: str,
                              oids: Sequence[Oid], reps: int = 0) -> _Answer:
        """One GET, GETNEXT or GETBULK through pysnmp's command generators, as its hlapi sends them.

        hlapi resolves every request OID through its MIB view even with lookupMib=False, which cost
        as much per request OID as decoding a dozen varbinds of the answer; numeric OIDs need no
        MIB, so they go to the generators directly, and the answer comes back as (ObjectName,
        value) pairs without hlapi wrapping each one in ObjectType/ObjectIdentity.
        """
        ctx = hl.ContextData(contextName=target.context)
        addr, _ = LCD.configure(self._engine, self._auth(target), transport, ctx.contextName)
        future: asyncio.Future[tuple[Any, Any, Any, list[tuple[Any, Any]]]] = \
            asyncio.get_running_loop().create_future()

        def done(_engine: object, _handle: object, ei: Any, es: Any, ix: Any, vbs: list[tuple[Any, Any]],
                 _ctx: object) -> None:
            if not future.cancelled():
                future.set_result((ei, es, ix, vbs))

        request = [(rfc1902.ObjectName(o), _NULL) for o in oids]
        engine_id, name = ctx.contextEngineId, ctx.contextName
        if kind == "get":
            cmdgen.GetCommandGenerator().send_varbinds(self._engine, addr, engine_id, name, request, done)
        elif kind == "next":
            cmdgen.NextCommandGenerator().send_varbinds(self._engine, addr, engine_id, name, request, done)
        else:
            cmdgen.BulkCommandGenerator().send_varbinds(self._engine, addr, engine_id, name, 0, reps, request, done)
        ei, es, ix, vbs = await future
        self._indication(target, ei)
        return int(es or 0), int(ix or 0), [(o.asTuple(), _read(v)) for o, v in vbs]

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> dict[str, Value | None]:
        """The values of `oids`; None for an OID the device does not have.

        SNMPv1 has no noSuchObject: an agent refuses the whole GET with noSuchName and the index of the
        first missing OID, so that one is set aside (None) and the rest asked for again.
        """
        wanted, out = [str(o) for o in oids], dict[str, Value | None]()
        transport = await self._transport(target)
        while wanted:
            names = [_object_name(target, o) for o in wanted]
            es, ix, vbs = await self._request(target, transport, "get", names)
            if target.version == "1" and es == 2 and 0 < ix <= len(wanted):
                out[wanted.pop(ix - 1)] = None
                continue
            self._check(target, es, ix)
            out.update({".".join(map(str, o)): None if isinstance(v, snmp_wire.EndOfMibView) else v for o, v in vbs})
            break
        return out

    async def walk(self, target: SnmpTarget, columns: Sequence[str]) -> WalkResult:
        """Walk several columns at once with GETBULK (GETNEXT for v1), dropping each as it ends.

        OIDs are compared and cut as int tuples: stringifying every received OID and parsing the
        cursor back into ints cost more per varbind than everything else this loop does.
        """
        result = WalkResult(rows={c: {} for c in columns})
        prefix = {c: _object_name(target, c) for c in columns}
        cursor = dict(prefix)  # column -> last OID seen
        seen = {c: self._seen.get((target.host, target.port, target.context, c)) for c in columns}
        transport = await self._transport(target)
        while cursor:
            active = list(cursor)
            reps = max(1, min(target.max_repetitions, self._budget // len(active),
                              repetitions([(seen[c], len(result.rows[c])) for c in active])))
            request = [cursor[c] for c in active]
            try:
                if target.version == "1":
                    es, ix, vbs = await self._request(target, transport, "next", request)
                    reps = 1
                else:
                    es, ix, vbs = await self._request(target, transport, "bulk", request, reps)
                if target.version == "1" and es == 2:  # v1 noSuchName: that column has ended
                    done = active[int(ix) - 1] if ix else active[0]
                    del cursor[done]
                    self._seen[target.host, target.port, target.context, done] = len(result.rows[done])
                    continue
                self._check(target, es, ix)
            except SnmpError as exc:
                result.error = exc
                return result
            if not vbs:
                break
            width = len(active)
            for pos, (oid, value) in enumerate(vbs):
                column = active[pos % width]
                if column not in cursor:
                    continue
                key, head = oid, prefix[column]
                n = len(head)
                if len(key) <= n or key[:n] != head or isinstance(value, snmp_wire.EndOfMibView):
                    del cursor[column]
                    self._seen[target.host, target.port, target.context, column] = len(result.rows[column])
                    continue
                if key <= cursor[column]:
                    log.warning("%s: OID not increasing in %s (%s); column abandoned", target, column,
                                ".".join(map(str, oid)))
                    result.error = SnmpError(f"{target.host}:{target.port}: agent returned OIDs out of order")
                    del cursor[column]
                    continue
                cursor[column] = oid
                if value is not None:
                    result.rows[column][".".join(map(str, key[n:]))] = value
        return result


def repetitions(columns: Sequence[tuple[int | None, int]]) -> int:
    """GETBULK max-repetitions that ends a walk with the fewest rows read past its end, from what the last
    walk of each column found: (rows then, rows read so far) per column still walked. Enough for the
    largest remainder plus the one OID past the end that shows the column ended; unbounded (the caller's
    limits apply) when a column was never walked to its end or has grown since.

    >>> repetitions([(52, 48), (52, 48)]), repetitions([(0, 0)]), repetitions([(5, 0), (None, 0)])
    (5, 1, 1000000)
    >>> repetitions([(2, 3)])  # the table grew: walk at full speed again
    1000000
    """
    if any(then is None or got > then for then, got in columns):
        return _UNBOUNDED
    return max((then - got for then, got in columns if then is not None), default=0) + 1


_UNBOUNDED = 1_000_000


def _object_name(target: SnmpTarget, oid: str) -> Oid:
    """A dotted numeric OID as a tuple of arcs; anything else is a configuration error, not a crash."""
    try:
        arcs = rfc1902.ObjectName(oid.strip(".")).asTuple()
    except Exception as exc:  # pyasn1 raises its own error types for a malformed OID
        raise SnmpError(f"{target.host}:{target.port}: not a numeric OID: {oid!r}") from exc
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise SnmpError(f"{target.host}:{target.port}: not a numeric OID: {oid!r}")
    return tuple(arcs)


def _read(value: object) -> snmp_wire.Read:
    """A pysnmp answer's value as the wire reads it: endOfMibView kept apart, the rest `to_python`."""
    return snmp_wire.END_OF_MIB_VIEW if isinstance(value, rfc1905.EndOfMibView) else to_python(value)


def _timeout(t: SnmpTarget) -> SnmpTimeout:
    return SnmpTimeout(f"{t.host}:{t.port}: no SNMP response (timeout {t.timeout}s, {t.retries} retries)")

