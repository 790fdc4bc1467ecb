"""Walk a site neighbour by neighbour from one seed address, never beyond the addresses and depth allowed.

Each reached device is identified (system group) and asked for its neighbours (LLDP, or CDP); each neighbour's
management address is the next address to try. What could not be reached is a result too, with its reason:
`timeout`, `auth`, `error`, `filtered` (outside --only), `depth` (beyond --max-depth) or `no_address`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from monitor.collectors.decode import as_oid, as_text
from monitor.collectors.snmp import SnmpClient, SnmpTarget, Value
from monitor.common.errors import SaksiError, SnmpAuthError, SnmpError, SnmpTimeout
from monitor.discover import neighbours as nb
from monitor.discover.identify import Identity, identify

log = logging.getLogger(__name__)
SYS_DESCR, SYS_OBJECT_ID, SYS_NAME = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.5.0"


class DiscoveryError(SaksiError):
    """The discovery cannot start: a credential's secret is missing, a filter does not parse."""


@dataclass(frozen=True, slots=True)
class Credential:
    """One credential set to try, holding only the NAMES of the environment variables with its secrets,
    so the inventory written refers to them (`${env:NAME}`) and never holds a secret in clear."""

    name: str  # the inventory's credential name
    version: str  # "2c" | "3"
    community_env: str | None = None
    user: str | None = None
    auth_protocol: str | None = None
    auth_key_env: str | None = None
    priv_protocol: str | None = None
    priv_key_env: str | None = None
    context: str = ""

    def env_names(self) -> list[str]:
        return [n for n in (self.community_env, self.auth_key_env, self.priv_key_env) if n]

    def target(self, host: str, port: int, timeout: float, retries: int,
               env: Mapping[str, str] = os.environ) -> SnmpTarget:
        """The SNMP target with the secrets read from `env`; DiscoveryError names a missing variable."""
        missing = [n for n in self.env_names() if not env.get(n)]
        if missing:
            raise DiscoveryError(f"credential {self.name}: ${missing[0]} is not set (or empty)")
        return SnmpTarget(
            host=host, port=port, version=self.version, community=env.get(self.community_env or "", ""),
            user=self.user or "", auth_protocol=self.auth_protocol,
            auth_key=env.get(self.auth_key_env) if self.auth_key_env else None,
            priv_protocol=self.priv_protocol,
            priv_key=env.get(self.priv_key_env) if self.priv_key_env else None,
            context=self.context, timeout=timeout, retries=retries)

    def inventory_entry(self) -> dict[str, str]:
        """The credential as the inventory writes it: secrets by reference only."""
        entry = {"version": self.version}
        if self.version == "3":
            entry["user"] = self.user or ""
            for key, value in (("auth_protocol", self.auth_protocol), ("auth_key", self.auth_key_env),
                               ("priv_protocol", self.priv_protocol), ("priv_key", self.priv_key_env)):
                if value:
                    entry[key] = f"${{env:{value}}}" if key.endswith("_key") else value
            if self.context:
                entry["context"] = self.context
        else:
            entry["community"] = f"${{env:{self.community_env}}}"
        return entry


@dataclass(frozen=True)
class Scope:
    """Where discovery may go: addresses inside `only` (everything when empty), at most `max_depth` hops."""

    only: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    max_depth: int = 3

    @classmethod
    def parse(cls, only: Sequence[str], max_depth: int) -> Scope:
        """--only CIDR values into networks; a typo is a DiscoveryError, not a silent 'allow all'."""
        nets = []
        for text in only:
            try:
                nets.append(ipaddress.ip_network(text.strip(), strict=False))
            except ValueError:
                raise DiscoveryError(f"--only {text!r}: not an address or network (e.g. 10.0.0.0/8)") from None
        if max_depth < 0:
            raise DiscoveryError("--max-depth must be 0 or more")
        return cls(tuple(nets), max_depth)

    def allows(self, address: str) -> bool:
        """True when the address is inside one of the networks (or no network was given).

        >>> Scope.parse(["127.0.0.0/8"], 2).allows("127.0.5.1"), Scope.parse(["127.0.0.0/8"], 2).allows("10.0.0.1")
        (True, False)
        """
        if not self.only:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.only)


@dataclass(frozen=True, slots=True)
class Found:
    """A device that answered: who it is, with which credential, and whom it sees."""

    address: str
    depth: int
    sys_name: str
    sys_descr: str
    sys_object_id: str
    identity: Identity
    credential: str
    tables: nb.NeighbourTables


@dataclass(frozen=True, slots=True)
class Unreached:
    """An address (or a neighbour without one) discovery did not poll, and why."""

    address: str  # "" for a neighbour that advertised no usable management address
    depth: int
    reason: str  # timeout | auth | error | filtered | depth | no_address
    detail: str
    seen_by: str = ""  # "device:port" that advertised it ("" for the seed)
    name: str = ""  # the neighbour's name, as advertised


@dataclass
class Discovery:
    seed: str
    found: list[Found] = field(default_factory=list)
    unreached: list[Unreached] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Visit:
    address: str
    depth: int
    seen_by: str = ""
    name: str = ""


