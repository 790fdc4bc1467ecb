"""Scale-out: several `saksi run` processes share one inventory through a shared PostgreSQL store.

Members heartbeat in `cluster_members`. Each site belongs to the live member with the highest
rendezvous weight (a stable hash of member and site), so a member's death moves only its own sites.
A member polls and correlates a site only while it holds that site's PostgreSQL advisory lock: two
members whose views of who is alive differ for a moment still never correlate one site at once.
Leadership — the alert pipeline's clock — is one more advisory lock. Every lock is a session lock on
one dedicated connection, so when a process dies PostgreSQL drops the connection and its locks with it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from monitor.state.store import Store, StoreError
from monitor.witness.incidents import Incident

log = logging.getLogger(__name__)
metadata = MetaData()
LEADER = "saksi:leader"

members_t = Table(
    "cluster_members", metadata,
    Column("name", String, primary_key=True),
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),  # the database's clock: members' clocks may differ
    Column("leader", Boolean, nullable=False),
    Column("sites", JSON, nullable=False),  # the sites it polls, as of its last heartbeat
    Column("host", String, nullable=False),
    Column("pid", Integer, nullable=False),
)


def default_member() -> str:
    """hostname-pid: unique per process, readable in `cluster_members` and in the log."""
    return f"{socket.gethostname()}-{os.getpid()}"


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key (Python's hash() differs between processes).

    >>> lock_key("saksi:leader") == lock_key("saksi:leader"), -2**63 <= lock_key("x") < 2**63
    (True, True)
    """
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def weight(member: str, site: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{member}\0{site}".encode()).digest()[:8], "big")


def owner(site: str, members: Iterable[str]) -> str | None:
    """Rendezvous (highest-random-weight) hashing: the member a site belongs to.

    >>> owner("hq", ["a", "b"]) == owner("hq", ["b", "a"])
    True
    """
    return max(members, key=lambda m: (weight(m, site), m), default=None)


def slice_of(member: str, sites: Iterable[str], members: Iterable[str]) -> set[str]:
    """The sites that belong to `member` among `members`: disjoint between members, together all sites."""
    live = sorted(set(members) | {member})
    return {s for s in sites if owner(s, live) == member}


@dataclass(frozen=True, slots=True)
class Plan:
    """One round's outcome: sites to start polling (already locked), sites to stop (then `release`)."""

    take: frozenset[str]
    drop: frozenset[str]
    leader: bool
    live: tuple[str, ...]


class Cluster:
    """This process's membership: heartbeats, its slice of the sites, its locks and its leadership."""

    def __init__(self, store: Store, member: str, timeout_s: float = 15.0) -> None:
        if store.engine.dialect.name != "postgresql":
            raise StoreError("a cluster needs a shared PostgreSQL store (--db postgresql+psycopg://...)")
        self.store, self.member, self.timeout_s = store, member, timeout_s
        self.locked: set[str] = set()  # site locks held on self._conn
        self.leader = False
        self.live: tuple[str, ...] = (member,)  # as of the last step
        self.started_at = time.time()
        self._conn: Connection | None = None
        self._ever_connected = False
        self._settle_until = 0.0  # monotonic; after a lost connection, take no new site before it
        store.create_tables(metadata)

    # --- the dedicated connection ---------------------------------------------------------------

    def _connection(self) -> Connection:
        if self._conn is not None:
            try:
                self._conn.exec_driver_sql("SELECT 1")
                return self._conn
            except DBAPIError:
                self._lost()
        conn = self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if self._ever_connected:
            # everyone's heartbeats went stale during the outage: until they beat again, this member
            # only re-locks the sites it was polling, so it does not grab the others' sites
            self._settle_until = time.monotonic() + self.timeout_s
            log.warning("cluster: %s reconnected to the store; re-locking its own sites", self.member)
        self._conn, self._ever_connected = conn, True
        return conn

    def _lost(self) -> None:
        """The connection died; its session locks died with it (PostgreSQL released them)."""
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except SQLAlchemyError as exc:  # already broken: nothing left to release
                log.debug("cluster: closing a dead connection: %s", exc)
        if self.leader or self.locked:
            log.warning("cluster: %s lost its store connection: its locks (%d sites%s) are gone", self.member,
                        len(self.locked), ", the lead" if self.leader else "")
        self._conn, self.leader = None, False
        self.locked.clear()

    def _try_lock(self, conn: Connection, key: str) -> bool:
        return bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(key)}).scalar())

    # --- one round ------------------------------------------------------------------------------

    def step(self, sites: Iterable[str], polling: set[str]) -> Plan:
        """Heartbeat, see who is alive, lock this member's slice, try for leadership.

        Raises `DBAPIError` when the store cannot be reached: the caller keeps polling what it polls,
        since no other member can take a site without the locks the database holds.
        """
        try:
            conn = self._connection()
            now = float(conn.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one())
            live = self._live(conn, now)
            want = slice_of(self.member, sites, live)
            settling = time.monotonic() < self._settle_until
            for site in sorted(want - self.locked):
                if settling and site not in polling:
                    continue
                if self._try_lock(conn, f"saksi:site:{site}"):
                    self.locked.add(site)
            keep = polling & want & self.locked
            take = (want & self.locked) - polling
            if not self.leader and self._try_lock(conn, LEADER):
                self.leader = True
                log.warning("cluster: %s is the leader (alert escalations, reminders, retries)", self.member)
            self._beat(conn, now, sorted(keep | take))
        except DBAPIError:
            self._lost()
            raise
        self.live = tuple(live)
        return Plan(frozenset(take), frozenset(polling - keep), self.leader, self.live)

    def _live(self, conn: Connection, now: float) -> list[str]:
        rows = conn.execute(select(members_t.c.name).where(members_t.c.heartbeat_at >= now - self.timeout_s))
        return sorted({r.name for r in rows} | {self.member})

    def _beat(self, conn: Connection, now: float, sites: list[str]) -> None:
        row = {"heartbeat_at": now, "leader": self.leader, "sites": sites, "started_at": self.started_at,
               "host": socket.gethostname(), "pid": os.getpid()}
        if conn.execute(update(members_t).where(members_t.c.name == self.member).values(**row)).rowcount == 0:
            conn.execute(insert(members_t).values(name=self.member, **row))

    def release(self, sites: Iterable[str]) -> None:
        """Unlock sites this member stopped polling, so their new owner can take them."""
        for site in sites:
            if site not in self.locked or self._conn is None:
                self.locked.discard(site)
                continue
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(f"saksi:site:{site}")})
            except DBAPIError:
                self._lost()
                return
            self.locked.discard(site)

    def leave(self) -> None:
        """A clean stop: drop out of the live members now and let go of every lock."""
        if self._conn is None:
            return
        try:
            self._conn.execute(delete(members_t).where(members_t.c.name == self.member))
            self._conn.exec_driver_sql("SELECT pg_advisory_unlock_all()")
            self._conn.close()
        except DBAPIError:
            log.warning("cluster: %s could not leave cleanly; its locks go with its connection", self.member)
        self._conn, self.leader = None, False
        self.locked.clear()


