"""Scenario files: load and validate them, build the site they describe, and apply their steps.

The format is a contract (scenarios written by others are run with it): unknown keys are ignored,
but a malformed scenario is rejected with the file, the step and the reason before anything starts.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from monitor.common.errors import SaksiError
from monitor.common.names import canonical_port
from monitor.lab import hardware as lab_hardware
from monitor.lab.mib import TABLES
from monitor.lab.model import FIBRE_MEDIA, LabDevice, LabPort, LabSite, Module, TableFault

_HERE = Path(__file__).parent
ACTIONS = {
    "remove_transceiver", "insert_transceiver", "move_transceiver", "fail_transceiver", "unplug_cable",
    "plug_cable", "degrade_optics", "shutdown_port", "no_shutdown_port", "change_config", "reboot_device",
    "power_off_device", "power_on_device", "add_errors", "send_trap", "stop_answering", "cut_table",
}
_DEVICE_ONLY = {"reboot_device", "power_off_device", "power_on_device", "send_trap", "stop_answering", "cut_table"}
_RENUMBER = {True: "reverse", False: None, "reverse": "reverse", "shift": "shift"}
ACTIONS |= lab_hardware.ACTIONS  # fail_power_supply, fail_fan, overheat, fill_storage, fail_disk
_DEVICE_ONLY |= lab_hardware.ACTIONS


class ScenarioError(SaksiError):
    pass


@functools.cache
def lab_profiles() -> dict[str, Any]:
    return yaml.safe_load((_HERE / "platforms.yaml").read_text())


@dataclass(frozen=True)
class Step:
    at: float
    do: str
    args: dict[str, Any]
    number: int  # 1-based position in the file, for messages


@dataclass
class Scenario:
    name: str
    path: str
    site: dict[str, Any]
    poll_interval: float
    run_until: float
    steps: list[Step]
    traps: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


def _port_names(platform: dict[str, Any], count: int) -> list[str]:
    pattern = str(platform["port_name"])
    return [canonical_port(pattern.format(n=n, n0=n - 1)) for n in range(1, count + 1)]


def _serial(scenario: str, key: str) -> str:
    """A realistic, unique and stable serial (Cisco-like: 3 letters, 4 digits, 4 alphanumerics)."""
    h = hashlib.sha1(f"{scenario}/{key}".encode()).hexdigest().upper()
    return f"FNS{int(h[:6], 16) % 10000:04d}{h[6:10]}"


def load(path: str | Path) -> Scenario:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:  # a binary file is not a scenario either
        raise ScenarioError(f"{p}: cannot read scenario: {exc}") from None
    return parse(raw, str(p))


def parse(raw: object, where: str) -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: a scenario is a mapping with name, site, steps")
    problems: list[str] = []
    site = raw.get("site")
    if not isinstance(site, dict) or not isinstance(site.get("devices"), list):
        raise ScenarioError(f"{where}: site.devices is required")
    platforms = lab_profiles()["platforms"]
    ports: dict[str, set[str]] = {}
    platform_of: dict[str, str] = {}
    for i, d in enumerate(site["devices"], 1):
        if not isinstance(d, dict) or "name" not in d:
            problems.append(f"site.devices[{i}]: needs a name")
            continue
        plat = d.get("platform", "cisco_ios")
        if plat not in platforms:
            problems.append(f"device {d['name']}: unknown platform {plat!r} (known: {', '.join(sorted(platforms))})")
            continue
        count = d.get("ports", 28)
        if not isinstance(count, int) or not 1 <= count <= 512:
            problems.append(f"device {d['name']}: ports must be a number from 1 to 512")
            continue
        ports[d["name"]] = set(_port_names(platforms[plat], count))
        platform_of[d["name"]] = plat
    hosts: set[str] = set()

    def endpoint(ref: object, what: str, allow_host: bool = True) -> str | None:
        if not isinstance(ref, str) or not ref:
            problems.append(f"{what}: expected DEVICE:PORT")
            return None
        if ":" not in ref:
            if allow_host and ref not in ports:
                hosts.add(ref)
                return ref
            problems.append(f"{what}: {ref!r} is not DEVICE:PORT")
            return None
        dev, port = ref.split(":", 1)
        if dev not in ports:
            problems.append(f"{what}: unknown device {dev!r}")
            return None
        if canonical_port(port) not in ports[dev]:
            problems.append(f"{what}: {dev} has no port {port!r}")
            return None
        return f"{dev}:{canonical_port(port)}"

    cabled: dict[str, int] = {}
    for i, link in enumerate(site.get("links") or [], 1):
        if not isinstance(link, dict):
            problems.append(f"site.links[{i}]: expected a mapping")
            continue
        a, b = endpoint(link.get("a"), f"site.links[{i}].a", False), endpoint(link.get("b"), f"site.links[{i}].b")
        for end in (a, b):
            if end is not None and end not in hosts:
                if end in cabled:
                    problems.append(f"site.links[{i}]: {end} is already cabled (site.links[{cabled[end]}])")
                cabled[end] = i
        media = link.get("media", "copper")
        if media != "copper" and media not in FIBRE_MEDIA:
            problems.append(f"site.links[{i}]: unknown media {media!r}")
    steps: list[Step] = []
    raw_steps = raw.get("steps") or []
    if not isinstance(raw_steps, list):
        raise ScenarioError(f"{where}: steps must be a list")
    for n, s in enumerate(raw_steps, 1):
        what = f"step {n}"
        if not isinstance(s, dict):
            problems.append(f"{what}: expected a mapping")
            continue
        at, do = s.get("at"), s.get("do")
        if not isinstance(at, int | float) or isinstance(at, bool) or at < 0:
            problems.append(f"{what}: 'at' must be a time in seconds, 0 or later (got {at!r})")
            continue
        if do not in ACTIONS:
            problems.append(f"{what}: unknown action {do!r}")
            continue
        dev = s.get("device")
        if dev not in ports:
            problems.append(f"{what} ({do}): unknown device {dev!r}")
            continue
        if do not in _DEVICE_ONLY or do == "send_trap" and "port" in s:
            if do != "change_config" or "interface" in s or "port" in s:
                port = s.get("port", s.get("interface"))
                if endpoint(f"{dev}:{port}", f"{what} ({do})") is None:
                    continue
        if do == "move_transceiver":
            to_dev = s.get("to_device", dev)
            if endpoint(f"{to_dev}:{s.get('to_port')}", f"{what} (move_transceiver to)", False) is None:
                continue
        if do == "plug_cable" and endpoint(s.get("peer"), f"{what} (plug_cable peer)") is None:
            continue
        if do == "degrade_optics" and not isinstance(s.get("rx_dbm"), int | float):
            problems.append(f"{what}: degrade_optics needs rx_dbm")
        if do == "add_errors" and not isinstance(s.get("crc_per_s"), int):
            problems.append(f"{what}: add_errors needs crc_per_s (an integer)")
        if do == "change_config" and not isinstance(s.get("lines", []), list):
            problems.append(f"{what}: change_config lines must be a list")
        if do in ("stop_answering", "cut_table", "reboot_device") and (why := _check_fault(do, s)) is not None:
            problems.append(f"{what} ({do}): {why}")
            continue
        if do in lab_hardware.ACTIONS and (why := lab_hardware.check(
                do, s, platforms[platform_of[dev]].get("hardware"), platform_of[dev])) is not None:
            problems.append(f"{what} ({do}): {why}")
            continue
        steps.append(Step(float(at), do, {k: v for k, v in s.items() if k not in ("at", "do")}, n))
    if site.get("management", "oob") not in ("oob", "inband"):
        problems.append("site.management must be 'oob' (out of band, the default) or 'inband'")
    if site.get("monitor_at") is not None and site.get("monitor_at") not in ports:
        problems.append(f"site.monitor_at: unknown device {site.get('monitor_at')!r}")
    interval, until = raw.get("poll_interval", 60), raw.get("run_until")
    if not isinstance(interval, int | float) or interval <= 0:
        problems.append("poll_interval must be a positive number of seconds")
    if until is None:
        until = max((s.at for s in steps), default=0) + 3 * float(interval if isinstance(interval, int | float)
                                                                     else 60)
    if not isinstance(until, int | float) or until < 0:
        problems.append("run_until must be a time in seconds")
    if problems:
        raise ScenarioError(f"{where}: invalid scenario:\n  " + "\n  ".join(problems))
    return Scenario(name=str(raw.get("name") or Path(where).stem), path=where, site=site,
                    poll_interval=float(interval), run_until=float(until),
                    steps=sorted(steps, key=lambda s: (s.at, s.number)), traps=bool(site.get("traps", False)),
                    raw=raw)


def _check_fault(do: str, s: dict[str, Any]) -> str | None:
    """Why a reboot's `renumber` or a table fault step is malformed, or None."""
    known = ", ".join(sorted(TABLES))
    if do == "reboot_device":
        renumber = s.get("renumber", False)
        ok = isinstance(renumber, bool | str) and renumber in _RENUMBER
        return None if ok else f"renumber must be true, false, 'reverse' or 'shift' (got {renumber!r})"
    duration = s.get("duration")
    if duration is not None and (not isinstance(duration, int | float) or isinstance(duration, bool) or duration <= 0):
        return f"duration must be a positive number of seconds (got {duration!r})"
    if do == "stop_answering":
        tables = s.get("tables")
        if not isinstance(tables, list) or not tables:
            return f"needs tables: a list of table names (known: {known})"
        if unknown := [t for t in tables if t not in TABLES]:
            return f"unknown table {unknown[0]!r} (known: {known})"
        if s.get("how", "silent") not in ("silent", "empty"):
            return f"how must be 'silent' or 'empty' (got {s.get('how')!r})"
        return None
    if s.get("table") not in TABLES:
        return f"unknown table {s.get('table')!r} (known: {known})"
    rows = s.get("rows")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
        return f"rows must be a whole number of rows, 1 or more, kept before the walk breaks (got {rows!r})"
    return None


