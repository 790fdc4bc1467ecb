"""`saksi check` on bad input and broken agents, through the real entry point against real agents.

The contract: exit 0 healthy, 1 a problem was found, 2 the device could not be polled (with a
one-line reason on stderr and never a traceback). Garbage values are counted, not fatal; a table
that did not answer is unknown, never "empty".
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Agent, free_udp_port, run_saksi
from tests.udp_proxy import Faults, proxy_in_thread

V3 = ["--v3-user", "saksi", "--v3-auth-protocol", "SHA256", "--v3-auth-key", "saksi-auth-key",
      "--v3-priv-protocol", "AES", "--v3-priv-key", "saksi-priv-key"]
FAST_FAIL = ["--timeout", "0.3", "--retries", "0"]
SFP_PORT = "GigabitEthernet1/0/52"  # ios_2960x: a GLC-SX-MMD with DOM, serial FNS192717K1
SFP_SERIAL = "FNS192717K1"


def at(agent: Agent, community: str) -> list[str]:
    return ["--host", agent.host, "--snmp-port", str(agent.port), "--community", community]


def check(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_saksi("check", *args, timeout=timeout)


def polled(r: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON of a poll that worked (exit 0 or 1), with nothing on stderr that looks like a crash."""
    assert r.returncode in (0, 1), f"exit {r.returncode}: {r.stderr}"
    assert "Traceback" not in r.stderr
    data: dict[str, Any] = json.loads(r.stdout)
    assert data["healthy"] is (r.returncode == 0)
    return data


def refused(r: subprocess.CompletedProcess[str]) -> str:
    """The one-line reason of an exit 2."""
    assert r.returncode == 2, f"exit {r.returncode}: {r.stdout[-500:]} {r.stderr}"
    assert "Traceback" not in r.stderr and "Error:" not in r.stderr, r.stderr
    line = r.stderr.strip()
    assert line.startswith("saksi: ") and "\n" not in line, r.stderr
    return line


def statuses(data: dict[str, Any]) -> dict[str, str]:
    return {t["table"]: t["status"] for t in data["tables"]}


# --- garbage and missing tables -------------------------------------------------------------------------------


def test_garbage_values_are_counted_not_fatal(snmpsim: Agent) -> None:
    data = polled(check(*at(snmpsim, "garbage"), "--json", timeout=30))  # the looped entity must not hang

    skipped = data["skipped"]
    assert sum(skipped.values()) >= 4, skipped
    assert any("interface" in reason for reason in skipped), skipped
    assert any("sensor" in reason for reason in skipped), skipped
    assert data["device"]["sys_name"] == "garbage-sw" and data["device"]["sys_object_id"] == ""
    ports = {p["ifindex"]: p for p in data["ports"]}
    assert set(ports) == {1, 2, 3}
    assert (ports[2]["admin"], ports[2]["oper"]) == ("unknown", "unknown")  # 77 and -3: outside IF-MIB
    assert ports[3]["type"] == 0 and ports[1]["counters"]["in_octets"] is None  # "six", "lots"
    assert ports[1]["transceiver"]["serial"] == "GRB0001"
    assert all((p["transceiver"] or {}).get("serial") != "LOOP1" for p in data["ports"])  # contains itself
    rx = next(s for s in data["sensors"] if s["kind"] == "rx_power")
    assert (rx["status"], rx["value"], rx["ifindex"]) == ("unavailable", None, 1)  # "minus four" dBm


def test_missing_tables_are_empty_not_errors(snmpsim: Agent) -> None:
    data = polled(check(*at(snmpsim, "sysonly"), "--json"))

    assert data["ports"] == [] and data["sensors"] == []
    got = statuses(data)
    assert got["system"] == "ok"
    for table in ("ifTable", "ifXTable", "entPhysicalTable", "lldpRemTable"):
        assert got[table] == "empty", table
    assert data["device"]["poll"] == "answered"


# --- devices that cannot be polled ----------------------------------------------------------------------------


def test_silent_device_times_out_quickly() -> None:
    nobody = free_udp_port()  # nothing listens here
    started = time.monotonic()
    r = check("--host", "127.0.0.1", "--snmp-port", str(nobody), "--community", "public", *FAST_FAIL, "--json")
    elapsed = time.monotonic() - started

    reason = refused(r)
    assert "timeout" in reason and f"127.0.0.1:{nobody}" in reason
    assert elapsed < 15, f"a silent device took {elapsed:.1f}s"  # one 0.3 s request, not a hang
    data = json.loads(r.stdout)  # --json still says what happened
    assert data["device"]["reachable"] is False and data["device"]["poll"] == "timed_out"
    assert data["ports"] == [] and data["healthy"] is False


