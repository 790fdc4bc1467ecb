"""Tests for the strict inventory loader: real YAML files on disk, no mocks."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import monitor.common.names
from monitor.common.names import canonical_port, short_port
from monitor.inventory import Endpoint, InventoryError, Secret, load_inventory

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory" / "example.yaml"
EXAMPLE_SECRETS = {
    "SAKSI_COMMUNITY": "public-lab",
    "SAKSI_AUTH_KEY": "auth-key-123",
    "SAKSI_PRIV_KEY": "priv-key-456",
    "SAKSI_SSH_PASSWORD": "ssh-password",
}
MARK = "# <-"

# A valid base; error cases edit it and mark the line the error must point at with "# <-".
BASE = """\
customers:
  - {name: acme}
sites:
  - {name: hq, customer: acme}
credentials:
  snmp:
    v2: {version: 2c, community: public}
  ssh:
    ops: {username: saksi}
devices:
  - {name: sw1, site: hq, host: 127.0.0.1, platform: cisco_ios, snmp: v2}
  - {name: sw2, site: hq, host: 127.0.0.1, platform: cisco_ios, snmp: v2}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def example_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in EXAMPLE_SECRETS.items():
        monkeypatch.setenv(name, value)


def test_example_inventory_loads(example_env: None) -> None:
    inv = load_inventory(EXAMPLE)

    assert inv.customers["acme"].display_name == "ACME Corp"
    assert inv.sites["hq"].timezone == "Europe/Helsinki" and inv.sites["hq"].traps is True
    core, dist = inv.devices["core-sw1"], inv.devices["dist-sw2"]
    assert (core.host, core.port, core.platform) == ("127.0.0.1", 1161, "cisco_ios")
    assert (dist.host, dist.port, dist.timeout, dist.retries) == ("127.0.0.1", 1162, 1.5, 2)
    assert (core.timeout, core.retries, core.ssh_port) == (2.0, 1, 22)
    assert (
        core.snmp.version == "3" and core.snmp.auth_protocol == "SHA256" and core.snmp.priv_protocol == "AES"
    )
    assert core.snmp.auth_key == Secret("auth-key-123") and core.snmp.priv_key == Secret("priv-key-456")
    assert dist.snmp.version == "2c" and dist.snmp.community == Secret("public-lab")
    assert (
        core.ssh is not None and core.ssh.username == "saksi" and core.ssh.password == Secret("ssh-password")
    )
    assert dist.ssh is None
    assert [(str(link.a), str(link.b), link.role) for link in inv.links] == [
        ("core-sw1:GigabitEthernet1/0/49", "dist-sw2:GigabitEthernet1/0/25", "backbone"),
        ("core-sw1:GigabitEthernet1/0/50", "dist-sw2:GigabitEthernet1/0/26", "backbone"),
    ]
    assert inv.links[0].media == "10GBASE-LR"


def test_helpers(example_env: None) -> None:
    inv = load_inventory(EXAMPLE)

    assert [d.name for d in inv.devices_at("hq")] == ["core-sw1", "dist-sw2"]
    assert inv.devices_at("elsewhere") == []
    assert inv.customer_of("dist-sw2") == "acme"
    assert len(inv.links_of("core-sw1")) == 2
    assert [link.b for link in inv.links_of("core-sw1", "Gi1/0/49")] == [
        Endpoint("dist-sw2", "GigabitEthernet1/0/25")
    ]
    assert inv.links_of("dist-sw2", "GigabitEthernet1/0/26")[0].a.port == "GigabitEthernet1/0/50"
    assert inv.links_of("core-sw1", "Gi1/0/1") == []


def test_defaults(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, "inv.yaml", BASE))

    assert inv.sites["hq"].timezone == "UTC" and inv.sites["hq"].traps is False
    assert inv.customers["acme"].display_name == "acme"
    sw1 = inv.devices["sw1"]
    assert (sw1.port, sw1.ssh_port, sw1.timeout, sw1.retries, sw1.ssh, sw1.description) == (
        161,
        22,
        2.0,
        1,
        None,
        None,
    )
    assert inv.links == ()


def test_directory_merges_sorted_yaml_files(tmp_path: Path) -> None:
    write(tmp_path, "10-devices.yml", BASE.split("devices:")[0].replace("customers:\n  - {name: acme}\n", ""))
    write(tmp_path, "00-customers.yaml", "customers:\n  - {name: acme}\n")
    write(tmp_path, "20-devices.yaml", "devices:" + BASE.split("devices:")[1])
    write(tmp_path, "30-links.yaml", "links:\n  - {a: 'sw1:Te1/1/1', b: 'sw2:Te1/1/1', role: uplink}\n")
    write(tmp_path, "README.txt", "not: [inventory")

    inv = load_inventory(tmp_path)

    assert sorted(inv.devices) == ["sw1", "sw2"]
    assert inv.links[0].a == Endpoint("sw1", "TenGigabitEthernet1/1/1")
    assert load_inventory([tmp_path / "00-customers.yaml"]).customers.keys() == {"acme"}


