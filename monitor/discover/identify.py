"""Name a device's platform from its sysObjectID and sysDescr, by the rules in `platforms.yaml`."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_RULES_FILE = Path(__file__).parent / "platforms.yaml"
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Identity:
    """What a device is, as far as its system group tells: enough to pick collectors and SSH commands."""

    platform: str  # a netmiko device type, or "unknown"
    vendor: str
    kind: str  # switch | router | server | unknown
    cli_profile: bool  # Saksi has SSH commands for this platform (monitor/profiles/cli.yaml)

    @property
    def network(self) -> bool:
        """A box that forwards frames or packets (a link between two of them is backbone or uplink)."""
        return self.kind != "server"


@dataclass(frozen=True, slots=True)
class _Rule:
    platform: str
    vendor: str
    kind: str
    oids: tuple[str, ...]
    descr: re.Pattern[str] | None

    def matches(self, sys_object_id: str, sys_descr: str) -> bool:
        if self.oids and not any(under(sys_object_id, prefix) for prefix in self.oids):
            return False
        return self.descr is None or self.descr.search(sys_descr) is not None


def under(oid: str, prefix: str) -> bool:
    """True when `oid` is `prefix` or lies below it, arc by arc (a leading dot ignored).

    >>> under("1.3.6.1.4.1.9.1.1208", "1.3.6.1.4.1.9"), under("1.3.6.1.4.1.96.1", "1.3.6.1.4.1.9")
    (True, False)
    >>> under(".1.3.6.1.4.1.40418.7.53", "1.3.6.1.4.1.40418")
    True
    """
    oid, prefix = oid.strip().lstrip("."), prefix.strip().lstrip(".")
    return oid == prefix or oid.startswith(prefix + ".")


@functools.cache
def _rules() -> tuple[_Rule, ...]:
    raw = yaml.safe_load(_RULES_FILE.read_text())
    return tuple(
        _Rule(str(r["platform"]), str(r["vendor"]), str(r["kind"]), tuple(str(o) for o in r.get("oids") or ()),
              re.compile(str(r["descr"]), re.IGNORECASE) if r.get("descr") else None)
        for r in raw["rules"]
    )


@functools.cache
def _cli_platforms() -> frozenset[str]:
    from monitor.profiles import __file__ as profiles_init

    raw = yaml.safe_load((Path(profiles_init).parent / "cli.yaml").read_text())
    return frozenset(raw.get("platforms") or {})


def identify(sys_object_id: str, sys_descr: str) -> Identity:
    """The first rule that matches names the platform; a device no rule knows is `unknown`, not a guess.

    >>> identify("1.3.6.1.4.1.9.1.1208", "Cisco IOS Software, C2960X Software").platform
    'cisco_ios'
    >>> identify("1.3.6.1.4.1.99999.1", "Something").platform
    'unknown'
    """
    for rule in _rules():
        if rule.matches(sys_object_id, sys_descr):
            return Identity(rule.platform, rule.vendor, rule.kind, rule.platform in _cli_platforms())
    return Identity(UNKNOWN, "", UNKNOWN, False)
