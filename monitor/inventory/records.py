"""The inventory's records: customers, sites, credentials, devices and links, frozen and cross-checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.common.names import canonical_port
from monitor.common.secrets import Secret

SNMP_VERSIONS = ("1", "2c", "3")
AUTH_PROTOCOLS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
PRIV_PROTOCOLS = ("DES", "AES", "AES128", "AES192", "AES256")
LINK_ROLES = ("backbone", "access", "uplink")
MIN_V3_KEY_LENGTH = 8

class InventoryError(Exception):
    """Every problem found in one load, so an operator fixes the inventory in one edit rather than one per run."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        lines = (
            self.errors if len(self.errors) == 1 else [f"{len(self.errors)} inventory errors:", *self.errors]
        )
        super().__init__("\n  ".join(lines))


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    customer: str
    timezone: str = "UTC"
    traps: bool = False
    description: str | None = None
    watch: tuple[str, ...] = ()  # port globs always watched (see monitor/check/watch.py)
    ignore: tuple[str, ...] = ()  # port globs never a problem, never an incident (unless in a link)


@dataclass(frozen=True, slots=True)
class SnmpCredential:
    name: str
    version: str
    community: Secret | None = None
    user: str | None = None
    auth_protocol: str | None = None
    auth_key: Secret | None = None
    priv_protocol: str | None = None
    priv_key: Secret | None = None
    context: str = ""


@dataclass(frozen=True, slots=True)
class SshCredential:
    name: str
    username: str
    password: Secret | None = None
    key_file: str | None = None
    known_hosts: str | None = None
    trust_on_first_use: bool = False


@dataclass(frozen=True, slots=True)
class Device:
    """One polled box with its credentials resolved, so a collector needs nothing but this record."""

    name: str
    site: str
    host: str
    port: int
    platform: str
    snmp: SnmpCredential
    ssh: SshCredential | None = None
    ssh_port: int = 22
    timeout: float = 2.0
    retries: int = 1
    description: str | None = None
    watch: tuple[str, ...] = ()  # port globs; the device's own patterns come before its site's
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One end of a cable; the port is canonical so it compares equal to what collectors report."""

    device: str
    port: str

    def __str__(self) -> str:
        return f"{self.device}:{self.port}"


@dataclass(frozen=True, slots=True)
class Link:
    a: Endpoint
    b: Endpoint
    role: str
    media: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Inventory:
    """The validated whole; lookups by name are plain dict access."""

    customers: dict[str, Customer]
    sites: dict[str, Site]
    devices: dict[str, Device]
    links: tuple[Link, ...]

    def devices_at(self, site: str) -> list[Device]:
        return [d for d in self.devices.values() if d.site == site]

    def customer_of(self, device_name: str) -> str:
        """Return the owning customer's name; raises KeyError for an unknown device."""
        return self.sites[self.devices[device_name].site].customer

    def links_of(self, device: str, port: str | None = None) -> list[Link]:
        want = None if port is None else canonical_port(port)
        return [
            link
            for link in self.links
            if any(e.device == device and (want is None or e.port == want) for e in (link.a, link.b))
        ]
