"""Fuzzing every CLI-output parser: arbitrary text and mutated real outputs never crash them (issue 9).

Seeds are real `show` outputs — ntc-templates' own fixtures (the corpus copy that tests/collectors/test_ssh_parse.py
reads) and the lab's renderings, which the lab's SSH server sends. Hypothesis truncates them, inserts garbage lines,
swaps columns, duplicates and drops lines and splices in bytes that are not UTF-8 (decoded with replacement, as the
SSH channel does). Properties: the only exception is the documented `CliError`; records have their documented types;
an output cut short at a line never changes or invents a module (it can only lose one), so nothing downstream sees a
module that differs from the device's; a configuration cut before its end marker is never accepted; redaction holds.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.check.report import ssh_json
from monitor.collectors import cli_parse as cp
from monitor.collectors import ssh
from monitor.collectors.hardware import mount_point
from monitor.confighist.history import normalise
from monitor.lab import scenario
from monitor.lab.cli_render import COMMANDS, SECRET_LINES
from monitor.model import (
    CliModule,
    CliNeighbor,
    CliPort,
    CliReading,
    CliView,
    DeviceFacts,
    InventoryItem,
    Port,
    SensorKind,
    Snapshot,
    Thresholds,
    Transceiver,
)
from tests.collectors.test_ssh_parse import FIXTURES, NTC, SITE

# Moderate and repeatable in the suite; SAKSI_FUZZ_EXAMPLES=2000 runs a longer, random search by hand.
_LONG = int(os.environ.get("SAKSI_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_LONG or 60, deadline=None, derandomize=not _LONG,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
Seed = tuple[str, str, str, str]  # platform, role, name, text


@functools.cache
def seeds() -> tuple[Seed, ...]:
    """Real outputs for every (platform, role) a profile knows: ntc-templates fixtures and the lab's renderings."""
    out: list[Seed] = []
    for platform, role, folder in FIXTURES:
        out += [(platform, role, raw.name, raw.read_text(errors="replace"))
                for raw in sorted((NTC / folder).glob("*.raw"))]
    site = scenario.build(scenario.parse({"name": "fuzz", "site": SITE, "poll_interval": 60, "run_until": 60,
                                          "steps": []}, "fuzz"))
    for platform, renderers in sorted(COMMANDS.items()):
        dev = next(d for d in site.devices.values() if d.platform == platform)
        for role, spec in cp.cli_profile(platform).commands.items():
            out.append((platform, role, f"lab:{spec.command}", renderers[spec.command](site, dev, 0.0)))
    return tuple(out)


PARSED_ROLES = [(p, r) for p in cp.platforms() for r in cp.cli_profile(p).commands if r != "config"]
CONFIG_PLATFORMS = sorted(COMMANDS)  # the platforms whose running configuration the lab renders


# -- mutations of real outputs ----------------------------------------------------------------------------------
garbage_line = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


def _lines(text: str) -> list[str]:
    return text.split("\n")


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """`text` after a few random edits of the kinds a broken session or a strange firmware produce."""
    lines = _lines(text)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("cut_line", "cut_char", "garbage", "swap_columns", "duplicate", "drop",
                                   "bytes", "crlf", "blank_columns")))
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        if op == "cut_line":
            lines = lines[:at]
        elif op == "cut_char":
            joined = "\n".join(lines)
            lines = _lines(joined[:draw(st.integers(0, len(joined)))])
        elif op == "garbage":
            lines.insert(at, draw(garbage_line))
        elif op == "swap_columns" and lines:
            cols = lines[at].split()
            if len(cols) >= 2:
                i, j = draw(st.integers(0, len(cols) - 1)), draw(st.integers(0, len(cols) - 1))
                cols[i], cols[j] = cols[j], cols[i]
                lines[at] = "  ".join(cols)
        elif op == "duplicate" and lines:
            lines.insert(at, lines[at])
        elif op == "drop" and lines:
            del lines[at]
        elif op == "bytes":
            raw = "\n".join(lines).encode()
            pos = draw(st.integers(0, len(raw)))
            raw = raw[:pos] + draw(st.binary(min_size=1, max_size=12)) + b"\xff\xfe\xc3" + raw[pos:]
            lines = _lines(raw.decode("utf-8", errors="replace"))
        elif op == "crlf":
            lines = [line + "\r" for line in lines]
        elif op == "blank_columns" and lines:
            lines[at] = " " * len(lines[at])
    return "\n".join(lines)


# -- the properties ---------------------------------------------------------------------------------------------
_RECORD = {"modules": CliModule, "dom": CliReading, "lldp": CliNeighbor, "interfaces": CliPort,
           "inventory": InventoryItem}
_WORDS = {"up", "down", "unknown", "testing", "dormant", "notPresent", "lowerLayerDown"}


