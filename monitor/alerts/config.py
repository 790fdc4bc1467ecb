"""The alerting configuration: receivers, people, teams and their tiers, routes, timings, calendars.

Loaded as strictly as the inventory (and with its YAML machinery): an unknown key, a reference to an
unknown team, person or receiver, an apprise URL apprise cannot use, or a route list without a
catch-all stops the daemon at startup with `file:line: key: reason`, every problem at once.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.common.errors import SaksiError
from monitor.common.secrets import Secret
from monitor.common.strictyaml import At, Record, YamlMap, YamlSeq, kind_of, read_yaml
from monitor.witness.incidents import CAUSES, SEVERITIES, Incident

MATCH_KEYS = ("customer", "site", "severity", "cause", "device")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


class AlertingConfigError(SaksiError):
    """Every problem of one alerting file, so it is fixed in one edit."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        head = [] if len(self.errors) == 1 else [f"{len(self.errors)} alerting configuration errors:"]
        super().__init__("\n  ".join([*head, *self.errors]))


@dataclass(frozen=True, slots=True)
class Timing:
    group_wait: float = 0.0  # a new incident waits this long for firmer evidence before it pages
    resolve_hold: float = 300.0  # a resolution is announced once it held this long (flap damping)
    repeat_interval: float = 4 * 3600.0  # reminder to the owner of an unacknowledged incident
    escalate_after: float = 1800.0  # unacknowledged this long: the next tier takes it
    diff_window: float = 3600.0  # a configuration change this close before the start is "the" diff
    report_wait: float = 60.0  # customer reports of one incident this close together make one message


@dataclass(frozen=True, slots=True)
class Delivery:
    timeout: float = 10.0  # per message and receiver
    attempts: int = 6
    backoff: float = 30.0  # doubles after each failure, up to max_backoff
    max_backoff: float = 1800.0


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    urls: tuple[Secret, ...] = ()


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    tiers: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    team: str
    match: dict[str, tuple[str, ...]] = field(default_factory=dict)
    receivers: tuple[str, ...] = ()
    repeat_interval: float = 4 * 3600.0
    escalate_after: float = 1800.0

    def matches(self, inc: Incident) -> bool:
        """Every key given must match one of its values."""
        return all((getattr(inc, key) or "") in wanted for key, wanted in self.match.items())


@dataclass(frozen=True, slots=True)
class Calendar:
    """Holidays of a site: incidents below the paged severities wait for the next working day."""

    name: str
    timezone: str
    dates: frozenset[str]
    page: tuple[str, ...] = ("critical",)

    def holiday(self, now: float) -> str | None:
        day = dt.datetime.fromtimestamp(now, ZoneInfo(self.timezone)).date().isoformat()
        return day if day in self.dates else None


@dataclass(frozen=True, slots=True)
class AlertingConfig:
    routes: tuple[Route, ...]
    teams: dict[str, Team]
    people: dict[str, Person]
    receivers: dict[str, tuple[Secret, ...]]
    timing: Timing = Timing()
    delivery: Delivery = Delivery()
    calendars: dict[str, Calendar] = field(default_factory=dict)
    site_calendars: dict[str, str] = field(default_factory=dict)
    web_url: str = ""
    path: str = ""
    site_contacts: dict[str, tuple[Secret, ...]] = field(default_factory=dict)  # opt-in customer contacts

    def contacts_of(self, site: str) -> tuple[Secret, ...]:
        """The customer's own contacts for a site (customer-safe messages only); () when none opted in."""
        return self.site_contacts.get(site, ())

    def route_for(self, inc: Incident) -> Route:
        """The first route that matches; the loader guarantees the last one matches everything."""
        return next(r for r in self.routes if r.matches(inc))

    def calendar_of(self, site: str) -> Calendar | None:
        name = self.site_calendars.get(site)
        return None if name is None else self.calendars.get(name)

    def targets(self) -> dict[str, tuple[Secret, ...]]:
        """Every delivery target by name: `receiver:NAME` and `person:NAME`."""
        out = {f"receiver:{n}": urls for n, urls in self.receivers.items()}
        out.update({f"person:{p.name}": p.urls for p in self.people.values()})
        out.update({f"customer:{site}": urls for site, urls in self.site_contacts.items() if urls})
        return out


