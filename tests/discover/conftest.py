"""A lab site kept running in a background thread, every agent on one UDP port of its own 127.0.0.x address
(as real switches all answer on 161), so `saksi discover` can follow LLDP's management addresses."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from monitor.lab import runner, scenario

T = TypeVar("T")


class RunningLab:
    """The lab and the loop that serves it; `call` runs a function on that loop (the model is not thread-safe)."""

    def __init__(self, lab: runner.Lab, loop: asyncio.AbstractEventLoop) -> None:
        self.lab, self.loop = lab, loop

    def call(self, fn: Callable[[], T]) -> T:
        async def run() -> T:
            return fn()
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    @property
    def port(self) -> int:
        return next(iter(self.lab.ports.values()))

    @property
    def hosts(self) -> dict[str, str]:
        return dict(self.lab.hosts)


def _port_free_everywhere(hosts: list[str]) -> int:
    """A UDP port free on every one of the lab's addresses (another test's agents may hold some ports)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((hosts[0], 0))
            port = probe.getsockname()[1]
        try:
            for host in hosts:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no UDP port free on every lab address")


@contextmanager
def running_lab(text: str, ssh: bool = False) -> Iterator[RunningLab]:
    """Start the scenario's site (agents on one port, real time standing still) until the block ends."""
    scn = scenario.parse(__import__("yaml").safe_load(text), "test")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="discover-lab", daemon=True)
    thread.start()
    hosts = [f"127.0.0.{10 + n}" for n in range(len(scn.site["devices"]))]
    lab = None
    try:
        for _ in range(5):
            port = _port_free_everywhere(hosts)
            try:
                lab = asyncio.run_coroutine_threadsafe(runner.start(scn, ssh=ssh, snmp_port=port), loop).result(30)
                break
            except OSError:  # taken between the probe and the bind
                continue
        assert lab is not None, "the lab could not start"
        yield RunningLab(lab, loop)
    finally:
        if lab is not None:
            loop.call_soon_threadsafe(lab.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
