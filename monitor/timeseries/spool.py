"""A bounded, ordered spool of line-protocol batches on local disk, for when InfluxDB cannot be reached.

Each batch is one gzip file named by a sequence number, written atomically (temp file + rename), so a
crash leaves whole batches and the order survives a restart. When the bound is reached the oldest
batches are dropped — and counted — so an outage longer than the bound costs its beginning, never the
monitor's disk.
"""

from __future__ import annotations

import gzip
import logging
import os
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
SUFFIX = ".lp.gz"


@dataclass(frozen=True, slots=True)
class Segment:
    path: Path
    seq: int
    size: int

    def lines(self) -> list[str]:
        return gzip.decompress(self.path.read_bytes()).decode("utf-8").splitlines()


class Spool:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory, self.max_bytes = Path(directory), max_bytes
        self.directory.mkdir(parents=True, exist_ok=True)
        self.dropped_points = 0
        self.damaged_batches = 0
        self._lock = threading.Lock()
        for stale in self.directory.glob("*.tmp"):
            stale.unlink(missing_ok=True)
        self._segments = sorted((self._segment(p) for p in self.directory.glob(f"*{SUFFIX}")),
                                key=lambda s: s.seq)
        self._next = self._segments[-1].seq + 1 if self._segments else 1
        if self._segments:
            log.info("spool %s: %d batches from an earlier run to replay", self.directory, len(self._segments))

    @staticmethod
    def _segment(path: Path) -> Segment:
        return Segment(path, int(path.name.removesuffix(SUFFIX)), path.stat().st_size)

    def __len__(self) -> int:
        return len(self._segments)

    @property
    def bytes(self) -> int:
        return sum(s.size for s in self._segments)

    def append(self, lines: list[str]) -> None:
        """Keep one batch after every batch already kept; drop the oldest ones past the bound."""
        if not lines:
            return
        data = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=1)
        with self._lock:
            path = self.directory / f"{self._next:016d}{SUFFIX}"
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(path)
            self._segments.append(Segment(path, self._next, len(data)))
            self._next += 1
            self._enforce_bound()

    def _enforce_bound(self) -> None:
        total = sum(s.size for s in self._segments)
        while total > self.max_bytes and len(self._segments) > 1:
            oldest = self._segments.pop(0)
            lost = len(oldest.lines())
            oldest.path.unlink(missing_ok=True)
            total -= oldest.size
            self.dropped_points += lost
            log.warning("spool %s is full (%d bytes): dropped the oldest %d points", self.directory,
                        self.max_bytes, lost)

    def oldest(self) -> Segment | None:
        with self._lock:
            return self._segments[0] if self._segments else None

    def read(self, segment: Segment) -> list[str] | None:
        """A batch's lines; a damaged file (cut short by a full disk, say) is removed, counted, and None."""
        try:
            return segment.lines()
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
            log.error("spool %s: %s is damaged (%s): dropped", self.directory, segment.path.name, exc)
            self.damaged_batches += 1
            self.remove(segment)
            return None

    def remove(self, segment: Segment) -> None:
        """Forget a batch once the server has it."""
        with self._lock:
            self._segments = [s for s in self._segments if s.seq != segment.seq]
            segment.path.unlink(missing_ok=True)
