"""The physical model of a lab site: devices, cages, modules and cables, on a simulated clock.

Everything a switch would show is derived from this state (monitor.lab.mib renders it as SNMP):
a port is up only when both ends are powered and admin-up and, for fibre, both cages hold working
modules of compatible media joined by a cable with light above the receiver's sensitivity.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from monitor.common.names import canonical_port, short_port
from monitor.common.units import NO_LIGHT_DBM

FIBRE_MEDIA = {"1000base-sx", "1000base-lx", "1000base-zx", "10gbase-sr", "10gbase-lr", "10gbase-er",
               "25gbase-sr", "25gbase-lr", "100gbase-sr4", "100gbase-lr4"}


def jitter(key: str, scale: float) -> float:
    """Deterministic noise in [-scale, scale] for a key (module serial + time): replays are identical."""
    h = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big")
    return (h / 0xFFFFFFFF * 2 - 1) * scale


@dataclass
class Module:
    """A transceiver; it keeps its serial wherever it goes, and the cable end plugged into it."""

    vendor: str
    model: str
    serial: str
    media: str
    tx_dbm: float = -5.0
    sensitivity_dbm: float = -20.0
    thresholds: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)  # kind -> la, lw, hw, ha
    temperature_c: float = 34.0
    voltage_v: float = 3.3
    bias_ma: float = 6.0
    failed: bool = False
    cable: Cable | None = None

    @property
    def type_name(self) -> str:
        return {"1000base-sx": "1000BaseSX SFP", "1000base-lx": "1000BaseLX SFP", "1000base-zx": "1000BaseZX SFP",
                "10gbase-sr": "SFP-10GBase-SR", "10gbase-lr": "SFP-10GBase-LR"}.get(self.media, self.media.upper())

    def compatible(self, other: Module) -> bool:
        return self.media == other.media or (self.media.split("base")[0] == other.media.split("base")[0]
                                             and self.media[-2:] == other.media[-2:])


@dataclass
class Cable:
    """A patch cable; an end is a socket (a module, or a copper port) or None when it hangs loose."""

    media: str  # "fibre" | "copper"
    loss_db: float = 0.5
    ends: list[object | None] = field(default_factory=lambda: [None, None])

    def other(self, socket: object) -> object | None:
        if self.ends[0] is socket:
            return self.ends[1]
        if self.ends[1] is socket:
            return self.ends[0]
        return None


@dataclass
class Host:
    """A plain end host on copper (a PC, a printer): always on, never polled."""

    name: str


@dataclass
class LabPort:
    device: LabDevice
    index: int  # 1-based position
    ifindex: int
    name: str  # canonical
    cage: bool
    module: Module | None = None
    cable: Cable | None = None  # copper ports only; a cage's cable hangs off its module
    rx_override_dbm: float | None = None  # degrade_optics: the light reaching this port
    crc_per_s: int = 0
    in_errors: int = 0
    in_octets: int = 0
    out_octets: int = 0
    oper_up: bool = False
    last_change: float = 0.0  # simulated time of the last oper change

    @property
    def short(self) -> str:
        return short_port(self.name)

    @property
    def socket(self) -> object | None:
        return self.module if self.cage else self

    @property
    def plugged_cable(self) -> Cable | None:
        if self.cage:
            return self.module.cable if self.module is not None else None
        return self.cable

    @property
    def admin_up(self) -> bool:
        return "shutdown" not in self.device.interface_config(self.name)


@dataclass
class TableFault:
    """A table the device's agent does not serve properly, until `until` (None: for good).

    silent: requests inside it get no answer (a hung sub-agent); empty: it answers with no rows (an
    inventory process still starting after boot); cut: rows after the first `rows` answer genErr, so a
    walk ends short with an error.
    """

    how: str  # silent | empty | cut
    rows: int = 0
    until: float | None = None


@dataclass
class LabDevice:
    name: str
    platform: str
    profile: dict[str, object]
    ports: dict[str, LabPort] = field(default_factory=dict)
    powered: bool = True
    booted_at: float = -86400.0 * 30  # a month of uptime before the scenario starts
    down_until: float | None = None  # rebooting until this time
    config_global: list[str] = field(default_factory=list)
    config_interfaces: dict[str, list[str]] = field(default_factory=dict)
    entity_changed_at: float = -86400.0 * 30
    config_changed_at: float = -86400.0 * 30
    hw: LabHardware | None = None  # power, cooling, temperature, CPU, memory, disks (platforms.yaml `hardware`)
    table_faults: dict[str, TableFault] = field(default_factory=dict)  # table name -> how its agent misbehaves
    renumbered: int = 0  # how many times a reboot gave the ports new ifIndex values

    def faults(self, now: float) -> dict[str, TableFault]:
        """The table faults in force at `now` (a fault with an end stops at it)."""
        return {t: f for t, f in self.table_faults.items() if f.until is None or now < f.until}

    def renumber(self, how: str) -> None:
        """New ifIndex values for every port, as some platforms assign after a reboot; cages keep their modules.

        'reverse' hands the same numbers out in the opposite order (a port gets another port's old ifIndex,
        the hardest case for anything keyed by ifIndex); 'shift' moves them all past the old range.
        """
        ports = sorted(self.ports.values(), key=lambda p: p.index)
        if how == "shift":
            top = max(p.ifindex for p in ports)
            new = [top + 1000 + n for n in range(1, len(ports) + 1)]
        else:
            new = [p.ifindex for p in reversed(ports)]
        for p, ifindex in zip(ports, new, strict=True):
            p.ifindex = ifindex
        self.renumbered += 1

    def port(self, name: str) -> LabPort:
        canon = canonical_port(name)
        if canon in self.ports:
            return self.ports[canon]
        for p in self.ports.values():
            if name in (p.short, p.name):
                return p
        raise KeyError(f"{self.name} has no port {name!r}")

    def interface_config(self, port: str) -> list[str]:
        return self.config_interfaces.setdefault(port, [])

    def alive(self, now: float) -> bool:
        return self.powered and (self.down_until is None or now >= self.down_until)

    def running_config(self) -> str:
        lines = ["!", f"hostname {self.name}", "!", *self.config_global, "!"]
        for name in sorted(self.ports, key=lambda n: self.ports[n].index):
            lines.append(f"interface {name}")
            lines += [f" {line}" for line in self.config_interfaces.get(name, [])]
            lines.append("!")
        lines.append("end")
        return "\n".join(lines) + "\n"


class LabSite:
    """The whole site on one clock; `settle(now)` re-derives link state after every change."""

    def __init__(self) -> None:
        self.devices: dict[str, LabDevice] = {}
        self.hosts: dict[str, Host] = {}
        self.cables: list[Cable] = []
        self.now = 0.0
        self.version = 0  # bumps on every settle: agents cache their MIB view per version
        self.last_removed: Module | None = None
        self.monitor_at: str | None = None  # in-band management: the device the monitor reaches the site through
        self._managed: set[str] = set()

    # -- physics -------------------------------------------------------------------------
    def peer_of(self, port: LabPort) -> object | None:
        """The socket at the other end of this port's cable (module, copper port, or host)."""
        cable = port.plugged_cable
        if cable is None:
            return None
        return cable.other(port.socket)

    def port_of_socket(self, socket: object) -> LabPort | None:
        if isinstance(socket, LabPort):
            return socket
        if isinstance(socket, Module):
            for d in self.devices.values():
                for p in d.ports.values():
                    if p.module is socket:
                        return p
        return None

    def tx_of(self, port: LabPort) -> float:
        if not port.device.alive(self.now) or not port.admin_up:
            return NO_LIGHT_DBM
        if port.module is None or port.module.failed:
            return NO_LIGHT_DBM
        return port.module.tx_dbm

    def rx_dbm(self, port: LabPort) -> float:
        """The light reaching this port's module (what its DOM shows)."""
        if port.module is None:
            return NO_LIGHT_DBM
        peer = self.peer_of(port)
        peer_port = self.port_of_socket(peer) if peer is not None else None
        cable = port.plugged_cable
        if peer_port is None or not isinstance(peer, Module) or cable is None:
            light = NO_LIGHT_DBM
        else:
            tx = self.tx_of(peer_port)
            light = NO_LIGHT_DBM if tx <= NO_LIGHT_DBM else tx - cable.loss_db
        if port.rx_override_dbm is not None and light > NO_LIGHT_DBM:
            light = min(light, port.rx_override_dbm)
        return light

    def _side_ok(self, port: LabPort) -> bool:
        if not port.device.alive(self.now) or not port.admin_up:
            return False
        if port.cage:
            return port.module is not None and not port.module.failed
        return True

    def link_up(self, port: LabPort) -> bool:
        if not self._side_ok(port):
            return False
        cable = port.plugged_cable
        peer = self.peer_of(port)
        if cable is None or peer is None:
            return False
        if isinstance(peer, Host):
            return not port.cage and cable.media == "copper"
        peer_port = self.port_of_socket(peer)
        if peer_port is None or not self._side_ok(peer_port):
            return False
        if port.cage != peer_port.cage:
            return False
        if port.cage:
            assert port.module is not None and peer_port.module is not None
            if cable.media != "fibre" or not port.module.compatible(peer_port.module):
                return False
            return (self.rx_dbm(port) >= port.module.sensitivity_dbm
                    and self.rx_dbm(peer_port) >= peer_port.module.sensitivity_dbm)
        return cable.media == "copper"

    def settle(self, now: float) -> list[tuple[LabPort, bool]]:
        """Advance counters to `now` and re-derive every port's oper state; returns the ports that changed."""
        dt = max(0.0, now - self.now)
        self.now = now
        self.version += 1
        changed = []
        for d in self.devices.values():
            if d.hw is not None and d.hw.powers_off(now):
                d.powered = False  # thermal shutdown, or the last power supply gone: it stays off until powered on
        for d in self.devices.values():
            if d.down_until is not None and now >= d.down_until:
                d.down_until = None
            for p in d.ports.values():
                if p.oper_up and dt:
                    rate = 125_000 + int(abs(jitter(f"{d.name}{p.name}", 1.0)) * 2_000_000)
                    p.in_octets += int(rate * dt)
                    p.out_octets += int(rate * dt * 0.7)
                if p.crc_per_s and p.oper_up:
                    p.in_errors += int(p.crc_per_s * dt)
                up = self.link_up(p)
                if up != p.oper_up:
                    p.oper_up, p.last_change = up, now
                    changed.append((p, up))
        self._managed = self._reachable_from_monitor()
        return changed

    def _reachable_from_monitor(self) -> set[str]:
        """Devices the monitor can reach in band: a path of up links from the device it sits behind."""
        if self.monitor_at is None:
            return set(self.devices)
        root = self.devices.get(self.monitor_at)
        if root is None or not root.alive(self.now):
            return set()
        seen, stack = {root.name}, [root]
        while stack:
            d = stack.pop()
            for p in d.ports.values():
                if not p.oper_up:
                    continue
                peer = self.port_of_socket(self.peer_of(p))
                if peer is not None and peer.device.name not in seen:
                    seen.add(peer.device.name)
                    stack.append(peer.device)
        return seen

    def answers(self, device: LabDevice) -> bool:
        """The device is on and, with in-band management, the monitor still has a path to it."""
        return device.alive(self.now) and device.name in self._managed

    # -- wiring helpers used by the scenario builder and actions ---------------------------------
    def socket(self, ref: str) -> tuple[object, LabPort | None]:
        """'DEVICE:PORT' -> (socket, port); 'HOST' -> (host, None)."""
        if ":" not in ref:
            host = self.hosts.setdefault(ref, Host(ref))
            return host, None
        dev, port = ref.split(":", 1)
        p = self.devices[dev].port(port)
        return p.socket, p

    def connect(self, a: LabPort, b_ref: str, media: str, loss_db: float = 0.5) -> Cable:
        peer, _ = self.socket(b_ref)
        cable = Cable(media=media, loss_db=loss_db, ends=[a.socket, peer])
        for sock in (a.socket, peer):
            if isinstance(sock, Module | LabPort):
                sock.cable = cable
        self.cables.append(cable)
        return cable