def _check_record(role: str, rec: Any) -> None:
    assert type(rec) is _RECORD[role], rec
    for f in fields(rec):
        v = getattr(rec, f.name)
        if f.name in ("value", "lane", "kind", "thresholds"):
            continue
        assert isinstance(v, str), (f.name, v)
        assert "\n" not in v, (f.name, v)
    if role in ("modules", "dom", "interfaces"):
        port = rec.name if role == "interfaces" else rec.port
        assert port and port == port.strip(), rec
    if role == "modules":
        assert rec.serial, rec
    if role == "lldp":
        assert rec.local_port, rec
    if role == "interfaces":
        assert rec.admin in _WORDS and rec.oper in _WORDS, rec
    if role == "dom":
        assert isinstance(rec.kind, SensorKind) and isinstance(rec.value, float) and math.isfinite(rec.value), rec
        assert rec.lane is None or (isinstance(rec.lane, int) and rec.lane >= 0), rec
        assert isinstance(rec.thresholds, Thresholds)
        for limit in (rec.thresholds.low_alarm, rec.thresholds.low_warn, rec.thresholds.high_warn,
                      rec.thresholds.high_alarm):
            assert limit is None or (isinstance(limit, float) and math.isfinite(limit))
        assert rec.thresholds.breach(rec.value) in (None, "warning", "alarm")


def records(platform: str, role: str, text: str) -> list[Any] | None:
    """What the SSH collector keeps of an output (None: the output was refused with the documented CliError)."""
    profile = cp.cli_profile(platform)
    try:
        rows = cp.parse_rows(profile, profile.commands[role], text)
    except cp.CliError as exc:
        assert str(exc)
        return None
    assert isinstance(rows, list) and all(isinstance(r, dict) for r in rows)
    got = ssh._records(profile, role, rows)
    for rec in got:
        _check_record(role, rec)
    return got


def _view(platform: str, role: str, got: list[Any]) -> CliView:
    key = {"modules": "modules", "dom": "readings", "lldp": "neighbors", "interfaces": "ports",
           "inventory": "inventory"}[role]
    return CliView(device="sw1", platform=platform, taken_at=0.0, ok=True, **{key: tuple(got)})


def _downstream(platform: str, role: str, got: list[Any], snap: Snapshot | None = None) -> None:
    """The view's consumers: the JSON report and the SNMP/SSH comparison take any records without failing."""
    view = _view(platform, role, got)
    out = ssh_json(view)
    assert isinstance(out["ports"], list)
    names = {p["name"] for p in out["ports"]}
    for rec in got:
        port = {"lldp": "local_port", "interfaces": "name"}.get(role, "port")
        assert role == "inventory" or getattr(rec, port) in names
    snap = snap or Snapshot("sw1", 0.0, True, DeviceFacts(), ports=tuple(
        Port(ifindex=n, name=name, admin="up", oper="up") for n, name in enumerate(sorted(names), 1)))
    for d in ssh.disagreements(snap, view):
        assert d.field and isinstance(d.snmp, str) and isinstance(d.ssh, str)


def _case(platform: str, role: str) -> list[Seed]:
    return [s for s in seeds() if s[0] == platform and s[1] == role]


@pytest.mark.parametrize(("platform", "role"), PARSED_ROLES, ids=[f"{p}-{r}" for p, r in PARSED_ROLES])
def test_every_parsed_role_has_a_real_seed(platform: str, role: str) -> None:
    got = [records(platform, role, text) for _, _, _, text in _case(platform, role)]
    assert got, f"no real output of {platform} {role} to fuzz from"
    assert any(g for g in got), f"no seed of {platform} {role} parses to a record: the fuzzing would prove nothing"


@FUZZ
@given(data=st.data())
def test_arbitrary_text_never_crashes_a_parser(data: st.DataObject) -> None:
    platform, role = data.draw(st.sampled_from(PARSED_ROLES))
    text = data.draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400)
                     | st.lists(garbage_line, max_size=12).map("\n".join))
    got = records(platform, role, text)
    if got is not None:
        _downstream(platform, role, got)


@FUZZ
@given(data=st.data())
def test_mutated_real_outputs_never_crash_a_parser(data: st.DataObject) -> None:
    platform, role, _, text = data.draw(st.sampled_from([s for s in seeds() if s[1] != "config"]))
    got = records(platform, role, data.draw(mutated(text)))
    if got is not None:
        _downstream(platform, role, got)


def _module_seeds() -> list[Seed]:
    return [s for s in seeds() if s[1] == "modules" and records(s[0], s[1], s[3])]


