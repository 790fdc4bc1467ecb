"""The alert pipeline: incidents in, at most one message per transition out (an `IncidentSink`).

`build_pipeline` is the one place the chain is composed, in the order an incident meets it, as in
Alertmanager's PipelineBuilder: inhibit → silence → group → dedup → route/assign → notify → customers
(the site's opt-in contacts, in customer-safe words). Each stage
returns a `Decision` with a named reason; the chain stops at the first that says no, and the reasons
are kept on the incident (`saksi incident show`).

`process(incidents, now)` is called with the incidents correlation touched; `tick(now)` does what
time alone decides (a hold-down that ran out, an unacknowledged incident to escalate, a reminder, a
person's escalation or resolution from the CLI, a delivery to retry) and people's news (customer
reports for the owner, notes marked for the customer: monitor.alerts.news). Time always comes in as `now`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from monitor.alerts.config import AlertingConfig, Route
from monitor.alerts.customers import Customers
from monitor.alerts.dedup import Dedup
from monitor.alerts.delivery import AppriseTransport, Job, Transport, Workers, kind_of, retry_at
from monitor.alerts.group import Group
from monitor.alerts.inhibit import Inhibit
from monitor.alerts.model import Alert, AlertRow, Decision, apply_people
from monitor.alerts.news import News
from monitor.alerts.notify import Notify, target_urls
from monitor.alerts.route import Assign
from monitor.alerts.silence import Silence
from monitor.alerts.state import AlertState
from monitor.reports.records import Report
from monitor.state.store import Store
from monitor.witness.incidents import Incident

log = logging.getLogger(__name__)
MAX_NEWS_PER_TICK = 20  # messages of people's news per incident per tick (the rest go on the next)


class Stage(Protocol):
    name: str

    def decide(self, alert: Alert, now: float) -> Decision | None:
        """A verdict with its reason; None when this transition is none of the stage's business."""
        ...


def ref_of(inc: Incident) -> str:
    return inc.id or inc.key


def transition(inc: Incident, row: AlertRow, route: Route, tiers: int, now: float,
               timed: bool) -> tuple[str, int] | None:
    """What happened to the incident since the alert state last looked, and the tier it goes to."""
    if not inc.open:
        return None if row.resolved_notified else ("resolved", row.tier)
    if row.paged_at is None or row.resolved_notified:
        return "opened", 1
    if row.pending == "escalated":
        return "escalated", row.tier
    if not timed:
        return "updated", row.tier
    if row.acked_at is not None:
        return None
    if row.tier < tiers and now >= (row.assigned_at or row.paged_at) + route.escalate_after:
        return "escalated", row.tier + 1
    if now >= (row.last_page_at or row.paged_at) + route.repeat_interval:
        return "reminder", row.tier
    return None


