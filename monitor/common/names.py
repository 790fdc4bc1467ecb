"""Interface-name normalisation, done once at the edge so every later comparison is like with like."""

from __future__ import annotations

from netutils.interface import abbreviated_interface_name, canonical_interface_name

__all__ = ["canonical_port", "short_port"]


def canonical_port(name: str) -> str:
    """Return the long canonical port name so "Gi1/0/1" from CLI and "GigabitEthernet1/0/1" from SNMP match.

    >>> canonical_port("Gi1/0/1")
    'GigabitEthernet1/0/1'
    >>> canonical_port("Te1/1/1")
    'TenGigabitEthernet1/1/1'
    >>> canonical_port("Ethernet1")
    'Ethernet1'
    >>> canonical_port(" xe-0/0/0 ")
    'xe-0/0/0'
    """
    stripped = name.strip()
    try:
        return canonical_interface_name(stripped)
    except ValueError:  # netutils is a best-effort table; an unknown name is still a valid port
        return stripped


def short_port(name: str) -> str:
    """Return the abbreviated port name, for narrow tables and chat messages where width matters.

    >>> short_port("GigabitEthernet1/0/25")
    'Gi1/0/25'
    >>> short_port("TenGigabitEthernet1/1/1")
    'Te1/1/1'
    >>> short_port("xe-0/0/0")
    'xe-0/0/0'
    """
    stripped = name.strip()
    try:
        return abbreviated_interface_name(stripped)
    except ValueError:  # same tolerance as canonical_port
        return stripped
