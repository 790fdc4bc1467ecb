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



# -- Huawei VRP ------------------------------------------------------------------------------------------
# The lab model keeps a port's configuration in canonical (IOS) words; each vendor spells them its own way.
_VRP_PORT = {"switchport mode access": "port link-type access", "switchport mode trunk": "port link-type trunk"}
_VRP_GLOBAL = {"service timestamps log datetime msec": "info-center timestamp log date precision-time millisecond",
               "vtp mode transparent": ""}


def _vrp_port_line(line: str) -> str:
    """One canonical port line in VRP words ("" when VRP does not print it).

    >>> _vrp_port_line("switchport access vlan 10"), _vrp_port_line("switchport access vlan 1")
    ('port default vlan 10', '')
    >>> _vrp_port_line("switchport trunk allowed vlan 10,20"), _vrp_port_line("description UPLINK")
    ('port trunk allow-pass vlan 10 20', 'description UPLINK')
    """
    words = line.split()
    if words[:3] == ["switchport", "access", "vlan"]:
        return "" if words[-1] == "1" else f"port default vlan {words[-1]}"
    if words[:4] == ["switchport", "trunk", "allowed", "vlan"]:
        return "port trunk allow-pass vlan " + " ".join(words[-1].split(","))
    return _VRP_PORT.get(line, line)


def _vrp_global_line(line: str) -> str:
    """One canonical global line in VRP words (VLAN 1 always exists, so `vlan batch` leaves it out).

    >>> _vrp_global_line("vlan 1,10,20"), _vrp_global_line("vtp mode transparent")
    ('vlan batch 10 20', '')
    """
    words = line.split()
    if len(words) == 2 and words[0] == "vlan":
        return "vlan batch " + " ".join(v for v in words[1].split(",") if v != "1")
    return _VRP_GLOBAL.get(line, line)


def vrp_current_config(site: LabSite, d: LabDevice, now: float) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S+00:00", time.gmtime(1_700_000_000 + now))
    out = ["!Software Version V200R010C00SPC600", f"!Last configuration was updated at {stamp} by saksi",
           "#", f"sysname {d.name}", "#"]
    out += [g for g in (_vrp_global_line(line) for line in d.config_global) if g] + ["#"]
    out += ["aaa", " local-user admin password irreversible-cipher $1a$lab$saksiAdminHash$",
            " local-user admin privilege level 15", " local-user admin service-type ssh", "#", "interface Vlanif1", "#"]
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        out.append(f"interface {p.name}")
        out += [f" {v}" for v in (_vrp_port_line(line) for line in d.config_interfaces.get(p.name, [])) if v]
        out.append("#")
    out += ["snmp-agent", "snmp-agent community read cipher %^%#saksiLabCommunityCipher%^%#",
            "snmp-agent sys-info version v2c", "#", "stelnet server enable", "#", "return"]
    return "\n".join(out) + "\n"


def vrp_device(site: LabSite, d: LabDevice, now: float) -> str:
    model = str(d.profile["sys_descr"]).split("\n", 1)[0].strip()
    rows = [("0", "-", model, "Master"), ("PWR1", "-", "PAC-150WA", "NA"), ("PWR2", "-", "PAC-150WA", "NA"),
            ("FAN1", "-", "FAN-031A-B", "NA")]
    out = [f"{model}'s Device status:", "-" * 91,
           "Slot  Card   Type                     Online   Power Register     Alarm     Primary        ", "-" * 91]
    out += [f"{slot:<6}{card:<7}{kind:<25}Present  On    Registered   Normal    {primary:<15}"
            for slot, card, kind, primary in rows]
    return "\n".join(out) + "\n"


