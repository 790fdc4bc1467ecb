"""When each device is polled: one interval job per device (jittered, never overlapping itself).

Live, APScheduler fires the jobs on the wall clock. The lab fires the very same jobs, with the very
same triggers, through `SimulatedScheduler` on the scenario's clock, the jitter drawn from a seeded
generator: the daemon's schedule, replayed in seconds and the same every time.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from monitor.daemon.monitor import Monitor

log = logging.getLogger(__name__)


class JobScheduler(Protocol):
    """The part of APScheduler's AsyncIOScheduler the daemon uses; `SimulatedScheduler` is the lab's twin."""

    def add_job(self, func: Callable[..., Any], trigger: Any, *, id: str, args: Sequence[Any] = (),
                max_instances: int = 1, coalesce: bool = True, replace_existing: bool = False,
                next_run_time: datetime | None = None) -> Any: ...

    def get_job(self, job_id: str) -> Any: ...

    def remove_job(self, job_id: str) -> None: ...

    def start(self) -> None: ...

    def shutdown(self, wait: bool = True) -> None: ...


def at(t: float) -> datetime:
    """A clock reading as the aware datetime APScheduler takes for `next_run_time`."""
    return datetime.fromtimestamp(t, UTC)


def steady_next(start: float, interval: float, previous: float | None, now: float) -> float:
    """The next point of the grid start + n·interval: after the previous run, or at/after now for the first.

    The jitter is added to a grid point, never carried to the next: a device is polled once per interval
    on average (APScheduler 3's own trigger adds each jitter to the last run, and drifts by half the
    jitter every interval).

    >>> steady_next(0.0, 60.0, 63.0, 63.0), steady_next(0.0, 60.0, 120.0, 121.0), steady_next(0.0, 60.0, None, 61.0)
    (120.0, 180.0, 120.0)
    """
    if previous is None:
        return start if start >= now else start + math.ceil((now - start) / interval) * interval
    return start + (math.floor((previous - start) / interval) + 1) * interval


class SteadyInterval(IntervalTrigger):
    """APScheduler's interval trigger with the jitter kept off the grid (see `steady_next`), drawn from
    `rng` (the lab seeds it) in steps of `resolution` seconds (0: continuous)."""

    def __init__(self, seconds: float, jitter: float, start: float, rng: random.Random,
                 resolution: float = 0.0) -> None:
        super().__init__(seconds=seconds, start_date=at(start), timezone=UTC)
        self.spread, self.rng, self.resolution = jitter, rng, resolution

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        prev = previous_fire_time.timestamp() if previous_fire_time is not None else None
        t = steady_next(self.start_date.timestamp(), self.interval_length, prev, now.timestamp())
        return at(t + self.draw())

    def draw(self) -> float:
        if not self.spread:
            return 0.0
        x = self.rng.uniform(0.0, self.spread)
        return round(x / self.resolution) * self.resolution if self.resolution else x


def every(monitor: Monitor, seconds: float, jitter: float = 0.0) -> SteadyInterval:
    """A trigger on the monitor's clock and jitter source, its grid starting one interval from now."""
    s = monitor.settings
    return SteadyInterval(seconds, jitter, monitor.clock() + seconds, monitor.rng, s.jitter_resolution_s)


def schedule(scheduler: JobScheduler, monitor: Monitor, names: Iterable[str]) -> None:
    """One interval job per device: jittered, never overlapping itself, first run now."""
    s = monitor.settings
    for name in sorted(names):
        scheduler.add_job(monitor.poll, every(monitor, s.interval_s, s.jitter_s), args=[name],
                          id=f"poll:{name}", max_instances=1, coalesce=True, replace_existing=True,
                          next_run_time=at(monitor.clock()))


def unschedule(scheduler: JobScheduler, names: Iterable[str]) -> None:
    for name in names:
        if scheduler.get_job(f"poll:{name}") is not None:
            scheduler.remove_job(f"poll:{name}")


@dataclass
class SimJob:
    id: str
    func: Callable[..., Awaitable[Any]]
    args: tuple[Any, ...]
    trigger: Any
    next_at: float


class SimulatedScheduler:
    """The daemon's jobs on a simulated clock, with their own triggers: the driver asks what is due and runs it.

    Jobs due at the same moment run in the order they were added; a job that fell behind runs once
    (APScheduler's `coalesce`).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.jobs: dict[str, SimJob] = {}
        self.started = False

    def add_job(self, func: Callable[..., Any], trigger: Any, *, id: str, args: Sequence[Any] = (),
                max_instances: int = 1, coalesce: bool = True, replace_existing: bool = False,
                next_run_time: datetime | None = None) -> SimJob:
        if id in self.jobs and not replace_existing:
            raise ValueError(f"job {id!r} already scheduled")
        now = at(self.clock())
        first = next_run_time if next_run_time is not None else trigger.get_next_fire_time(None, now)
        job = SimJob(id, func, tuple(args), trigger, first.timestamp())
        self.jobs[id] = job
        return job

    def get_job(self, job_id: str) -> SimJob | None:
        return self.jobs.get(job_id)

    def remove_job(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)

    def start(self) -> None:
        self.started = True

    def shutdown(self, wait: bool = True) -> None:
        self.started = False
        self.jobs.clear()

    def next_time(self) -> float | None:
        """When the next job is due (None: nothing scheduled)."""
        return min((j.next_at for j in self.jobs.values()), default=None)

    def due(self, now: float) -> list[SimJob]:
        """The jobs due at `now`, each moved to its next run as APScheduler does when it submits one."""
        out = [j for j in self.jobs.values() if j.next_at <= now]
        for job in out:
            while job.next_at <= now:  # coalesce: one run however many were missed
                nxt = job.trigger.get_next_fire_time(at(job.next_at), at(now))
                job.next_at = math.inf if nxt is None else nxt.timestamp()
        return out