def test_wrong_community_is_a_timeout(snmpsim: Agent) -> None:
    reason = refused(check(*at(snmpsim, "no-such-community"), *FAST_FAIL))
    assert "no SNMP response" in reason and "timeout" in reason


def test_snmpv3_with_the_right_credentials(snmpsim: Agent) -> None:
    v3 = polled(check("--host", snmpsim.host, "--snmp-port", str(snmpsim.port), *V3, "--v3-context", "ios_2960x",
                      "--json"))
    v2 = polled(check(*at(snmpsim, "ios_2960x"), "--json"))

    assert len(v3["ports"]) > 100
    assert [p["name"] for p in v3["ports"]] == [p["name"] for p in v2["ports"]]
    sfp = next(p for p in v3["ports"] if p["name"] == SFP_PORT)
    assert sfp["transceiver"]["serial"] == SFP_SERIAL


@pytest.mark.parametrize(("change", "words"), [
    ({"--v3-auth-key": "wrong-auth-key"}, ["authentication failed", "auth key"]),
    ({"--v3-priv-key": "wrong-priv-key"}, ["authentication failed", "privacy key"]),
    ({"--v3-user": "nobody"}, ["authentication failed", "user 'nobody'", "does not know"]),
    ({"--v3-auth-protocol": "SHA"}, ["authentication failed", "auth protocol"]),
])
def test_snmpv3_refused_credentials(snmpsim: Agent, change: dict[str, str], words: list[str]) -> None:
    args = list(V3)
    for option, value in change.items():
        args[args.index(option) + 1] = value
    reason = refused(check("--host", snmpsim.host, "--snmp-port", str(snmpsim.port), *args,
                           "--v3-context", "ios_2960x", *FAST_FAIL))
    for word in words:
        assert word in reason
    assert "saksi-priv-key" not in reason and "saksi-auth-key" not in reason


@pytest.mark.parametrize(("args", "words"), [
    (["--snmp-version", "7"], "--snmp-version"),
    (["--snmp-version", "3"], "--v3-user"),
    (["--community", ""], "--community"),
    (["--snmp-port", "70000"], "--snmp-port"),
    (["--timeout", "0"], "--timeout"),
    (["--retries", "-1"], "--retries"),
    (["--v3-user", "saksi", "--v3-auth-protocol", "ROT13", "--v3-auth-key", "saksi-auth-key"],
     "--v3-auth-protocol must be one of"),
    (["--v3-user", "saksi", "--v3-auth-protocol", "SHA256", "--v3-auth-key", "short"], "at least 8"),
    (["--v3-user", "saksi", "--v3-auth-protocol", "SHA256"], "--v3-auth-key"),
    (["--v3-user", "saksi", "--v3-priv-protocol", "AES", "--v3-priv-key", "saksi-priv-key"], "authentication"),
    (["GigabitEthernet1/0/1", "GigabitEthernet1/0/2"], "at most one PORT"),
])
def test_bad_options_are_refused_with_a_reason(args: list[str], words: str) -> None:
    """Checked before any packet is sent: the address is a port where nothing listens."""
    r = check("--host", "127.0.0.1", "--snmp-port", str(free_udp_port()), *FAST_FAIL, *args)
    assert words in refused(r)


# --- a device that stops answering mid-walk -------------------------------------------------------------------


@pytest.fixture(scope="module")
def partial_full(snmpsim: Agent) -> tuple[dict[str, Any], int]:
    """The whole `partial` recording read through a fault-free proxy, and how many answers that took."""
    with proxy_in_thread((snmpsim.host, snmpsim.port)) as proxy:
        r = check("--host", proxy.address[0], "--snmp-port", str(proxy.address[1]), "--community", "partial",
                  "--json", *FAST_FAIL)
    data = polled(r)
    assert proxy.dropped == 0 and proxy.answers == proxy.requests
    # every table answered; hardware tables this recording lacks answered "empty" or were not needed ("skipped")
    assert all(s in ("ok", "empty", "skipped") for s in statuses(data).values()), data["tables"]
    assert all(statuses(data)[t] == "ok" for t in ("ifTable", "entPhysicalTable", "lldpRemTable")), data["tables"]
    return data, proxy.answers


def _cut_points(total: int) -> list[int]:
    return sorted({1, 2, *(round(total * f) for f in (0.2, 0.4, 0.6, 0.8)), total - 1})


def test_partial_recording_is_complete_without_faults(partial_full: tuple[dict[str, Any], int]) -> None:
    data, answers = partial_full
    assert answers >= 20  # enough requests that a cut can fall inside every table
    assert len(data["ports"]) == 28 and {t["serial"] for p in data["ports"] if (t := p["transceiver"])} == {
        "PRT001LR", "PRT002LR", "PRT003LR"}
    assert len(data["sensors"]) == 10 and sum(1 for p in data["ports"] if p["neighbor"]) == 3


