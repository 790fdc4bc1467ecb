"""Writing and updating the inventory file: strict-loader clean, secrets by reference, hand edits kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.discover.crawl import Credential
from monitor.discover.inventory_file import InventoryFileError, merge
from monitor.discover.site import Draft, DraftDevice, DraftLink
from monitor.inventory import load_inventory

V2 = Credential("v2c-site-community", "2c", community_env="SITE_COMMUNITY")
V3 = Credential("v3-monitor", "3", user="monitor", auth_protocol="SHA256", auth_key_env="SITE_AUTH",
                priv_protocol="AES", priv_key_env="SITE_PRIV")
DRAFT = Draft(
    devices=[DraftDevice("core", "10.0.0.1", "cisco_ios", V3.name, 0, True),
             DraftDevice("dist", "10.0.0.2", "arista_eos", V2.name, 1, True)],
    links=[DraftLink("core:GigabitEthernet1/0/49", "dist:Ethernet49", "backbone", "lldp")],
)


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("SITE_COMMUNITY", "c0mmunity"), ("SITE_AUTH", "auth-key-123"), ("SITE_PRIV", "priv-key-123")):
        monkeypatch.setenv(name, value)


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    f = tmp_path / "site.yaml"
    f.write_text(text)
    return load_inventory(f)


def test_a_new_file_loads_strictly_and_holds_no_secret(tmp_path: Path) -> None:
    text, report = merge(None, DRAFT, [V2, V3], site="hq", customer="acme", header="written by a test")
    assert text.startswith("# written by a test\n")
    assert "c0mmunity" not in text and "auth-key-123" not in text and "${env:SITE_PRIV}" in text
    inv = load(tmp_path, text)
    assert inv.devices["core"].snmp.version == "3" and inv.devices["core"].snmp.auth_key is not None
    assert inv.devices["core"].snmp.auth_key.reveal() == "auth-key-123"
    assert inv.devices["dist"].port == 161 and inv.devices["dist"].platform == "arista_eos"
    assert [(str(link.a), str(link.b), link.role) for link in inv.links] == [
        ("core:GigabitEthernet1/0/49", "dist:Ethernet49", "backbone")]
    assert report.added_devices == ["core", "dist"]


def test_unused_credentials_are_not_written(tmp_path: Path) -> None:
    only_v2 = Draft(devices=[DraftDevice("dist", "10.0.0.2", "arista_eos", V2.name, 0, True)])
    text, _ = merge(None, only_v2, [V2, V3], site="hq", customer="acme")
    assert "v3-monitor" not in text and "SITE_AUTH" not in text
    assert set(load(tmp_path, text).devices) == {"dist"}


def test_a_non_standard_snmp_port_is_written_per_device(tmp_path: Path) -> None:
    text, _ = merge(None, DRAFT, [V2, V3], site="hq", customer="acme", snmp_port=1161)
    assert {d.port for d in load(tmp_path, text).devices.values()} == {1161}


HAND = """# hand-kept header
customers:
  - name: acme   # the customer
    display_name: ACME Corp
sites:
  - {name: hq, customer: acme, timezone: Europe/Helsinki}
credentials:
  snmp:
    v3-monitor: {version: 3, user: monitor, auth_protocol: SHA256, auth_key: "${env:SITE_AUTH}"}
devices:
  - name: core-1            # a person's name for it
    site: hq
    host: 10.0.0.1
    platform: generic
    snmp: v3-monitor
    description: keep me
links:
  - {a: "core-1:Gi1/0/49", b: "spare:Gi0/1", role: uplink}
"""


def test_update_keeps_what_a_person_wrote(tmp_path: Path) -> None:
    text, report = merge(HAND, DRAFT, [V2, V3], site="hq", customer="other")
    for kept in ("# hand-kept header", "# the customer", "# a person's name for it", "description: keep me",
                 "display_name: ACME Corp", 'auth_key: "${env:SITE_AUTH}"}'):
        assert kept in text
    assert "name: other" not in text, "the site exists: its customer stays"
    assert report.updated_devices == ["core-1: platform generic -> cisco_ios"]
    assert report.added_devices == ["dist"]
    assert report.kept_links == ["core-1:GigabitEthernet1/0/49 -- dist:Ethernet49 "
                                 "(the file links core-1:GigabitEthernet1/0/49 -- spare:GigabitEthernet0/1)"]
    assert "priv_key" not in text.split("v3-monitor:")[1].split("\n")[0], "an existing credential is not rewritten"
    again, second = merge(text, DRAFT, [V2, V3], site="hq", customer="other")
    assert again == text and second.updated_devices == [] and second.added_devices == []


@pytest.mark.parametrize("bad", ["- just\n- a list\n", "customers: [\n", "devices: {name: x}\n"])
def test_a_file_that_is_no_inventory_is_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(InventoryFileError):
        merge(bad, DRAFT, [V2, V3], site="hq", customer="acme")
