"""Tell the customer: the site's opt-in contacts hear that a problem on their site opened, each note an
engineer marked for them, and the resolution — in customer-safe words (monitor.alerts.message).

It rides on the engineers' decision: the same notification log claim (Dedup), the same outbox, workers
and retries. It is quiet while a maintenance window covers the incident (the customer planned the work).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor.alerts.config import AlertingConfig
from monitor.alerts.delivery import Job, Workers, kind_of
from monitor.alerts.message import render_customer
from monitor.alerts.model import Alert, Decision
from monitor.alerts.notify import message_key, target_urls
from monitor.alerts.silence import covers
from monitor.alerts.state import AlertState, Window

NAME = "customers"
TOLD = ("opened", "public_note", "resolved")


def customer_targets(urls: dict[str, Any], site: str) -> list[str]:
    """The delivery names of a site's customer contacts: `customer:SITE`, `customer:SITE#2`...

    >>> customer_targets({"customer:s1": 1, "customer:s1#2": 2, "customer:s10": 3, "person:a": 4}, "s1")
    ['customer:s1', 'customer:s1#2']
    """
    return [t for t in urls if t.split("#")[0] == f"customer:{site}"]


class Customers:
    name = NAME

    def __init__(self, config: AlertingConfig, state: AlertState, workers: Workers,
                 windows: Callable[[float], list[Window]], fmt_for: Callable[[str], Callable[[float], str]]) -> None:
        self.config, self.state, self.workers, self.windows = config, state, workers, windows
        self.fmt_for = fmt_for  # site -> how times are written for that site's customer (their own clock)
        self.urls = target_urls(config)

    def decide(self, alert: Alert, now: float) -> Decision | None:
        t, inc = alert.transition, alert.incident
        if t not in TOLD:
            return None
        targets = customer_targets(self.urls, inc.site)
        if not targets:
            return None  # this site's customer did not opt in
        quiet = next((w for w in self.windows(now) if w.active(now) and covers(w, inc)), None)
        if quiet is not None:
            return Decision(NAME, f"customer_quiet:in_maintenance:{quiet.id}")
        link = f"{self.config.web_url}/sites/{inc.site}" if self.config.web_url else ""
        msg = render_customer(inc, t, note=alert.news.get("note"), link=link, fmt=self.fmt_for(inc.site))
        body = f"{msg.body}Message key: {message_key(alert)}/customer\n"
        seqs = self.state.enqueue(alert.ref, t, targets, msg.title, body, now)
        timeout = self.config.delivery.timeout
        kind = kind_of(t, inc.severity)
        self.workers.submit([Job(seq, target, self.urls[target], msg.title, body, timeout, kind)
                             for seq, target in zip(seqs, targets, strict=True)])
        if alert.notification is None:  # a note for the customer: this is the only message
            alert.notification = {"incident": alert.ref, "transition": t, "at": now, "cause": inc.cause,
                                  "device": inc.device, "port": inc.port, "owner": alert.row.owner,
                                  "tier": alert.row.tier, "route": alert.route.name, "targets": [],
                                  "reasons": [d.reason for d in alert.decisions if d.go], "title": "",
                                  "body": "", "diff": None}
        alert.notification["customer"] = {"targets": targets, "title": msg.title, "body": body}
        return Decision(NAME, "told_customer:" + ",".join(targets))