def test_device_that_goes_silent_mid_poll(snmpsim: Agent, partial_full: tuple[dict[str, Any], int]) -> None:
    full, total = partial_full
    full_tables = {t["table"]: t for t in full["tables"]}
    full_ports = {p["ifindex"]: p for p in full["ports"]}
    seen: set[str] = set()
    for n in _cut_points(total):
        with proxy_in_thread((snmpsim.host, snmpsim.port), Faults(drop_after=n)) as proxy:
            r = check("--host", proxy.address[0], "--snmp-port", str(proxy.address[1]), "--community", "partial",
                      "--json", *FAST_FAIL)
        where = f"answers cut after {n} of {total}"
        data = polled(r)
        assert proxy.dropped > 0 and r.returncode == 1 and data["device"]["poll"] == "partial", where
        tables = data["tables"]
        assert sorted(t["table"] for t in tables) == sorted(full_tables), where  # every table is accounted for
        first_bad = next(i for i, t in enumerate(tables) if t["status"] != full_tables[t["table"]]["status"])
        for i, t in enumerate(tables):
            seen.add(t["status"])
            if full_tables[t["table"]]["status"] == "ok" or i >= first_bad:
                assert t["status"] != "empty", f"{where}: {t}"  # silence is never "no rows"
            if i < first_bad:
                assert t["rows"] == full_tables[t["table"]]["rows"], where
            else:
                assert t["status"] in ("partial", "timeout", "skipped"), f"{where}: {t}"
        assert tables[first_bad]["status"] in ("partial", "timeout"), where

        got = statuses(data)
        answered = {name for name, s in got.items() if s in ("ok", "partial")}
        for p in data["ports"]:
            want = full_ports[p["ifindex"]]
            assert p["name"] == want["name"], where
            if p["transceiver"] is not None:  # only ever the module really there
                assert p["transceiver"]["serial"] == want["transceiver"]["serial"], where
        if "entPhysicalTable" not in answered:
            assert all(p["transceiver"] is None for p in data["ports"]), where
        if "entSensorValueTable" not in answered:
            assert all(s["source"] != "cisco-entity-sensor" for s in data["sensors"]), where
        if "lldpRemTable" not in answered:
            assert all(p["neighbor"] is None for p in data["ports"]), where
        if n == 2:  # the system group and one GETBULK of ifTable came back
            assert got["ifTable"] == "partial" and 0 < len(data["ports"]) < len(full_ports), where
    assert {"partial", "timeout", "skipped"} <= seen


def test_lossy_and_slow_links(snmpsim: Agent, partial_full: tuple[dict[str, Any], int]) -> None:
    """Retries ride out lost answers; a late answer within the timeout is an answer, after it a timeout."""
    full, _ = partial_full
    for faults, retries, timeout in ((Faults(drop_probability=0.15, seed=7), "4", "0.3"),
                                     (Faults(delay_s=0.05), "0", "1")):
        with proxy_in_thread((snmpsim.host, snmpsim.port), faults) as proxy:
            r = check("--host", proxy.address[0], "--snmp-port", str(proxy.address[1]), "--community", "partial",
                      "--json", "--timeout", timeout, "--retries", retries)
        data = polled(r)
        assert data["tables"] == full["tables"] and data["ports"] == full["ports"], faults
        assert proxy.dropped > 0 if faults.drop_probability else proxy.dropped == 0

    # check does what its flags say (issue 16 #14): answers 0.5 s late are timeouts against --timeout 0.3
    # (the daemon's patient second ask of a silent device is its own policy, not check's) and answers
    # against --timeout 1.
    with proxy_in_thread((snmpsim.host, snmpsim.port), Faults(delay_s=0.5)) as proxy:
        r = check("--host", proxy.address[0], "--snmp-port", str(proxy.address[1]), "--community", "partial",
                  *FAST_FAIL)
    assert "timeout 0.3s, 0 retries" in refused(r)
    with proxy_in_thread((snmpsim.host, snmpsim.port), Faults(delay_s=0.5)) as proxy:
        r = check("--host", proxy.address[0], "--snmp-port", str(proxy.address[1]), "--community", "partial",
                  "--json", "--timeout", "1", "--retries", "0")
    data = polled(r)
    assert data["tables"] == full["tables"] and data["ports"] == full["ports"]


# --- choosing a port ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["Gi1/0/52", SFP_PORT, "10152"])
def test_one_port(snmpsim: Agent, port: str) -> None:
    data = polled(check(*at(snmpsim, "ios_2960x"), port, "--json"))
    assert [p["name"] for p in data["ports"]] == [SFP_PORT]
    (sfp,) = data["ports"]
    assert sfp["transceiver"]["serial"] == SFP_SERIAL and sfp["dom"]["rx_dbm"] is not None
    assert data["sensors"] and all(s["ifindex"] == sfp["ifindex"] for s in data["sensors"])


