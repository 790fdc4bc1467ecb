"""A small SNMPv2c agent for lab devices: real BER over real UDP, answering from a live MIB view.

snmpsim serves static recordings; the lab needs values that follow its physical model at the
simulated time, so each request is answered from `view()` — a sorted list of (OID, value).
A powered-off device simply stays silent, as a real one would.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Callable, Sequence

from pyasn1.codec.ber import decoder, encoder
from pyasn1.error import PyAsn1Error
from pysnmp.proto import api, rfc1905

log = logging.getLogger(__name__)

Oid = tuple[int, ...]


class MibView:
    """An ordered MIB: exact GET and lexicographic GETNEXT by bisection."""

    def __init__(self, items: Sequence[tuple[Oid, object]], silent: Sequence[Oid] = (),
                 broken: frozenset[Oid] = frozenset()) -> None:
        pairs = sorted(items, key=lambda kv: kv[0])
        self.oids = [k for k, _ in pairs]
        self.values = [v for _, v in pairs]
        self.silent = tuple(silent)  # subtrees whose requests get no answer at all (a hung sub-agent)
        self.broken = broken  # OIDs the agent fails to read: genErr, or a GETBULK answer cut short before them

    def silences(self, oids: Sequence[Oid]) -> bool:
        """A request that touches a silent subtree is dropped whole, as a master agent waiting on its sub-agent."""
        return any(oid[:len(s)] == s for oid in oids for s in self.silent)

    def __len__(self) -> int:
        return len(self.oids)

    def get(self, oid: Oid) -> object | None:
        i = bisect.bisect_left(self.oids, oid)
        if i < len(self.oids) and self.oids[i] == oid:
            return self.values[i]
        return None

    def next(self, oid: Oid) -> tuple[Oid, object] | None:
        i = bisect.bisect_right(self.oids, oid)
        if i < len(self.oids):
            return self.oids[i], self.values[i]
        return None


class LabAgent(asyncio.DatagramProtocol):
    """Answers GET, GETNEXT and GETBULK (v1 and v2c) from `view()` while `alive()` is true."""

    def __init__(self, view: Callable[[], MibView], community: str, alive: Callable[[], bool],
                 max_varbinds: int = 64) -> None:
        self._view, self._community, self._alive = view, community, alive
        self._max = max_varbinds
        self.transport: asyncio.DatagramTransport | None = None
        self.requests = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self._alive():
            return  # powered off or rebooting: silence
        try:
            reply = self._answer(data)
        except (PyAsn1Error, ValueError, KeyError) as exc:
            log.debug("lab agent: undecodable request from %s: %s", addr, exc)
            return
        if reply is not None and self.transport is not None:
            self.requests += 1
            self.transport.sendto(reply, addr)

    def _answer(self, data: bytes) -> bytes | None:
        version = int(api.decodeMessageVersion(data))
        pmod = api.PROTOCOL_MODULES[version]
        msg, _ = decoder.decode(data, asn1Spec=pmod.Message())
        if pmod.apiMessage.get_community(msg).asOctets().decode("latin-1") != self._community:
            return None  # a wrong community gets no answer, like a real agent
        pdu = pmod.apiMessage.get_pdu(msg)
        rsp = pmod.apiMessage.get_response(msg)
        rsp_pdu = pmod.apiMessage.get_pdu(rsp)
        view = self._view()
        requested = [tuple(o) for o, _ in pmod.apiPDU.get_varbinds(pdu)]
        if view.silences(requested):
            return None
        out: list[tuple[Oid, object]] = []
        if pdu.isSameTypeWith(pmod.GetRequestPDU()):
            for oid in requested:
                v = view.get(oid)
                out.append((oid, v if v is not None else rfc1905.noSuchInstance))
        elif pdu.isSameTypeWith(pmod.GetNextRequestPDU()):
            for oid in requested:
                nxt = view.next(oid)
                out.append(nxt if nxt is not None else (oid, rfc1905.endOfMibView))
        elif version == api.SNMP_VERSION_2C and pdu.isSameTypeWith(pmod.GetBulkRequestPDU()):
            out = self._bulk(view, pmod, pdu, requested)
        else:
            return None
        bad = next((i for i, (o, _) in enumerate(out) if o in view.broken), None)
        if bad and version == api.SNMP_VERSION_2C and pdu.isSameTypeWith(pmod.GetBulkRequestPDU()):
            out = out[:bad]  # a GETBULK answer may hold fewer varbinds: stop before the unreadable one
        elif bad is not None:
            pmod.apiPDU.set_error_status(rsp_pdu, 5)  # genErr
            pmod.apiPDU.set_error_index(rsp_pdu, min(bad, len(requested) - 1) + 1)
            out = [(o, pmod.Null("")) for o in requested]
        if version == api.SNMP_VERSION_1 and bad is None:
            for i, (_, v) in enumerate(out):
                if v is rfc1905.noSuchInstance or v is rfc1905.endOfMibView:
                    pmod.apiPDU.set_error_status(rsp_pdu, 2)  # noSuchName
                    pmod.apiPDU.set_error_index(rsp_pdu, i + 1)
                    out = [(o, pmod.Null("")) for o in requested]
                    break
        pmod.apiPDU.set_varbinds(rsp_pdu, out)
        return encoder.encode(rsp)

    def _bulk(self, view: MibView, pmod, pdu, requested: list[Oid]) -> list[tuple[Oid, object]]:  # type: ignore[no-untyped-def]
        non_rep = max(0, int(pmod.apiBulkPDU.get_non_repeaters(pdu)))
        reps = max(0, int(pmod.apiBulkPDU.get_max_repetitions(pdu)))
        out: list[tuple[Oid, object]] = []
        for oid in requested[:non_rep]:
            nxt = view.next(oid)
            out.append(nxt if nxt is not None else (oid, rfc1905.endOfMibView))
        cursors = requested[non_rep:]
        if cursors:
            reps = min(reps, max(1, (self._max - len(out)) // len(cursors)))
        for _ in range(reps if cursors else 0):
            for i, oid in enumerate(cursors):
                nxt = view.next(oid)
                if nxt is None:
                    out.append((oid, rfc1905.endOfMibView))
                else:
                    cursors[i] = nxt[0]
                    out.append(nxt)
        return out


async def serve(view: Callable[[], MibView], community: str, alive: Callable[[], bool],
                host: str = "127.0.0.1", port: int = 0) -> tuple[asyncio.DatagramTransport, LabAgent, int]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(
        lambda: LabAgent(view, community, alive), local_addr=(host, port))
    return transport, proto, transport.get_extra_info("sockname")[1]  # type: ignore[return-value]


LINK_DOWN, LINK_UP, COLD_START = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.6.3.1.1.5.1"
ENT_CONFIG_CHANGE = "1.3.6.1.2.1.47.2.0.1"
_IF = "1.3.6.1.2.1.2.2.1"


def encode_trap(community: str, uptime_ticks: int, trap_oid: str,
                ifindex: int | None = None, admin: int | None = None, oper: int | None = None) -> bytes:
    """An SNMPv2-Trap as a switch sends it (linkDown/linkUp carry ifIndex, ifAdminStatus, ifOperStatus)."""
    from pysnmp.proto import rfc1902

    pmod = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    pdu = pmod.SNMPv2TrapPDU()
    pmod.apiTrapPDU.set_defaults(pdu)
    varbinds: list[tuple[object, object]] = [
        (pmod.ObjectIdentifier("1.3.6.1.2.1.1.3.0"), rfc1902.TimeTicks(uptime_ticks % 2**32)),
        (pmod.ObjectIdentifier("1.3.6.1.6.3.1.1.4.1.0"), rfc1902.ObjectIdentifier(trap_oid)),
    ]
    if ifindex is not None:
        varbinds += [(pmod.ObjectIdentifier(f"{_IF}.1.{ifindex}"), rfc1902.Integer32(ifindex)),
                     (pmod.ObjectIdentifier(f"{_IF}.7.{ifindex}"), rfc1902.Integer32(admin or 2)),
                     (pmod.ObjectIdentifier(f"{_IF}.8.{ifindex}"), rfc1902.Integer32(oper or 2))]
    pmod.apiTrapPDU.set_varbinds(pdu, varbinds)
    msg = pmod.Message()
    pmod.apiMessage.set_defaults(msg)
    pmod.apiMessage.set_community(msg, community)
    pmod.apiMessage.set_pdu(msg, pdu)
    return encoder.encode(msg)
