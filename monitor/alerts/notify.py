"""Notify: render the message once and hand it to every target of the route and to the owner.

Targets are the route's receivers (a team channel, a webhook) and the owner's own URLs. Each target
URL gets an outbox row and its own worker (monitor.alerts.delivery): the stage returns at once,
whatever the receivers do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor.alerts.config import AlertingConfig
from monitor.alerts.delivery import Job, Workers, kind_of
from monitor.alerts.diffs import config_diff
from monitor.alerts.message import render, render_report
from monitor.alerts.model import Alert, Decision, apply_people
from monitor.alerts.state import AlertState
from monitor.inventory import Secret

NAME = "notify"


def target_urls(config: AlertingConfig) -> dict[str, Secret]:
    """Every target URL by delivery name: `receiver:NAME`, or `receiver:NAME#2` for a second URL."""
    out = {}
    for name, urls in config.targets().items():
        for i, url in enumerate(urls, 1):
            out[name if i == 1 else f"{name}#{i}"] = url
    return out


class Notify:
    name = NAME

    def __init__(self, config: AlertingConfig, state: AlertState, workers: Workers, history_root: Path | None,
                 fmt: Callable[[float], str]) -> None:
        self.config, self.state, self.workers = config, state, workers
        self.history_root, self.fmt = history_root, fmt
        self.urls = target_urls(config)

    def targets(self, alert: Alert) -> list[str]:
        wanted = [f"receiver:{r}" for r in alert.route.receivers]
        if alert.transition == "report" and alert.row.owner:
            wanted = []  # customer reports are the owner's news, told once; the channel saw the page
        if alert.row.owner:
            wanted.append(f"person:{alert.row.owner}")
        return [t for t in self.urls if t.split("#")[0] in wanted]

    def decide(self, alert: Alert, now: float) -> Decision | None:
        if alert.transition == "public_note":
            return None  # for the customer's contacts only (monitor.alerts.customers)
        inc = alert.incident
        apply_people(inc, alert.row)
        reasons = [d.reason for d in alert.decisions if d.go]
        link = f"{self.config.web_url}/incidents/{inc.id}" if self.config.web_url and inc.id else ""
        if alert.transition == "report":
            diff = None
            msg = render_report(inc, alert.news.get("reports", []), link=link, fmt=self.fmt)
        else:
            diff = config_diff(self.history_root, inc, self.config.timing.diff_window, now, self.fmt)
            msg = render(inc, alert.transition, team=alert.route.team, reasons=reasons, diff=diff, link=link,
                         fmt=self.fmt, escalated_from=alert.previous_owner)
        body = f"{msg.body}Message key: {message_key(alert)}\n"  # stored in the outbox: retries carry it too
        targets = self.targets(alert)
        seqs = self.state.enqueue(alert.ref, alert.transition, targets, msg.title, body, now)
        kind = kind_of(alert.transition, inc.severity)
        timeout = self.config.delivery.timeout
        self.workers.submit([Job(seq, t, self.urls[t], msg.title, body, timeout, kind)
                             for seq, t in zip(seqs, targets, strict=True)])
        alert.notification = notification(alert, now, msg.title, body, targets, reasons, diff)
        if not targets:
            return Decision(NAME, "no_receivers", "the route and the owner have no URL")
        return Decision(NAME, "sent_to:" + ",".join(targets))


def message_key(alert: Alert) -> str:
    """The message's identity, the same on every retry: delivery is at-least-once (a crash between the
    receiver's answer and the outbox update sends it again), so a receiver can drop a copy by this key.

    It is the notification log's unique (incident, transition, generation), read after Dedup claimed it.
    """
    t, row = alert.transition, alert.row
    generation = {"escalated": row.escalations, "reminder": row.reminders}.get(t, alert.incident.flaps)
    if alert.generation is not None:
        generation = alert.generation
    return f"{alert.ref}/{t}/{generation}"


def notification(alert: Alert, now: float, title: str, body: str, targets: list[str], reasons: list[str],
                 diff: str | None) -> dict[str, Any]:
    inc = alert.incident
    return {"incident": alert.ref, "transition": alert.transition, "at": now, "cause": inc.cause,
            "device": inc.device, "port": inc.port, "owner": alert.row.owner, "tier": alert.row.tier,
            "route": alert.route.name, "targets": targets, "reasons": reasons, "title": title, "body": body,
            "diff": diff}
