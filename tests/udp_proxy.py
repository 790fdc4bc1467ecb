"""A UDP relay between a client and one real agent that can lose or delay the agent's answers.

Fault tests need an agent that goes silent mid-walk, loses packets or answers late; snmpsim does
none of that by itself, so this relay sits in front of it on 127.0.0.1 and does it on purpose.
Requests always reach the agent; only answers are dropped or delayed, as when a device's control
plane is too busy to reply. `UdpProxy` runs in the caller's event loop; `proxy_in_thread` runs one
in a background loop for tests that drive a subprocess (the real `saksi` entry point).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Self

Address = tuple[str, int]


@dataclass
class Faults:
    """What to do to the agent's answers; fields may be changed while the proxy runs."""

    drop_after: int | None = None  # forward the first N answers, then drop every later one
    drop_first: int = 0  # drop the first N answers (the requests a lossy path happened to lose), then go on
    drop_probability: float = 0.0  # drop each remaining answer with this probability...
    seed: int = 0  # ...drawn from a generator seeded here, so a failing run can be replayed
    delay_s: float = 0.0  # hold forwarded answers this long...
    delay_probability: float = 1.0  # ...each with this probability (1: every answer)


class _Listener(asyncio.DatagramProtocol):
    def __init__(self, proxy: UdpProxy) -> None:
        self.proxy = proxy

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.proxy._request(data, addr)


class _Upstream(asyncio.DatagramProtocol):
    """One socket towards the agent per client, so answers find their way back."""

    def __init__(self, proxy: UdpProxy, client: Address) -> None:
        self.proxy, self.client = proxy, client

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.proxy._answer(data, self.client)


class UdpProxy:
    """Listens on 127.0.0.1 (a free port), relays to `upstream`, and applies `faults` to the answers."""

    def __init__(self, upstream: Address, faults: Faults | None = None, host: str = "127.0.0.1") -> None:
        self.upstream, self.faults, self._host = upstream, faults or Faults(), host
        self._rng = random.Random(self.faults.seed)
        self._listener: asyncio.DatagramTransport | None = None
        self._clients: dict[Address, asyncio.DatagramTransport] = {}
        self._waiting: dict[Address, list[bytes]] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self.requests = 0  # datagrams received from clients
        self.answers = 0  # datagrams received from the agent
        self.dropped = 0
        self.forwarded = 0
        self.delayed = 0  # forwarded answers held `delay_s` first

    @property
    def address(self) -> Address:
        assert self._listener is not None, "proxy not started"
        host, port = self._listener.get_extra_info("sockname")[:2]
        return host, port

    async def start(self) -> Self:
        loop = asyncio.get_running_loop()
        self._listener, _ = await loop.create_datagram_endpoint(lambda: _Listener(self),
                                                                local_addr=(self._host, 0))
        return self

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for transport in self._clients.values():
            transport.close()
        self._clients.clear()
        if self._listener is not None:
            self._listener.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def _request(self, data: bytes, client: Address) -> None:
        self.requests += 1
        up = self._clients.get(client)
        if up is not None:
            up.sendto(data)
            return
        first = client not in self._waiting
        self._waiting.setdefault(client, []).append(data)
        if first:
            asyncio.get_running_loop().create_task(self._connect(client))

    async def _connect(self, client: Address) -> None:
        loop = asyncio.get_running_loop()
        up, _ = await loop.create_datagram_endpoint(lambda: _Upstream(self, client), remote_addr=self.upstream)
        self._clients[client] = up
        for data in self._waiting.pop(client, []):
            up.sendto(data)

    def _drop(self) -> bool:
        f = self.faults
        if self.answers <= f.drop_first:
            return True
        if f.drop_after is not None and self.answers > f.drop_after:
            return True
        return f.drop_probability > 0 and self._rng.random() < f.drop_probability

    def _answer(self, data: bytes, client: Address) -> None:
        self.answers += 1
        if self._drop():
            self.dropped += 1
            return
        self.forwarded += 1
        if self._listener is None:
            return
        f = self.faults
        if f.delay_s <= 0 or (f.delay_probability < 1 and self._rng.random() >= f.delay_probability):
            self._listener.sendto(data, client)
            return

        def send_late() -> None:
            self._timers.discard(timer)
            if self._listener is not None and not self._listener.is_closing():
                self._listener.sendto(data, client)

        timer = asyncio.get_running_loop().call_later(self.faults.delay_s, send_late)
        self._timers.add(timer)
        self.delayed += 1


@contextmanager
def proxy_in_thread(upstream: Address, faults: Faults | None = None) -> Iterator[UdpProxy]:
    """A running proxy served by its own event loop thread, for tests that drive a subprocess."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="udp-proxy", daemon=True)
    thread.start()
    proxy = UdpProxy(upstream, faults)
    try:
        asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(10)
        yield proxy
    finally:
        loop.call_soon_threadsafe(proxy.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
