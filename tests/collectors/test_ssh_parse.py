"""CLI parsing on real device output: ntc-templates' own fixtures (trimmed copies in tests/fixtures/ntc) and the lab's renderings.

Each profile command is parsed through the same template lookup the collector uses, so a fixture that parses
here with the expected rows proves the profile names the right template; the conversion to Saksi records is
then checked against the fixture's own expected values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.collectors import cli_parse as cp
from monitor.common.names import canonical_port
from monitor.lab import scenario
from monitor.lab.cli_render import COMMANDS, SECRET_LINES
from monitor.model import SensorKind
from tests.conftest import NTC

# (platform, role, fixture folder)
FIXTURES = [
    ("cisco_ios", "dom", "cisco_ios/show_interface_transceiver"),
    ("cisco_ios", "inventory", "cisco_ios/show_inventory"),
    ("cisco_ios", "lldp", "cisco_ios/show_lldp_neighbors_detail"),
    ("cisco_ios", "interfaces", "cisco_ios/show_interfaces_status"),
    ("cisco_nxos", "modules", "cisco_nxos/show_interface_transceiver"),
    ("cisco_nxos", "dom", "cisco_nxos/show_interface_transceiver_details"),
    ("cisco_nxos", "inventory", "cisco_nxos/show_inventory"),
    ("cisco_nxos", "lldp", "cisco_nxos/show_lldp_neighbors_detail"),
    ("arista_eos", "modules", "arista_eos/show_inventory"),
    ("arista_eos", "dom", "arista_eos/show_interfaces_transceiver"),
    ("arista_eos", "lldp", "arista_eos/show_lldp_neighbors_detail"),
    ("arista_eos", "interfaces", "arista_eos/show_interfaces_status"),
    ("juniper_junos", "modules", "juniper_junos/show_chassis_hardware"),
    ("juniper_junos", "lldp", "juniper_junos/show_lldp_neighbors"),
    ("hp_procurve", "lldp", "hp_procurve/show_lldp_info_remote-device_detail"),
    ("hp_procurve", "interfaces", "hp_procurve/show_interfaces_brief"),
    ("huawei_vrp", "lldp", "huawei_vrp/display_lldp_neighbor"),
    ("huawei_vrp", "interfaces", "huawei_vrp/display_interface_brief"),
    ("huawei_vrp", "inventory", "huawei_vrp/display_device"),
]


def _cases() -> list[Any]:
    out = []
    for platform, role, folder in FIXTURES:
        raws = sorted((NTC / folder).glob("*.raw"))
        if not raws:
            out.append(pytest.param(platform, role, None, id=f"{platform}-{role}-absent",
                                    marks=pytest.mark.skip(reason=f"ntc-templates fixtures absent: {NTC / folder}")))
        out += [pytest.param(platform, role, raw, id=f"{platform}-{role}-{raw.stem}") for raw in raws]
    return out


def _records(platform: str, role: str, rows: list[dict[str, Any]]) -> list[Any]:
    profile = cp.cli_profile(platform)
    spec = profile.commands[role]
    return {"modules": lambda: cp.to_modules(spec, rows), "dom": lambda: cp.to_readings(spec, rows),
            "inventory": lambda: cp.to_inventory(spec, rows), "lldp": lambda: cp.to_neighbors(spec, rows),
            "interfaces": lambda: cp.to_ports(profile, spec, rows)}[role]()


def _stripped(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its values stripped (a few fixtures keep a trailing space the template does not capture)."""
    return {k: v.strip() if isinstance(v, str) else v for k, v in row.items()}