def _module(scn: Scenario, media: str, key: str, vendor: str) -> Module:
    spec = lab_profiles()["media"][media]
    common = lab_profiles()["module_common"]
    return Module(
        vendor=vendor, model=spec["model"], serial=_serial(scn.name, key), media=media,
        tx_dbm=spec["tx_dbm"], sensitivity_dbm=spec["sensitivity_dbm"],
        thresholds={"rx_power": tuple(spec["rx"]), "tx_power": tuple(spec["tx"]),
                    "temperature": tuple(common["temperature"]), "voltage": tuple(common["voltage"]),
                    "bias": tuple(common["bias"])},
    )


def build(scn: Scenario) -> LabSite:
    """The site at time 0: devices up for a month, modules in every fibre link's cages, cables patched."""
    site = LabSite()
    platforms = lab_profiles()["platforms"]
    for d in scn.site["devices"]:
        plat = platforms[d.get("platform", "cisco_ios")]
        dev = LabDevice(name=d["name"], platform=d.get("platform", "cisco_ios"), profile=plat,
                        hw=lab_hardware.build(plat.get("hardware")))
        names = _port_names(plat, d.get("ports", 28))
        cages = len(names) if plat["sfp_cages"] == "all" else int(plat["sfp_cages"])
        step = int(plat.get("ifindex_step", 1))
        for n, name in enumerate(names, 1):
            dev.ports[name] = LabPort(dev, n, int(plat["ifindex_base"]) + n * step, name, cage=n > len(names) - cages)
            dev.config_interfaces[name] = ["switchport mode access", "switchport access vlan 1"]
        dev.config_global = ["service timestamps log datetime msec", "vtp mode transparent", "vlan 1,10,20"]
        site.devices[dev.name] = dev
    for link in scn.site.get("links") or []:
        a_dev, a_port = link["a"].split(":", 1)
        a = site.devices[a_dev].port(a_port)
        media = link.get("media", "copper")
        b_ref = link["b"]
        ends = [a] + ([site.devices[b_ref.split(":")[0]].port(b_ref.split(":", 1)[1])] if ":" in b_ref else [])
        for end in ends:
            if media != "copper":
                end.module = _module(scn, media, f"{end.device.name}:{end.name}", str(end.device.profile["module_vendor"]))
            role = link.get("role", "access")
            if role in ("backbone", "uplink"):
                peer = b_ref if end is a else link["a"]
                end.device.config_interfaces[end.name] = [f"description {role.upper()} to {peer}",
                                                          "switchport mode trunk"]
        loss = lab_profiles()["media"][media]["loss_db"] if media != "copper" else 0.0
        site.connect(a, f"{ends[1].device.name}:{ends[1].name}" if len(ends) > 1 else b_ref,
                     "fibre" if media != "copper" else "copper", loss)
    if scn.site.get("management") == "inband":
        site.monitor_at = scn.site.get("monitor_at") or scn.site["devices"][0]["name"]
    site.settle(0.0)
    for d in site.devices.values():
        for p in d.ports.values():
            p.last_change = d.booted_at + 60  # links came up a minute after the last boot
    return site


