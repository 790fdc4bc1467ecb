"""The site's cabling: links from the inventory, and links learned from LLDP.

Correlation asks two questions of it: "what is at the other end of this port?" and "which
devices can no longer be reached if these links are down?".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from monitor.common.names import canonical_port
from monitor.model import Snapshot


def end(device: str, port: str) -> str:
    return f"{device}:{canonical_port(port)}"


def split(ref: str) -> tuple[str, str]:
    device, _, port = ref.partition(":")
    return device, port


@dataclass
class Topology:
    peers: dict[str, str] = field(default_factory=dict)  # "dev:port" -> "dev:port", both directions
    roles: dict[frozenset[str], str] = field(default_factory=dict)
    learned: dict[str, str] = field(default_factory=dict)  # from LLDP; kept when the neighbour disappears
    devices: set[str] = field(default_factory=set)

    @classmethod
    def from_links(cls, links: Iterable[tuple[str, str, str]], devices: Iterable[str] = ()) -> Topology:
        """(a, b, role) with a and b as 'DEVICE:PORT' (b may be a plain host name)."""
        t = cls(devices=set(devices))
        for a, b, role in links:
            ea = end(*split(a))
            eb = end(*split(b)) if ":" in b else b
            t.peers[ea], t.peers[eb] = eb, ea
            t.roles[frozenset((ea, eb))] = role
        return t

    def peer(self, ref: str) -> str | None:
        return self.peers.get(ref) or self.learned.get(ref)

    def link(self, ref: str) -> dict[str, str] | None:
        other = self.peer(ref)
        if other is None:
            return None
        a, b = sorted((ref, other))
        return {"a": a, "b": b}

    def role(self, ref: str) -> str | None:
        other = self.peer(ref)
        return None if other is None else self.roles.get(frozenset((ref, other)), "learned")

    def learn(self, snapshots: Mapping[str, Snapshot]) -> None:
        """Remember LLDP neighbours that are devices of this site (by sysName or inventory name)."""
        names = {d: d for d in self.devices}
        for d, s in snapshots.items():
            if s.facts.sys_name:
                names.setdefault(s.facts.sys_name, d)
        for d, s in snapshots.items():
            if not s.reachable:
                continue
            by_index = {p.ifindex: p.name for p in s.ports}
            for n in s.neighbors:
                other = names.get(n.sys_name)
                local = by_index.get(n.ifindex) if n.ifindex is not None else None
                if other is None or local is None or not n.port:
                    continue
                a, b = end(d, local), end(other, n.port)
                if a not in self.peers:
                    self.learned[a], self.learned[b] = b, a

    def neighbours(self, device: str) -> set[str]:
        """The devices of this site one link away (inventory or LLDP): the path a silent device is reached by.

        >>> t = Topology.from_links([("core:Gi1/0/49", "dist:Gi1/0/25", "backbone"), ("dist:Gi1/0/1", "pc", "")],
        ...                         devices=["core", "dist"])
        >>> sorted(t.neighbours("dist")), sorted(t.neighbours("core"))
        (['core'], ['dist'])
        """
        out = {split(b)[0] for a, b in {**self.learned, **self.peers}.items() if ":" in b and split(a)[0] == device}
        return {d for d in out - {device} if not self.devices or d in self.devices}

    def dark_edge(self, device: str, dark: set[str]) -> set[str]:
        """The devices that answer around the dark region a silent device belongs to: the path towards it.

        >>> t = Topology.from_links([("core:1", "dist:1", ""), ("dist:2", "acc:1", "")], ["core", "dist", "acc"])
        >>> t.dark_edge("acc", {"acc", "dist"}), t.dark_edge("acc", {"acc"})
        ({'core'}, {'dist'})
        """
        region, stack, edge = {device}, [device], set()
        while stack:
            for n in self.neighbours(stack.pop()):
                if n in region or n in edge:
                    continue
                if n in dark:
                    region.add(n)
                    stack.append(n)
                else:
                    edge.add(n)
        return edge

    def cut_off(self, reachable: set[str], down: set[frozenset[str]]) -> set[str]:
        """Devices with no path to a reachable device once the `down` links are removed."""
        adjacency: dict[str, set[str]] = {d: set() for d in self.devices}
        for a, b in {**self.learned, **self.peers}.items():
            if ":" not in b or frozenset((a, b)) in down:
                continue
            da, db = split(a)[0], split(b)[0]
            adjacency.setdefault(da, set()).add(db)
            adjacency.setdefault(db, set()).add(da)
        seen = set(reachable)
        stack = list(reachable)
        while stack:
            for nxt in adjacency.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return set(adjacency) - seen