def members(store: Store) -> list[dict[str, Any]]:
    """Every registered member with its last heartbeat, leadership and sites (for tests and operators)."""
    with store.read() as conn:
        rows = conn.execute(select(members_t).order_by(members_t.c.name)).mappings().all()
    return [dict(r) for r in rows]


class Followable(Protocol):
    """What the leader needs of the alert pipeline (monitor.alerts.pipeline.Pipeline)."""

    tracked: dict[str, Incident]
    state: Any  # monitor.alerts.state.AlertState

    def track(self, incidents: Iterable[Incident]) -> None: ...

    def tick(self, now: float) -> list[dict[str, Any]]: ...


def lead_tick(pipeline: Followable, store: Store, local: Collection[str], now: float,
              live: Collection[str] = (), settle_s: float = 60.0) -> list[dict[str, Any]]:
    """The leader's tick over every member's incidents, not only its own sites'.

    Other members' incidents are followed through the store (their copies there are current): open
    ones are tracked, and a tracked one that closed elsewhere is replaced by its stored copy, so the
    leader never escalates or reminds about an incident another member already resolved. Incidents of
    this member's own sites stay the witness's objects. An incident younger than `settle_s` is left to
    its own member, which alerts on it once the evidence settled (a guess waits for the far end). Deliveries that a member which is no longer
    `live` left in flight are marked interrupted, for this tick to retry.
    """
    if live:
        pipeline.state.orphaned(live)
    others = {i.id: i for i in store.open_incidents()
              if i.site not in local and i.detected_at <= now - settle_s}  # its member pages the new ones
    closed = [ref for ref, inc in list(pipeline.tracked.items())
              if inc.site not in local and inc.open and ref not in others]
    fresh = [store.incident(ref) for ref in closed]
    pipeline.track([*others.values(), *(i for i in fresh if i is not None)])
    return pipeline.tick(now)
