"""Configuration history on a real git repository (dulwich): versions, redaction, noise, diffs, crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dulwich.repo import Repo

from monitor.confighist.diff import changes, port_summary, section_text
from monitor.confighist.history import ConfigHistory, ConfigHistoryError, normalise

BASE = """Building configuration...

Current configuration : 1234 bytes
!
! Last configuration change at {clock}
!
enable secret 5 $1$abcd$SuperSecretHash
username admin privilege 15 password 0 Hunter2!
snmp-server community PublicCommunity42 RO
hostname core-sw1
!
interface GigabitEthernet1/0/49
 description BACKBONE to dist-sw2:Gi1/0/25
 switchport mode trunk
!
interface GigabitEthernet1/0/50
 switchport mode access
 switchport access vlan 10
!
end
"""
SECRETS = ("$1$abcd$SuperSecretHash", "Hunter2!", "PublicCommunity42")


def cfg(clock: str = "10:00:00 UTC", **edits: str) -> str:
    text = BASE.format(clock=clock)
    for old, new in edits.items():
        text = text.replace(old.replace("_", " "), new)
    return text


def test_a_version_is_stored_only_when_the_configuration_changed(tmp_path: Path) -> None:
    with ConfigHistory("hq", tmp_path) as h:
        first = h.record("core-sw1", "cisco_ios", cfg(), at=100.0, source="ssh:show running-config")
        assert first is not None and first.at == 100.0 and first.source == "ssh:show running-config"
        assert h.record("core-sw1", "cisco_ios", cfg(clock="11:00:00 UTC"), at=160.0, source="ssh") is None
        second = h.record("core-sw1", "cisco_ios", cfg(**{"switchport mode access": "switchport mode trunk"}),
                          at=220.0, source="ssh")
        assert second is not None
        assert [v.commit for v in h.versions("core-sw1")] == [first.commit, second.commit]
        assert h.show("core-sw1", at=219.0) == h.text(first) and h.show("core-sw1") == h.text(second)
        assert "Building configuration" not in h.show("core-sw1") and "Last configuration change" not in h.show(
            "core-sw1")


def test_devices_share_the_site_repository_without_mixing_histories(tmp_path: Path) -> None:
    with ConfigHistory("hq", tmp_path) as h:
        h.record("a", "cisco_ios", cfg(), 1.0, "ssh")
        h.record("b", "cisco_ios", cfg(**{"hostname core-sw1": "hostname b"}), 2.0, "ssh")
        h.record("a", "cisco_ios", cfg(**{"switchport access vlan 10": "switchport access vlan 20"}), 3.0, "ssh")
        assert [v.at for v in h.versions("a")] == [1.0, 3.0] and [v.at for v in h.versions("b")] == [2.0]
        assert "hostname b" in h.show("b") and h.versions("nobody") == []
    assert (tmp_path / "hq.git").is_dir() and not (tmp_path / "hq.git" / ".git").exists()  # bare repository


def test_the_commit_carries_poll_time_and_source(tmp_path: Path) -> None:
    with ConfigHistory("hq", tmp_path) as h:
        v = h.record("core-sw1", "cisco_ios", cfg(), at=1_790_000_000.5, source="ssh:show running-config")
        assert v is not None
        commit = h.repo[v.commit.encode()]
        message = commit.message.decode()  # type: ignore[attr-defined]
        assert "Poll-Time: 1790000000.5" in message and "Source: ssh:show running-config" in message
        assert commit.commit_time == 1_790_000_000  # type: ignore[attr-defined]


def test_secrets_never_reach_the_repository(tmp_path: Path) -> None:
    import zlib

    with ConfigHistory("hq", tmp_path) as h:
        h.record("core-sw1", "cisco_ios", cfg(), 1.0, "ssh")
        h.record("core-sw1", "cisco_ios", cfg(PublicCommunity42="OtherCommunity77"), 2.0, "ssh")
        assert h.versions("core-sw1")[-1].at == 1.0  # a changed secret is invisible, so not a new version
    blobs = b""
    for dirpath, _, files in os.walk(tmp_path):
        for f in files:
            data = (Path(dirpath) / f).read_bytes()
            try:
                blobs += zlib.decompress(data)
            except zlib.error:
                blobs += data
    assert b"<redacted>" in blobs
    for secret in (*SECRETS, "OtherCommunity77"):
        assert secret.encode() not in blobs


def test_a_truncated_or_refused_configuration_is_not_recorded(tmp_path: Path) -> None:
    with ConfigHistory("hq", tmp_path) as h:
        h.record("core-sw1", "cisco_ios", cfg(), 1.0, "ssh")
        for bad in (cfg()[:300], "% Invalid input detected at '^' marker.\n", ""):
            with pytest.raises(ConfigHistoryError):
                h.record("core-sw1", "cisco_ios", bad, 2.0, "ssh")
        assert len(h.versions("core-sw1")) == 1


def test_diff_and_per_port_summary(tmp_path: Path) -> None:
    with ConfigHistory("hq", tmp_path) as h:
        h.record("core-sw1", "cisco_ios", cfg(), 100.0, "ssh")
        h.record("core-sw1", "cisco_ios", cfg(**{
            " switchport mode trunk\n": " switchport mode trunk\n shutdown\n",
            "switchport mode access": "switchport mode trunk"}), 400.0, "ssh")
        text = h.diff("core-sw1")
        assert "+ shutdown" in text and "- switchport mode access" in text and "+ switchport mode trunk" in text
        assert h.diff("core-sw1", 100.0, 100.0) == ""
        old, new = (h.text(v) for v in h.pair("core-sw1"))
    assert port_summary(old, new, "cisco_ios", "GigabitEthernet1/0/49") == ["GigabitEthernet1/0/49: + shutdown"]
    assert port_summary(old, new, "cisco_ios", "GigabitEthernet1/0/50") == ["GigabitEthernet1/0/50: switchport mode access → trunk"]
    assert section_text(new, "Gi1/0/49", "cisco_ios").splitlines()[0] == "interface GigabitEthernet1/0/49"


@pytest.mark.parametrize("platform,old,new,expected", [
    ("cisco_ios", "interface Gi1/0/1\n description A\n", "interface Gi1/0/1\n description B\n",
     ["GigabitEthernet1/0/1: description A → B"]),
    ("cisco_ios", "interface Gi1/0/1\n shutdown\n", "interface Gi1/0/1\n", ["GigabitEthernet1/0/1: - shutdown"]),
    ("cisco_ios", "hostname a\n", "hostname a\ninterface Gi1/0/2\n shutdown\n", ["GigabitEthernet1/0/2: + shutdown"]),
    ("arista_eos", "interface Ethernet1\n switchport mode access\n", "interface Ethernet1\n switchport mode trunk\n",
     ["Ethernet1: switchport mode access → trunk"]),
    ("cisco_nxos", "interface Ethernet1/1\n speed 1000\n", "interface Ethernet1/1\n speed 10000\n",
     ["Ethernet1/1: speed 1000 → 10000"]),
    ("juniper_junos", "set interfaces ge-0/0/1 description x\n",
     "set interfaces ge-0/0/1 description x\nset interfaces ge-0/0/1 disable\n", ["ge-0/0/1: + disable"]),
    ("cisco_ios", "router ospf 1\n network 10.0.0.0 0.0.0.255 area 0\n", ("router ospf 1\n passive-interface default\n"
     " network 10.0.0.0 0.0.0.255 area 0\n"), ["router ospf 1: + passive-interface default"]),
])
def test_changes_understand_the_hierarchy(platform: str, old: str, new: str, expected: list[str]) -> None:
    assert [str(c) for c in changes(old, new, platform)] == expected


def test_version_lookups_explain_what_is_missing(tmp_path: Path) -> None:
    with ConfigHistory("hq", tmp_path) as h:
        with pytest.raises(ConfigHistoryError, match="no configuration history"):
            h.show("core-sw1")
        h.record("core-sw1", "cisco_ios", cfg(), 100.0, "ssh")
        with pytest.raises(ConfigHistoryError, match="no version at or before"):
            h.show("core-sw1", at=50.0)


def test_normalise_is_idempotent() -> None:
    once = normalise(cfg(), "cisco_ios")
    assert normalise(once, "cisco_ios") == once


_WRITER = """
import sys
from pathlib import Path
from monitor.confighist.history import ConfigHistory
h = ConfigHistory("hq", Path(sys.argv[1]))
i = int(sys.argv[2])
while True:
    i += 1
    h.record("core-sw1", "cisco_ios", "hostname core-sw1\\ninterface Gi1/0/1\\n description run %d\\n" % i + "x" * 5000
             + "\\nend\\n", float(i), "ssh")
"""


def test_nothing_is_lost_when_the_writer_dies_mid_write(tmp_path: Path) -> None:
    """A writer killed with SIGKILL at random moments leaves a readable history of whole versions."""
    seen = 0
    for round_ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), str(round_ * 100_000)],
                                cwd=Path(__file__).resolve().parents[2])
        time.sleep(0.6 + 0.13 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with ConfigHistory("hq", tmp_path) as h:
            versions = h.versions("core-sw1")
            assert len(versions) >= seen
            seen = len(versions)
            for v in versions[-3:]:
                text = h.text(v)
                assert text.startswith("hostname core-sw1") and text.endswith("end\n")
            assert h.record("core-sw1", "cisco_ios", f"hostname core-sw1\nround {round_}\nend\n", 9e9 + round_,
                            "ssh") is not None
            seen += 1
    assert seen > 6
    Repo(str(tmp_path / "hq.git")).close()
