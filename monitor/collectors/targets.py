"""From an inventory device to the SNMP target the collectors use; secrets are revealed only here."""

from __future__ import annotations

from monitor.collectors.snmp import SnmpTarget
from monitor.inventory import Device


def target_for(device: Device) -> SnmpTarget:
    """The SNMP target of an inventory device; secrets are revealed only here, at the edge."""
    c = device.snmp

    def reveal(s: object) -> str | None:
        return None if s is None else s.reveal()  # type: ignore[attr-defined]

    return SnmpTarget(
        host=device.host, port=device.port, version=c.version, community=reveal(c.community) or "",
        user=c.user or "", auth_protocol=c.auth_protocol, auth_key=reveal(c.auth_key),
        priv_protocol=c.priv_protocol, priv_key=reveal(c.priv_key), context=c.context or "",
        timeout=device.timeout, retries=device.retries,
    )
