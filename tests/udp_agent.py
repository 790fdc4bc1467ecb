"""A real UDP socket on 127.0.0.1 posing as an SNMP agent that never gives a usable answer: it counts the
requests and answers each with the given datagrams (none: a silent agent)."""

from __future__ import annotations

import socket
import threading


class UdpAgent:
    """Counts datagrams; answers every one with `answers` (bytes that are no SNMP message), or stays silent."""

    def __init__(self, answers: tuple[bytes, ...] = ()) -> None:
        self.answers = answers
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                _, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.requests += 1
            for answer in self.answers:
                self.sock.sendto(answer, peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
