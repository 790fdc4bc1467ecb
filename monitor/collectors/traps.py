"""SNMP trap receiver: linkDown/linkUp, entConfigChange, coldStart/warmStart become "poll this now".

A trap is only a hint — the poll it triggers is the evidence — so the receiver decodes little, trusts
nothing it cannot map to a known device, and rate-limits each source so a flood cannot starve polling.
Strangers, undecodable packets and over-limit traps are dropped and counted, never raised.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pyasn1.codec.ber import decoder
from pyasn1.error import PyAsn1Error
from pysnmp.proto import api

log = logging.getLogger(__name__)

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
TRAP_NAMES = {
    "1.3.6.1.6.3.1.1.5.1": "coldStart", "1.3.6.1.6.3.1.1.5.2": "warmStart", "1.3.6.1.6.3.1.1.5.3": "linkDown",
    "1.3.6.1.6.3.1.1.5.4": "linkUp", "1.3.6.1.2.1.47.2.0.1": "entConfigChange",
}
_V1_GENERIC = {0: "1.3.6.1.6.3.1.1.5.1", 1: "1.3.6.1.6.3.1.1.5.2", 2: "1.3.6.1.6.3.1.1.5.3", 3: "1.3.6.1.6.3.1.1.5.4"}


@dataclass(frozen=True, slots=True)
class Trap:
    device: str
    trap_oid: str
    source: tuple[str, int]
    received_at: float
    ifindex: int | None = None

    @property
    def name(self) -> str:
        return TRAP_NAMES.get(self.trap_oid, self.trap_oid)


def decode_trap(data: bytes) -> tuple[str, str, int | None]:
    """(community, trap OID, ifIndex) of a v1 or v2c trap; raises ValueError for anything else."""
    try:
        version = int(api.decodeMessageVersion(data))
        pmod = api.PROTOCOL_MODULES[version]
        msg, _ = decoder.decode(data, asn1Spec=pmod.Message())
    except (PyAsn1Error, KeyError, TypeError) as exc:
        raise ValueError(f"not an SNMP message: {exc}") from None
    community = pmod.apiMessage.get_community(msg).asOctets().decode("latin-1")
    pdu = pmod.apiMessage.get_pdu(msg)
    if version == api.SNMP_VERSION_1:
        if not pdu.isSameTypeWith(pmod.TrapPDU()):
            raise ValueError("not a trap")
        generic = int(pmod.apiTrapPDU.get_generic_trap(pdu))
        oid = _V1_GENERIC.get(generic) or f"{pmod.apiTrapPDU.get_enterprise(pdu)}.0." \
                                          f"{int(pmod.apiTrapPDU.get_specific_trap(pdu))}"
        varbinds = pmod.apiTrapPDU.get_varbinds(pdu)
    else:
        if not pdu.isSameTypeWith(pmod.SNMPv2TrapPDU()):
            raise ValueError("not a trap")
        varbinds = pmod.apiTrapPDU.get_varbinds(pdu)
        oid = next((str(v) for o, v in varbinds if str(o) == SNMP_TRAP_OID), "")
        if not oid:
            raise ValueError("SNMPv2 trap without snmpTrapOID")
    ifindex = next((int(v) for o, v in varbinds if str(o).startswith("1.3.6.1.2.1.2.2.1.1.")), None)
    return community, oid, ifindex


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class TrapStats:
    received: int = 0
    accepted: int = 0
    dropped: Counter[str] = field(default_factory=Counter)


class TrapReceiver(asyncio.DatagramProtocol):
    """Maps (address, community) to a device and calls `on_trap`; rate-limited per source address."""

    def __init__(self, devices: Mapping[tuple[str, str], str], on_trap: Callable[[Trap], None],
                 rate_per_s: float = 20.0, burst: int = 50, clock: Callable[[], float] = time.monotonic,
                 by_port: bool = False) -> None:
        self._devices = devices  # (host, community) -> device; (host:port, community) when by_port
        self._on_trap, self._rate, self._burst = on_trap, rate_per_s, burst
        self._clock, self._by_port = clock, by_port
        self._buckets: dict[str, _Bucket] = {}
        self.stats = TrapStats()

    def _allow(self, source: str) -> bool:
        now = self._clock()
        b = self._buckets.setdefault(source, _Bucket(self._burst, now))
        b.tokens = min(self._burst, b.tokens + (now - b.stamp) * self._rate)
        b.stamp = now
        if b.tokens < 1:
            return False
        b.tokens -= 1
        return True

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.stats.received += 1
        source = f"{addr[0]}:{addr[1]}" if self._by_port else addr[0]
        if not self._allow(source):
            self.stats.dropped["rate limited"] += 1
            return
        try:
            community, oid, ifindex = decode_trap(data)
        except ValueError:
            self.stats.dropped["undecodable"] += 1
            return
        device = self._devices.get((source, community))
        if device is None:
            self.stats.dropped["unknown source or community"] += 1
            log.debug("trap from a stranger %s dropped", source)
            return
        self.stats.accepted += 1
        self._on_trap(Trap(device, oid, addr, self._clock(), ifindex))


RECEIVE_BUFFER = 4 * 1024 * 1024  # a burst of traps waits here rather than being dropped by the kernel


async def listen(receiver: TrapReceiver, host: str = "127.0.0.1", port: int = 0
                 ) -> tuple[asyncio.DatagramTransport, int]:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        if option is None:
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
            break
        except OSError:  # SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is capped by rmem_max
            continue
    sock.bind((host, port))
    transport, _ = await loop.create_datagram_endpoint(lambda: receiver, sock=sock)
    return transport, transport.get_extra_info("sockname")[1]