# --- hardware health ----------------------------------------------------------------------------------
# What a device's health MIBs show is derived here: a dead power supply of a redundant pair changes one row
# and nothing else; the last one gone switches the device off. A dead fan makes the chassis run hotter; the
# temperature moves towards its target at the platform's rate and, past the shutdown threshold, the device
# powers itself off (and cools while it is off).


@dataclass
class LabFilesystem:
    mount: str
    disk: str
    size_bytes: int
    used_pct: float
    target_pct: float | None = None  # fill_storage: filling towards this...
    since: float = 0.0
    until: float = 0.0  # ...reached at this time

    def used_at(self, now: float) -> float:
        """Percent used at `now` (a linear fill between `since` and `until`)."""
        if self.target_pct is None or now >= self.until:
            return self.target_pct if self.target_pct is not None else self.used_pct
        if now <= self.since:
            return self.used_pct
        return self.used_pct + (self.target_pct - self.used_pct) * (now - self.since) / (self.until - self.since)

    def fill(self, now: float, percent: float, over_s: float) -> None:
        self.used_pct, self.target_pct = self.used_at(now), percent
        self.since, self.until = now, now + max(0.0, over_s)


@dataclass
class LabHardware:
    power_supplies: dict[str, bool] = field(default_factory=dict)  # name -> delivering power
    fans: dict[str, bool] = field(default_factory=dict)  # name -> spinning
    normal_c: float = 38.0
    warn_c: float = 60.0
    alarm_c: float = 68.0
    shutdown_c: float = 75.0
    heat_per_fan_c: float = 6.0  # a dead fan makes the chassis this much hotter
    rate_c_per_s: float = 2.0 / 60  # how fast the chassis temperature moves
    cpu_pct: float = 12.0
    cpus: int = 1
    memory_bytes: int = 512 * 2**20
    memory_used_pct: float = 40.0
    disks: dict[str, bool] = field(default_factory=dict)  # name -> working
    filesystems: dict[str, LabFilesystem] = field(default_factory=dict)
    temp_from: float = 38.0
    temp_to: float = 38.0
    temp_since: float = 0.0
    off_at: float | None = None  # when it switches itself off (heat) or loses its last power supply

    def temperature(self, now: float) -> float:
        moved = self.rate_c_per_s * max(0.0, now - self.temp_since)
        if self.temp_to >= self.temp_from:
            return min(self.temp_to, self.temp_from + moved)
        return max(self.temp_to, self.temp_from - moved)

    def heat_to(self, now: float, target: float) -> None:
        """The chassis temperature heads for `target`; the shutdown moment is known from the start."""
        self.temp_from, self.temp_to, self.temp_since = self.temperature(now), target, now
        if target >= self.shutdown_c:
            self.off_at = now + max(0.0, self.shutdown_c - self.temp_from) / self.rate_c_per_s
        elif self.off_at is not None and self.off_at > now and any(self.power_supplies.values()):
            self.off_at = None

    def fail_fan(self, now: float, name: str) -> None:
        if self.fans.get(name, False):
            self.fans[name] = False
            self.heat_to(now, self.temp_to + self.heat_per_fan_c)

    def fail_power_supply(self, now: float, name: str) -> None:
        self.power_supplies[name] = False
        if not any(self.power_supplies.values()):
            self.off_at = now

    def powers_off(self, now: float) -> bool:
        """True once when the device switches off; it is then cooled for when it is powered on again."""
        if self.off_at is None or now < self.off_at:
            return False
        self.off_at = None
        rest = self.normal_c + self.heat_per_fan_c * sum(1 for ok in self.fans.values() if not ok)
        self.temp_from = self.temp_to = rest
        self.temp_since = now
        if not any(self.power_supplies.values()):  # a technician replaces the power supplies before power-on
            self.power_supplies = {name: True for name in self.power_supplies}
        return True
