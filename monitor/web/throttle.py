"""Login throttling: slow password guessing without ever locking the right password out for long.

Every attempt is recorded before its password is checked (so concurrent attempts count), per user name and
per client address. A few attempts are free; after that each one has to wait a delay that doubles up to
`max_delay_s` — a guesser gets a handful of tries a minute, the real user waits seconds, never a lockout.
A browser that logged in as a name before carries a signed "known device" cookie: its attempts for that
name are counted against the device instead of the name and the address, so an attacker who hammers a
name or shares an address (a NAT, a proxy) cannot keep its owner out. Password checks (argon2, 64 MiB
each) run at most `concurrency` at a time, so a burst of logins cannot exhaust memory.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def delay(attempts: int, free: int, base_s: float, max_s: float) -> float:
    """Seconds to wait before the next attempt after `attempts` recent ones: 0 for the first `free`,
    then doubling from `base_s`, never more than `max_s`.

    >>> [delay(n, 3, 1.0, 30.0) for n in range(1, 10)]
    [0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    """
    if attempts < free:
        return 0.0
    return min(base_s * 2.0 ** min(attempts - free, 32), max_s)


def networks(specs: Sequence[str]) -> tuple[Network, ...]:
    """Trusted proxies as networks ("10.0.0.5", "10.0.0.0/24", "::1"); ValueError names the bad one.

    >>> [str(n) for n in networks(["127.0.0.1", "10.0.0.0/24"])]
    ['127.0.0.1/32', '10.0.0.0/24']
    """
    out = []
    for spec in specs:
        try:
            out.append(ipaddress.ip_network(spec.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an address or network: {spec!r}") from None
    return tuple(out)


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in n for n in trusted)


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The address a request came from: the TCP peer, unless that peer is a configured proxy — then the
    nearest address in X-Forwarded-For that is not one (a client can write anything to the left of it).

    >>> proxy = networks(["10.0.0.1"])
    >>> client_address("203.0.113.9", "1.2.3.4", proxy)  # not from the proxy: the header is ignored
    '203.0.113.9'
    >>> client_address("10.0.0.1", "6.6.6.6, 198.51.100.7", proxy)  # the proxy appended the real client
    '198.51.100.7'
    >>> client_address("10.0.0.1", None, proxy)
    '10.0.0.1'
    """
    if not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",")][-20:]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage where the proxy's entry should be: use the proxy itself
    return peer


@dataclass
class _Entry:
    attempts: int
    next_at: float  # no attempt before this time
    last_at: float  # the latest attempt


class Refused(Exception):
    """Too many recent attempts: try again after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many login attempts; try again in {int(retry_after) + 1} s")
        self.retry_after = retry_after


class LoginThrottle:
    """Attempt counts per key ("ip:...", "user:...", "dev:..."), recorded before the check; bounded memory.

    When the table is full, expired entries go first, then the oldest entries that are not holding anyone
    back; a key that is currently delayed is never forgotten (such entries expire by time, and making them
    costs password checks, which `Verifier` rate-limits).
    """

    def __init__(self, free: int = 5, base_s: float = 1.0, max_delay_s: float = 30.0, forget_s: float = 900.0,
                 max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic,
                 free_per_address: int | None = None) -> None:
        self.free, self.base_s, self.max_delay_s, self.forget_s = free, base_s, max_delay_s, forget_s
        # an address is shared (an office NAT): it gets more free attempts than one name
        self.free_per_address = 4 * free if free_per_address is None else free_per_address
        self.max_keys, self.clock = max_keys, clock
        self._entries: dict[str, _Entry] = {}  # insertion order = order of first attempt (oldest first)
        self._lock = threading.Lock()

    def attempt(self, keys: list[str]) -> None:
        """Record an attempt for every key, or raise Refused (recording nothing) when one must wait."""
        with self._lock:
            now = self.clock()
            waits = [e.next_at - now for k in keys if (e := self._live(k, now)) is not None and e.next_at > now]
            if waits:
                raise Refused(max(waits))
            for key in keys:
                e = self._live(key, now)
                if e is None:
                    self._make_room(now)
                    e = self._entries[key] = _Entry(0, now, now)
                e.attempts += 1
                e.last_at = now
                free = self.free_per_address if key.startswith("ip:") else self.free
                e.next_at = now + delay(e.attempts, free, self.base_s, self.max_delay_s)

    def succeeded(self, keys: list[str]) -> None:
        """The right password: these keys start afresh."""
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def waiting(self, key: str) -> float:
        """Seconds before `key` may try again (0: now)."""
        with self._lock:
            now = self.clock()
            e = self._live(key, now)
            return max(0.0, e.next_at - now) if e is not None else 0.0

    def __len__(self) -> int:
        return len(self._entries)

    def _live(self, key: str, now: float) -> _Entry | None:
        e = self._entries.get(key)
        if e is not None and self._expired(e, now):
            del self._entries[key]
            return None
        return e

    def _expired(self, e: _Entry, now: float) -> bool:
        return e.next_at <= now and now - e.last_at >= self.forget_s

    def _make_room(self, now: float) -> None:
        if len(self._entries) < self.max_keys:
            return
        for key in [k for k, e in self._entries.items() if self._expired(e, now)]:
            del self._entries[key]
        if len(self._entries) < self.max_keys:
            return
        free_to_go = [k for k, e in self._entries.items() if e.next_at <= now]  # oldest first
        for key in free_to_go[: len(self._entries) - self.max_keys + 1]:
            del self._entries[key]


class Busy(Exception):
    """Every password-check slot stayed taken for the whole wait: the server is overloaded."""


class Verifier:
    """At most `concurrency` password checks at once (each argon2 check holds 64 MiB); `peak` tells how
    many ran together at most, for an operator and a test."""

    def __init__(self, concurrency: int = 2, wait_s: float = 20.0) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self.concurrency, self.wait_s = concurrency, wait_s
        self.running = self.peak = self.checks = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self.wait_s):
            raise Busy("too many logins at once; try again in a few seconds")
        with self._lock:
            self.running += 1
            self.checks += 1
            self.peak = max(self.peak, self.running)
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1
            self._slots.release()
