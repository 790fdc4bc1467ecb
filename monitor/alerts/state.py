"""The alerting tables, beside the state store's own: alert state per incident (the people's side of the
incident record, `monitor.state.store.people_t`), the notification log, the delivery outbox, maintenance
windows, the on-call rotation and who is away.

Same engine, same transactions as monitor.state.store (SQLAlchemy Core, portable types: the schema runs on
PostgreSQL as well). Every read-modify-write is one write transaction, so two daemons, or a daemon and
an engineer's CLI, never both page for one incident nor give it two owners: the notification log has a
unique (incident, transition, generation), and an owner is set inside the transaction that read it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from monitor.alerts.config import Team
from monitor.alerts.model import AlertRow
from monitor.alerts.oncall import pick
from monitor.state.store import Store, people_t

log = logging.getLogger(__name__)
T = TypeVar("T")
metadata = MetaData()

alert_incidents = people_t  # the people's side of each incident: defined with the store, which joins it on read
nflog = Table(
    "alert_nflog", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("ref", String, nullable=False, index=True),
    Column("transition", String, nullable=False),
    Column("generation", Integer, nullable=False),  # the flap count, the tier, the reminder number
    Column("at", Float, nullable=False),
    Column("reason", String, nullable=False),
    UniqueConstraint("ref", "transition", "generation", name="ux_alert_nflog_once"),
)
outbox = Table(
    "alert_outbox", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("ref", String, nullable=False, index=True),
    Column("transition", String, nullable=False),
    Column("target", String, nullable=False),  # receiver:NAME or person:NAME (URLs stay in the config)
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String, nullable=False, index=True),  # sending | delivered | failed | gave_up
    Column("attempts", Integer, nullable=False),
    Column("next_at", Float, nullable=True),
    Column("error", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("sender", String, nullable=False, server_default=""),  # the member whose workers send it
)
maintenance = Table(
    "alert_maintenance", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String, nullable=True),
    Column("device", String, nullable=True),
    Column("port", String, nullable=True),
    Column("starts_at", Float, nullable=False),
    Column("ends_at", Float, nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("created_by", String, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("removed_at", Float, nullable=True),
)
rotation = Table(
    "alert_rotation", metadata,
    Column("team", String, primary_key=True),
    Column("tier", Integer, primary_key=True),
    Column("position", Integer, nullable=False),
)
away_t = Table(
    "alert_away", metadata,
    Column("person", String, primary_key=True),
    Column("until", Float, nullable=True),
    Column("reason", Text, nullable=False),
    Column("since", Float, nullable=False),
)


class StaleDecision(Exception):
    """The alert state changed between the decision and its claim; the claim was rolled back."""


@dataclass(frozen=True, slots=True)
class Window:
    """Planned work: a site, a device or one port, from `starts_at` to `ends_at`, with a reason."""

    id: int
    site: str | None
    device: str | None
    port: str | None
    starts_at: float
    ends_at: float
    reason: str
    created_by: str
    created_at: float = 0.0
    removed_at: float | None = None

    def active(self, now: float) -> bool:
        return self.removed_at is None and self.starts_at <= now < self.ends_at

    @property
    def scope(self) -> str:
        if self.device and self.port:
            return f"port {self.device} {self.port}"
        return f"device {self.device}" if self.device else f"site {self.site}"


@dataclass(frozen=True, slots=True)
class Delivery:
    seq: int
    ref: str
    transition: str
    target: str
    title: str
    body: str
    status: str
    attempts: int
    next_at: float | None
    error: str


@dataclass(frozen=True, slots=True)
class Assignment:
    row: AlertRow
    person: str | None
    skipped: list[str]
    kept: bool  # someone already owned it (another daemon, or a person's assign)


class AlertState:
    """The alerting tables of one state store."""

    def __init__(self, store: Store, member: str = "") -> None:
        """`member`: the cluster member this process is ("" alone); it owns the deliveries it enqueues."""
        self.store, self.member = store, member
        store.create_tables(metadata, then=lambda conn: _add_missing_columns(conn, outbox))

    # --- alert state per incident ---------------------------------------------------------------

    def get(self, ref: str) -> AlertRow | None:
        with self.store.read() as conn:
            r = conn.execute(select(alert_incidents.c.data).where(alert_incidents.c.ref == ref)).first()
        return None if r is None else AlertRow.from_json(r.data)

    def many(self, refs: Iterable[str]) -> dict[str, AlertRow]:
        wanted = sorted(set(refs))
        if not wanted:
            return {}
        with self.store.read() as conn:
            rows = conn.execute(select(alert_incidents.c.data).where(alert_incidents.c.ref.in_(wanted))).all()
        return {r.data["ref"]: AlertRow.from_json(r.data) for r in rows}

    def update(self, ref: str, site: str, fn: Callable[[AlertRow], T]) -> tuple[AlertRow, T]:
        """Read, change and write one incident's alert state in one transaction."""
        for attempt in range(3):
            try:
                with self.store.write() as conn:
                    row = self._load(conn, ref, site)
                    out = fn(row)
                    self._save(conn, row)
                    return row, out
            except IntegrityError:  # two writers created the same row at once: read it again
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def claim(self, ref: str, site: str, transition: str, generation: int, at: float, reason: str,
              fn: Callable[[AlertRow], None], seen_version: int | None = None) -> AlertRow | None:
        """Log a notification as decided, once: None when it already was (a restart, another daemon).

        With `seen_version`, the decision was made from that version of the alert state: when another
        writer changed it since (another daemon's escalation, a person's ack), nothing is logged and
        `StaleDecision` is raised, so the caller decides again from what is now true. Together with the
        unique log key this makes check-and-claim one transaction: of two daemons deciding at once,
        one sends and the other finds either the log row or a newer state.
        """
        try:
            with self.store.write() as conn:
                conn.execute(insert(nflog).values(ref=ref, transition=transition, generation=generation,
                                                  at=at, reason=reason))
                row = self._load(conn, ref, site)
                if seen_version is not None and row.version != seen_version:
                    raise StaleDecision(f"{ref}: alert state v{row.version}, decided on v{seen_version}")
                fn(row)
                self._save(conn, row)
                return row
        except IntegrityError:
            return None

    def notified(self, ref: str) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            q = select(nflog).where(nflog.c.ref == ref).order_by(nflog.c.seq)
            rows = conn.execute(q).mappings().all()
        return [dict(r) for r in rows]

    def assign(self, ref: str, site: str, team: Team, tier: int, now: float, keep: bool,
               away: set[str]) -> Assignment:
        """Give the incident one owner from a tier, round-robin, in one transaction with the rotation."""
        with self.store.write() as conn:
            row = self._load(conn, ref, site)
            if keep and row.owner is not None:
                return Assignment(row, row.owner, [], True)
            members = team.tiers[tier - 1] if 0 < tier <= len(team.tiers) else ()
            key = and_(rotation.c.team == team.name, rotation.c.tier == tier)
            pos = conn.execute(select(rotation.c.position).where(key)).scalar()
            person, nxt, skipped = pick(members, int(pos or 0), away)
            if pos is None:
                conn.execute(insert(rotation).values(team=team.name, tier=tier, position=nxt))
            else:
                conn.execute(update(rotation).where(key).values(position=nxt))
            if person is not None:  # nobody free in the tier: the previous owner keeps it
                row.owner, row.acked_at, row.acked_by = person, None, ""
            row.tier, row.team, row.assigned_at = tier, team.name, now
            self._save(conn, row)
            return Assignment(row, person, skipped, False)

    def _load(self, conn: Connection, ref: str, site: str) -> AlertRow:
        r = conn.execute(select(alert_incidents.c.data).where(alert_incidents.c.ref == ref)
                         .with_for_update()).first()
        if r is not None:
            return AlertRow.from_json(r.data)
        row = AlertRow(ref=ref, site=site)
        conn.execute(insert(alert_incidents).values(ref=ref, site=site, owner=None, version=0,
                                                    data=row.to_json()))
        return row

    def _save(self, conn: Connection, row: AlertRow) -> None:
        row.version += 1
        conn.execute(update(alert_incidents).where(alert_incidents.c.ref == row.ref).values(
            site=row.site, owner=row.owner, version=row.version, data=row.to_json()))

    # --- maintenance windows -------------------------------------------------------------------

    def add_window(self, site: str | None, device: str | None, port: str | None, starts_at: float,
                   ends_at: float, reason: str, by: str, now: float) -> Window:
        with self.store.write() as conn:
            res = conn.execute(insert(maintenance).values(
                site=site, device=device, port=port, starts_at=starts_at, ends_at=ends_at, reason=reason,
                created_by=by, created_at=now))
            wid = _pk(res)
        return Window(wid, site, device, port, starts_at, ends_at, reason, by, now)

    def windows(self, now: float | None = None, include_past: bool = False) -> list[Window]:
        """Windows not removed; with `now`, those not yet over (unless include_past)."""
        q = select(maintenance).order_by(maintenance.c.starts_at, maintenance.c.id)
        if not include_past:
            q = q.where(maintenance.c.removed_at.is_(None))
            if now is not None:
                q = q.where(maintenance.c.ends_at > now)
        with self.store.read() as conn:
            rows = conn.execute(q).mappings().all()
        return [Window(**dict(r)) for r in rows]

    def remove_window(self, wid: int, now: float) -> bool:
        with self.store.write() as conn:
            res = conn.execute(update(maintenance).where(and_(maintenance.c.id == wid,
                                                              maintenance.c.removed_at.is_(None)))
                               .values(removed_at=now))
        return res.rowcount == 1

    # --- who is away ------------------------------------------------------------------------------

    def set_away(self, person: str, until: float | None, reason: str, now: float) -> None:
        with self.store.write() as conn:
            conn.execute(delete(away_t).where(away_t.c.person == person))
            conn.execute(insert(away_t).values(person=person, until=until, reason=reason, since=now))

    def back(self, person: str) -> bool:
        with self.store.write() as conn:
            return conn.execute(delete(away_t).where(away_t.c.person == person)).rowcount == 1

    def away(self, now: float) -> dict[str, dict[str, Any]]:
        """People away at `now`: name -> {until, reason, since}."""
        q = select(away_t).where(or_(away_t.c.until.is_(None), away_t.c.until > now))
        with self.store.read() as conn:
            rows = conn.execute(q.order_by(away_t.c.person)).mappings().all()
        return {r["person"]: {"until": r["until"], "reason": r["reason"], "since": r["since"]} for r in rows}

    # --- delivery outbox --------------------------------------------------------------------------

    def enqueue(self, ref: str, transition: str, targets: list[str], title: str, body: str,
                now: float) -> list[int]:
        with self.store.write() as conn:
            return [_pk(conn.execute(insert(outbox).values(
                ref=ref, transition=transition, target=t, title=title, body=body, status="sending",
                attempts=0, next_at=None, error="", created_at=now, sender=self.member))) for t in targets]

    def delivery(self, seq: int) -> Delivery | None:
        with self.store.read() as conn:
            r = conn.execute(select(outbox).where(outbox.c.seq == seq)).mappings().first()
        return None if r is None else _delivery(r)

    def set_delivery(self, seq: int, **values: Any) -> None:
        with self.store.write() as conn:
            conn.execute(update(outbox).where(outbox.c.seq == seq).values(**values))

    def deliveries(self, ref: str | None = None, status: Iterable[str] = ()) -> list[Delivery]:
        q = select(outbox).order_by(outbox.c.seq)
        if ref is not None:
            q = q.where(outbox.c.ref == ref)
        if status:
            q = q.where(outbox.c.status.in_(list(status)))
        with self.store.read() as conn:
            return [_delivery(r) for r in conn.execute(q).mappings().all()]

    def interrupted(self) -> int:
        """Deliveries this member's previous process left in flight: failed, so they are retried (at
        least once). Another live member's are its own business: taking them would send them twice.

        The interrupted try counts as an attempt, so a message that keeps dying mid-send (a receiver
        that crashes the daemon, say) still ends at `gave_up` instead of being sent forever."""
        return self._interrupt(outbox.c.sender == self.member, "interrupted by a restart")

    def orphaned(self, live: Iterable[str]) -> int:
        """Deliveries left in flight by members that are gone (the leader sweeps them for a retry)."""
        return self._interrupt(outbox.c.sender.not_in(sorted(set(live) | {self.member})),
                               "interrupted: its member stopped")

    def _interrupt(self, which: Any, why: str) -> int:
        with self.store.write() as conn:
            return conn.execute(update(outbox).where(and_(outbox.c.status == "sending", which)).values(
                status="failed", error=why, next_at=None, attempts=outbox.c.attempts + 1)).rowcount


def _add_missing_columns(conn: Connection, table: Table) -> None:
    """A store made by an older version: add the columns it lacks (each has a server default)."""
    have = {c["name"] for c in inspect(conn).get_columns(table.name)}
    for col in table.columns:
        if col.name not in have:
            ddl = f"ALTER TABLE {table.name} ADD COLUMN {col.name} {col.type.compile(conn.dialect)} NOT NULL " \
                  f"DEFAULT {col.server_default.arg!r}"  # type: ignore[union-attr]
            log.warning("store: adding column %s.%s", table.name, col.name)
            conn.execute(text(ddl))


def _pk(result: Any) -> int:
    return int(result.inserted_primary_key[0])


def _delivery(r: Any) -> Delivery:
    return Delivery(r["seq"], r["ref"], r["transition"], r["target"], r["title"], r["body"], r["status"],
                    r["attempts"], r["next_at"], r["error"])
