"""Lab devices send real SNMPv2c traps over UDP: decoded here by an independent receiver socket."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from pyasn1.codec.ber import decoder
from pysnmp.proto import api

from monitor.lab import runner, scenario

SCENARIO = Path(__file__).parent.parent / "scenarios" / "traps.yaml"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1."


def _decode(data: bytes) -> tuple[str, str, dict[str, object]]:
    pmod = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    msg, _ = decoder.decode(data, asn1Spec=pmod.Message())
    community = str(pmod.apiMessage.get_community(msg))
    varbinds = {str(o): v for o, v in pmod.apiTrapPDU.get_varbinds(pmod.apiMessage.get_pdu(msg))}
    return community, str(varbinds["1.3.6.1.6.3.1.1.4.1.0"]), varbinds


def test_devices_send_the_traps_their_real_counterparts_would() -> None:
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.settimeout(0.2)
    try:
        result = asyncio.run(runner.run(scenario.load(SCENARIO), trap_sink=sink.getsockname()))
        received = []
        while True:
            try:
                received.append(_decode(sink.recv(65535)))
            except TimeoutError:
                break
    finally:
        sink.close()
    kinds = [t for _, t, _ in received]
    assert {c for c, _, _ in received} == {runner.LAB_COMMUNITY}
    # shutdown at 300: both ends report linkDown; send_trap at 400: dist-sw2 repeats its linkDown;
    # module pulled at 500: entConfigChange from dist-sw2.
    assert kinds.count("1.3.6.1.6.3.1.1.5.3") == 3, kinds
    assert kinds.count("1.3.6.1.2.1.47.2.0.1") == 1, kinds
    link_downs = [vb for _, t, vb in received if t == "1.3.6.1.6.3.1.1.5.3"]
    assert all(any(k.startswith(IF_INDEX) for k in vb) for vb in link_downs)
    assert [(t["at"], t["device"], t["trap"]) for t in result.traps] == [
        (300, "core-sw1", "linkDown"), (300, "dist-sw2", "linkDown"), (400, "dist-sw2", "linkDown"),
        (500, "dist-sw2", "entConfigChange")]