def duration(value: object) -> float | None:
    """Seconds from a number or a text such as "90s", "15m", "4h", "1d"; None when it is neither.

    >>> duration(90), duration("15m"), duration("1.5h"), duration("0"), duration("soon")
    (90.0, 900.0, 5400.0, 0.0, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return float(m.group(1)) * _UNITS[m.group(2)]
    return None


def valid_url(url: str) -> str | None:
    """Why apprise cannot use a URL, or None when it can (never repeating the URL: it may hold a token)."""
    import apprise

    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None:
        return None
    scheme = url.split("://", 1)[0] if "://" in url else ""
    return f"not a valid apprise URL (scheme {scheme!r})" if scheme else "not a URL (expected scheme://...)"


# --- loading ------------------------------------------------------------------------------------------

_TOP = ("web_url", "timing", "delivery", "receivers", "people", "teams", "routes", "calendars", "sites")


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors: list[str] = []

    def record(self, raw: object, at: At, allowed: Sequence[str]) -> Record:
        return Record(self.path, self.errors, raw, at, allowed)

    def named(self, top: Record, key: str) -> list[tuple[str, object, At]]:
        """A mapping of names (receivers, people, teams...) as (name, value, where)."""
        section, at = top.raw.get(key), top.where(key)
        if section is None:
            return []
        if not isinstance(section, YamlMap):
            top.error(at, f"expected a mapping of names, got {kind_of(section)}")
            return []
        out = []
        for name, value in section.items():
            where = At(at.file, section.key_lines[name], f"{at.path}.{name}")
            if not isinstance(name, str) or not name:
                top.error(where, "a name must be a non-empty string")
                continue
            out.append((name, value, where))
        return out

    def strings(self, value: object, at: At, choices: Sequence[str] = ()) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        lines = value.item_lines if isinstance(value, YamlSeq) else [at.line] * len(items)
        out = []
        for item, line in zip(items, lines, strict=True):
            where = At(at.file, line, at.path)
            if isinstance(item, dt.date):
                item = item.isoformat()
            if not isinstance(item, str) or not item:
                self.errors.append(f"{where}: expected a string or a list of strings, got {kind_of(item)}")
            elif choices and item not in choices:
                self.errors.append(f"{where}: {item!r} must be one of {', '.join(choices)}")
            else:
                out.append(item)
        return tuple(out)

    def urls(self, value: object, at: At) -> tuple[Secret, ...]:
        out = []
        items = value if isinstance(value, list) else [value]
        lines = value.item_lines if isinstance(value, YamlSeq) else [at.line] * len(items)
        parent, _, last = at.path.rpartition(".")
        for item, line in zip(items, lines, strict=True):
            where = At(at.file, line, at.path)
            if not isinstance(item, str) or not item.strip():
                self.errors.append(f"{where}: expected an apprise URL, got {kind_of(item)}")
                continue
            holder = self.record(YamlMap(line), At(at.file, line, parent), ())
            resolved = holder._resolve(last, item)  # ${env:NAME} / ${file:PATH}, as in the inventory
            if resolved is None:
                continue
            problem = valid_url(resolved)
            if problem is not None:
                self.errors.append(f"{where}: {problem}")
            else:
                out.append(Secret(resolved))
        return tuple(out)

    def seconds(self, rec: Record, key: str, default: float) -> float:
        value = rec.raw.get(key)
        if value is None:
            return default
        got = duration(value)
        if got is None:
            rec.error(rec.where(key), "expected a duration: seconds, or a number with s, m, h or d")
            return default
        return got


def load_alerting(path: str | Path) -> AlertingConfig:
    """Read and cross-check one alerting file; raises AlertingConfigError listing every problem."""
    p = Path(path)
    r = _Reader(p)
    doc = read_yaml(p, r.errors, "the alerting configuration")
    if doc is None and not r.errors:
        r.errors.append(f"{p}:1: the alerting configuration is empty")
    if r.errors:
        raise AlertingConfigError(r.errors)
    top = r.record(doc, At(str(p), 1, ""), _TOP)
    timing = _timing(r, top)
    delivery = _delivery(r, top)
    receivers = {name: r.urls(value, at) for name, value, at in r.named(top, "receivers")}
    people = {name: _person(r, name, value, at) for name, value, at in r.named(top, "people")}
    teams = {name: _team(r, name, value, at, people) for name, value, at in r.named(top, "teams")}
    calendars = {name: _calendar(r, name, value, at) for name, value, at in r.named(top, "calendars")}
    sites, contacts = {}, {}
    for name, value, at in r.named(top, "sites"):
        rec = r.record(value, at, ("calendar", "customer_contacts"))
        if not rec.has("customer_contacts"):
            rec.require("calendar", "a site entry needs a calendar or customer_contacts")
        cal = rec.text("calendar")
        if cal is not None and cal not in calendars:
            rec.error(rec.where("calendar"), f"unknown calendar {cal!r}")
        if cal:
            sites[name] = cal
        if rec.has("customer_contacts"):
            contacts[name] = r.urls(rec.raw["customer_contacts"], rec.where("customer_contacts"))
            if rec.raw["customer_contacts"] == []:
                rec.error(rec.where("customer_contacts"), "expected at least one apprise URL")
    routes = _routes(r, top, timing, teams, receivers)
    web_url = (top.text("web_url") or "").rstrip("/")
    if r.errors:
        raise AlertingConfigError(r.errors)
    return AlertingConfig(routes, teams, people, receivers, timing, delivery, calendars, sites, web_url,
                          str(p), contacts)


def _section(r: _Reader, top: Record, key: str, allowed: Sequence[str]) -> Record:
    return r.record(top.raw.get(key) or YamlMap(top.where(key).line), top.where(key), allowed)


def _timing(r: _Reader, top: Record) -> Timing:
    keys = tuple(f.name for f in fields(Timing))
    rec, d = _section(r, top, "timing", keys), Timing()
    return Timing(**{k: r.seconds(rec, k, getattr(d, k)) for k in keys})


def _delivery(r: _Reader, top: Record) -> Delivery:
    rec, d = _section(r, top, "delivery", tuple(f.name for f in fields(Delivery))), Delivery()
    return Delivery(timeout=r.seconds(rec, "timeout", d.timeout),
                    attempts=rec.integer("attempts", d.attempts, 1),
                    backoff=r.seconds(rec, "backoff", d.backoff),
                    max_backoff=r.seconds(rec, "max_backoff", d.max_backoff))


def _person(r: _Reader, name: str, value: object, at: At) -> Person:
    rec = r.record(value if value is not None else YamlMap(at.line), at, ("notify",))
    urls = r.urls(rec.raw["notify"], rec.where("notify")) if rec.has("notify") else ()
    return Person(name, urls)


def _team(r: _Reader, name: str, value: object, at: At, people: dict[str, Person]) -> Team:
    rec = r.record(value, at, ("tiers",))
    rec.require("tiers")
    tiers = []
    for raw, where in rec.items("tiers"):
        members = r.strings(raw, where)
        for m in members:
            if m not in people:
                rec.error(where, f"unknown person {m!r}")
        if not members:
            rec.error(where, "a tier needs at least one person")
        tiers.append(members)
    return Team(name, tuple(tiers))


def _calendar(r: _Reader, name: str, value: object, at: At) -> Calendar:
    rec = r.record(value, at, ("timezone", "dates", "page"))
    tz = rec.text("timezone") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        rec.error(rec.where("timezone"), f"unknown IANA time zone {tz!r}")
        tz = "UTC"
    dates = r.strings(rec.raw.get("dates") or [], rec.where("dates"))
    for d in dates:
        try:
            dt.date.fromisoformat(d)
        except ValueError:
            rec.error(rec.where("dates"), f"{d!r} is not a date (YYYY-MM-DD)")
    page = r.strings(rec.raw["page"], rec.where("page"), SEVERITIES) if rec.has("page") else ("critical",)
    return Calendar(name, tz, frozenset(dates), page)


def _routes(r: _Reader, top: Record, timing: Timing, teams: dict[str, Team],
            receivers: dict[str, Any]) -> tuple[Route, ...]:
    routes: list[Route] = []
    if not top.has("routes"):
        top.error(top.where("routes"), "missing required key: at least one route (the last one catches all)")
    allowed = ("name", "match", "team", "receivers", "repeat_interval", "escalate_after")
    last_at = top.where("routes")
    for index, (raw, at) in enumerate(top.items("routes")):
        last_at = at
        rec = r.record(raw, at, allowed)
        team = rec.text("team", required=True)
        if team is not None and team not in teams:
            rec.error(rec.where("team"), f"unknown team {team!r}")
        match: dict[str, tuple[str, ...]] = {}
        if rec.has("match"):
            m = r.record(rec.raw["match"], rec.where("match"), MATCH_KEYS)
            choices = {"severity": SEVERITIES, "cause": CAUSES}
            match = {k: r.strings(m.raw[k], m.where(k), choices.get(k, ())) for k in MATCH_KEYS if m.has(k)}
        names = r.strings(rec.raw["receivers"], rec.where("receivers")) if rec.has("receivers") else ()
        for n in names:
            if n not in receivers:
                rec.error(rec.where("receivers"), f"unknown receiver {n!r}")
        routes.append(Route(rec.text("name") or f"route-{index + 1}", team or "", match, names,
                            r.seconds(rec, "repeat_interval", timing.repeat_interval),
                            r.seconds(rec, "escalate_after", timing.escalate_after)))
    if routes and routes[-1].match:
        r.errors.append(f"{last_at}: the last route must have no `match` (it catches every incident)")
    return tuple(routes)