def test_secrets_resolve_from_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_SUFFIX", "-lab")
    (tmp_path / "secrets").mkdir()
    write(tmp_path / "secrets", "auth", "auth-from-file\n")
    write(tmp_path / "secrets", "priv", "priv-from-file\r\n")
    v3 = (
        "    v2: {version: 2c, community: 'public${env:LAB_SUFFIX}'}\n"
        "    v3: {version: 3, user: mon, auth_protocol: sha, auth_key: '${file:secrets/auth}',\n"
        f"         priv_protocol: aes256, priv_key: '${{file:{tmp_path / 'secrets' / 'priv'}}}'}}\n"
    )
    text = BASE.replace("    v2: {version: 2c, community: public}\n", v3).replace(
        "snmp: v2}\n", "snmp: v3}\n", 1
    )

    inv = load_inventory(write(tmp_path, "inv.yaml", text))

    assert inv.devices["sw2"].snmp.community == Secret("public-lab")
    v3_cred = inv.devices["sw1"].snmp
    assert v3_cred.auth_key == Secret("auth-from-file"), "relative to the inventory file, newline stripped"
    assert v3_cred.priv_key == Secret("priv-from-file"), "absolute path, CRLF stripped"
    assert (v3_cred.auth_protocol, v3_cred.priv_protocol, v3_cred.user) == ("SHA", "AES256", "mon")


def test_secret_never_leaks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example_env: None) -> None:
    secret = Secret("hunter2-very-secret")
    assert repr(secret) == str(secret) == "Secret('***')" and f"{secret}" == "Secret('***')"
    assert secret.reveal() == "hunter2-very-secret"

    inv = load_inventory(EXAMPLE)
    dumped = repr(inv) + str(inv.devices) + str(list(inv.devices.values()))
    assert not any(value in dumped for value in EXAMPLE_SECRETS.values())

    monkeypatch.setenv("SHORT", "tiny7")
    bad = {
        "short.yaml": BASE.replace(
            "v2: {version: 2c, community: public}",
            "v2: {version: 3, user: u, auth_protocol: MD5, auth_key: '${env:SHORT}'}",
        ),
        "literal.yaml": BASE.replace("community: public", "community: hunter2-very-secret, colour: red"),
        "number.yaml": BASE.replace("community: public", "community: 86420975"),
        "syntax.yaml": BASE.replace("community: public}", "community: 'hunter2-very-secret}"),
    }
    for name, text in bad.items():
        with pytest.raises(InventoryError) as caught:
            load_inventory(write(tmp_path, name, text))
        message = str(caught.value) + repr(caught.value) + "".join(caught.value.errors)
        for leaked in ("tiny7", "hunter2", "86420975"):
            assert leaked not in message, (name, message)


