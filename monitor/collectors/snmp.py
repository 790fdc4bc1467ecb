"""The SNMP edge: a narrow client protocol and its pysnmp 7 implementation.

Collectors only ever see `SnmpClient.get` and `SnmpClient.walk`, returning plain Python values
(int, bytes, dotted OID strings), so parsing stays pure and testable on recorded rows. v1/v2c go through
pysnmp's v1arch (a message dispatcher: no SNMP engine, no SNMP-COMMUNITY-MIB lookup per message), SNMPv3
through its v3arch engine; both decode with pyasn1.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.hlapi.transport import AbstractTransportTarget
from pysnmp.hlapi.v1arch import asyncio as v1
from pysnmp.hlapi.v3arch import asyncio as hl
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto import errind, rfc1902, rfc1905

from monitor.common.errors import SnmpAuthError, SnmpError, SnmpTimeout

log = logging.getLogger(__name__)

_NULL = univ.Null("")
Value = int | bytes | str  # INTEGER/Counter/Gauge/TimeTicks -> int, OCTET STRING -> bytes, OID/IpAddress -> str
Rows = dict[str, dict[str, Value]]  # column OID -> {index suffix -> value}
_Answer = tuple[Any, Any, Any, list[tuple[Any, Any]]]  # error indication, status, index, (ObjectName, value)s

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


class _Dispatcher(v1.SnmpDispatcher):
    """pysnmp's v1/v2c message dispatcher, made to drop an undecodable datagram as its v3 engine does.

    The v1arch dispatcher decodes inside the socket callback without catching anything: a malformed
    answer (or a stranger's datagram) would surface as an asyncio "Exception in callback" traceback.
    It is dropped and counted instead; the request it may have been meant to answer times out.
    """

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0  # datagrams that were not a decodable SNMP v1/v2c message

    def _recv_callback(self, engine: object, domain: object, address: object, whole: bytes) -> object:
        try:
            return super()._recv_callback(engine, domain, address, whole)
        except Exception as exc:  # pyasn1, pysnmp or KeyError (an unknown version): all mean "not for us"
            self.dropped += 1
            log.debug("dropped an undecodable SNMP datagram from %s: %s", address, exc)
            return b""

    def close(self) -> None:
        # pysnmp 7.1 calls each pending request's callback with one argument too few on close (a
        # TypeError); a request still pending here was abandoned by its caller (cancelled or shut down).
        self._pendingReqs.clear()
        super().close()


class PysnmpClient:
    """pysnmp for every device: one v1/v2c dispatcher per event loop, one SNMPv3 engine made when first
    needed; concurrency is bounded by the caller."""

    def __init__(self, varbinds_per_request: int = 60) -> None:
        self._engine_: hl.SnmpEngine | None = None
        self._dispatch: tuple[asyncio.AbstractEventLoop, _Dispatcher] | None = None
        self._targets: dict[tuple[bool, str, int, float, int], AbstractTransportTarget] = {}
        self._budget = varbinds_per_request
        self._seen: dict[tuple[str, int, str, str], int] = {}  # (host, port, context, column) -> rows last walk

    @property
    def _engine(self) -> hl.SnmpEngine:
        if self._engine_ is None:  # an SNMP engine costs its MIB tables: only SNMPv3 needs one
            self._engine_ = hl.SnmpEngine()
        return self._engine_

    def _dispatcher(self) -> _Dispatcher:
        """The v1/v2c dispatcher of the running loop; a client used again under a new loop gets a new one."""
        loop = asyncio.get_running_loop()
        if self._dispatch is None or self._dispatch[0] is not loop:
            self._close_dispatcher()
            self._dispatch = (loop, _Dispatcher())
        return self._dispatch[1]

    def _close_dispatcher(self) -> None:
        if self._dispatch is not None:
            loop, dispatcher = self._dispatch
            self._dispatch = None
            try:
                dispatcher.close()
            except RuntimeError:  # its event loop is already closed: so are its socket and timer
                log.debug("v1/v2c dispatcher closed after its event loop (%s)", loop)

    def close(self) -> None:
        self._close_dispatcher()
        if self._engine_ is not None:
            self._engine_.close_dispatcher()

    async def _transport(self, t: SnmpTarget) -> AbstractTransportTarget:
        v3 = t.version == "3"
        key = (v3, t.host, t.port, t.timeout, t.retries)
        if key not in self._targets:
            kind = hl.UdpTransportTarget if v3 else v1.UdpTransportTarget
            try:
                self._targets[key] = await kind.create((t.host, t.port), timeout=t.timeout, retries=t.retries)
            except PySnmpError as exc:  # an unresolvable name or a bad address: not a bug, an answer
                raise SnmpError(f"{t.host}:{t.port}: bad address: {str(exc).split(' caused by ')[0]}") from None
        return self._targets[key]

    @staticmethod
    def _usm(t: SnmpTarget) -> hl.UsmUserData:
        return hl.UsmUserData(
            t.user,
            authKey=t.auth_key,
            privKey=t.priv_key,
            authProtocol=_AUTH[t.auth_protocol.upper()] if t.auth_protocol else hl.usmNoAuthProtocol,
            privProtocol=_PRIV[t.priv_protocol.upper()] if t.priv_protocol else hl.usmNoPrivProtocol,
        )

    @staticmethod
    def _check(t: SnmpTarget, error_indication: object, error_status: Any, index: object) -> None:
        if error_indication:
            text = str(error_indication)
            if isinstance(error_indication, errind.RequestTimedOut) or "timeout" in text.lower():
                raise SnmpTimeout(f"{t.host}:{t.port}: no SNMP response (timeout {t.timeout}s, {t.retries} retries)")
            hint = next((h for cls, h in _V3_AUTH_ERRORS.items() if isinstance(error_indication, cls)), None)
            if hint is not None:
                raise SnmpAuthError(f"{t.host}:{t.port}: SNMPv3 authentication failed for user {t.user!r}: "
                                    f"{hint} (agent: {text})")
            raise SnmpError(f"{t.host}:{t.port}: {text}")
        if error_status and int(error_status) != 0:
            raise SnmpError(f"{t.host}:{t.port}: agent error {error_status.prettyPrint()} at varbind {index}")

    async def _request(self, target: SnmpTarget, transport: AbstractTransportTarget, kind: str,
                       oids: Sequence[rfc1902.ObjectName], reps: int = 0) -> _Answer:
        """One GET, GETNEXT or GETBULK: v1/v2c through pysnmp's v1arch commands, SNMPv3 through its engine.

        The v1arch commands take (ObjectName, Null) pairs and, with lookupMib=False, return the answer's
        (ObjectName, value) pairs as decoded: no MIB view, no ObjectType wrapping.
        """
        if target.version == "3":
            return await self._v3_request(target, transport, kind, oids, reps)
        auth = v1.CommunityData(target.community, mpModel=0 if target.version == "1" else 1)
        request = [(o, _NULL) for o in oids]
        dispatcher = self._dispatcher()
        try:
            if kind == "get":
                answer = await v1.get_cmd(dispatcher, auth, transport, *request, lookupMib=False)
            elif kind == "next":
                answer = await v1.next_cmd(dispatcher, auth, transport, *request, lookupMib=False)
            else:
                answer = await v1.bulk_cmd(dispatcher, auth, transport, 0, reps, *request, lookupMib=False)
        except PyAsn1Error as exc:  # a request pyasn1 cannot encode (a community that is not latin-1 text)
            raise SnmpError(f"{target.host}:{target.port}: request not encodable: {exc}") from None
        ei, es, ix, vbs = answer
        return ei, es, ix, vbs

    async def _v3_request(self, target: SnmpTarget, transport: AbstractTransportTarget, kind: str,
                          oids: Sequence[rfc1902.ObjectName], reps: int = 0) -> _Answer:
        """One SNMPv3 GET, GETNEXT or GETBULK through pysnmp's command generators, as its hlapi sends them.

        hlapi resolves every request OID through its MIB view even with lookupMib=False, which cost
        as much per request OID as decoding a dozen varbinds of the answer; numeric OIDs need no
        MIB, so they go to the generators directly, and the answer comes back as (ObjectName,
        value) pairs without hlapi wrapping each one in ObjectType/ObjectIdentity.
        """
        ctx = hl.ContextData(contextName=target.context)
        addr, _ = LCD.configure(self._engine, self._usm(target), transport, ctx.contextName)
        future: asyncio.Future[_Answer] = asyncio.get_running_loop().create_future()

        def done(_engine: object, _handle: object, ei: Any, es: Any, ix: Any, vbs: list[tuple[Any, Any]],
                 _ctx: object) -> None:
            if not future.cancelled():
                future.set_result((ei, es, ix, vbs))

        request = [(o, _NULL) for o in oids]
        engine_id, name = ctx.contextEngineId, ctx.contextName
        if kind == "get":
            cmdgen.GetCommandGenerator().send_varbinds(self._engine, addr, engine_id, name, request, done)
        elif kind == "next":
            cmdgen.NextCommandGenerator().send_varbinds(self._engine, addr, engine_id, name, request, done)
        else:
            cmdgen.BulkCommandGenerator().send_varbinds(self._engine, addr, engine_id, name, 0, reps, request, done)
        return await future

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> dict[str, Value | None]:
        """The values of `oids`; None for an OID the device does not have.

        SNMPv1 has no noSuchObject: an agent refuses the whole GET with noSuchName and the index of the
        first missing OID, so that one is set aside (None) and the rest asked for again.
        """
        wanted, out = [str(o) for o in oids], dict[str, Value | None]()
        transport = await self._transport(target)
        while wanted:
            names = [_object_name(target, o) for o in wanted]
            ei, es, ix, vbs = await self._request(target, transport, "get", names)
            if target.version == "1" and not ei and es and int(es) == 2 and 0 < int(ix) <= len(wanted):
                out[wanted.pop(int(ix) - 1)] = None
                continue
            self._check(target, ei, es, ix)
            out.update({str(o): to_python(v) for o, v in vbs})
            break
        return out

    async def walk(self, target: SnmpTarget, columns: Sequence[str]) -> WalkResult:
        """Walk several columns at once with GETBULK (GETNEXT for v1), dropping each as it ends.

        OIDs are compared and cut as int tuples: stringifying every received OID and parsing the
        cursor back into ints cost more per varbind than everything else this loop does.
        """
        result = WalkResult(rows={c: {} for c in columns})
        prefix = {c: _object_name(target, c).asTuple() for c in columns}
        cursor = {c: rfc1902.ObjectName(prefix[c]) for c in columns}  # column -> last OID seen
        seen = {c: self._seen.get((target.host, target.port, target.context, c)) for c in columns}
        transport = await self._transport(target)
        while cursor:
            active = list(cursor)
            reps = max(1, min(target.max_repetitions, self._budget // len(active),
                              repetitions([(seen[c], len(result.rows[c])) for c in active])))
            request = [cursor[c] for c in active]
            try:
                if target.version == "1":
                    ei, es, ix, vbs = await self._request(target, transport, "next", request)
                    reps = 1
                else:
                    ei, es, ix, vbs = await self._request(target, transport, "bulk", request, reps)
                if target.version == "1" and es and int(es) == 2:  # v1 noSuchName: that column has ended
                    done = active[int(ix) - 1] if ix else active[0]
                    del cursor[done]
                    self._seen[target.host, target.port, target.context, done] = len(result.rows[done])
                    continue
                self._check(target, ei, es, ix)
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
                key, head = oid.asTuple(), prefix[column]
                n = len(head)
                if len(key) <= n or key[:n] != head or isinstance(value, rfc1905.EndOfMibView):
                    del cursor[column]
                    self._seen[target.host, target.port, target.context, column] = len(result.rows[column])
                    continue
                if key <= cursor[column].asTuple():
                    log.warning("%s: OID not increasing in %s (%s); column abandoned", target, column, oid)
                    result.error = SnmpError(f"{target.host}:{target.port}: agent returned OIDs out of order")
                    del cursor[column]
                    continue
                cursor[column] = oid
                py = to_python(value)
                if py is not None:
                    result.rows[column][".".join(map(str, key[n:]))] = py
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


def _object_name(target: SnmpTarget, oid: str) -> rfc1902.ObjectName:
    """A dotted numeric OID as pysnmp's ObjectName; anything else is a configuration error, not a crash."""
    try:
        return rfc1902.ObjectName(oid.strip("."))
    except Exception as exc:  # pyasn1 raises its own error types for a malformed OID
        raise SnmpError(f"{target.host}:{target.port}: not a numeric OID: {oid!r}") from exc