async def probe(client: SnmpClient, address: str, port: int, credentials: Sequence[Credential], timeout: float,
                retries: int) -> tuple[Credential, dict[str, Value | None]] | Unreached:
    """Try each credential set in turn: the first that gets the system group wins.

    A v1/v2c agent ignores a wrong community, so 'timeout' after trying every set may also mean 'wrong
    community'; the reason says so.
    """
    reasons: list[tuple[str, str]] = []
    for cred in credentials:
        target = cred.target(address, port, timeout, retries)
        try:
            values = await client.get(target, [SYS_DESCR, SYS_OBJECT_ID, SYS_NAME])
        except SnmpAuthError as exc:
            reasons.append(("auth", f"{cred.name}: {exc}"))
            continue
        except SnmpTimeout:
            reasons.append(("timeout", cred.name))
            continue
        except SnmpError as exc:
            reasons.append(("error", f"{cred.name}: {exc}"))
            continue
        if values.get(SYS_OBJECT_ID) is None and values.get(SYS_NAME) is None:
            reasons.append(("error", f"{cred.name}: no system group (sysObjectID, sysName)"))
            continue
        return cred, values
    kinds = {k for k, _ in reasons}
    reason = "auth" if "auth" in kinds else "error" if "error" in kinds else "timeout"
    if reason == "timeout":
        detail = (f"no SNMP answer on udp/{port} with {', '.join(d for _, d in reasons)} "
                  f"(a wrong v1/v2c community looks the same)")
    else:
        detail = "; ".join(d for k, d in reasons if k == reason)
    return Unreached(address, 0, reason, detail)


async def crawl(client: SnmpClient, seed: str, credentials: Sequence[Credential], scope: Scope, *,
                port: int = 161, timeout: float = 2.0, retries: int = 1, concurrency: int = 8,
                progress: Callable[[str], None] = lambda _text: None) -> Discovery:
    """Breadth first from the seed, one depth at a time, at most `concurrency` devices at once."""
    result = Discovery(seed)
    seen_addresses: set[str] = set()
    names: set[str] = set()
    level = [_Visit(seed, 0)]
    gate = asyncio.Semaphore(concurrency)

    async def visit(v: _Visit) -> Found | Unreached:
        async with gate:
            progress(f"depth {v.depth}: asking {v.address}" + (f" ({v.name})" if v.name else ""))
            answer = await probe(client, v.address, port, credentials, timeout, retries)
            if isinstance(answer, Unreached):
                return Unreached(v.address, v.depth, answer.reason, answer.detail, v.seen_by, v.name)
            cred, values = answer
            oid, descr = as_oid(values.get(SYS_OBJECT_ID)) or "", as_text(values.get(SYS_DESCR))
            tables = await nb.collect(client, cred.target(v.address, port, timeout, retries), oid)
            return Found(v.address, v.depth, as_text(values.get(SYS_NAME)), descr, oid, identify(oid, descr),
                         cred.name, tables)

    while level:
        seen_addresses.update(v.address for v in level)
        answers = await asyncio.gather(*(visit(v) for v in level))
        following: list[_Visit] = []
        for answer in answers:
            if isinstance(answer, Unreached):
                result.unreached.append(answer)
                continue
            if answer.sys_name and answer.sys_name.lower() in names:
                log.info("%s answers as %s, already found at another address", answer.address, answer.sys_name)
                continue
            names.add(answer.sys_name.lower())
            result.found.append(answer)
            progress(f"found {answer.sys_name or answer.address} ({answer.identity.platform}) at {answer.address}: "
                     f"{len(answer.tables.neighbours)} neighbours by {answer.tables.protocol}")
            following += _next_visits(answer, scope, seen_addresses, names, result.unreached)
        level = following
    return result


def _next_visits(found: Found, scope: Scope, seen: set[str], names: set[str],
                 unreached: list[Unreached]) -> list[_Visit]:
    """The neighbours of a found device still to visit; those out of bounds are recorded with their reason."""
    out: list[_Visit] = []
    depth = found.depth + 1
    for n in found.tables.neighbours:
        where = f"{found.sys_name or found.address}:{n.local_port}"
        if n.name and n.name.lower() in names or any(a in seen for a in n.addresses):
            continue
        if not n.addresses:
            unreached.append(Unreached("", depth, "no_address", f"{n.name or n.chassis or 'a neighbour'} "
                                       f"advertises no IPv4 management address", where, n.name))
            continue
        allowed = [a for a in n.addresses if scope.allows(a)]
        if not allowed:
            seen.update(n.addresses)
            unreached.append(Unreached(n.addresses[0], depth, "filtered", "outside --only "
                                       f"{', '.join(str(x) for x in scope.only)}", where, n.name))
            continue
        seen.update(n.addresses)
        if depth > scope.max_depth:
            unreached.append(Unreached(allowed[0], depth, "depth", f"beyond --max-depth {scope.max_depth}",
                                       where, n.name))
            continue
        out.append(_Visit(allowed[0], depth, where, n.name))
    return out