# (id, text with one line marked "# <-", expected key path, expected message fragment)
ERROR_CASES = [
    ("unknown-top-key", BASE + "colour: blue  # <-\n", "colour", "unknown key"),
    (
        "unknown-device-key",
        BASE.replace("snmp: v2}\n  -", "snmp: v2, colour: red}  # <-\n  -"),
        "devices[0].colour",
        "unknown key",
    ),
    (
        "missing-required",
        BASE.replace(", platform: cisco_ios, snmp: v2}\n  -", ", snmp: v2}  # <-\n  -"),
        "devices[0].platform",
        "missing required key",
    ),
    (
        "missing-required-block",
        BASE + "  - name: sw3  # <-\n    site: hq\n    platform: x\n    snmp: v2\n",
        "devices[2].host",
        "missing required key",
    ),
    (
        "wrong-type-port",
        BASE.replace("snmp: v2}\n  -", "snmp: v2, port: '161'}  # <-\n  -"),
        "devices[0].port",
        "expected an integer between 1 and 65535",
    ),
    (
        "wrong-type-traps",
        BASE.replace("customer: acme}", "customer: acme, traps: 'yes'}  # <-"),
        "sites[0].traps",
        "expected true or false",
    ),
    (
        "bad-timeout",
        BASE.replace("snmp: v2}\n  -", "snmp: v2, timeout: 0}  # <-\n  -"),
        "devices[0].timeout",
        "seconds > 0",
    ),
    (
        "bad-retries",
        BASE.replace("snmp: v2}\n  -", "snmp: v2, retries: -1}  # <-\n  -"),
        "devices[0].retries",
        "integer >= 0",
    ),
    ("section-not-list", BASE + "links:  # <-\n  sw1: sw2\n", "links", "expected a list, got mapping"),
    (
        "item-not-mapping",
        BASE + "links:\n  - {a: 'sw1:1', b: 'sw2:1', role: access}\n  - sw1  # <-\n",
        "links[1]",
        "expected a mapping, got str",
    ),
    (
        "duplicate-customer",
        BASE.replace("  - {name: acme}", "  - {name: acme}\n  - {name: acme}  # <-"),
        "customers[1].name",
        "duplicate customer 'acme'",
    ),
    (
        "duplicate-site",
        BASE.replace("customer: acme}", "customer: acme}\n  - {name: hq, customer: acme}  # <-"),
        "sites[1].name",
        "duplicate site 'hq'",
    ),
    (
        "duplicate-device",
        BASE + "  - {name: sw1, site: hq, host: 127.0.0.2, platform: cisco_ios, snmp: v2}  # <-\n",
        "devices[2].name",
        "duplicate device 'sw1'",
    ),
    (
        "unknown-customer",
        BASE.replace("customer: acme}", "customer: acne}  # <-"),
        "sites[0].customer",
        "unknown customer 'acne'",
    ),
    (
        "unknown-site",
        BASE.replace(
            "site: hq, host: 127.0.0.1, platform: cisco_ios, snmp: v2}\n  -",
            "site: lab, host: 127.0.0.1, platform: cisco_ios, snmp: v2}  # <-\n  -",
        ),
        "devices[0].site",
        "unknown site 'lab'",
    ),
    (
        "unknown-snmp-credential",
        BASE.replace("snmp: v2}\n  -", "snmp: core-v9}  # <-\n  -"),
        "devices[0].snmp",
        "unknown SNMP credential 'core-v9'",
    ),
    (
        "unknown-ssh-credential",
        BASE.replace("snmp: v2}\n  -", "snmp: v2, ssh: nope}  # <-\n  -"),
        "devices[0].ssh",
        "unknown SSH credential 'nope'",
    ),
    (
        "link-unknown-device",
        BASE + "links:\n  - {a: 'sw1:Gi1/0/1', b: 'sw9:Gi1/0/1', role: access}  # <-\n",
        "links[0].b",
        "unknown device 'sw9'",
    ),
    (
        "link-same-port",
        BASE + "links:\n  - {a: 'sw1:Gi1/0/1', b: 'sw1:GigabitEthernet1/0/1', role: access}  # <-\n",
        "links[0].b",
        "both ends are the same port sw1:GigabitEthernet1/0/1",
    ),
    (
        "port-used-twice",
        BASE + "links:\n  - {a: 'sw1:Gi1/0/1', b: 'sw2:Gi1/0/1', role: access}\n"
        "  - {a: 'sw1:GigabitEthernet1/0/1', b: 'sw2:Gi1/0/2', role: access}  # <-\n",
        "links[1].a",
        "port sw1:GigabitEthernet1/0/1 is already used by the link at",
    ),
    (
        "bad-endpoint",
        BASE + "links:\n  - {a: 'sw1', b: 'sw2:Gi1/0/1', role: access}  # <-\n",
        "links[0].a",
        "expected DEVICE:PORT",
    ),
    (
        "bad-role",
        BASE + "links:\n  - {a: 'sw1:Gi1/0/1', b: 'sw2:Gi1/0/1', role: trunk}  # <-\n",
        "links[0].role",
        "must be one of backbone, access, uplink",
    ),
    (
        "bad-timezone",
        BASE.replace("customer: acme}", "customer: acme, timezone: Mars/Olympus}  # <-"),
        "sites[0].timezone",
        "unknown IANA time zone 'Mars/Olympus'",
    ),
    (
        "bad-snmp-version",
        BASE.replace("version: 2c", "version: 4").replace("public}", "public}  # <-"),
        "credentials.snmp.v2.version",
        "must be one of 1, 2c, 3",
    ),
    (
        "v2c-needs-community",
        BASE.replace("{version: 2c, community: public}", "{version: 2c}  # <-"),
        "credentials.snmp.v2.community",
        "required for SNMP v2c",
    ),
    (
        "v1-rejects-v3-keys",
        BASE.replace("community: public}", "community: public, user: bob}  # <-"),
        "credentials.snmp.v2.user",
        "only valid for SNMP v3",
    ),
    (
        "v3-needs-user",
        BASE.replace("{version: 2c, community: public}", "{version: '3'}  # <-"),
        "credentials.snmp.v2.user",
        "required for SNMP v3",
    ),
    (
        "v3-auth-needs-key",
        BASE.replace("{version: 2c, community: public}", "{version: 3, user: u, auth_protocol: SHA}  # <-"),
        "credentials.snmp.v2.auth_key",
        "auth_protocol and auth_key must be given together",
    ),
    (
        "v3-priv-needs-auth",
        BASE.replace(
            "{version: 2c, community: public}",
            "{version: 3, user: u, priv_protocol: AES, priv_key: abcdefgh}  # <-",
        ),
        "credentials.snmp.v2.priv_protocol",
        "privacy requires authentication",
    ),
    (
        "v3-short-key",
        BASE.replace(
            "{version: 2c, community: public}",
            "{version: 3, user: u, auth_protocol: MD5, auth_key: short}  # <-",
        ),
        "credentials.snmp.v2.auth_key",
        "must be at least 8 characters",
    ),
    (
        "v3-bad-auth-protocol",
        BASE.replace(
            "{version: 2c, community: public}",
            "{version: 3, user: u, auth_protocol: ROT13, auth_key: abcdefgh}  # <-",
        ),
        "credentials.snmp.v2.auth_protocol",
        "must be one of MD5, SHA",
    ),
    (
        "ssh-unknown-key",
        BASE.replace("{username: saksi}", "{username: saksi, port: 22}  # <-"),
        "credentials.ssh.ops.port",
        "unknown key",
    ),
    (
        "missing-env",
        BASE.replace("community: public}", "community: '${env:SAKSI_TEST_UNSET_VAR}'}  # <-"),
        "credentials.snmp.v2.community",
        "environment variable 'SAKSI_TEST_UNSET_VAR' is not set",
    ),
    (
        "unreadable-file",
        BASE.replace("community: public}", "community: '${file:no/such/file}'}  # <-"),
        "credentials.snmp.v2.community",
        "cannot read secret file",
    ),
    (
        "yaml-syntax",
        BASE.replace("  - {name: hq, customer: acme}", "  - {name: hq customer: acme}  # <-"),
        "",
        "YAML error: expected ',' or '}'",
    ),
    (
        "yaml-tab",
        BASE.replace("  - {name: hq, customer: acme}", "\t- {name: hq}  # <-"),
        "",
        "YAML error: found character '\\t' that cannot start any token",
    ),
    (
        "yaml-duplicate-key",
        BASE + "  - name: sw3\n    site: hq\n    name: sw4  # <-\n",
        "",
        "YAML error: duplicate key 'name'",
    ),
    ("top-not-mapping", "- customers  # <-\n", "", "expected a mapping, got list"),
]


