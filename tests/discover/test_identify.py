"""Platform from sysObjectID/sysDescr, on what real devices say (the LibreNMS recordings in ../shared/corpus,
GPL-3.0-or-later, upstream commit 0367517c; the pairs are copied here so the test needs no corpus)."""

from __future__ import annotations

import pytest

from monitor.discover.identify import identify

REAL = [  # (recording, sysObjectID, the start of sysDescr, platform, kind)
    ("arista_eos", "1.3.6.1.4.1.30065.1.3011.7050.1958.128", "Arista Networks EOS version 4.15.3F", "arista_eos",
     "switch"),
    ("ios_2960x", "1.3.6.1.4.1.9.1.1208", "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M)", "cisco_ios",
     "switch"),
    ("iosxe_c9500h-svl", "1.3.6.1.4.1.9.1.2688", '"Cisco IOS Software [Dublin], Catalyst L3 Switch Software',
     "cisco_ios", "switch"),
    ("iosxe_isr4321", "1.3.6.1.4.1.9.1.2093", '"Cisco IOS Software [Bengaluru], ISR Software (X86_64_LINUX_IOSD',
     "cisco_ios", "router"),
    ("nxos_n9k-c93180yc-fx3", "1.3.6.1.4.1.9.12.3.1.3.2193", "Cisco NX-OS(tm) Nexus9000 C93180YC-FX3",
     "cisco_nxos", "switch"),
    ("iosxr_ncs55a2", "1.3.6.1.4.1.9.1.2571", "Cisco IOS XR Software (NCS-5500), Version 7.4.1", "cisco_xr",
     "router"),
    ("ciscosb_sg350x-48", "1.3.6.1.4.1.9.6.1.94.48.1", "SG350X-48 48-Port Gigabit Stackable Managed Switch",
     "cisco_s300", "switch"),
    ("junos_qfx5100", "1.3.6.1.4.1.2636.1.1.1.4.82.5", "Juniper Networks, Inc. qfx5100-48s-6q Ethernet Switch",
     "juniper_junos", "switch"),
    ("junos_ber", "1.3.6.1.4.1.2636.1.1.1.2.108", "Juniper Networks, Inc. vmx internet router, kernel JUNOS",
     "juniper_junos", "router"),
    ("procurve", "1.3.6.1.4.1.11.2.3.7.8.5.2", "HP Stack, revision KA.00.00.0000", "hp_procurve", "switch"),
    ("arubaos-cx_10.16", "1.3.6.1.4.1.47196.4.1.1.1.100", "HPE ANW JL658A 6300M 24SFP+ 4SFP56 Swch", "aruba_aoscx",
     "switch"),
    ("comware", "1.3.6.1.4.1.25506.11.1.172", "HP Comware Platform Software, Software Version 7.1.045",
     "hp_comware", "switch"),
    ("vrp_5720-32x-ei", "1.3.6.1.4.1.2011.2.23.294", "S5720-32X-EI-24S-AC", "huawei_vrp", "switch"),
    ("vrp_ar169sfp", "1.3.6.1.4.1.2011.2.224.62", "Huawei AR169F Huawei Versatile Routing Platform", "huawei_vrp",
     "router"),
    ("xos_sfp", "1.3.6.1.4.1.1916.2.248", "ExtremeXOS (X690-48x-2q-4c) version 22.6.1.4", "extreme_exos", "switch"),
    ("routeros_crs317", "1.3.6.1.4.1.14988.1", "RouterOS CRS317-1G-16S+", "mikrotik_routeros", "router"),
    ("swos_css326-24g-2s+", "1.3.6.1.4.1.14988.2", "CSS326-24G-2S+ SwOS v2.18", "mikrotik_switchos", "switch"),
    ("dnos_s4048", "1.3.6.1.4.1.6027.1.3.20", "Dell Networking OS Operating System Version: 2.0", "dell_force10",
     "switch"),
    ("aos7", "1.3.6.1.4.1.6486.801.1.1.2.1.11.1.9", "Alcatel-Lucent Enterprise OS6860E-U28", "alcatel_aos",
     "switch"),
    ("timos", "1.3.6.1.4.1.6527.6.2.1.2.6.1", "TiMOS-C-10.0.R4 cpm/hops Nokia SAS-R 7210", "nokia_sros", "router"),
    ("snr", ".1.3.6.1.4.1.40418.7.53", "SNR-S2990X-24FQ Device", "unknown", "unknown"),  # no rule: not a guess
    ("zynos_xgs4600", "1.3.6.1.4.1.890.1.15", "XGS4600-32F", "unknown", "unknown"),
]


@pytest.mark.parametrize(("recording", "oid", "descr", "platform", "kind"), REAL, ids=[r[0] for r in REAL])
def test_real_devices_are_named_by_their_system_group(recording: str, oid: str, descr: str, platform: str,
                                                      kind: str) -> None:
    got = identify(oid, descr)
    assert (got.platform, got.kind) == (platform, kind)


@pytest.mark.parametrize(("platform", "profile"), [("cisco_ios", True), ("arista_eos", True),
                                                   ("juniper_junos", True), ("mikrotik_routeros", True),
                                                   ("linux_server", False)])
def test_the_identity_says_whether_saksi_has_ssh_commands_for_it(platform: str, profile: bool) -> None:
    oid = {"cisco_ios": "1.3.6.1.4.1.9.1.1208", "arista_eos": "1.3.6.1.4.1.30065.1", "juniper_junos":
           "1.3.6.1.4.1.2636.1.1.1.2.154", "mikrotik_routeros": "1.3.6.1.4.1.14988.1",
           "linux_server": "1.3.6.1.4.1.8072.3.2.10"}[platform]
    got = identify(oid, "Linux web-01 5.15.0-105-generic" if platform == "linux_server" else "")
    assert got.platform == platform and got.cli_profile is profile


def test_the_lab_platforms_are_recognised_as_what_they_pretend_to_be() -> None:
    from monitor.lab.scenario import lab_profiles

    for name, profile in lab_profiles()["platforms"].items():
        assert identify(str(profile["sys_object_id"]), str(profile["sys_descr"])).platform == name


@pytest.mark.parametrize("garbage", ["", "not.an.oid", "1.3.6.1.4.1.", "\x00\x01"])
def test_garbage_is_unknown_not_a_crash(garbage: str) -> None:
    assert identify(garbage, garbage).platform == "unknown"
