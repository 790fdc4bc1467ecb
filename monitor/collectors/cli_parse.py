"""Pure parsing of CLI output: platform profiles, TextFSM (ntc-templates) rows, redaction and noise.

Nothing here does I/O, so tests feed it recorded outputs (ntc-templates' own fixtures and the lab's) and
the collector, the configuration history and the lab all share one reading of a vendor's text.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monitor.common.errors import SaksiError
from monitor.common.names import canonical_port
from monitor.model import (
    CliModule,
    CliNeighbor,
    CliPort,
    CliReading,
    InventoryItem,
    SensorKind,
    Thresholds,
)

log = logging.getLogger(__name__)
_PROFILES = Path(__file__).resolve().parent.parent / "profiles" / "cli.yaml"
ROLES = ("modules", "dom", "inventory", "lldp", "interfaces", "config")
_READINGS = {"rx_dbm": SensorKind.RX_POWER, "tx_dbm": SensorKind.TX_POWER, "temperature_c": SensorKind.TEMPERATURE,
             "voltage_v": SensorKind.VOLTAGE, "bias_ma": SensorKind.BIAS}
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_NO_VALUE = {"", "n/a", "na", "-", "--", "none", "not advertised"}


class CliError(SaksiError):
    """A command's output cannot be used: the device refused it, or the text is not what the template knows."""


class CommandRefused(CliError):
    """The command is outside the profile's read-only allow-list; it was never sent."""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    role: str
    command: str
    template: str  # the ntc-templates command name used to find the template
    fields: Mapping[str, str]
    port_from: str | None = None
    port_format: str = "{}"
    only_when: Mapping[str, str] = field(default_factory=dict)
    require: tuple[str, ...] = ()  # template fields that must be non-empty for a row to count
    thresholds: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RedactRule:
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class CliProfile:
    """One OS's CLI knowledge, as data from `profiles/cli.yaml`."""

    platform: str
    netmiko: str
    template_platform: str
    allow: tuple[re.Pattern[str], ...]
    commands: Mapping[str, CommandSpec]
    redact: tuple[RedactRule, ...]
    noise: tuple[re.Pattern[str], ...]
    marker: str
    config_complete: re.Pattern[str] | None
    status_words: Mapping[str, tuple[str, str]]
    error_markers: tuple[re.Pattern[str], ...]

    def allowed(self, command: str) -> bool:
        """True when the command is one the profile lets Saksi send (read-only verbs only).

        >>> p = cli_profile("cisco_ios")
        >>> p.allowed("show running-config"), p.allowed("configure terminal"), p.allowed("show run | redirect x")
        (True, False, False)
        """
        return any(rx.fullmatch(command.strip()) for rx in self.allow) and "\n" not in command


@functools.cache
def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(_PROFILES.read_text())
    return data


def platforms() -> list[str]:
    return sorted(_raw()["platforms"])


@functools.cache
def cli_profile(platform: str) -> CliProfile:
    """The profile of a platform; raises CliError for a platform Saksi has no CLI knowledge of."""
    raw = _raw()
    spec = raw["platforms"].get(platform)
    if spec is None:
        raise CliError(f"no CLI profile for platform {platform!r} (known: {', '.join(platforms())})")
    commands = {}
    for role, c in (spec.get("commands") or {}).items():
        commands[role] = CommandSpec(
            role=role, command=c["command"], template=c.get("template", c["command"]), fields=c.get("fields", {}),
            port_from=c.get("port_from"), port_format=c.get("port_format", "{}"), only_when=c.get("only_when", {}),
            require=tuple(c.get("require", ())), thresholds=c.get("thresholds", {}))
    allow = tuple(re.compile(p) for p in spec["allow"])
    for c in commands.values():
        if not any(rx.fullmatch(c.command) for rx in allow):
            raise CliError(f"profile {platform}: command {c.command!r} is outside its own allow-list")
    complete = raw.get("config_complete", {}).get(platform)
    return CliProfile(
        platform=platform, netmiko=spec["netmiko"], template_platform=spec.get("template_platform", platform),
        allow=allow, commands=commands,
        redact=tuple(RedactRule(re.compile(r["pattern"])) for r in spec.get("redact") or []),
        noise=tuple(re.compile(p) for p in spec.get("noise") or []), marker=raw.get("redact_marker", "<redacted>"),
        config_complete=re.compile(complete) if complete else None,
        status_words={k.lower(): (v[0], v[1]) for k, v in (raw.get("status_words") or {}).items()},
        error_markers=tuple(re.compile(p, re.MULTILINE | re.IGNORECASE) for p in raw.get("error_markers") or []),
    )


