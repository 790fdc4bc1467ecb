"""What a lab device prints on its CLI, rendered live from the physical model in each platform's real format.

The layouts copy real devices' output (ntc-templates' fixtures), so the real collector parses them with the
real templates; values come from the same model as the SNMP agent's, so both sources agree unless a test
makes them differ.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from monitor.common.names import short_port
from monitor.lab.mib import _mac, dom_values
from monitor.lab.model import LabDevice, LabPort, LabSite, jitter

Renderer = Callable[[LabSite, LabDevice, float], str]
SECRET_LINES = ("enable secret 5 $1$lab$Q9saksiSecretHash0", "username admin privilege 15 secret 5 $1$lab$adminHash",
                "snmp-server community saksi-lab RO")


def _chassis_mac(device: str) -> str:
    raw = _mac(device, 0).hex()
    return f"{raw[0:4]}.{raw[4:8]}.{raw[8:12]}"


def _clock(now: float) -> str:
    return time.strftime("%H:%M:%S UTC %a %b %d %Y", time.gmtime(1_700_000_000 + now))


def _cages(d: LabDevice) -> list[LabPort]:
    return [p for p in sorted(d.ports.values(), key=lambda p: p.index) if p.cage and p.module is not None]


def _peer(site: LabSite, p: LabPort) -> LabPort | None:
    if not p.oper_up:
        return None
    peer = site.peer_of(p)
    return site.port_of_socket(peer) if peer is not None else None


def _serial(d: LabDevice) -> str:
    return f"FOC{abs(int(jitter(d.name, 1e7))):07d}"


def _status_word(p: LabPort) -> str:
    if not p.admin_up:
        return "disabled"
    return "connected" if p.oper_up else "notconnect"


def _vlan(p: LabPort) -> str:
    lines = p.device.interface_config(p.name)
    if "switchport mode trunk" in lines:
        return "trunk"
    return next((line.split()[-1] for line in lines if line.startswith("switchport access vlan")), "1")


def _descr(p: LabPort) -> str:
    return next((line[len("description "):] for line in p.device.interface_config(p.name)
                 if line.startswith("description ")), "")


# -- Cisco IOS -------------------------------------------------------------------------------------------

def ios_running_config(site: LabSite, d: LabDevice, now: float) -> str:
    body = d.running_config().replace("!\nhostname", "!\n" + "\n".join(SECRET_LINES) + "\nhostname", 1)
    return (f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n"
            f"!\n! Last configuration change at {_clock(now)} by saksi\n"
            f"ntp clock-period {17179000 + int(abs(jitter(f'{d.name}{int(now)}', 900)))}\n{body}")


def ios_inventory(site: LabSite, d: LabDevice, now: float) -> str:
    out = [f'NAME: "1", DESCR: "{d.platform} chassis"',
           f"PID: {d.profile.get('chassis_model', 'WS-C2960X-48FPD-L'):<18}, VID: V05  , SN: {_serial(d)}", ""]
    for p in _cages(d):
        m = p.module
        assert m is not None
        out += [f'NAME: "{p.name}", DESCR: "{m.type_name}"', f"PID: {m.model:<18}, VID: V01  , SN: {m.serial}", ""]
    return "\n".join(out) + "\n"


def ios_transceiver(site: LabSite, d: LabDevice, now: float) -> str:
    out = ["If device is externally calibrated, only calibrated values are printed.",
           "++ : high alarm, +  : high warning, -  : low warning, -- : low alarm.",
           "NA or N/A: not applicable, Tx: transmit, Rx: receive.", "mA: milliamperes, dBm: decibels (milliwatts).", "",
           "                                             Optical   Optical",
           "             Temperature  Voltage  Current   Tx Power  Rx Power",
           "Port         (Celsius)    (Volts)  (mA)      (dBm)     (dBm)",
           "---------    -----------  -------  --------  --------  --------"]
    for p in _cages(d):
        v = dom_values(site, p, now)
        out.append(f"{p.short:<13}{v['temperature']:>4.1f}       {v['voltage']:.2f}      {v['bias']:>4.1f}"
                   f"     {v['tx_power']:>5.1f}     {v['rx_power']:>5.1f}")
    return "\n".join(out) + "\n"


def ios_lldp(site: LabSite, d: LabDevice, now: float) -> str:
    out, n = [], 0
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        peer = _peer(site, p)
        if peer is None:
            continue
        n += 1
        out += ["------------------------------------------------", f"Local Intf: {p.short}",
                f"Chassis id: {_chassis_mac(peer.device.name)}", f"Port id: {peer.short}",
                f"Port Description: {peer.name}", f"System Name: {peer.device.name}", "", "System Description: ",
                str(peer.device.profile["sys_descr"]), "", "Time remaining: 101 seconds",
                "System Capabilities: B,R", "Enabled Capabilities: B", "Management Addresses - not advertised",
                "Auto Negotiation - not supported", "Physical media capabilities - not advertised",
                "Media Attachment Unit type - not advertised", "Vlan ID: - not advertised", ""]
    out += ["", f"Total entries displayed: {n}"]
    return "\n".join(out) + "\n"


def ios_status(site: LabSite, d: LabDevice, now: float) -> str:
    out = ["", "Port      Name               Status       Vlan       Duplex  Speed Type"]
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        kind = p.module.type_name if p.cage and p.module else ("Not Present" if p.cage else "10/100/1000BaseTX")
        up = p.oper_up
        out.append(f"{p.short:<10}{_descr(p)[:18]:<19}{_status_word(p):<13}{_vlan(p):<11}"
                   f"{'a-full' if up else 'auto':>6} {'a-1000' if up else 'auto':>6} {kind}")
    return "\n".join(out) + "\n"


# -- Cisco NX-OS -----------------------------------------------------------------------------------------

def nxos_running_config(site: LabSite, d: LabDevice, now: float) -> str:
    return (f"\n!Command: show running-config\n!Running configuration last done at: {_clock(now)}\n"
            f"!Time: {_clock(now)}\n\nversion 10.3(4a) Bios:version 05.47\n" + d.running_config())


def nxos_transceiver(site: LabSite, d: LabDevice, now: float) -> str:
    out = []
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        if p.module is None:
            out += [p.name, "    transceiver is not present", ""]
            continue
        m = p.module
        out += [p.name, "    transceiver is present", f"    type is {m.type_name}", f"    name is {m.vendor}",
                f"    part number is {m.model}", "    revision is A", f"    serial number is {m.serial}",
                "    nominal bitrate is 10300 MBit/sec", "    cisco id is --", "    cisco extended id number is 4", ""]
    return "\n".join(out) + "\n"


def nxos_transceiver_details(site: LabSite, d: LabDevice, now: float) -> str:
    out = []
    for p in _cages(d):
        m = p.module
        assert m is not None
        v = dom_values(site, p, now)
        t = m.thresholds

        def row(label: str, key: str, unit: str, value: float, t: dict[str, tuple[float, float, float, float]] = t) -> str:
            la, lw, hw, ha = t[key]
            return (f"  {label:<13}{value:>7.2f} {unit:<4}   {ha:>7.2f} {unit:<4} {la:>7.2f} {unit:<4}"
                    f" {hw:>7.2f} {unit:<4}   {lw:>7.2f} {unit}")

        out += [p.name, "    transceiver is present", f"    type is {m.type_name}", f"    name is {m.vendor}",
                f"    part number is {m.model}", "    revision is A", f"    serial number is {m.serial}",
                "    nominal bitrate is 10300 MBit/sec", "    cisco id is --", "    cisco extended id number is 4",
                "    number of lanes 1", "",
                "           SFP Detail Diagnostics Information (internal calibration)",
                "  ----------------------------------------------------------------------------",
                "                Current              Alarms                  Warnings",
                "                Measurement     High        Low         High          Low",
                "  ----------------------------------------------------------------------------",
                row("Temperature", "temperature", "C", v["temperature"]), row("Voltage", "voltage", "V", v["voltage"]),
                row("Current", "bias", "mA", v["bias"]), row("Tx Power", "tx_power", "dBm", v["tx_power"]),
                row("Rx Power", "rx_power", "dBm", v["rx_power"]), "  Transmit Fault Count = 0",
                "  ----------------------------------------------------------------------------",
                "  Note: ++  high-alarm; +  high-warning; --  low-alarm; -  low-warning", ""]
    return "\n".join(out) + "\n"


def nxos_inventory(site: LabSite, d: LabDevice, now: float) -> str:
    out = ['NAME: "Chassis",  DESCR: "Nexus9000 C93180YC-FX Chassis"',
           f"PID: N9K-C93180YC-FX     ,  VID: V02 ,  SN: {_serial(d)}", ""]
    for p in _cages(d):
        m = p.module
        assert m is not None
        out += [f'NAME: "{p.name}",  DESCR: "{m.type_name}"', f"PID: {m.model:<20},  VID: A   ,  SN: {m.serial}", ""]
    return "\n".join(out) + "\n"


def nxos_lldp(site: LabSite, d: LabDevice, now: float) -> str:
    out = ["Capability codes:", "  (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device",
           "  (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other",
           "Device ID            Local Intf      Hold-time  Capability  Port ID  ", ""]
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        peer = _peer(site, p)
        if peer is None:
            continue
        out += [f"Chassis id: {_chassis_mac(peer.device.name)}", f"Port id: {peer.name}",
                f"Local Port id: {short_port(p.name).replace('Et', 'Eth', 1)}", f"Port Description: {peer.name}",
                f"System Name: {peer.device.name}", f"System Description: {peer.device.profile['sys_descr']}",
                "Time remaining: 97 seconds", "System Capabilities: B, R", "Enabled Capabilities: B, R",
                "Management Address: not advertised", "Management Address IPV6: not advertised",
                "Vlan ID: not advertised", "", ""]
    return "\n".join(out) + "\n"


def nxos_status(site: LabSite, d: LabDevice, now: float) -> str:
    out = ["", "-" * 80, "Port          Name               Status    Vlan      Duplex  Speed   Type", "-" * 80]
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        kind = p.module.type_name if p.module else "--"
        status = {"notconnect": "notconnec"}.get(_status_word(p), _status_word(p))
        if p.cage and p.module is None and p.admin_up:
            status = "xcvrAbsen"
        up = p.oper_up
        out.append(f"{short_port(p.name).replace('Et', 'Eth', 1):<14}{_descr(p)[:18]:<19}{status:<10}{_vlan(p):<10}"
                   f"{'full' if up else 'auto':<8}{'10G' if up else 'auto':<8}{kind}")
    return "\n".join(out) + "\n"


# -- Arista EOS ------------------------------------------------------------------------------------------

def eos_running_config(site: LabSite, d: LabDevice, now: float) -> str:
    return (f"! Command: show running-config\n! device: {d.name} (DCS-7050SX3-48YC8, EOS-4.28.3M)\n!\n"
            f"! boot system flash:/EOS-4.28.3M.swi\n" + d.running_config())


def eos_inventory(site: LabSite, d: LabDevice, now: float) -> str:
    out = ["System information", "  DCS-7050SX3-48YC8        48x25G SFP & 8x100G QSFP Switch",
           f"  11.00       {_serial(d)}    2021-03-01",
           "System has 2 power supply slots", "  Slot Model            Serial Number",
           "  ---- ---------------- ----------------", f"  1    PWR-500AC-F      {_serial(d)}P1",
           f"  2    PWR-500AC-F      {_serial(d)}P2",
           "System has 1 fan modules", "  Module  Number of Fans  Model            Serial Number",
           "  ------- --------------- ---------------- ----------------", "  1       1               FAN-7000-F       N/A",
           f"System has {len(d.ports) + 1} ports", "  Type             Count", "  ---------------- ----",
           "  Management       1", f"  Switched         {len(d.ports)}",
           f"System has {len(d.ports)} switched transceiver slots",
           "  Port Manufacturer     Model            Serial Number    Rev ",
           "  ---- ---------------- ---------------- ---------------- ----"]
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        m = p.module
        num = p.name.removeprefix("Ethernet")
        out.append(f"  {num:<4} Not Present" if m is None else
                   f"  {num:<4} {m.vendor[:16]:<16} {m.model[:16]:<16} {m.serial:<16} 0002")
    return "\n".join(out) + "\n"


def eos_transceiver(site: LabSite, d: LabDevice, now: float) -> str:
    out = ["If device is externally calibrated, only calibrated values are printed.",
           "N/A: not applicable, Tx: transmit, Rx: receive.", "mA: milliamperes, dBm: decibels (milliwatts).",
           "                               Bias      Optical   Optical                ",
           "          Temp       Voltage   Current   Tx Power  Rx Power               ",
           "Port      (Celsius)  (Volts)   (mA)      (dBm)     (dBm)     Last Update  ",
           "-----     ---------  --------  --------  --------  --------  -------------------"]
    for p in _cages(d):
        v = dom_values(site, p, now)
        out.append(f"{p.short:<10}{v['temperature']:<11.2f}{v['voltage']:<10.2f}{v['bias']:<10.2f}"
                   f"{v['tx_power']:<10.2f}{v['rx_power']:<10.2f}0:00:03 ago")
    return "\n".join(out) + "\n"


def eos_lldp(site: LabSite, d: LabDevice, now: float) -> str:
    out = []
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        peer = _peer(site, p)
        if peer is None:
            continue
        mac = _chassis_mac(peer.device.name)
        out += [f"Interface {p.name} detected 1 LLDP neighbors:", "",
                f'  Neighbor {mac}/"{peer.name}", age 12 seconds', "  Discovered 0:01:11 ago; Last changed 0:01:11 ago",
                "  - Chassis ID type: MAC address (4)", f"    Chassis ID     : {mac}",
                "  - Port ID type: Interface name (5)", f'    Port ID     : "{peer.name}"',
                "  - Time To Live: 120 seconds", f'  - System Name: "{peer.device.name}"',
                f'  - System Description: "{peer.device.profile["sys_descr"]}"',
                "  - System Capabilities : Bridge, Router", "    Enabled Capabilities: Bridge, Router", ""]
    return "\n".join(out) + "\n"


def eos_status(site: LabSite, d: LabDevice, now: float) -> str:
    out = ["Port       Name           Status       Vlan     Duplex Speed  Type         Flags"]
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        kind = "10GBASE-SR" if p.module else "Not Present"
        up = p.oper_up
        out.append(f"{p.short:<11}{_descr(p)[:14]:<15}{_status_word(p):<13}{_vlan(p):<9}"
                   f"{'full' if up else 'auto':<7}{'10G' if up else 'auto':<7}{kind}")
    return "\n".join(out) + "\n"


# -- Juniper Junos ---------------------------------------------------------------------------------------

def _junos_set(d: LabDevice) -> list[str]:
    out = [f"set system host-name {d.name}", "set system root-authentication encrypted-password \"$6$lab$rootHash\"",
           "set snmp community saksi-lab authorization read-only"]
    out += [f"set system {line}" for line in d.config_global]
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        for line in d.config_interfaces.get(p.name, []):
            words = line.split()
            if line == "shutdown":
                out.append(f"set interfaces {p.name} disable")
            elif words[0] == "description":
                out.append(f'set interfaces {p.name} description "{line[len("description "):]}"')
            elif words[:2] == ["switchport", "mode"]:
                out.append(f"set interfaces {p.name} unit 0 family ethernet-switching interface-mode {words[-1]}")
            elif words[:3] == ["switchport", "access", "vlan"]:
                out.append(f"set interfaces {p.name} unit 0 family ethernet-switching vlan members {words[-1]}")
            else:
                out.append(f"set interfaces {p.name} {line}")
    return out


def junos_config(site: LabSite, d: LabDevice, now: float) -> str:
    return f"## Last commit: {_clock(now)} by saksi\n" + "\n".join(_junos_set(d)) + "\n"


def junos_hardware(site: LabSite, d: LabDevice, now: float) -> str:
    out = ["Hardware inventory:", "Item             Version  Part number  Serial number     Description",
           f"Chassis                                {_serial(d):<17} EX3400-48T",
           f"FPC 0            REV 11   650-059880   {_serial(d):<17} EX3400-48T",
           "  CPU                     BUILTIN      BUILTIN           FPC CPU",
           "  PIC 0                   BUILTIN      BUILTIN           48x10/100/1000 Base-T"]
    for p in _cages(d):
        m = p.module
        assert m is not None
        out.append(f"      Xcvr {p.name.rsplit('/', 1)[1]:<6} REV 01   {m.model:<12} {m.serial:<17} {m.type_name}")
    return "\n".join(out) + "\n"


def junos_lldp(site: LabSite, d: LabDevice, now: float) -> str:
    out = ["Local Interface    Parent Interface    Chassis Id          Port info          System Name"]
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        peer = _peer(site, p)
        if peer is None:
            continue
        mac = ":".join(f"{b:02x}" for b in _mac(peer.device.name, 0))
        out.append(f"{p.name:<19}{'-':<20}{mac:<20}{peer.short:<19}{peer.device.name}")
    return "\n".join(out) + "\n"


# Per platform: the commands the lab answers, and its prompt quirks.
COMMANDS: dict[str, dict[str, Renderer]] = {
    "cisco_ios": {"show running-config": ios_running_config, "show inventory": ios_inventory,
                  "show interface transceiver": ios_transceiver, "show lldp neighbors detail": ios_lldp,
                  "show interfaces status": ios_status},
    "cisco_nxos": {"show running-config": nxos_running_config, "show inventory": nxos_inventory,
                   "show interface transceiver": nxos_transceiver,
                   "show interface transceiver details": nxos_transceiver_details,
                   "show lldp neighbors detail": nxos_lldp, "show interface status": nxos_status},
    "arista_eos": {"show running-config": eos_running_config, "show inventory": eos_inventory,
                   "show interfaces transceiver": eos_transceiver, "show lldp neighbors detail": eos_lldp,
                   "show interfaces status": eos_status},
    "juniper_junos": {"show configuration | display set": junos_config, "show chassis hardware": junos_hardware,
                      "show lldp neighbors": junos_lldp},
}
# Session commands netmiko sends while preparing the session, and what each platform answers.
SESSION: dict[str, dict[str, str]] = {
    "cisco_ios": {"terminal length 0": "", "terminal width 511": ""},
    "cisco_nxos": {"terminal length 0": "", "terminal width 511": ""},
    "arista_eos": {"terminal length 0": "Pagination disabled.", "terminal width 511": "Width set to 511 columns."},
    "juniper_junos": {"set cli screen-width 511": "Screen width set to 511",
                      "set cli complete-on-space off": "Disabling complete-on-space",
                      "set cli screen-length 0": "Screen length set to 0"},
}
INVALID: dict[str, str] = {
    "juniper_junos": "                      ^\nunknown command.",
    "default": "                      ^\n% Invalid input detected at '^' marker.",
}


def prompt(platform: str, device: str, user: str) -> str:
    return f"{user}@{device}> " if platform == "juniper_junos" else f"{device}#"