@pytest.mark.parametrize("platform,role,raw", _cases())
def test_real_outputs_parse_to_the_fixture_rows_and_records(platform: str, role: str, raw: Path) -> None:
    profile = cp.cli_profile(platform)
    spec = profile.commands[role]
    expected = yaml.safe_load(raw.with_suffix(".yml").read_text())["parsed_sample"]
    rows = cp.parse_rows(profile, spec, raw.read_text())
    assert [_stripped(r) for r in rows] == [_stripped(r) for r in expected]
    records = _records(platform, role, rows)
    f = spec.fields
    if role == "dom":
        for rec in records:
            row = next(r for r in expected if canonical_port(r[f["port"]]) == rec.port
                       and (not f.get("lane") or str(rec.lane or "") == r[f["lane"]]))
            key = {SensorKind.RX_POWER: "rx_dbm", SensorKind.TX_POWER: "tx_dbm", SensorKind.TEMPERATURE:
                   "temperature_c", SensorKind.VOLTAGE: "voltage_v", SensorKind.BIAS: "bias_ma"}[rec.kind]
            assert rec.value == cp.number(row[f[key]])
        assert len(records) == sum(cp.number(r[f[k]]) is not None for r in expected for k in
                                   ("rx_dbm", "tx_dbm", "temperature_c", "voltage_v", "bias_ma") if f.get(k))
    elif role == "modules":
        serials = {m.serial for m in records}
        assert serials <= {r[f["serial"]] for r in expected}
        assert all(m.port and m.source == f"ssh:{spec.command}" for m in records)
    elif role == "lldp":
        with_port = [r for r in expected if r[f["local_port"]]]
        assert [n.local_port for n in records] == [canonical_port(r[f["local_port"]]) for r in with_port]
        assert [n.sys_name for n in records] == [r[f["sys_name"]] for r in with_port]
    elif role == "interfaces":
        assert [p.name for p in records] == [canonical_port(r[f["port"]]) for r in expected]
        assert all(p.oper in ("up", "down", "unknown") for p in records)
    else:
        assert all(i.model or i.serial for i in records)


def test_nxos_details_keep_the_vendor_thresholds() -> None:
    raw = NTC / "cisco_nxos/show_interface_transceiver_details/cisco_nxos_show_interface_transceiver_details.raw"
    if not raw.exists():
        pytest.skip(f"ntc-templates fixture absent: {raw}")
    profile = cp.cli_profile("cisco_nxos")
    readings = cp.to_readings(profile.commands["dom"], cp.parse_rows(profile, profile.commands["dom"], raw.read_text()))
    rx = next(r for r in readings if r.port == "Ethernet3/1" and r.kind is SensorKind.RX_POWER)
    assert (rx.value, rx.thresholds.low_alarm, rx.thresholds.high_alarm) == (-30.45, -13.9, 2.0)
    assert rx.thresholds.breach(rx.value) == "alarm"


# -- the lab's own recordings, per platform -------------------------------------------------------------

SITE = {"devices": [{"name": n, "platform": p, "ports": 12} for n, p in
                    (("ios", "cisco_ios"), ("nxos", "cisco_nxos"), ("eos", "arista_eos"), ("junos", "juniper_junos"),
                     ("vrp", "huawei_vrp"), ("ros", "mikrotik_routeros"))],
        "links": [{"a": "ios:Gi1/0/12", "b": "nxos:Ethernet1/1", "media": "10gbase-sr", "role": "backbone"},
                  {"a": "eos:Ethernet1", "b": "junos:ge-0/0/11", "media": "1000base-lx", "role": "uplink"},
                  {"a": "vrp:GE0/0/12", "b": "ros:sfp-sfpplus1", "media": "1000base-lx", "role": "uplink"}]}


@pytest.fixture(scope="module")
def site() -> Any:
    return scenario.build(scenario.parse({"name": "render", "site": SITE, "poll_interval": 60, "run_until": 60,
                                          "steps": []}, "render"))


@pytest.mark.parametrize("platform", sorted(COMMANDS))
def test_lab_renderings_parse_with_the_real_templates(site: Any, platform: str) -> None:
    dev = next(d for d in site.devices.values() if d.platform == platform)
    profile = cp.cli_profile(platform)
    for role, spec in profile.commands.items():
        raw = COMMANDS[platform][spec.command](site, dev, 0.0)
        if role == "config":
            assert cp.config_problem(raw, profile) is None
            continue
        records = _records(platform, role, cp.parse_rows(profile, spec, raw))
        if role == "modules":
            assert {m.port: m.serial for m in records} == {p.name: p.module.serial for p in dev.ports.values()
                                                             if p.module is not None}
        elif role == "lldp":
            [n] = records
            assert n.sys_name in site.devices
        elif role == "interfaces":
            assert len(records) == len(dev.ports)
            assert sum(p.oper == "up" for p in records) == sum(p.oper_up for p in dev.ports.values())
        elif role == "dom":
            assert {r.kind for r in records} >= {SensorKind.RX_POWER, SensorKind.TX_POWER, SensorKind.TEMPERATURE}