def test_unknown_port(snmpsim: Agent) -> None:
    reason = refused(check(*at(snmpsim, "ios_2960x"), "Gi9/9/99", "--json"))
    assert "no port 'Gi9/9/99'" in reason


def test_human_output(snmpsim: Agent) -> None:
    one = check(*at(snmpsim, "ios_2960x"), "Gi1/0/52")
    assert one.returncode == 0, one.stderr
    assert SFP_PORT in one.stdout and SFP_SERIAL in one.stdout and "GLC-SX-MMD" in one.stdout
    assert "healthy" in one.stdout

    # the switch's admin-up ports with nothing in them are unused, not problems (no link, no history here)
    whole = check(*at(snmpsim, "ios_2960x"))
    assert whole.returncode == 0, whole.stderr
    assert SFP_PORT in whole.stdout and "unused port(s)" in whole.stdout and "healthy" in whole.stdout
    assert "[red]problem" not in whole.stdout and "\nproblem " not in whole.stdout


# --- inventory mode -------------------------------------------------------------------------------------------

INVENTORY = """\
customers:
  - {{name: lab}}
sites:
  - {{name: bench, customer: lab}}
credentials:
  snmp:
    sim-v2: {{version: 2c, community: "${{env:SAKSI_TEST_COMMUNITY}}"}}
    sim-v3:
      version: 3
      user: saksi
      auth_protocol: SHA256
      auth_key: "${{env:SAKSI_TEST_AUTH_KEY}}"
      priv_protocol: AES
      priv_key: "${{env:SAKSI_TEST_PRIV_KEY}}"
      context: ios_2960x
devices:
  - {{name: access-sw, site: bench, host: {host}, port: {port}, platform: cisco_ios, snmp: sim-v2, timeout: 5}}
  - {{name: access-v3, site: bench, host: {host}, port: {port}, platform: cisco_ios, snmp: sim-v3, timeout: 5}}
"""


@pytest.fixture
def inventory(snmpsim: Agent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SAKSI_TEST_COMMUNITY", "ios_2960x")
    monkeypatch.setenv("SAKSI_TEST_AUTH_KEY", "saksi-auth-key")
    monkeypatch.setenv("SAKSI_TEST_PRIV_KEY", "saksi-priv-key")
    path = tmp_path / "lab.yaml"
    path.write_text(INVENTORY.format(host=snmpsim.host, port=snmpsim.port), encoding="utf-8")
    yield path


@pytest.mark.parametrize("device", ["access-sw", "access-v3"])
def test_inventory_device(inventory: Path, device: str) -> None:
    data = polled(check("--inventory", str(inventory), device, "Gi1/0/52", "--json"))
    assert data["device"]["name"] == device
    assert [(p["name"], p["transceiver"]["serial"]) for p in data["ports"]] == [(SFP_PORT, SFP_SERIAL)]


def test_inventory_unknown_device(inventory: Path) -> None:
    reason = refused(check("--inventory", str(inventory), "core-sw9"))
    assert "unknown device 'core-sw9'" in reason and "access-sw" in reason


def test_inventory_missing_secret(inventory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAKSI_TEST_COMMUNITY")
    reason = refused(check("--inventory", str(inventory), "access-sw"))
    line = next(i for i, text in enumerate(inventory.read_text().splitlines(), 1) if "sim-v2:" in text)
    assert f"{inventory}:{line}:" in reason and "SAKSI_TEST_COMMUNITY" in reason


@pytest.mark.parametrize(("edit", "marker", "words"), [
    (("timeout: 5}\n  - {name: access-v3", "timeout: soon}\n  - {name: access-v3"), "name: access-sw",
     "seconds"),
    (("platform: cisco_ios, snmp: sim-v2", "platform: cisco_ios, snmp: sim-v9"), "name: access-sw",
     "unknown SNMP credential 'sim-v9'"),
    (("devices:\n", "devices: [\n"), "name: access-sw", "YAML error"),
])
def test_malformed_inventory_points_at_the_line(inventory: Path, edit: tuple[str, str], marker: str,
                                                words: str) -> None:
    text = inventory.read_text()
    old, new = edit
    assert old in text
    inventory.write_text(text.replace(old, new, 1))
    line = next(i for i, t in enumerate(inventory.read_text().splitlines(), 1) if marker in t)

    reason = refused(check("--inventory", str(inventory), "access-sw"))
    assert words in reason and str(inventory) in reason
    assert f"{inventory}:{line}:" in reason or f"{inventory}:{line + 1}:" in reason, reason
