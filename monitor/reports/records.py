"""Reports as they are kept: one row each in their own table, joined to an incident by its reference.

A report is people's data (what a customer said, and when), so it never goes into the incident's
correlation record: the incident page, `saksi incident show` and the alert pipeline read it from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    select,
)

from monitor.state.store import Store

CAUSE = "customer_report"  # the incident a report opens when no open incident covers it
MAX_TEXT = 2000  # characters: a report is a few sentences, not a log file
VIAS = ("phone", "web", "link")  # recorded by the NOC, by a customer account, by a link that may report

metadata = MetaData()
reports_t = Table(
    "customer_reports", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("site", String, nullable=False, index=True),
    Column("customer", String, nullable=False),
    Column("device", String, nullable=True),
    Column("port", String, nullable=True),
    Column("text", Text, nullable=False),
    Column("by_name", String, nullable=False, index=True),  # the reporter: a name, an account, "link ID"
    Column("via", String, nullable=False),
    Column("at", Float, nullable=False, index=True),
    Column("incident", String, nullable=False, index=True),  # the reference it joined or opened
    Column("outcome", String, nullable=False),  # attached | opened
)


@dataclass(frozen=True, slots=True)
class Report:
    """One customer report, after it was matched: `incident` is the reference it belongs to."""

    seq: int
    site: str
    customer: str
    device: str | None
    port: str | None
    text: str
    by: str
    via: str
    at: float
    incident: str
    outcome: str  # attached: joined an open incident; opened: it opened a customer_report incident

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def place(self) -> str:
        """Where the customer pointed, in words.

        >>> Report(1, "s", "c", "sw1", "GigabitEthernet1/0/1", "x", "n", "web", 0.0, "SAK-1", "opened").place
        'sw1 GigabitEthernet1/0/1'
        """
        from monitor.common.names import port_label

        if self.device is None:
            return f"site {self.site}"
        return f"{self.device} {port_label(self.port)}" if self.port else self.device


def _report(r: Any) -> Report:
    return Report(r["seq"], r["site"], r["customer"], r["device"], r["port"], r["text"], r["by_name"],
                  r["via"], r["at"], r["incident"], r["outcome"])


class ReportBook:
    """The reports of one state store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.create_tables(metadata)

    def add(self, site: str, customer: str, device: str | None, port: str | None, text: str, by: str,
            via: str, at: float, incident: str, outcome: str) -> Report:
        with self.store.write() as conn:
            res = conn.execute(insert(reports_t).values(
                site=site, customer=customer, device=device, port=port, text=text, by_name=by, via=via, at=at,
                incident=incident, outcome=outcome))
            seq = int(res.inserted_primary_key[0])  # type: ignore[index]
        return Report(seq, site, customer, device, port, text, by, via, at, incident, outcome)

    def of(self, refs: Iterable[str]) -> dict[str, list[Report]]:
        """The reports of these incidents, oldest first, by reference."""
        wanted = sorted(set(refs))
        if not wanted:
            return {}
        q = select(reports_t).where(reports_t.c.incident.in_(wanted)).order_by(reports_t.c.seq)
        with self.store.read() as conn:
            rows = conn.execute(q).mappings().all()
        out: dict[str, list[Report]] = {}
        for r in rows:
            out.setdefault(r["incident"], []).append(_report(r))
        return out

    def get(self, seq: int) -> Report | None:
        with self.store.read() as conn:
            r = conn.execute(select(reports_t).where(reports_t.c.seq == seq)).mappings().first()
        return None if r is None else _report(r)

    def for_incident(self, ref: str) -> list[Report]:
        return self.of([ref]).get(ref, [])

    def since(self, at: float) -> list[Report]:
        """Reports made at or after `at`, oldest first (the alert pipeline's look for news)."""
        q = select(reports_t).where(reports_t.c.at >= at).order_by(reports_t.c.seq)
        with self.store.read() as conn:
            return [_report(r) for r in conn.execute(q).mappings().all()]

    def of_site(self, site: str, limit: int = 50) -> list[Report]:
        q = select(reports_t).where(reports_t.c.site == site).order_by(reports_t.c.seq.desc()).limit(limit)
        with self.store.read() as conn:
            return [_report(r) for r in conn.execute(q).mappings().all()]

    def count_by(self, by: str, since: float) -> int:
        """How many reports one reporter made since `at`: the web form's rate limit, kept in the store so a
        restart or a second web process does not reset it."""
        q = select(func.count()).select_from(reports_t).where(and_(reports_t.c.by_name == by,
                                                                   reports_t.c.at >= since))
        with self.store.read() as conn:
            return int(conn.execute(q).scalar_one())


# --- links that may report (`saksi tokens add --can-report`) ------------------------------------------

report_links_t = Table(
    "customer_report_links", metadata,
    Column("token_id", String(32), primary_key=True),  # web_tokens.id: a read-only link that may also report
    Column("created_at", Float, nullable=False),
)


def allow_link(engine: Engine, token_id: str, now: float) -> None:
    """Let a customer's link report a problem (the one thing a link may write)."""
    metadata.create_all(engine, tables=[report_links_t])
    with engine.begin() as conn:
        q = select(report_links_t.c.token_id).where(report_links_t.c.token_id == token_id)
        if conn.execute(q).first() is None:
            conn.execute(insert(report_links_t).values(token_id=token_id, created_at=now))


def reporting_links(engine: Engine) -> set[str]:
    """The ids of every link allowed to report a problem, in one read (for `saksi tokens list`)."""
    metadata.create_all(engine, tables=[report_links_t])
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(select(report_links_t.c.token_id))}


def link_may_report(engine: Engine, token_id: str) -> bool:
    metadata.create_all(engine, tables=[report_links_t])
    with engine.connect() as conn:
        q = select(report_links_t.c.token_id).where(report_links_t.c.token_id == token_id)
        return conn.execute(q).first() is not None