@pytest.mark.parametrize("platform, line, kept", [
    ("mikrotik_routeros", "/snmp community set [ find default=yes ] authentication-password=s3cret name=c0mm",
     "/snmp community set [ find default=yes ] <redacted>"),
    ("mikrotik_routeros", "/ppp secret add name=vpn1 password=s3cret profile=default", "/ppp secret add name=vpn1 password=<redacted>"),
    ("mikrotik_routeros", '/interface wireless security-profiles add name=p1 wpa2-pre-shared-key="s3 cret"',
     "/interface wireless security-profiles add name=p1 wpa2-pre-shared-key=<redacted>"),
    ("mikrotik_routeros", "/system identity set name=core-sw1", "/system identity set name=core-sw1"),
    ("huawei_vrp", " local-user admin password irreversible-cipher $1a$s3cret$", " local-user admin password irreversible-cipher <redacted>"),
    ("huawei_vrp", "snmp-agent community read cipher %^%#s3cret%^%#", "snmp-agent community read cipher <redacted>"),
])
def test_vendor_secrets_are_redacted(platform: str, line: str, kept: str) -> None:
    assert cp.redact(line, cp.cli_profile(platform)) == kept


@pytest.mark.parametrize("platform, header", [
    ("mikrotik_routeros", "# 2026-12-04 08:43:04 by RouterOS 7.16.2"),
    ("mikrotik_routeros", "# dec/04/2026 08:43:04 by RouterOS 6.49.10"),
    ("huawei_vrp", "!Last configuration was updated at 2026-12-04 08:43:04+00:00 by saksi"),
])
def test_vendor_date_headers_are_noise(platform: str, header: str) -> None:
    profile = cp.cli_profile(platform)
    assert any(rx.search(header) for rx in profile.noise)


# -- bad input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "                      ^\n% Invalid input detected at '^' marker.\n",
    "% Incomplete command.\n",
    "% Ambiguous command:  \"show int\"\n",
])
def test_device_complaints_are_errors(raw: str) -> None:
    profile = cp.cli_profile("cisco_ios")
    with pytest.raises(cp.CliError, match="device said"):
        cp.parse_rows(profile, profile.commands["dom"], raw)


def test_garbled_output_is_an_error_when_the_template_rejects_it() -> None:
    profile = cp.cli_profile("arista_eos")
    with pytest.raises(cp.CliError, match="not understood"):
        cp.parse_rows(profile, profile.commands["inventory"], "\x1b[2J#### garbled ####\n@@@\n")


