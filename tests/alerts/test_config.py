"""The alerting file is loaded strictly: every problem named with file:line, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.alerts.config import AlertingConfigError, duration, load_alerting
from monitor.witness.incidents import Incident
from tests.conftest import ROOT, run_saksi

EXAMPLE = ROOT / "inventory" / "alerting" / "alerting.yaml"
EXAMPLE_ENV = {"SAKSI_SLACK_TOKEN": "T0001/B0001/XXXXXXXXXXXXXXXX",
               "SAKSI_TEAMS_WORKFLOW": "prod-00.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/"
                                       "invoke?sig=xyz",
               "SAKSI_TELEGRAM_BOT": "123456789:abcdefghijklmnopqrstuvwxyzABCDEFGHI", "SAKSI_TELEGRAM_CHAT": "12345",
               "SAKSI_SMTP_USER": "saksi", "SAKSI_SMTP_PASSWORD": "not-a-real-password"}

GOOD = """receivers:
  noc: ["json://127.0.0.1:9/hook"]
people:
  alice: {notify: ["mailto://127.0.0.1:25?from=s@example.net&to=alice@example.net"]}
teams:
  network: {tiers: [[alice]]}
routes:
  - name: majors
    match: {customer: acme, severity: [major, critical]}
    team: network
    receivers: [noc]
    escalate_after: 15m
  - team: network
"""


def test_the_example_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in EXAMPLE_ENV.items():
        monkeypatch.setenv(k, v)
    cfg = load_alerting(EXAMPLE)
    assert [r.name for r in cfg.routes] == ["acme-critical", "low-severity", "everything"]
    assert cfg.teams["network"].tiers[0] == ("aino", "eero")
    assert cfg.calendar_of("hq") is not None and cfg.timing.escalate_after == 1800


def test_routes_match_first_and_the_last_catches_all(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text(GOOD)
    cfg = load_alerting(f)
    major = Incident(key="k", cause="transceiver_removed", device="d", port=None, customer="acme", severity="major")
    info = Incident(key="k", cause="config_changed", device="d", port=None, customer="acme", severity="info")
    assert cfg.route_for(major).name == "majors" and cfg.route_for(major).escalate_after == 900
    assert cfg.route_for(info).name == "route-2"


BAD = {
    "bad apprise URL": ('  noc: ["json://127.0.0.1:9/hook"]', '  noc: ["bogus://nowhere"]',
                        ":2: receivers.noc: not a valid apprise URL (scheme 'bogus')"),
    "not a URL": ('["json://127.0.0.1:9/hook"]', '["just words"]', ":2: receivers.noc: not a URL"),
    "unknown receiver": ("    receivers: [noc]", "    receivers: [noc, pager]",
                         ":11: routes[0].receivers: unknown receiver 'pager'"),
    "unknown team": ("    team: network\n    receivers", "    team: netwrok\n    receivers",
                     ":10: routes[0].team: unknown team 'netwrok'"),
    "unknown person": ("tiers: [[alice]]", "tiers: [[alice, zed]]", ":6: teams.network.tiers[0]: unknown person 'zed'"),
    "bad severity": ("[major, critical]", "[major, huge]", ":9: routes[0].match.severity: 'huge' must be one of"),
    "unknown match key": ("{customer: acme,", "{colour: red, customer: acme,",
                          ":9: routes[0].match.colour: unknown key"),
    "bad duration": ("escalate_after: 15m", "escalate_after: soon", ":12: routes[0].escalate_after: expected a duration"),
    "no catch-all": ("  - team: network\n", "  - team: network\n    match: {site: hq}\n",
                     ":13: routes[1]: the last route must have no `match`"),
    "unknown top key": ("receivers:\n", "recievers: {}\nreceivers:\n", ":1: recievers: unknown key"),
    "unset secret": ('["json://127.0.0.1:9/hook"]', '["json://${env:SAKSI_TEST_UNSET_TOKEN}@127.0.0.1/hook"]',
                     ":2: receivers.noc: environment variable 'SAKSI_TEST_UNSET_TOKEN' is not set"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_file_names_the_line(tmp_path: Path, case: str) -> None:
    old, new, message = BAD[case]
    assert old in GOOD
    f = tmp_path / "alerting.yaml"
    f.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(AlertingConfigError) as err:
        load_alerting(f)
    assert f"{f}{message}" in str(err.value)


def test_a_url_with_a_token_is_never_repeated_in_the_error(tmp_path: Path) -> None:
    f = tmp_path / "alerting.yaml"
    f.write_text(GOOD.replace('["json://127.0.0.1:9/hook"]', '["bogus://secret-token-123@host"]'))
    with pytest.raises(AlertingConfigError) as err:
        load_alerting(f)
    assert "secret-token-123" not in str(err.value)


@pytest.mark.parametrize("text,seconds", [("90", 90.0), ("90s", 90.0), ("15m", 900.0), ("4h", 14400.0),
                                          ("1d", 86400.0), ("0", 0.0), ("-5m", None), ("1w", None)])
def test_durations(text: str, seconds: float | None) -> None:
    assert duration(text) == seconds


def test_saksi_run_refuses_a_bad_alerting_file_at_startup(tmp_path: Path) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text("customers: [{name: acme}]\nsites: [{name: hq, customer: acme}]\n"
                   "credentials: {snmp: {lab: {version: 2c, community: public}}}\n"
                   "devices: [{name: sw1, site: hq, host: 127.0.0.1, port: 9, platform: cisco_ios, snmp: lab}]\n")
    f = tmp_path / "alerting.yaml"
    f.write_text(GOOD.replace('["json://127.0.0.1:9/hook"]', '["bogus://nowhere"]'))
    r = run_saksi("run", "--inventory", str(inv), "--db", f"sqlite:///{tmp_path / 's.db'}", "--alerting", str(f),
                  "--once", "--trap-port", "0")
    assert r.returncode == 2, r.stderr
    assert f"{f}:2: receivers.noc: not a valid apprise URL" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "s.db").exists(), "nothing started"