def apply(site: LabSite, scn: Scenario, step: Step) -> None:
    """Change the physical world as the step says; `settle` then derives what the devices show."""
    a = step.args
    dev = site.devices[a["device"]]
    port_name = a.get("port", a.get("interface"))
    port: LabPort | None = dev.port(str(port_name)) if port_name else None
    now = step.at
    do = step.do
    if do == "remove_transceiver":
        assert port is not None
        if port.module is not None:
            site.last_removed, port.module = port.module, None
            dev.entity_changed_at = now
    elif do == "insert_transceiver":
        assert port is not None
        spec = a.get("transceiver", "removed")
        if spec == "removed":
            module = site.last_removed
            if module is None:
                raise ScenarioError(f"{scn.path}: step {step.number}: no module was removed before")
            site.last_removed = None
        else:
            media = spec.get("media", "1000base-lx")
            module = _module(scn, media, f"inserted-{step.number}", spec.get("vendor", "CISCO"))
            module.vendor, module.model = spec.get("vendor", module.vendor), spec.get("model", module.model)
            module.serial = spec.get("serial", module.serial)
        if port.module is None:
            port.module = module
            dev.entity_changed_at = now
    elif do == "move_transceiver":
        assert port is not None
        target_dev = site.devices[a.get("to_device", dev.name)]
        target = target_dev.port(a["to_port"])
        module = port.module
        if module is not None and target.module is None:
            port.module = None
            if not a.get("with_cable", True) and module.cable is not None:
                cable = module.cable
                cable.ends = [None if e is module else e for e in cable.ends]
                module.cable = None
            target.module = module
            dev.entity_changed_at = target_dev.entity_changed_at = now
    elif do == "fail_transceiver":
        assert port is not None and port.module is not None
        port.module.failed = True
    elif do == "unplug_cable":
        assert port is not None
        plugged = port.plugged_cable
        if plugged is not None:
            sock = port.socket
            plugged.ends = [None if e is sock else e for e in plugged.ends]
            if port.cage and port.module is not None:
                port.module.cable = None
            else:
                port.cable = None
    elif do == "plug_cable":
        assert port is not None
        peer_sock, _ = site.socket(a["peer"])
        dangling = next((c for c in site.cables if peer_sock in c.ends and None in c.ends), None)
        if dangling is not None:
            dangling.ends[dangling.ends.index(None)] = port.socket
            if isinstance(port.socket, Module | LabPort):
                port.socket.cable = dangling
        else:
            media = "fibre" if port.cage else "copper"
            site.connect(port, a["peer"], media, 1.0 if media == "fibre" else 0.0)
    elif do == "degrade_optics":
        assert port is not None
        port.rx_override_dbm = float(a["rx_dbm"])
    elif do in ("shutdown_port", "no_shutdown_port"):
        assert port is not None
        lines = dev.interface_config(port.name)
        if do == "shutdown_port" and "shutdown" not in lines:
            lines.append("shutdown")
        if do == "no_shutdown_port" and "shutdown" in lines:
            lines.remove("shutdown")
        dev.config_changed_at = now
    elif do == "change_config":
        lines = dev.interface_config(port.name) if port is not None else dev.config_global
        for line in a.get("remove", []) or []:
            if line in lines:
                lines.remove(line)
        lines += [line for line in a.get("lines", []) or [] if line not in lines]
        dev.config_changed_at = now
    elif do == "reboot_device":
        dev.down_until = now + float(a.get("duration", 120))
        dev.booted_at = dev.down_until
        if (how := _RENUMBER[a.get("renumber", False)]) is not None:
            dev.renumber(how)  # silent until it is back, so the old numbers are never seen with the new boot
    elif do == "stop_answering":
        until = now + float(a["duration"]) if a.get("duration") is not None else None
        for table in a["tables"]:
            dev.table_faults[table] = TableFault(a.get("how", "silent"), until=until)
    elif do == "cut_table":
        until = now + float(a["duration"]) if a.get("duration") is not None else None
        dev.table_faults[a["table"]] = TableFault("cut", rows=int(a["rows"]), until=until)
    elif do == "power_off_device":
        dev.powered = False
    elif do == "power_on_device":
        if not dev.powered:
            dev.powered = True
            dev.booted_at = now
    elif do == "add_errors":
        assert port is not None
        port.crc_per_s = int(a["crc_per_s"])
    elif do in lab_hardware.ACTIONS:
        lab_hardware.apply(dev, do, a, now)
    # send_trap changes nothing physical: the runner sends the trap for the current state.
