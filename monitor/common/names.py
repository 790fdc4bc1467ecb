"""Interface-name normalisation, done once at the edge so every later comparison is like with like."""

from __future__ import annotations

from netutils.interface import abbreviated_interface_name, canonical_interface_name

__all__ = ["canonical_port", "port_label", "same_port", "short_port"]


def canonical_port(name: str) -> str:
    """Return the long canonical port name so "Gi1/0/1" from CLI and "GigabitEthernet1/0/1" from SNMP match.

    A name spelt all in lower case without a "/" is a host's own (Linux `eth0`, `lo`, `ens3`; Junos `lo0`)
    and is kept: netutils' table is for network OSes, which name their ports in capitals.

    >>> canonical_port("Gi1/0/1")
    'GigabitEthernet1/0/1'
    >>> canonical_port("Te1/1/1"), canonical_port("gi1/0/1")
    ('TenGigabitEthernet1/1/1', 'GigabitEthernet1/0/1')
    >>> canonical_port("Ethernet1"), canonical_port("Eth1/1")
    ('Ethernet1', 'Ethernet1/1')
    >>> canonical_port(" xe-0/0/0 ")
    'xe-0/0/0'
    >>> canonical_port("eth0"), canonical_port("lo"), canonical_port("lo0"), canonical_port("enp0s3")
    ('eth0', 'lo', 'lo0', 'enp0s3')
    """
    stripped = name.strip()
    if stripped == stripped.lower() and "/" not in stripped:
        return stripped
    try:
        return canonical_interface_name(stripped)
    except ValueError:  # netutils is a best-effort table; an unknown name is still a valid port
        return stripped


def port_label(name: str) -> str:
    """The one form a port is shown in, in every table, summary, message and page: the canonical name.

    >>> port_label("Gi1/0/25"), port_label("eth0")
    ('GigabitEthernet1/0/25', 'eth0')
    """
    return canonical_port(name)


def same_port(a: str, b: str) -> bool:
    """Whether two spellings name one port (canonical or the device's own short ifName, any case).

    >>> same_port("gi1/0/25", "GigabitEthernet1/0/25"), same_port("ETH0", "eth0"), same_port("Gi1/0/2", "Gi1/0/25")
    (True, True, False)
    """
    def forms(n: str) -> set[str]:
        return {n.strip().lower(), canonical_port(n).lower(), short_port(n).lower()}

    return bool(forms(a) & forms(b))


def short_port(name: str) -> str:
    """Return the abbreviated port name: how a device's own CLI spells it (the lab speaks it; never shown).

    >>> short_port("GigabitEthernet1/0/25")
    'Gi1/0/25'
    >>> short_port("TenGigabitEthernet1/1/1")
    'Te1/1/1'
    >>> short_port("xe-0/0/0"), short_port("eth0")
    ('xe-0/0/0', 'eth0')
    """
    stripped = name.strip()
    if stripped == stripped.lower() and "/" not in stripped:
        return stripped
    try:
        return abbreviated_interface_name(stripped)
    except ValueError:  # same tolerance as canonical_port
        return stripped
