"""Configuration changes an engineer reads in one glance: per section, per port, with the hierarchy understood.

hier_config parses each platform's configuration into its tree and knows which commands replace each other
(`switchport mode access` → `switchport mode trunk` is one change, not a removal and an addition); Junos `set`
lines are grouped by their `interfaces NAME` prefix. Pure functions of two texts: no storage, no clock.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hier_config import Platform, get_hconfig

from monitor.common.names import canonical_port, port_label

log = logging.getLogger(__name__)
_PLATFORMS = {"cisco_ios": Platform.CISCO_IOS, "cisco_nxos": Platform.CISCO_NXOS, "arista_eos": Platform.ARISTA_EOS,
              "juniper_junos": Platform.JUNIPER_JUNOS, "hp_procurve": Platform.HP_PROCURVE,
              "huawei_vrp": Platform.HUAWEI_VRP}
_PORT_SECTION = ("interface ", "interfaces ")


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """One line that appeared, disappeared, or replaced another, inside its section ("" = global)."""

    section: str
    kind: str  # added | removed | changed
    line: str
    old: str = ""

    @property
    def port(self) -> str | None:
        """The canonical port a section configures, or None for any other section."""
        for prefix in _PORT_SECTION:
            if self.section.startswith(prefix):
                return canonical_port(self.section[len(prefix):].split()[0])
        return None

    def __str__(self) -> str:
        """The change as an engineer writes it.

        >>> print(ConfigChange("interface GigabitEthernet1/0/50", "changed", "switchport mode trunk",
        ...                    "switchport mode access"))
        GigabitEthernet1/0/50: switchport mode access → trunk
        >>> print(ConfigChange("interface GigabitEthernet1/0/49", "added", "shutdown"))
        GigabitEthernet1/0/49: + shutdown
        """
        where = port_label(self.port) if self.port else (self.section or "global")
        if self.kind == "changed":
            return f"{where}: {_arrow(self.old, self.line)}"
        return f"{where}: {'+' if self.kind == 'added' else '-'} {self.line}"


def _arrow(old: str, new: str) -> str:
    """ "a b c" → "a b d" written as "a b c → d" (the shared words once)."""
    o, n = old.split(), new.split()
    k = 0
    while k < min(len(o), len(n)) - 1 and o[k] == n[k]:
        k += 1
    head = " ".join(o[:k])
    return f"{head + ' ' if head else ''}{' '.join(o[k:])} → {' '.join(n[k:])}"


def changes(old: str, new: str, platform: str) -> list[ConfigChange]:
    """Every change from one configuration to the next, section by section, in the new configuration's order."""
    if platform == "juniper_junos":
        return _diff_children("", _junos_tree(old), _junos_tree(new), None)
    if platform == "mikrotik_routeros":
        return _diff_children("", _routeros_tree(old), _routeros_tree(new), None)
    plat = _PLATFORMS.get(platform, Platform.GENERIC)
    return _diff_children("", get_hconfig(plat, old), get_hconfig(plat, new), None)


def port_summary(old: str, new: str, platform: str, port: str | None = None) -> list[str]:
    """The lines of `changes` as text; with `port`, only that port's section ("Gi1/0/49: + shutdown")."""
    want = canonical_port(port) if port else None
    return [str(c) for c in changes(old, new, platform) if want is None or c.port == want]


# -- tree comparison ----------------------------------------------------------------------------------

class _Node:
    """A minimal tree for Junos `set` lines (hier_config keeps them flat)."""

    driver = None

    def __init__(self, text: str) -> None:
        self.text = text
        self.children_map: dict[str, _Node] = {}

    @property
    def children(self) -> list[_Node]:
        return list(self.children_map.values())


def _junos_tree(text: str) -> _Node:
    root = _Node("")
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("set "):
            continue
        words = line[4:].split()
        if words[0] == "interfaces" and len(words) > 2:
            section, rest = f"interfaces {words[1]}", " ".join(words[2:])
            node = root.children_map.setdefault(section, _Node(section))
            node.children_map.setdefault(rest, _Node(rest))
        else:
            root.children_map.setdefault(" ".join(words), _Node(" ".join(words)))
    return root


_ROS_PORT = re.compile(r"\[ find default-name=(\S+) \]|\binterface=(\S+)")
_ROS_PROP = re.compile(r'[\w-]+=(?:"(?:[^"\\]|\\.)*"|\S*)')