def vrp_lldp(site: LabSite, d: LabDevice, now: float) -> str:
    out = []
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        peer = _peer(site, p)
        if peer is None:
            out += [f"{p.name} has 0 neighbor(s)", ""]
            continue
        raw = _mac(peer.device.name, 0).hex()
        descr = str(peer.device.profile["sys_descr"]).replace("\r", "").splitlines()
        out += [f"{p.name} has 1 neighbor(s):", "", "Neighbor index :1", "Chassis type   :MAC address",
                f"Chassis ID     :{raw[0:4]}-{raw[4:8]}-{raw[8:12]}", "Port ID type   :Interface name",
                f"Port ID        :{peer.name}", f"Port description    :{peer.name}",
                f"System name         :{peer.device.name}", f"System description  :{descr[0].strip()}",
                *[line.strip() for line in descr[1:] if line.strip()],
                "System capabilities supported   :bridge router", "System capabilities enabled     :bridge router",
                "Expired time   :95s", "", "Port VLAN ID(PVID)  :1", "",
                "Auto-negotiation supported    :Yes", "Auto-negotiation enabled      :Yes",
                "OperMau   :speed(1000)/duplex(Full)", "", "Link aggregation supported:Yes",
                "Link aggregation enabled :No", "Aggregation port ID      :0", "", "Maximum frame Size       :9216", ""]
    return "\n".join(out) + "\n"


def vrp_interface_brief(site: LabSite, d: LabDevice, now: float) -> str:
    out = ["PHY: Physical", "*down: administratively down", "^down: standby", "(l): loopback", "(s): spoofing",
           "(b): BFD down", "(e): ETHOAM down", "(dl): DLDP down", "(d): Dampening Suppressed",
           "InUti/OutUti: input utility/output utility",
           "Interface                   PHY   Protocol  InUti OutUti   inErrors  outErrors"]
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        phy = "*down" if not p.admin_up else ("up" if p.oper_up else "down")
        proto = "up" if p.oper_up else "down"
        out.append(f"{p.name:<28}{phy:<6}{proto:<10}{'0.01%' if p.oper_up else '0%':>5}{'0%':>7}{0:>11}{0:>11}")
    return "\n".join(out) + "\n"


# -- MikroTik RouterOS -----------------------------------------------------------------------------------

def _ros_quote(value: str) -> str:
    """A RouterOS value as `/export` prints it: bare when it is one plain word, quoted otherwise.

    >>> _ros_quote("uplink"), _ros_quote("BACKBONE to dist-sw2:sfp1")
    ('uplink', '"BACKBONE to dist-sw2:sfp1"')
    """
    plain = value and all(c.isalnum() or c in "-_.,/" for c in value)
    return value if plain else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ros_port(lines: list[str]) -> tuple[list[str], list[str], list[str]]:
    """A port's canonical lines as RouterOS properties: (ethernet, bridge port, lines with no RouterOS word)."""
    eth, bridge, other = [], [], []
    for line in lines:
        words = line.split()
        if words and words[0] == "description":
            eth.append(f"comment={_ros_quote(line[len('description '):])}")
        elif line == "shutdown":
            eth.append("disabled=yes")
        elif line == "switchport mode trunk":
            bridge.append("frame-types=admit-only-vlan-tagged")
        elif line == "switchport mode access":
            bridge.append("frame-types=admit-only-untagged-and-priority-tagged")
        elif words[:3] == ["switchport", "access", "vlan"]:
            bridge.append(f"pvid={words[-1]}")
        else:
            other.append(line)
    return eth, bridge, other


def ros_export(site: LabSite, d: LabDevice, now: float) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(1_700_000_000 + now))
    serial = f"HEX{abs(int(jitter(d.name, 1e8))):08X}"
    model = str(d.profile["sys_descr"]).rsplit(" ", 1)[-1]
    out = [f"# {stamp} by RouterOS 7.16.2", f"# software id = {serial[3:7]}-{serial[7:11]}", "#",
           f"# model = {model}", f"# serial number = {serial}",
           "/interface bridge add name=bridge1 vlan-filtering=yes"]
    ports = sorted(d.ports.values(), key=lambda p: p.index)
    parts = {p.name: _ros_port(d.config_interfaces.get(p.name, [])) for p in ports}
    for p in ports:
        eth, _, other = parts[p.name]
        if eth or other:
            out.append(f"/interface ethernet set [ find default-name={p.name} ] " + " ".join(eth + other))
    for p in ports:
        out.append("/interface bridge port add bridge=bridge1 "
                   + " ".join(parts[p.name][1] + [f"interface={p.name}"]))
    for line in d.config_global:
        words = line.split()
        if len(words) == 2 and words[0] == "vlan":
            out.append(f"/interface bridge vlan add bridge=bridge1 vlan-ids={words[1]}")
        elif line not in ("vtp mode transparent", "service timestamps log datetime msec"):
            out.append(f"/system note set note={_ros_quote(line)}")  # no RouterOS word for it: kept, visibly
    out += ["/ip neighbor discovery-settings set discover-interface-list=all protocol=lldp",
            "/snmp set enabled=yes", "/snmp community set [ find default=yes ] authentication-password=labAuthSecret "
            "name=saksi-lab", "/system identity set name=" + _ros_quote(d.name),
            "/system ntp client set enabled=yes"]
    return "\n".join(out) + "\n"