@pytest.mark.parametrize(
    ("text", "path", "fragment"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_error_names_file_line_and_path(tmp_path: Path, text: str, path: str, fragment: str) -> None:
    line = next(n for n, row in enumerate(text.splitlines(), 1) if MARK in row)
    file = write(tmp_path, "site.yaml", text)

    with pytest.raises(InventoryError) as caught:
        load_inventory(file)

    assert len(caught.value.errors) == 1, caught.value.errors
    error = caught.value.errors[0]
    assert error.startswith(f"{file}:{line}: {path}" if path else f"{file}:{line}: "), error
    assert fragment in error, error
    assert str(caught.value) == error


def test_all_errors_collected_in_one_pass(tmp_path: Path) -> None:
    text = BASE.replace("customer: acme}", "customer: acne}").replace(
        "snmp: v2}\n  -", "snmp: v9, port: 0}\n  -"
    )
    file = write(
        tmp_path, "many.yaml", text + "links:\n  - {a: 'x:1', b: 'sw2:1', role: access, colour: red}\n"
    )

    with pytest.raises(InventoryError) as caught:
        load_inventory(file)

    errors = caught.value.errors
    assert len(errors) == 5, errors
    assert [e.split(": ")[1] for e in errors] == [
        "devices[0].port",
        "links[0].colour",
        "sites[0].customer",
        "devices[0].snmp",
        "links[0].a",
    ]
    assert str(caught.value).startswith("5 inventory errors:") and all(e in str(caught.value) for e in errors)


def test_duplicates_across_files_point_at_both(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", BASE)
    second = write(
        tmp_path,
        "b.yaml",
        "credentials:\n  snmp:\n    v2: {version: 1, community: x}\ncustomers:\n  - {name: acme}\n",
    )

    with pytest.raises(InventoryError) as caught:
        load_inventory([first, second])

    assert caught.value.errors == [
        f"{second}:5: customers[0].name: duplicate customer 'acme' (first defined at {first}:2)",
        f"{second}:3: credentials.snmp.v2: duplicate SNMP credential 'v2' (first defined at {first}:7)",
    ]


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda d: d / "missing.yaml", "cannot read inventory file"),
        (lambda d: d, "no *.yaml or *.yml inventory files"),
        (
            lambda d: (
                write(d, "bin.yaml", "") and (d / "bin.yaml").write_bytes(b"\xff\xfe") and d / "bin.yaml"
            ),
            "not valid UTF-8",
        ),
    ],
    ids=["missing-file", "empty-directory", "not-utf8"],
)
def test_unreadable_inputs(tmp_path: Path, make: object, fragment: str) -> None:
    with pytest.raises(InventoryError, match=r"\S") as caught:
        load_inventory(make(tmp_path))  # type: ignore[operator]
    assert fragment in str(caught.value)


