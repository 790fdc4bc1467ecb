"""Closing an SSH session, per platform, against the lab's real SSH servers: the device sees the session end
and nothing of it is left in this process (no paramiko transport thread on either side, no open socket)."""

from __future__ import annotations

import asyncio
import os
import threading

import paramiko
import pytest

from monitor.collectors.ssh import CollectOptions, collect_device
from monitor.lab import runner, scenario
from monitor.lab.ssh import lab_device

PLATFORMS = ["huawei_vrp", "cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos", "mikrotik_routeros"]


def _transports() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if isinstance(t, paramiko.Transport) and t.is_alive()]


def _sockets() -> int:
    """Sockets this process holds open (Linux's /proc: the test machine and CI)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except FileNotFoundError:  # the directory listing's own descriptor, already closed
            pass
    return count


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_config_fetch_logs_out_and_leaves_no_session_behind(platform: str) -> None:
    site = {"name": "ssh-close", "site": {"devices": [{"name": "dev", "platform": platform, "ports": 8}],
                                           "links": []}, "poll_interval": 60, "run_until": 60, "steps": []}

    async def main() -> None:
        lab = await runner.start(scenario.parse(site, "ssh-close"))
        try:
            assert lab.ssh is not None
            await collect_device(lab_device(lab, "dev"), options=CollectOptions(roles=("config",)))  # warm-up
            before = _sockets()
            for _ in range(3):
                view = await collect_device(lab_device(lab, "dev"), options=CollectOptions(roles=("config",)))
                assert view.ok and view.config, (view.error, view.commands)
            for _ in range(200):  # the lab's server thread ends its side once the client has hung up
                if not _transports():
                    break
                await asyncio.sleep(0.05)
            assert _transports() == [], "a session is still open on one side"
            assert _sockets() <= before, "a session's socket was left open"
        finally:
            lab.close()

    asyncio.run(main())