def ros_neighbors(site: LabSite, d: LabDevice, now: float) -> str:
    out, n = [], 0
    for p in sorted(d.ports.values(), key=lambda p: p.index):
        peer = _peer(site, p)
        if peer is None:
            continue
        mac = ":".join(f"{b:02X}" for b in _mac(peer.device.name, 0))
        descr = str(peer.device.profile["sys_descr"]).replace("\r", "").replace("\n", " ").replace('"', "'")
        out += [f'{n:>2} interface={p.name} mac-address={mac} identity="{peer.device.name}" '
                f'platform="{peer.device.platform}" age=12s uptime=1w2d3h ipv6=no interface-name="{peer.name}" '
                f'system-description="{descr}" system-caps=bridge,router system-caps-enabled=bridge,router', ""]
        n += 1
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
    "huawei_vrp": {"display current-configuration": vrp_current_config, "display device": vrp_device,
                   "display lldp neighbor": vrp_lldp, "display interface brief": vrp_interface_brief},
    "mikrotik_routeros": {"/export terse": ros_export, "/ip neighbor print detail": ros_neighbors},
}
# Session commands netmiko sends while preparing the session, and what each platform answers.
SESSION: dict[str, dict[str, str]] = {
    "cisco_ios": {"terminal length 0": "", "terminal width 511": ""},
    "cisco_nxos": {"terminal length 0": "", "terminal width 511": ""},
    "arista_eos": {"terminal length 0": "Pagination disabled.", "terminal width 511": "Width set to 511 columns."},
    "juniper_junos": {"set cli screen-width 511": "Screen width set to 511",
                      "set cli complete-on-space off": "Disabling complete-on-space",
                      "set cli screen-length 0": "Screen length set to 0"},
    "huawei_vrp": {"screen-length 0 temporary": "Info: The configuration takes effect on the current user terminal "
                                                "interface only."},
}
INVALID: dict[str, str] = {
    "juniper_junos": "                      ^\nunknown command.",
    "huawei_vrp": "                      ^\nError: Unrecognized command found at '^' position.",
    "mikrotik_routeros": "bad command name (line 1 column 2)",
    "default": "                      ^\n% Invalid input detected at '^' marker.",
}


# The prompt each platform shows a logged-in user, and the character after which a client's login name carries
# terminal options (RouterOS: "admin+ct511w4098h" asks for no colours, a dumb terminal, 511 columns).
PROMPTS: dict[str, str] = {"juniper_junos": "{user}@{device}> ", "huawei_vrp": "<{device}>",
                           "mikrotik_routeros": "[{user}@{device}] > ", "default": "{device}#"}
LOGIN_OPTIONS: dict[str, str] = {"mikrotik_routeros": "+"}


def login_user(platform: str, username: str) -> str:
    """The account a login names, without the terminal options some clients append to it.

    >>> login_user("mikrotik_routeros", "saksi+ct511w4098h"), login_user("cisco_ios", "a+b")
    ('saksi', 'a+b')
    """
    sep = LOGIN_OPTIONS.get(platform)
    return username.split(sep, 1)[0] if sep else username


def prompt(platform: str, device: str, user: str) -> str:
    """The prompt a device shows a logged-in user, in its platform's shape."""
    return PROMPTS.get(platform, PROMPTS["default"]).format(user=login_user(platform, user), device=device)