class Pipeline:
    """Runs incidents through the stages; thread-safe (the daemon records polls from worker threads)."""

    def __init__(self, config: AlertingConfig, state: AlertState, workers: Workers) -> None:
        self.config, self.state, self.workers = config, state, workers
        self.stages: list[Stage] = []
        self.news: News | None = None  # customer reports and notes for the customer (build_pipeline sets it)
        self.tracked: dict[str, Incident] = {}
        self.sent: list[dict[str, Any]] = []  # every notification decided, in order (lab and tests)
        self._lock = threading.RLock()
        self._now = 0.0
        self._urls = target_urls(config)
        self.state.interrupted()

    # --- entry points ----------------------------------------------------------------------------

    def track(self, incidents: Iterable[Incident]) -> None:
        """Watch these incidents for time-driven transitions (the open ones of a restarted daemon)."""
        with self._lock:
            for inc in incidents:
                self.tracked[ref_of(inc)] = inc

    def open_incidents(self) -> list[Incident]:
        return [i for i in self.tracked.values() if i.open]

    def process(self, incidents: list[Incident], now: float) -> list[dict[str, Any]]:
        """The daemon's poll path: a failure is logged (and evaluated again by tick()), never raised."""
        with self._lock:
            self._now = max(self._now, now)
            self.track(incidents)
            self._drain(now)
            out = self._each(sorted(incidents, key=lambda i: (i.detected_at, ref_of(i))), now, timed=False)
            if any(not i.open for i in incidents):
                self._forget()  # a cluster member that does not lead never ticks: settled ones go here
            self.sent += out
            return out

    def tick(self, now: float) -> list[dict[str, Any]]:
        with self._lock:
            self._now = max(self._now, now)
            self._drain(now)
            self._retry(now)
            reports = self._discover(now)
            ordered = sorted(self.tracked.values(), key=lambda i: (i.detected_at, ref_of(i)))
            out = self._each(ordered, now, timed=True)
            out += self._tell(ordered, reports, now)
            self._forget()
            self.sent += out
            return out

    # --- people's news: customer reports for the owner, notes for the customer (monitor.alerts.news) ----

    def _discover(self, now: float) -> dict[str, list[Report]]:
        """Recent customer reports by incident; an incident a report opened elsewhere is tracked from now."""
        if self.news is None:
            return {}
        try:
            fresh, reports = self.news.discover(self.tracked, now)
        except Exception:  # the store hiccuped: the next tick looks again
            log.exception("reading customer reports failed at %g", now)
            return {}
        self.track(fresh)
        return reports

    def _tell(self, incidents: list[Incident], reports: dict[str, list[Report]], now: float) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.news is None:
            return out
        for inc in incidents:
            try:
                for _ in range(MAX_NEWS_PER_TICK):
                    row = self.state.get(ref_of(inc)) or AlertRow(ref=ref_of(inc), site=inc.site)
                    route = self.config.route_for(inc)
                    alert = self.news.next_alert(inc, row, route, reports.get(ref_of(inc), []), now)
                    if alert is None:
                        break
                    self._run(alert, now)
                    self._remember(inc, alert.row, route, alert, now)
                    if alert.notification is None:
                        break  # held (a maintenance window) or already told: the next tick looks again
                    out.append(alert.notification)
            except Exception:  # same as _each: one incident must not stop the others
                log.exception("%s: telling people's news failed at %g", ref_of(inc), now)
        return out

    def _each(self, incidents: list[Incident], now: float, timed: bool) -> list[dict[str, Any]]:
        out = []
        for inc in incidents:
            try:
                if (n := self._evaluate(inc, now, timed)) is not None:
                    out.append(n)
            except Exception:  # one incident (or a store hiccup) must not stop the others; tick() retries
                log.exception("%s: the alert pipeline failed at %g", ref_of(inc), now)
        return out

    def record_deliveries(self, now: float) -> None:
        """Record finished deliveries now, not at the next tick: until an outcome is in the outbox, a
        crash resends the message on restart (at-least-once), so the window is kept short."""
        with self._lock:
            self._now = max(self._now, now)
            self._drain(now)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait for the deliveries in flight and record their outcomes; True when none is left."""
        done = self.workers.wait(timeout)
        with self._lock:
            self._drain(self._now)
        return done

    def close(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        self.workers.close()

    # --- one incident ------------------------------------------------------------------------------

    def _evaluate(self, inc: Incident, now: float, timed: bool) -> dict[str, Any] | None:
        ref = ref_of(inc)
        row = self.state.get(ref) or AlertRow(ref=ref, site=inc.site)
        apply_people(inc, row)  # a person's resolution from the CLI closes the incident here
        route = self.config.route_for(inc)
        tiers = len(self.config.teams[route.team].tiers)
        what = transition(inc, row, route, tiers, now, timed)
        alert = None
        if what is not None:
            alert = Alert(inc, row, route, what[0], what[1], by_person=row.pending == what[0])
            self._run(alert, now)
            row = alert.row
        self._remember(inc, row, route, alert, now)
        return alert.notification if alert is not None else None

    def _run(self, alert: Alert, now: float) -> None:
        for stage in self.stages:
            d = stage.decide(alert, now)
            if d is None:
                continue
            alert.decisions.append(d)
            if not d.go:
                return

    def _remember(self, inc: Incident, row: AlertRow, route: Route, alert: Alert | None, now: float) -> None:
        """Keep the decisions and what was seen on the alert state, and mirror it onto the incident."""
        if alert is None or alert.notification is not None:
            recorded = [d.record(now) for d in (alert.decisions if alert else [])]
        else:
            recorded = [d.record(now) for d in alert.decisions if not d.go]  # why it stopped
        reopened = row.manual is not None and inc.open and inc.flaps > row.manual.get("flaps", 0)
        seen = (inc.flaps, inc.cause, route.name)
        news = AlertRow.from_json(row.to_json()).record(recorded)  # the same verdict again: no write
        if news or reopened or seen != (row.flaps_seen, row.cause_seen, row.route) or row.version == 0:
            def change(r: AlertRow) -> bool:
                r.flaps_seen, r.cause_seen, r.route = seen
                r.team = r.team or route.team
                if reopened:
                    r.manual = None
                return r.record(recorded)

            row, added = self.state.update(row.ref, inc.site, change)
            stop = alert.decisions[-1] if alert is not None and alert.decisions else None
            if added and stop is not None and stop.stage == "inhibit" and not stop.go:
                # the inhibited symptom shows inside the incident that explains it
                self._note(stop.reason.split(":", 1)[1], Decision("inhibit", f"explains:{row.ref}"), now)
        self._mirror(inc, row)

    def _mirror(self, inc: Incident, row: AlertRow) -> None:
        """The people's fields onto the incident in memory (messages show them); the store joins its own
        copy on read, so nothing is written back."""
        apply_people(inc, row)

    def _note(self, ref: str, decision: Decision, now: float) -> None:
        """Add one decision to an incident's alert state (and to the incident, when it is tracked)."""
        inc = self.tracked.get(ref)
        row, _ = self.state.update(ref, inc.site if inc else "", lambda r: r.record([decision.record(now)]))
        if inc is not None:
            self._mirror(inc, row)

    def _forget(self) -> None:
        """Stop tracking what is settled: resolved, its resolution decided, its deliveries done."""
        rows = self.state.many(ref for ref, i in self.tracked.items() if not i.open)
        busy = {d.ref for d in self.state.deliveries(status=("sending", "failed"))}
        for ref, row in rows.items():
            settled = row.resolved_notified or row.paged_at is None
            if settled and ref not in busy:
                del self.tracked[ref]

    # --- deliveries ------------------------------------------------------------------------------

    def _drain(self, now: float) -> None:
        """Record what the workers finished: delivered, failed (retry later), or given up."""
        for o in self.workers.drain():
            d = self.state.delivery(o.seq)
            if d is None:
                continue
            attempts = d.attempts + 1
            if o.error is None:
                self.state.set_delivery(o.seq, status="delivered", attempts=attempts, error="", next_at=None)
                decision = Decision("deliver", f"delivered:{o.target}")
            elif attempts >= self.config.delivery.attempts:
                log.error("%s: %s message to %s failed %d times, giving up: %s", d.ref, d.transition,
                          o.target, attempts, o.error)
                self.state.set_delivery(o.seq, status="gave_up", attempts=attempts, error=o.error,
                                        next_at=None)
                decision = Decision.stop("deliver", f"delivery_gave_up:{o.target}", o.error)
            else:
                when = retry_at(now, attempts, self.config.delivery.backoff, self.config.delivery.max_backoff)
                log.warning("%s: %s message to %s failed (attempt %d), retrying at %g: %s", d.ref,
                            d.transition, o.target, attempts, when, o.error)
                self.state.set_delivery(o.seq, status="failed", attempts=attempts, error=o.error,
                                        next_at=when)
                decision = Decision.stop("deliver", f"delivery_failed:{o.target}",
                                         f"attempt {attempts}: {o.error}")
            self._note(d.ref, decision, now)

    def _retry(self, now: float) -> None:
        for d in self.state.deliveries(status=("failed",)):
            if d.attempts >= self.config.delivery.attempts:  # every try so far died with its process
                log.error("%s: %s message to %s interrupted %d times, giving up", d.ref, d.transition, d.target,
                          d.attempts)
                self.state.set_delivery(d.seq, status="gave_up", next_at=None)
                self._note(d.ref, Decision.stop("deliver", f"delivery_gave_up:{d.target}", d.error), now)
            elif d.next_at is None or d.next_at <= now:  # None: left in flight by a previous process, resent now
                url = self._urls.get(d.target)
                if url is None:
                    self.state.set_delivery(d.seq, status="gave_up", error="target no longer configured")
                    continue
                self.state.set_delivery(d.seq, status="sending")
                inc = self.tracked.get(d.ref)
                kind = kind_of(d.transition, inc.severity if inc else "major")
                timeout = self.config.delivery.timeout
                self.workers.submit([Job(d.seq, d.target, url, d.title, d.body, timeout, kind)])