# -- device errors and TextFSM -------------------------------------------------------------------------

def device_error(profile: CliProfile, raw: str) -> str | None:
    """The device's own complaint in an output ("% Invalid input..."), or None when it looks like data."""
    for rx in profile.error_markers:
        m = rx.search(raw)
        if m:
            line = raw[m.start():].splitlines()[0].strip()
            return line[:120]
    return None


def parse_rows(profile: CliProfile, spec: CommandSpec, raw: str) -> list[dict[str, Any]]:
    """TextFSM rows of an output; raises CliError for a refused command or text the template rejects."""
    from ntc_templates.parse import ParsingException, parse_output
    from textfsm import TextFSMError

    complaint = device_error(profile, raw)
    if complaint is not None:
        raise CliError(f"{spec.command!r}: device said {complaint!r}")
    try:
        rows: list[dict[str, Any]] = parse_output(platform=profile.template_platform, command=spec.template, data=raw)
    except (TextFSMError, ParsingException) as exc:  # netmiko 4.8 would raise TextFSMError out of send_command
        raise CliError(f"{spec.command!r}: output not understood ({type(exc).__name__})") from None
    return rows


# -- rows -> Saksi records ----------------------------------------------------------------------------

def _text(row: Mapping[str, Any], key: str | None) -> str:
    if not key:
        return ""
    v = row.get(key, "")
    if isinstance(v, list):
        v = " ".join(str(x) for x in v)
    v = str(v).strip()
    return "" if v.lower() in _NO_VALUE else v


def number(text: str) -> float | None:
    """A reading from CLI text, or None when the device says it has none.

    >>> number("-3.0"), number("N/A"), number(" 23.5 C"), number("-40.00 --"), number("")
    (-3.0, None, 23.5, -40.0, None)
    """
    if text.strip().lower() in _NO_VALUE:
        return None
    m = _NUMBER.search(text)
    return float(m.group()) if m else None


def _port(spec: CommandSpec, row: Mapping[str, Any], key: str | None) -> str:
    name = _text(row, key)
    if not name:
        return ""
    try:
        name = spec.port_format.format(name, **{k: _text(row, k) for k in row})
    except (KeyError, IndexError):
        pass
    return canonical_port(name)


def _wanted(spec: CommandSpec, row: Mapping[str, Any]) -> bool:
    return (all(_text(row, k).lower() == v.lower() for k, v in spec.only_when.items())
            and all(_text(row, k) for k in spec.require))


def to_modules(spec: CommandSpec, rows: Iterable[Mapping[str, Any]]) -> list[CliModule]:
    """Pluggable modules; with `port_from`, only rows that name a port (an inventory's transceiver rows)."""
    f, out, seen = spec.fields, [], set()
    for row in rows:
        if not _wanted(spec, row):
            continue
        port = _port(spec, row, spec.port_from or f.get("port"))
        serial = _text(row, f.get("serial"))
        if not port or not serial or (spec.port_from and not _looks_like_port(port, spec)) or port in seen:
            continue
        seen.add(port)
        out.append(CliModule(port=port, vendor=_text(row, f.get("vendor")), model=_text(row, f.get("model")),
                             serial=serial, descr=_text(row, f.get("descr")), revision=_text(row, f.get("revision")),
                             source=f"ssh:{spec.command}"))
    return out


def _looks_like_port(port: str, spec: CommandSpec) -> bool:
    """An inventory row names a port when its name has a slot/port number (not "Chassis" or "Power Supply 1")."""
    return spec.port_format != "{}" or bool(re.search(r"\d+/\d+|^[A-Za-z\-]*Ethernet\d", port))


def to_readings(spec: CommandSpec, rows: Iterable[Mapping[str, Any]]) -> list[CliReading]:
    out = []
    for row in rows:
        port = _port(spec, row, spec.fields.get("port"))
        if not port:
            continue
        lane_text = _text(row, spec.fields.get("lane"))
        lane = int(lane_text) if lane_text.isdigit() else None
        for key, kind in _READINGS.items():
            value = number(_text(row, spec.fields.get(key)))
            if value is None:
                continue
            out.append(CliReading(port=port, kind=kind, value=value, lane=lane, source=f"ssh:{spec.command}",
                                  thresholds=_thresholds(row, spec.thresholds.get(key))))
    return out


