"""`saksi check --timeout T --retries R` does what the flags say: against an agent that never answers, exactly
R + 1 requests of T seconds each, and the error says which timeout and retries were used.

The silent agent is a real UDP socket on 127.0.0.1 that counts the datagrams it receives and answers none
(the daemon's second, patient ask of a silent device is its own policy: `check` does not add it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import run_saksi
from tests.udp_agent import UdpAgent


@pytest.fixture
def silent() -> Iterator[UdpAgent]:
    agent = UdpAgent()
    yield agent
    agent.close()


@pytest.mark.parametrize(("flags", "requests", "said"), [
    (["--timeout", "1", "--retries", "0"], 1, "timeout 1.0s, 0 retries"),
    (["--timeout", "0.5", "--retries", "2"], 3, "timeout 0.5s, 2 retries"),
    ([], 2, "timeout 2.0s, 1 retries"),  # the defaults: as `snmpget -t2 -r1` would
])
def test_a_silent_agent_gets_exactly_the_requests_the_flags_say(silent: UdpAgent, flags: list[str],
                                                                 requests: int, said: str) -> None:
    r = run_saksi("check", "--host", "127.0.0.1", "--snmp-port", str(silent.port), *flags)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert said in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert silent.requests == requests, f"{silent.requests} requests for {flags}"


def test_the_help_says_what_a_silent_device_costs() -> None:
    r = run_saksi("check", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    assert "timeout x (retries + 1)" in text
