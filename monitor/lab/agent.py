"""A small SNMPv2c agent for lab devices: real BER over real UDP, answering from a live MIB view.

snmpsim serves static recordings; the lab needs values that follow its physical model at the
simulated time, so each request is answered from `view()` — a sorted list of (OID, value).
A powered-off device simply stays silent, as a real one would.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Callable, Sequence

from pyasn1.codec.ber import encoder
from pyasn1.error import PyAsn1Error
from pysnmp.proto import api

from monitor.lab import ber

log = logging.getLogger(__name__)

Oid = tuple[int, ...]


class MibView:
    """An ordered MIB: exact GET and lexicographic GETNEXT by bisection; each row encoded once, when first asked."""

    def __init__(self, items: Sequence[tuple[Oid, object]], silent: Sequence[Oid] = (),
                 broken: frozenset[Oid] = frozenset()) -> None:
        pairs = sorted(items, key=lambda kv: kv[0])
        self.oids = [k for k, _ in pairs]
        self.values = [v for _, v in pairs]
        self.silent = tuple(silent)  # subtrees whose requests get no answer at all (a hung sub-agent)
        self.broken = broken  # OIDs the agent fails to read: genErr, or a GETBULK answer cut short before them
        self._encoded: list[tuple[bytes, bytes] | None] = [None] * len(pairs)

    def silences(self, oids: Sequence[Oid]) -> bool:
        """A request that touches a silent subtree is dropped whole, as a master agent waiting on its sub-agent."""
        return any(oid[:len(s)] == s for oid in oids for s in self.silent)

    def __len__(self) -> int:
        return len(self.oids)

    def get(self, oid: Oid) -> object | None:
        i = self.index(oid)
        return None if i is None else self.values[i]

    def next(self, oid: Oid) -> tuple[Oid, object] | None:
        i = self.after(oid)
        return None if i is None else (self.oids[i], self.values[i])

    def index(self, oid: Oid) -> int | None:
        i = bisect.bisect_left(self.oids, oid)
        return i if i < len(self.oids) and self.oids[i] == oid else None

    def after(self, oid: Oid) -> int | None:
        i = bisect.bisect_right(self.oids, oid)
        return i if i < len(self.oids) else None

    def encoded(self, i: int) -> tuple[bytes, bytes]:
        """Row i as BER (OID, value), encoded on first use: a walk reads each row once per view."""
        row = self._encoded[i]
        if row is None:
            row = self._encoded[i] = (ber.oid(self.oids[i]), ber.value(self.values[i]))
        return row


Varbind = tuple[Oid, bytes, bytes]  # (OID, its encoding, the value's encoding)


class LabAgent(asyncio.DatagramProtocol):
    """Answers GET, GETNEXT and GETBULK (v1 and v2c) from `view()` while `alive()` is true."""

    def __init__(self, view: Callable[[], MibView], community: str, alive: Callable[[], bool],
                 max_varbinds: int = 64) -> None:
        self._view, self._community, self._alive = view, community.encode("latin-1"), alive
        self._max = max_varbinds
        self.transport: asyncio.DatagramTransport | None = None
        self.requests = 0
        self.varbinds = 0  # varbinds answered (benchmarks/lab_round.py: what the client had to read)
        self.busy_s = 0.0  # time spent answering (benchmarks/lab_round.py tells the agent's share from it)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self._alive():
            return  # powered off or rebooting: silence
        started = time.perf_counter()
        try:
            reply = self._answer(data)
        except (ber.BerError, PyAsn1Error, ValueError, KeyError) as exc:
            log.debug("lab agent: undecodable request from %s: %s", addr, exc)
            return
        finally:
            self.busy_s += time.perf_counter() - started
        if reply is not None and self.transport is not None:
            self.requests += 1
            self.transport.sendto(reply, addr)

    def _answer(self, data: bytes) -> bytes | None:
        req = ber.read_request(data)
        if req.community != self._community:
            return None  # a wrong community gets no answer, like a real agent
        view = self._view()
        if view.silences(req.oids):
            return None
        bulk = req.pdu == ber.GET_BULK
        if req.pdu == ber.GET:
            out = [self._exact(view, oid) for oid in req.oids]
        elif req.pdu == ber.GET_NEXT:
            out = [self._next(view, oid) for oid in req.oids]
        elif bulk and req.version == 1:
            out = self._bulk(view, req)
        else:
            return None
        bad = next((i for i, vb in enumerate(out) if vb[0] in view.broken), None) if view.broken else None
        if bad and bulk:
            out = out[:bad]  # a GETBULK answer may hold fewer varbinds: stop before the unreadable one
        elif bad is not None:  # genErr, the request's own varbinds echoed
            return ber.response(req, [(ber.oid(o), ber.NULL) for o in req.oids], 5, min(bad, len(req.oids) - 1) + 1)
        if req.version == 0:
            missing = next((i for i, vb in enumerate(out) if vb[2] in _EXCEPTIONS), None)
            if missing is not None:  # v1 knows no exceptions: noSuchName
                return ber.response(req, [(ber.oid(o), ber.NULL) for o in req.oids], 2, missing + 1)
        self.varbinds += len(out)
        return ber.response(req, [(o, v) for _, o, v in out])

    @staticmethod
    def _exact(view: MibView, oid: Oid) -> Varbind:
        i = view.index(oid)
        return (oid, ber.oid(oid), ber.NO_SUCH_INSTANCE) if i is None else (oid, *view.encoded(i))

    @staticmethod
    def _next(view: MibView, oid: Oid) -> Varbind:
        i = view.after(oid)
        return (oid, ber.oid(oid), ber.END_OF_MIB_VIEW) if i is None else (view.oids[i], *view.encoded(i))

    def _bulk(self, view: MibView, req: ber.Request) -> list[Varbind]:
        non_rep = max(0, req.non_repeaters)
        reps = max(0, req.max_repetitions)
        out = [self._next(view, oid) for oid in req.oids[:non_rep]]
        cursors = list(req.oids[non_rep:])
        if cursors:
            reps = min(reps, max(1, (self._max - len(out)) // len(cursors)))
        for _ in range(reps if cursors else 0):
            for i, oid in enumerate(cursors):
                vb = self._next(view, oid)
                cursors[i] = vb[0]
                out.append(vb)
        return out


_EXCEPTIONS = (ber.NO_SUCH_INSTANCE, ber.END_OF_MIB_VIEW)


async def serve(view: Callable[[], MibView], community: str, alive: Callable[[], bool],
                host: str = "127.0.0.1", port: int = 0) -> tuple[asyncio.DatagramTransport, LabAgent, int]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(
        lambda: LabAgent(view, community, alive), local_addr=(host, port))
    return transport, proto, int(transport.get_extra_info("sockname")[1])


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