def build_pipeline(config: AlertingConfig, store: Store, *, history_root: Path | None = None,
                   transport: Transport | None = None,
                   fmt: Callable[[float], str] = lambda t: f"t={t:g}s", member: str = "",
                   site_fmt: Callable[[str], Callable[[float], str]] | None = None) -> Pipeline:
    """The whole chain, composed here and nowhere else (`member`: this process's cluster name; `site_fmt`:
    how times are written for a site's customer, in the site's own time zone; default `fmt` for every site)."""
    state = AlertState(store, member)
    workers = Workers(transport or AppriseTransport())
    pipeline = Pipeline(config, state, workers)
    stages: Sequence[Stage] = (
        Inhibit(pipeline.open_incidents),
        Silence(state.windows, config),
        Group(config.timing),
        Dedup(state),
        Assign(state, config),
        Notify(config, state, workers, history_root, fmt),
        Customers(config, state, workers, state.windows, site_fmt or (lambda site: fmt)),
    )
    pipeline.stages = list(stages)
    pipeline.news = News(store, config)
    return pipeline


async def tick_forever(pipeline: Pipeline, stop: asyncio.Event, every_s: float = 10.0,
                       clock: Callable[[], float] = time.time, record_s: float = 0.2) -> None:
    """The daemon's clock for the pipeline: escalations, reminders, held resolutions and retries;
    between ticks, finished deliveries are recorded within `record_s`."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            await asyncio.to_thread(pipeline.tick, clock())
        except Exception:  # alerting must outlive one bad tick; the next one tries again
            log.exception("alert pipeline tick failed")
        await record_deliveries_until(pipeline, stop, loop.time() + every_s, clock, record_s)


async def record_deliveries_until(pipeline: Pipeline, stop: asyncio.Event, until: float,
                                  clock: Callable[[], float] = time.time, record_s: float = 0.2) -> None:
    """Record finished deliveries within `record_s` of their answer, until the loop time `until` (or
    for ever with math.inf: a cluster member that is not the leader has no tick, only deliveries)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set() and (left := until - loop.time()) > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), min(left, record_s))
        if pipeline.workers.ready.is_set():
            try:
                await asyncio.to_thread(pipeline.record_deliveries, clock())
            except Exception:  # same: the next round records them
                log.exception("recording deliveries failed")
