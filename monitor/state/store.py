"""The state store: what the daemon must remember across a restart, on SQLite now and PostgreSQL later.

It keeps the last snapshot of each device (and the baseline the next poll is compared with), where each
module serial has been seen, the incidents with their stable references, the stream of changes, what
correlation remembers between observations (trends, removals waiting for their insertion, learned links),
and a small key/value table (read only: where a store written before the memory table kept that memory).
One observation is saved in one transaction (`save_observation`), so a crash or a site handover resumes
from a whole state, never half of one.

An incident has two owners: correlation writes the `incidents` table (only its own fields), people write
`people_t` (owner, acknowledgement, notes, decisions, a resolution by hand: monitor.alerts). Reading an
incident joins the two; nothing is copied from one to the other.

SQLAlchemy Core with portable types only. Methods are synchronous: the daemon calls them from a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import StaticPool

from monitor.common.errors import SaksiError
from monitor.common.refs import BadIncidentRef, format_incident_ref, parse_incident_ref
from monitor.model import Snapshot, TableStatus
from monitor.state.default import DEFAULT_URL
from monitor.state.serialize import (
    change_from_dict,
    change_to_dict,
    restore_memory,
    snapshot_from_dict,
    snapshot_to_dict,
)
from monitor.witness.changes import Change
from monitor.witness.incidents import Incident, joined
from monitor.witness.observer import Witness

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
_LAST, _GOOD = "last", "good"
SCHEMA_LOCK = 0x5A4B5349  # PostgreSQL advisory lock held while tables are created ("SAKSI" in spirit)
WRITE_OPTION = "saksi_write"  # execution option: this transaction writes (SQLite: take the write lock up front)

metadata = MetaData()

snapshots = Table(
    "snapshots", metadata,
    Column("device", String, primary_key=True),
    Column("slot", String, primary_key=True),  # "last": the latest poll; "good": the latest that answered
    Column("site", String, nullable=False, index=True),
    Column("taken_at", Float, nullable=False),
    Column("reachable", Boolean, nullable=False),
    Column("data", JSON, nullable=False),
)

sightings = Table(
    "sightings", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("serial", String, nullable=False, index=True),
    Column("vendor", String, nullable=False),
    Column("model", String, nullable=False),
    Column("site", String, nullable=False),
    Column("device", String, nullable=False, index=True),
    Column("port", String, nullable=True),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
)

changes_t = Table(
    "changes", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("site", String, nullable=False, index=True),
    Column("device", String, nullable=False),
    Column("at", Float, nullable=False, index=True),
    Column("kind", String, nullable=False),
    Column("port", String, nullable=True),
    Column("serial", String, nullable=True),
    Column("data", JSON, nullable=False),
    Index("ix_changes_device_at", "device", "at"),
)

incidents_t = Table(
    "incidents", metadata,
    Column("id", String, primary_key=True),  # SAK-000123: what a customer quotes
    Column("seq", Integer, nullable=False, unique=True),
    Column("key", String, nullable=False, index=True),
    Column("is_open", Boolean, nullable=False, index=True),
    Column("site", String, nullable=False, index=True),
    Column("customer", String, nullable=False, index=True),
    Column("device", String, nullable=False),
    Column("port", String, nullable=True),
    Column("cause", String, nullable=False),
    Column("severity", String, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("detected_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("resolved_at", Float, nullable=True),
    Column("data", JSON, nullable=False),
)
# one open incident per key, even with several writers (a partial index on both SQLite and PostgreSQL)
Index("ux_incidents_open_key", incidents_t.c.key, unique=True,
      sqlite_where=incidents_t.c.is_open.is_(True), postgresql_where=incidents_t.c.is_open.is_(True))

# the people's side of each incident (monitor.alerts.state.AlertState writes it, one row per reference)
people_t = Table(
    "alert_incidents", metadata,
    Column("ref", String, primary_key=True),  # the incident's reference (SAK-000123)
    Column("site", String, nullable=False, index=True),
    Column("owner", String, nullable=True, index=True),  # one column: one owner
    Column("version", Integer, nullable=False),
    Column("data", JSON, nullable=False),
)

# what correlation remembers of a site between observations: "removals", "learned", "trends:DEVICE"
memory_t = Table(
    "witness_memory", metadata,
    Column("site", String, primary_key=True),
    Column("part", String, primary_key=True),
    Column("data", JSON, nullable=False),
)

counters = Table(
    "counters", metadata,
    Column("name", String, primary_key=True),
    Column("value", Integer, nullable=False),
)

meta_t = Table(
    "meta", metadata,
    Column("key", String, primary_key=True),
    Column("value", JSON, nullable=True),
)


class StoreError(SaksiError):
    """The store cannot be opened or used."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """A module serial seen in one place from `first_seen` to `last_seen` (poll times)."""

    serial: str
    vendor: str
    model: str
    device: str
    port: str | None
    first_seen: float
    last_seen: float
    site: str = ""


def incident_ref(seq: int) -> str:
    """The human reference of the n-th incident of a store (the one formatter: monitor.common.refs)."""
    return format_incident_ref(seq)


def parse_ref(ref: str) -> int | None:
    """The sequence number in a reference as a person types it; None when it is not one (bounded: a
    number too long for SQLite's INTEGER is no reference, not an OverflowError).

    >>> parse_ref("SAK-000123"), parse_ref("sak-123"), parse_ref("123"), parse_ref("x"), parse_ref("9" * 20)
    (123, 123, 123, None, None)
    """
    try:
        return parse_incident_ref(ref)
    except BadIncidentRef:
        return None


def modules_known(snap: Snapshot) -> bool:
    """A snapshot's module picture is a fact: it answered and its entPhysicalTable was read completely."""
    return snap.reachable and snap.table("entPhysicalTable").status in (TableStatus.OK, TableStatus.EMPTY)


class Store:
    """The embedded (SQLite) or shared (PostgreSQL) state store; tables are created on open."""

    def __init__(self, url: str = DEFAULT_URL, *, create: bool = True) -> None:
        self.url = url
        u = make_url(url)
        kwargs: dict[str, Any] = {}
        self._sqlite = u.get_backend_name() == "sqlite"
        if self._sqlite:
            db = u.database or ""
            if db in ("", ":memory:") or db.startswith("file:"):
                kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            else:
                path = Path(db)
                if not path.exists() and not create:
                    raise StoreError(f"no store at {path} (give --db or set SAKSI_DB)")
                path.parent.mkdir(parents=True, exist_ok=True)
        else:  # a shared server restarts under us: test a pooled connection before use, drop it if dead
            kwargs.update(pool_pre_ping=True)
        self.engine: Engine = create_engine(url, **kwargs)
        if self._sqlite:
            _sqlite_setup(self.engine)
        self.create_tables(metadata)

    def create_tables(self, meta: MetaData, then: Callable[[Connection], None] | None = None) -> None:
        """Create `meta`'s missing tables (and run `then`) in one write transaction. On PostgreSQL it
        holds an advisory lock: collectors starting together on an empty database do not race."""
        with self.write() as conn:
            if not self._sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
            meta.create_all(conn)
            if then is not None:
                then(conn)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self) -> AbstractContextManager[Connection]:
        """One write transaction: committed whole on success, rolled back on any error (the alerting
        and web tables of the same database write through it too)."""
        return write_transaction(self.engine)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction: a consistent view of several tables."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    # --- snapshots and sightings ------------------------------------------------------------------

    def _put_snapshot(self, conn: Connection, snap: Snapshot, site: str, baseline: Snapshot | None) -> None:
        good = baseline if baseline is not None else snap if snap.reachable else None
        for slot, s in ((_LAST, snap), (_GOOD, good)):
            if s is None:
                continue
            row = {"site": site, "taken_at": s.taken_at, "reachable": s.reachable, "data": snapshot_to_dict(s)}
            res = conn.execute(update(snapshots).where(
                and_(snapshots.c.device == snap.device, snapshots.c.slot == slot)).values(**row))
            if res.rowcount == 0:
                conn.execute(insert(snapshots).values(device=snap.device, slot=slot, **row))
        if modules_known(snap):
            self._sight(conn, snap, site)

    def _sight(self, conn: Connection, snap: Snapshot, site: str) -> None:
        names = {p.ifindex: p.name for p in snap.ports}
        counts: dict[str, int] = {}
        for t in snap.transceivers:
            counts[t.serial] = counts.get(t.serial, 0) + 1
        for t in snap.transceivers:
            if not t.serial.strip():
                continue
            if counts[t.serial] > 1:
                log.debug("%s: serial %s appears %d times in one poll; not tracked", snap.device, t.serial,
                          counts[t.serial])
                continue
            port = None if t.ifindex is None else names.get(t.ifindex, f"ifIndex {t.ifindex}")
            cur = conn.execute(select(sightings).where(sightings.c.serial == t.serial)
                               .order_by(sightings.c.seq.desc()).limit(1)).mappings().first()
            if cur is not None and cur["device"] == snap.device and cur["port"] == port:
                conn.execute(update(sightings).where(sightings.c.seq == cur["seq"]).values(
                    last_seen=max(cur["last_seen"], snap.taken_at), vendor=t.vendor, model=t.model, site=site))
                continue
            if cur is not None:
                log.info("module %s moved: %s %s -> %s %s", t.serial, cur["device"], cur["port"], snap.device, port)
            conn.execute(insert(sightings).values(serial=t.serial, vendor=t.vendor, model=t.model, site=site,
                                                  device=snap.device, port=port, first_seen=snap.taken_at,
                                                  last_seen=snap.taken_at))

    def last_snapshots(self, site: str | None = None) -> dict[str, Snapshot]:
        """The latest snapshot of each device, answered or not."""
        return self._snapshots(_LAST, site)

    def last_good_snapshots(self, site: str | None = None) -> dict[str, Snapshot]:
        """The latest snapshot of each device that answered: what change detection compares against."""
        return self._snapshots(_GOOD, site)

    def _snapshots(self, slot: str, site: str | None) -> dict[str, Snapshot]:
        q = select(snapshots.c.device, snapshots.c.data).where(snapshots.c.slot == slot)
        if site is not None:
            q = q.where(snapshots.c.site == site)
        with self.read() as conn:
            rows = conn.execute(q.order_by(snapshots.c.device)).all()
        return {r.device: snapshot_from_dict(r.data) for r in rows}

    def whereis(self, serial: str) -> list[Sighting]:
        """Everywhere a module serial has been seen, newest first."""
        # serials are case-insensitive in practice: a label says FNS3507A966, an engineer types fns3507a966
        q = select(sightings).where(func.upper(sightings.c.serial) == serial.strip().upper()).order_by(
            sightings.c.last_seen.desc(), sightings.c.seq.desc())
        with self.read() as conn:
            rows = conn.execute(q).mappings().all()
        return [Sighting(serial=r["serial"], vendor=r["vendor"], model=r["model"], device=r["device"],
                         port=r["port"], first_seen=r["first_seen"], last_seen=r["last_seen"], site=r["site"])
                for r in rows]

    # --- changes ----------------------------------------------------------------------------------

    @staticmethod
    def _put_changes(conn: Connection, changes: Sequence[Change], site: str) -> None:
        if changes:
            conn.execute(insert(changes_t), [
                {"site": site, "device": c.device, "at": c.at, "kind": c.kind.value, "port": c.port,
                 "serial": c.serial, "data": change_to_dict(c)} for c in changes])

    def changes(self, device: str | None = None, since: float | None = None,
                site: str | None = None) -> list[Change]:
        """Changes in the order they were seen; `since` keeps those seen at or after it."""
        q = select(changes_t.c.data)
        if device is not None:
            q = q.where(changes_t.c.device == device)
        if since is not None:
            q = q.where(changes_t.c.at >= since)
        if site is not None:
            q = q.where(changes_t.c.site == site)
        with self.read() as conn:
            rows = conn.execute(q.order_by(changes_t.c.at, changes_t.c.seq)).all()
        return [change_from_dict(r.data) for r in rows]

    # --- incidents --------------------------------------------------------------------------------

    def upsert_incident(self, inc: Incident) -> Incident:
        """Write correlation's fields of one incident (the people's are theirs: `people_t`).

        An incident without an id is new: it gets the next reference of this store, never reused, here
        and nowhere else, once the transaction commits. Returns the same incident.
        """
        self.save_observation("", incidents=[inc])
        return inc

    def save_observation(self, site: str, snapshot: Snapshot | None = None, baseline: Snapshot | None = None,
                         changes: Sequence[Change] = (), incidents: Sequence[Incident] = (),
                         memory: Mapping[str, Any] | None = None) -> None:
        """One observation of a site, whole, in one transaction: the poll (and the baseline the next one is
        compared with), its changes, correlation's side of the incidents it touched, and what correlation
        remembers (`memory`: parts by name, monitor.state.serialize.witness_memory)."""
        with self.write() as conn:
            if snapshot is not None:
                self._put_snapshot(conn, snapshot, site, baseline)
            self._put_changes(conn, changes, site)
            refs = [(inc, self._put_incident(conn, inc)) for inc in incidents]
            for part, value in (memory or {}).items():
                key = and_(memory_t.c.site == site, memory_t.c.part == part)
                if conn.execute(update(memory_t).where(key).values(data=value)).rowcount == 0:
                    conn.execute(insert(memory_t).values(site=site, part=part, data=value))
        for inc, ref in refs:  # committed: the new ones have their reference now
            if ref is not None:
                inc.id = ref

    def _put_incident(self, conn: Connection, inc: Incident) -> str | None:
        """Update the incident by its id; a new one is inserted with the next reference (returned)."""
        if inc.id:
            row = _incident_row(inc, inc.id)
            if conn.execute(update(incidents_t).where(incidents_t.c.id == inc.id).values(**row)).rowcount:
                return None
            log.warning("incident %s is not in this store: stored under a new reference", inc.id)
        if inc.open:
            self._retire_closed_by_hand(conn, inc.key)
        seq = self._next(conn, "incident")
        ref = incident_ref(seq)
        conn.execute(insert(incidents_t).values(id=ref, seq=seq, **_incident_row(inc, ref)))
        return ref

    @staticmethod
    def _retire_closed_by_hand(conn: Connection, key: str) -> None:
        """A person resolved the open incident of this key (its people's side says so) and correlation, which
        never writes it again once it reads it closed, now raises the problem anew: the old row leaves the
        one-open-per-key index. Only the index flag moves; correlation's record is untouched."""
        rows = conn.execute(_joined().add_columns(incidents_t.c.id).where(
            and_(incidents_t.c.key == key, incidents_t.c.is_open.is_(True)))).all()
        for r in rows:
            if not joined(r.data, r.people).open:
                conn.execute(update(incidents_t).where(incidents_t.c.id == r.id).values(is_open=False))

    def witness_memory(self, site: str) -> dict[str, Any]:
        """What correlation remembered of a site at its last observation, by part."""
        with self.read() as conn:
            rows = conn.execute(select(memory_t.c.part, memory_t.c.data).where(memory_t.c.site == site)).all()
        return {r.part: r.data for r in rows}

    def _next(self, conn: Connection, name: str) -> int:
        """The next value of a named sequence, in the caller's transaction (so a rollback issues nothing)."""
        res = conn.execute(update(counters).where(counters.c.name == name).values(value=counters.c.value + 1))
        if res.rowcount == 0:
            conn.execute(insert(counters).values(name=name, value=1))
        return int(conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar_one())

    def incidents(self, open_only: bool = False, site: str | None = None,
                  customer: str | None = None, resolved_since: float | None = None) -> list[Incident]:
        """Incidents in the order they were raised, each joined with its people's side; `open_only`
        leaves out those resolved by correlation or by hand. With `resolved_since`: the open ones and
        those resolved at or after it (what correlation needs to resume: a flap reopens a recent one)."""
        q = _joined()
        if open_only or resolved_since is not None:
            q = q.where(incidents_t.c.is_open.is_(True) if resolved_since is None else
                        incidents_t.c.is_open.is_(True) | (incidents_t.c.resolved_at >= resolved_since))
        if site is not None:
            q = q.where(incidents_t.c.site == site)
        if customer is not None:
            q = q.where(incidents_t.c.customer == customer)
        with self.read() as conn:
            rows = conn.execute(q.order_by(incidents_t.c.seq)).all()
        found = [joined(r.data, r.people) for r in rows]
        return [i for i in found if i.open] if open_only else found

    def open_incidents(self, site: str | None = None) -> list[Incident]:
        return self.incidents(open_only=True, site=site)

    def incident(self, id: str) -> Incident | None:
        """One incident by reference ("SAK-000123", "sak-123" or "123"), joined with its people's side."""
        seq = parse_ref(id)
        if seq is None:
            return None
        with self.read() as conn:
            row = conn.execute(_joined().where(incidents_t.c.seq == seq)).first()
        return None if row is None else joined(row.data, row.people)

    def resume(self, w: Witness, site: str, resolved_since: float) -> None:
        """Put back what correlation knew of a site at its last observation (a restart, or a site taken
        over from another member): incidents open or resolved since `resolved_since` (a flap reopens
        those), the last snapshots and baselines, the removals, the learned links and the trends."""
        w.state.incidents = self.incidents(site=site, resolved_since=resolved_since)
        w.state.last = self.last_snapshots(site)
        w.last_good = self.last_good_snapshots(site)
        parts = self.witness_memory(site) or {  # a store written before the memory table: its two meta keys
            "removals": self.get_meta(f"removals:{site}", {}), "learned": self.get_meta(f"learned:{site}", {})}
        restore_memory(w, parts)

    # --- meta -------------------------------------------------------------------------------------

    def get_meta(self, key: str, default: Any = None) -> Any:
        """A value a store written before the memory table kept under a key (nothing writes it any more)."""
        with self.read() as conn:
            row = conn.execute(select(meta_t.c.value).where(meta_t.c.key == key)).first()
        return default if row is None else row.value


def _joined() -> Any:
    """Correlation's record of each incident beside its people's row (none until a person or the alert
    pipeline touched it)."""
    return select(incidents_t.c.data, people_t.c.data.label("people")).select_from(
        incidents_t.outerjoin(people_t, people_t.c.ref == incidents_t.c.id))


def _incident_row(inc: Incident, ref: str) -> dict[str, Any]:
    data = inc.correlation_json() | {"id": ref}
    return {"key": inc.key, "is_open": inc.open, "site": inc.site, "customer": inc.customer, "device": inc.device,
            "port": inc.port, "cause": inc.cause, "severity": inc.severity, "started_at": inc.started_at,
            "detected_at": inc.detected_at, "updated_at": inc.updated_at, "resolved_at": inc.resolved_at,
            "data": data}


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction on a store's engine; on SQLite it takes the write lock up front, so a
    read-modify-write never fails half-way on a lock upgrade (the web's tables use it too)."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


def _sqlite_setup(engine: Engine) -> None:
    """WAL, a busy timeout, and real transactions: the driver's own BEGIN handling is replaced (as
    SQLAlchemy's docs advise) so that a read-modify-write holds the write lock from its first read."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # no implicit BEGIN from the driver: ours below
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")