def test_empty_file_is_an_empty_inventory(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, "empty.yaml", "# nothing yet\n"))
    assert (inv.customers, inv.sites, inv.devices, inv.links) == ({}, {}, {}, ())


def test_merge_keys_may_override_defaults(tmp_path: Path) -> None:
    text = (
        BASE
        + "  - {<<: &d {site: hq, host: 127.0.0.1, platform: ios, snmp: v2, port: 1161}, name: sw3, port: 1163}\n"
    )
    assert load_inventory(write(tmp_path, "merge.yaml", text)).devices["sw3"].port == 1163


# --- names ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical", "short"),
    [
        ("Gi1/0/1", "GigabitEthernet1/0/1", "Gi1/0/1"),
        ("Te1/1/1", "TenGigabitEthernet1/1/1", "Te1/1/1"),
        ("GigabitEthernet1/0/25", "GigabitEthernet1/0/25", "Gi1/0/25"),
        ("Ethernet1", "Ethernet1", "Et1"),
        ("xe-0/0/0", "xe-0/0/0", "xe-0/0/0"),
        ("  mystery port 7 ", "mystery port 7", "mystery port 7"),
    ],
)
def test_port_names(raw: str, canonical: str, short: str) -> None:
    assert (canonical_port(raw), short_port(raw)) == (canonical, short)


def test_names_doctests() -> None:
    assert doctest.testmod(monitor.common.names).failed == 0


# --- fuzz ----------------------------------------------------------------------------------------------------

KEYS = [
    "customers",
    "sites",
    "credentials",
    "devices",
    "links",
    "snmp",
    "ssh",
    "name",
    "customer",
    "site",
    "timezone",
    "traps",
    "version",
    "community",
    "user",
    "auth_protocol",
    "auth_key",
    "priv_protocol",
    "priv_key",
    "host",
    "port",
    "platform",
    "timeout",
    "retries",
    "a",
    "b",
    "role",
    "username",
    "password",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "hq",
            "acme",
            "v2",
            "2c",
            "3",
            "sw1:Gi1/0/1",
            "SHA",
            "AES",
            "access",
            "${env:NOPE}",
            "${file:.}",
            "${file:}",
            "Europe/Helsinki",
            "../../etc",
            "12345678",
        ]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=25,
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def load_only_inventory_errors(path: Path) -> None:
    try:
        load_inventory(path)
    except InventoryError as exc:
        assert exc.errors and all(isinstance(e, str) for e in exc.errors)


@FUZZ
@given(
    text=st.lists(
        st.sampled_from([*"{}[]:,-'\"&*!|>%@`#?\n \t\\$", *KEYS]) | st.characters(codec="utf-8")
    ).map("".join)
)
def test_fuzz_text(tmp_path: Path, text: str) -> None:
    load_only_inventory_errors(write(tmp_path, "fuzz.yaml", text))


@FUZZ
@given(doc=st.dictionaries(st.sampled_from(KEYS[:5]), VALUES, max_size=5))
def test_fuzz_structures(tmp_path: Path, doc: dict[str, object]) -> None:
    load_only_inventory_errors(write(tmp_path, "fuzz.yaml", yaml.safe_dump(doc)))


@FUZZ
@given(data=st.data())
def test_fuzz_mutated_example(tmp_path: Path, example_env: None, data: st.DataObject) -> None:
    doc = yaml.safe_load(EXAMPLE.read_text())
    node: object = doc
    while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = data.draw(st.sampled_from(keys))
        if data.draw(st.booleans()) or not isinstance(node[key], (dict, list)):
            node[key] = data.draw(VALUES)  # type: ignore[index]
            break
        node = node[key]  # type: ignore[index]
    load_only_inventory_errors(write(tmp_path, "fuzz.yaml", yaml.safe_dump(doc)))