def routeros_port(line: str) -> str | None:
    """The port a RouterOS export line configures, or None.

    >>> routeros_port('/interface ethernet set [ find default-name=sfp-sfpplus3 ] comment="uplink"')
    'sfp-sfpplus3'
    >>> routeros_port("/interface bridge port add bridge=bridge1 interface=ether2"), routeros_port("/snmp set")
    ('ether2', None)
    """
    m = _ROS_PORT.search(line)
    return (m.group(1) or m.group(2)) if m else None


def _routeros_tree(text: str) -> _Node:
    """RouterOS `/export terse` lines, those that name a port grouped under it one property per line."""
    root = _Node("")
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("/"):
            continue
        port = routeros_port(line)
        if port is None:
            root.children_map.setdefault(line, _Node(line))
            continue
        menu = line.split(" set ", 1)[0].split(" add ", 1)[0]
        node = root.children_map.setdefault(f"interface {port}", _Node(f"interface {port}"))
        for prop in _ROS_PROP.findall(_ROS_PORT.sub("", line)):
            node.children_map.setdefault(f"{menu} {prop}", _Node(f"{menu} {prop}"))
    return root


def _diff_children(section: str, old: Any, new: Any, driver: Any) -> list[ConfigChange]:
    old_kids = {c.text: c for c in old.children}
    new_kids = {c.text: c for c in new.children}
    out: list[ConfigChange] = []
    removed = [c for t, c in old_kids.items() if t not in new_kids and not c.children]
    paired: set[str] = set()
    for text, child in new_kids.items():
        if text in old_kids:
            if child.children or old_kids[text].children:
                out += _diff_children(_join(section, text), old_kids[text], child, driver)
            continue
        if child.children:  # a new section: every line in it is new
            out += [ConfigChange(_join(section, text), "added", c) for c in _leaves(child)]
            continue
        before = _replaced(child, [r for r in removed if r.text not in paired])
        if before is not None:
            paired.add(before.text)
            out.append(ConfigChange(section, "changed", text, before.text))
        else:
            out.append(ConfigChange(section, "added", text))
    for text, child in old_kids.items():
        if text in new_kids or text in paired:
            continue
        if child.children:
            out += [ConfigChange(_join(section, text), "removed", c) for c in _leaves(child)]
        else:
            out.append(ConfigChange(section, "removed", text))
    return out


def _replaced(child: Any, removed: list[Any]) -> Any | None:
    """The removed line this new line replaces: hier_config's idempotency rules, else the same command words."""
    if not removed:
        return None
    driver = getattr(child, "driver", None)
    if driver is not None:
        try:
            hit = driver.idempotent_for(child, removed)
        except (AttributeError, TypeError):  # a rule that does not apply to this tree shape
            hit = None
        if hit is not None:
            return hit
    words = child.text.split()
    same_head = [r for r in removed if r.text.split()[:-1] == words[:-1]]
    if len(words) > 1 and len(same_head) == 1:
        return same_head[0]
    first = [r for r in removed if r.text.split()[0] == words[0]]
    return first[0] if len(first) == 1 and words[0] in ("description", "name", "hostname", "alias") else None


def _leaves(node: Any, prefix: str = "") -> Iterable[str]:
    for c in node.children:
        text = f"{prefix}{c.text}"
        if c.children:
            yield from _leaves(c, text + " ")
        else:
            yield text


def _join(section: str, text: str) -> str:
    return f"{section} / {text}" if section else text


def section_text(text: str, port: str, platform: str) -> str:
    """Only the lines that configure one port (its `interface` block, or its Junos `set interfaces` lines)."""
    want, out, inside = canonical_port(port), [], False
    for line in text.splitlines():
        words = line.split()
        if platform == "mikrotik_routeros":
            port_of = routeros_port(line)
            if port_of is not None and canonical_port(port_of) == want:
                out.append(line)
            continue
        if platform == "juniper_junos":
            if len(words) > 2 and words[:2] == ["set", "interfaces"] and canonical_port(words[2]) == want:
                out.append(line)
            continue
        if line and not line[0].isspace():
            inside = len(words) >= 2 and words[0] == "interface" and canonical_port(words[1]) == want
        if inside:
            out.append(line)
    return "\n".join(out) + ("\n" if out else "")