def _thresholds(row: Mapping[str, Any], prefix: str | None) -> Thresholds:
    if not prefix:
        return Thresholds()

    def get(suffix: str) -> float | None:
        return number(_text(row, f"{prefix}_{suffix}"))

    return Thresholds(get("alarm_low"), get("warn_low"), get("warn_high"), get("alarm_high"))


def to_neighbors(spec: CommandSpec, rows: Iterable[Mapping[str, Any]]) -> list[CliNeighbor]:
    f, out = spec.fields, []
    for row in rows:
        local = _port(spec, row, f.get("local_port"))
        if not local:
            continue
        port = _text(row, f.get("port")) or _text(row, f.get("port_descr"))
        out.append(CliNeighbor(local_port=local, sys_name=_text(row, f.get("sys_name")), port=port,
                               port_descr=_text(row, f.get("port_descr")), chassis_id=_text(row, f.get("chassis_id")),
                               source=f"ssh:{spec.command}"))
    return out


def to_ports(profile: CliProfile, spec: CommandSpec, rows: Iterable[Mapping[str, Any]]) -> list[CliPort]:
    f, out = spec.fields, []
    for row in rows:
        name = _port(spec, row, f.get("port"))
        if not name:
            continue
        status = _text(row, f.get("status"))
        admin, oper = profile.status_words.get(status.lower(), ("unknown", "unknown"))
        enabled = _text(row, f.get("admin")).lower()
        if enabled in ("no", "disabled"):
            admin, oper = "down", "down"
        out.append(CliPort(name=name, status=status, admin=admin, oper=oper,
                           description=_text(row, f.get("description")), vlan=_text(row, f.get("vlan")),
                           speed=_text(row, f.get("speed")), duplex=_text(row, f.get("duplex")),
                           type=_text(row, f.get("type")), source=f"ssh:{spec.command}"))
    return out


def to_inventory(spec: CommandSpec, rows: Iterable[Mapping[str, Any]]) -> list[InventoryItem]:
    f = spec.fields
    return [InventoryItem(name=_text(r, f.get("name")), descr=_text(r, f.get("descr")), model=_text(r, f.get("model")),
                          revision=_text(r, f.get("revision")), serial=_text(r, f.get("serial")),
                          source=f"ssh:{spec.command}")
            for r in rows if _text(r, f.get("serial")) or _text(r, f.get("model"))]


# -- configuration text --------------------------------------------------------------------------------

def redact(text: str, profile: CliProfile) -> str:
    """Replace every secret by the marker, line by line; the result is safe to store, log and show.

    >>> p = cli_profile("cisco_ios")
    >>> print(redact("enable secret 5 $1$abc$xyz\\nsnmp-server community s3cret RO\\nhostname sw1", p))
    enable secret 5 <redacted>
    snmp-server community <redacted> RO
    hostname sw1
    """
    out = []
    # Lines end at a newline only, as the device sends them: str.splitlines() would also break at form feeds and
    # Unicode separators, and the part of a secret after one would be kept as a line of its own.
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        for rule in profile.redact:
            m = rule.pattern.match(line)
            if m:
                tail = m.group(2) if (rule.pattern.groups >= 2 and m.group(2)) else ""
                line = f"{m.group(1)}{profile.marker}{tail}"
                break
        out.append(line)
    return "\n".join(out)


def strip_noise(text: str, profile: CliProfile) -> str:
    """Drop the lines that change without anybody changing the configuration (clock, uptime, banners).

    >>> print(strip_noise("Building configuration...\\n\\n! Last configuration change at 10:00\\nhostname a\\n",
    ...                   cli_profile("cisco_ios")), end="")
    hostname a
    """
    kept = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            if not any(rx.search(line) for rx in profile.noise)]
    return "\n".join(kept).strip("\n") + "\n"


def config_problem(text: str, profile: CliProfile) -> str | None:
    """Why a fetched configuration must not be stored (refused, empty, truncated), or None when it is whole."""
    complaint = device_error(profile, text)
    if complaint is not None:
        return f"device said {complaint!r}"
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return "configuration is empty"
    if profile.config_complete is not None and not profile.config_complete.search(lines[-1]):
        return "configuration looks truncated (its last line is not the platform's end marker)"
    return None