def test_truncated_table_keeps_only_whole_rows_and_a_cut_line_is_an_error(site: Any) -> None:
    profile = cp.cli_profile("cisco_ios")
    spec = profile.commands["interfaces"]
    dev = site.devices["ios"]
    raw = COMMANDS["cisco_ios"]["show interfaces status"](site, dev, 0.0)
    whole_lines = raw[: len(raw) // 2].rsplit("\n", 1)[0] + "\n"
    ports = cp.to_ports(profile, spec, cp.parse_rows(profile, spec, whole_lines))
    assert 0 < len(ports) < len(dev.ports)
    with pytest.raises(cp.CliError, match="not understood"):
        cp.parse_rows(profile, spec, whole_lines + "Gi1/0/7   ")


@pytest.mark.parametrize("platform,text,why", [
    ("cisco_ios", "", "empty"),
    ("cisco_ios", "Building configuration...\n!\nhostname a\ninterface Gi1/0/1\n switchport", "truncated"),
    ("cisco_ios", "% Invalid input detected at '^' marker.\n", "device said"),
    ("huawei_vrp", "#\nsysname a\n#\ninterface GE0/0/1\n", "truncated"),
])
def test_incomplete_configurations_are_refused(platform: str, text: str, why: str) -> None:
    problem = cp.config_problem(text, cp.cli_profile(platform))
    assert problem is not None and why in problem


# -- redaction, noise, allow-list ------------------------------------------------------------------------

@pytest.mark.parametrize("platform,line,secret", [
    ("cisco_ios", "enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0", "$1$mERr$hx5rVt7rPNoS4wqbXKX7m0"),
    ("cisco_ios", "enable password 7 0822455D0A16", "0822455D0A16"),
    ("cisco_ios", "username admin privilege 15 secret 9 $9$abc$def", "$9$abc$def"),
    ("cisco_ios", "username bob password 0 hunter2", "hunter2"),
    ("cisco_ios", "snmp-server community Pr1vate! RW 10", "Pr1vate!"),
    ("cisco_ios", "snmp-server user mon grp v3 auth sha AuthKey123 priv aes 128 PrivKey456", "AuthKey123"),
    ("cisco_ios", "snmp-server host 10.0.0.5 version 2c TrapComm", "TrapComm"),
    ("cisco_ios", " password 7 045802150C2E", "045802150C2E"),
    ("cisco_ios", "tacacs-server key 7 0822455D0A16ABC", "0822455D0A16ABC"),
    ("cisco_ios", " key 7 1511021F0725", "1511021F0725"),
    ("cisco_ios", " key-string 7 110A1016141D", "110A1016141D"),
    ("cisco_ios", " ip ospf authentication-key 7 00071A150754", "00071A150754"),
    ("cisco_ios", " ip ospf message-digest-key 1 md5 7 01100F175804", "01100F175804"),
    ("cisco_ios", " neighbor 10.0.0.2 password 7 02050D480809", "02050D480809"),
    ("cisco_ios", "crypto isakmp key Sup3rPSK address 0.0.0.0", "Sup3rPSK"),
    ("cisco_nxos", "username admin password 5 $5$KQsK$abcdef role network-admin", "$5$KQsK$abcdef"),
    ("cisco_nxos", "snmp-server user admin network-admin auth md5 0x1234abcd priv 0x5678ef localizedkey", "0x1234abcd"),
    ("arista_eos", "username admin role network-admin secret sha512 $6$salt$hash", "$6$salt$hash"),
    ("juniper_junos", 'set system root-authentication encrypted-password "$6$abc$def"', "$6$abc$def"),
    ("juniper_junos", "set snmp community S3cretComm authorization read-only", "S3cretComm"),
    ("juniper_junos", 'set protocols ospf area 0 interface ge-0/0/0 authentication md5 1 key "$9$x"', "$9$x"),
    ("huawei_vrp", " local-user admin password irreversible-cipher $1a$xyz$", "$1a$xyz$"),
    ("huawei_vrp", "snmp-agent community read cipher %^%#abc%^%#", "%^%#abc%^%#"),
])
def test_secrets_are_redacted(platform: str, line: str, secret: str) -> None:
    out = cp.redact(f"hostname sw1\n{line}\n", cp.cli_profile(platform))
    assert secret not in out and "<redacted>" in out and out.startswith("hostname sw1\n")


def test_lab_secrets_never_survive_redaction() -> None:
    out = cp.redact("\n".join(SECRET_LINES), cp.cli_profile("cisco_ios"))
    assert out.count("<redacted>") == len(SECRET_LINES)


def test_noise_lines_do_not_make_a_new_version() -> None:
    profile = cp.cli_profile("cisco_ios")
    a = "Building configuration...\n\nCurrent configuration : 100 bytes\n! Last configuration change at 10:00\n" \
        "ntp clock-period 17179814\nhostname a\nend\n"
    b = "Building configuration...\n\nCurrent configuration : 104 bytes\n! Last configuration change at 11:00\n" \
        "ntp clock-period 17179001\nhostname a\nend\n"
    assert cp.strip_noise(a, profile) == cp.strip_noise(b, profile) == "hostname a\nend\n"


@pytest.mark.parametrize("platform,command,allowed", [
    ("cisco_ios", "show running-config", True),
    ("cisco_ios", "show interface transceiver", True),
    ("cisco_ios", "configure terminal", False),
    ("cisco_ios", "reload", False),
    ("cisco_ios", "show run | redirect tftp://10.0.0.1/x", False),
    ("cisco_ios", "show version\nreload", False),
    ("cisco_ios", "copy running-config startup-config", False),
    ("juniper_junos", "show configuration | display set", True),
    ("juniper_junos", "show configuration | save /tmp/x", False),
    ("juniper_junos", "request system reboot", False),
    ("huawei_vrp", "display current-configuration", True),
    ("huawei_vrp", "system-view", False),
    ("huawei_vrp", "show running-config", False),
    ("mikrotik_routeros", "/export terse", True),
    ("mikrotik_routeros", "/ip neighbor print detail", True),
    ("mikrotik_routeros", "/export file=backup", False),
    ("mikrotik_routeros", "/system reboot", False),
    ("mikrotik_routeros", "/interface ethernet set [ find ] disabled=yes", False),
])
def test_allow_list(platform: str, command: str, allowed: bool) -> None:
    assert cp.cli_profile(platform).allowed(command) is allowed


@pytest.mark.parametrize("platform", cp.platforms())
def test_every_profile_is_valid_and_read_only(platform: str) -> None:
    profile = cp.cli_profile(platform)
    assert "config" in profile.commands and profile.redact and profile.noise
    for spec in profile.commands.values():
        words = spec.command.split()
        reads = words[0] in ("show", "display") or (words[0].startswith("/") and ("print" in words or words[0] == "/export"))
        assert reads and profile.allowed(spec.command), spec.command


def test_unknown_platform_is_a_clear_error() -> None:
    with pytest.raises(cp.CliError, match="no CLI profile"):
        cp.cli_profile("commodore_64")