@FUZZ
@given(data=st.data())
def test_an_output_cut_short_never_changes_or_invents_a_module(data: st.DataObject) -> None:
    """Cut at a line, an output loses modules at most; compared with SNMP it never shows a different module."""
    platform, role, _, text = data.draw(st.sampled_from(_module_seeds()))
    full = {m.port: m for m in records(platform, role, text) or []}
    lines = text.split("\n")
    cut = "\n".join(lines[:data.draw(st.integers(0, max(0, len(lines) - 1)))])
    got = records(platform, role, cut) or []
    for m in got:
        assert m.port in full and (m.serial, m.vendor, m.model) == (full[m.port].serial, full[m.port].vendor,
                                                                    full[m.port].model), (m, full.get(m.port))
    ports = tuple(Port(ifindex=n, name=name) for n, name in enumerate(sorted(full), 1))
    snap = Snapshot("sw1", 0.0, True, DeviceFacts(), ports=ports, transceivers=tuple(
        Transceiver(full[p.name].vendor, full[p.name].model, full[p.name].serial, ifindex=p.ifindex) for p in ports))
    assert not [d for d in ssh.disagreements(snap, _view(platform, role, got)) if d.field == "serial"]


# -- configuration text -----------------------------------------------------------------------------------------
def _config_seeds() -> list[Seed]:
    return [s for s in seeds() if s[1] == "config"]


@FUZZ
@given(data=st.data())
def test_configuration_cleaning_never_crashes_and_never_leaks(data: st.DataObject) -> None:
    platform, _, _, text = data.draw(st.sampled_from(_config_seeds()))
    if data.draw(st.booleans()):
        text = data.draw(mutated(text))
    profile = cp.cli_profile(platform)
    problem = cp.config_problem(text, profile)
    assert problem is None or (isinstance(problem, str) and problem)
    red = cp.redact(text, profile)
    assert cp.redact(red, profile) == red  # redaction is stable: a stored version re-read stays the same
    kept = set(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    assert all(line in kept for line in red.split("\n") if profile.marker not in line)  # nothing else rewritten
    stored = normalise(text, platform)
    assert isinstance(stored, str) and stored.endswith("\n")
    for secret in ("Q9saksiSecretHash0", "adminHash"):
        for line in text.splitlines():
            if line.strip() in SECRET_LINES and secret in line:
                assert secret not in red and secret not in stored


@pytest.mark.parametrize("separator", ["\x0c", "\x0b", "\x1c", "\x85", "\u2028", "\u2029"])
def test_a_secret_is_redacted_whole_whatever_separator_it_holds(separator: str) -> None:
    """Found by the fuzzing: str.splitlines() broke a secret at these and kept its tail as a line of its own."""
    profile = cp.cli_profile("cisco_ios")
    red = cp.redact(f"enable secret 5 abc{separator}TAILSECRET\nhostname sw1\n", profile)
    assert "TAILSECRET" not in red and red.endswith("hostname sw1\n")


@FUZZ
@given(platform=st.sampled_from(CONFIG_PLATFORMS), data=st.data())
def test_a_configuration_cut_before_its_end_is_never_accepted(platform: str, data: st.DataObject) -> None:
    profile = cp.cli_profile(platform)
    whole = next(s[3] for s in _config_seeds() if s[0] == platform)
    assert cp.config_problem(whole, profile) is None
    lines = [line for line in whole.splitlines() if line.strip()]
    end = profile.config_complete
    cut = data.draw(st.integers(1, len(lines) - 1))
    text = "\n".join(lines[:cut])
    if end is not None and not end.search(lines[cut - 1]):
        assert cp.config_problem(text, profile) is not None, lines[cut - 1]


@FUZZ
@given(text=st.text(max_size=200))
def test_small_text_helpers_take_any_text(text: str) -> None:
    n = cp.number(text)
    assert n is None or (isinstance(n, float) and math.isfinite(n))
    for platform in cp.platforms():
        complaint = cp.device_error(cp.cli_profile(platform), text)
        assert complaint is None or (isinstance(complaint, str) and "\n" not in complaint)
    assert isinstance(mount_point(text), str)


HELPERS: dict[str, Callable[[str], object]] = {"number": cp.number, "mount_point": mount_point}


@pytest.mark.parametrize("name", sorted(HELPERS))
def test_the_helpers_read_real_words(name: str) -> None:
    """The fuzz above would pass on a function that ignores its input: pin what each one reads."""
    assert {"number": ("-3.25 dBm", -3.25), "mount_point": ("/dev/ad0s1a: root, mounted on: /", "/")}[name][1] == \
        HELPERS[name]({"number": "-3.25 dBm", "mount_point": "/dev/ad0s1a: root, mounted on: /"}[name])


def test_the_seeds_come_from_real_outputs() -> None:
    names = [s[2] for s in seeds()]
    assert any(n.startswith("lab:") for n in names)
    if not any(NTC.glob("*")):
        pytest.skip(f"ntc-templates fixtures absent: {NTC}")
    assert any(not n.startswith("lab:") for n in names)
    assert Path(NTC).is_dir()
