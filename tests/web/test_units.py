"""The web view's pure parts: charts against thresholds, the optics sources, the login throttle, accounts and
sessions."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.common.clock import local
from monitor.model import Thresholds
from monitor.state.store import Store
from monitor.timeseries.reader import Row
from monitor.web import accounts, optics
from monitor.web.throttle import LoginThrottle, Refused, Verifier, client_address, networks
from tests import pg

TH = Thresholds(-20.0, -19.0, -3.0, -2.0)


@pytest.mark.parametrize(("value", "state"), [(-7.5, "ok"), (-19.5, "warning"), (-2.5, "warning"),
                                              (-25.0, "alarm"), (0.0, "alarm")])
def test_series_state_follows_the_modules_thresholds(value: float, state: str) -> None:
    assert optics.Series("rx_dbm", None, ((1.0, value),), TH).state == state


def test_chart_draws_bands_in_order_and_the_line_inside_them() -> None:
    s = optics.Series("rx_dbm", None, ((0.0, -7.0), (60.0, -8.0), (120.0, -21.0)), TH)
    c = optics.chart(s)
    assert [b.level for b in c.bands] == ["alarm", "warning", "ok", "warning", "alarm"]
    assert all(b.height > 0 for b in c.bands)
    assert [b.y for b in c.bands] == sorted(b.y for b in c.bands)  # top to bottom
    xs = [float(p.split(",")[0]) for p in c.points.split()]
    assert xs == sorted(xs) and c.dot is not None and c.dot[0] == xs[-1]
    assert "alarm" in c.description and "-21 dBm" in c.description


def test_chart_without_thresholds_or_readings() -> None:
    assert optics.chart(optics.Series("temperature_c", None, ((0.0, 30.0),))).bands[0].level == "ok"
    empty = optics.chart(optics.Series("bias_ma", 2, ()))
    assert empty.dot is None and "no reading" in empty.description and "lane 2" in empty.description


def test_rows_become_one_series_per_reading_and_lane() -> None:
    rows = [Row("dom", t, {"port": "Et1", "lane": str(lane)}, {"rx_dbm": -5.0 - lane, "rx_dbm_low_alarm": -14.0,
                                                               "tx_dbm": 1.0, "breach": 0})
            for t in (60.0, 0.0) for lane in (1, 2)]
    series = optics.from_rows(rows)
    assert [(s.key, s.lane) for s in series] == [("rx_dbm", 1), ("rx_dbm", 2), ("tx_dbm", 1), ("tx_dbm", 2)]
    assert series[0].samples == ((0.0, -6.0), (60.0, -6.0)) and series[0].thresholds.low_alarm == -14.0


def test_without_a_reader_the_last_snapshot_is_drawn(lab_run) -> None:  # type: ignore[no-untyped-def]
    snap = lab_run.snapshots["core-sw1"][-1]
    series = optics.history(None, snap, "core-sw1", "GigabitEthernet1/0/50", 0, snap.taken_at, "s")
    assert {s.key for s in series} == {"rx_dbm", "tx_dbm", "temperature_c", "voltage_v", "bias_ma"}
    assert all(len(s.samples) == 1 for s in series)
    assert optics.history(None, snap, "core-sw1", "GigabitEthernet1/0/49", 0, 1, "s") == []  # no module there
    assert optics.history(None, dataclasses.replace(snap, reachable=False), "core-sw1",
                          "GigabitEthernet1/0/50", 0, 1, "s") == []


def test_a_failing_reader_falls_back_to_the_snapshot(lab_run) -> None:  # type: ignore[no-untyped-def]
    class Down:
        def optics(self, *args: object) -> list[Row]:
            raise ConnectionError("influx is down")

    snap = lab_run.snapshots["core-sw1"][-1]
    assert optics.history(Down(), snap, "core-sw1", "GigabitEthernet1/0/50", 0, 1, "s")  # type: ignore[arg-type]


def test_times_are_shown_in_the_sites_zone() -> None:
    assert local(1_794_200_000.0, "Europe/Helsinki")[1] == "2026-11-09 06:53:20 EET"
    assert local(1_794_200_000.0, "America/New_York")[0] == "2026-11-08T23:53:20-05:00"
    assert local(None, "UTC") == ("", "-")


def _throttle(now: list[float], **kw: float) -> LoginThrottle:
    return LoginThrottle(**{"free": 3, "base_s": 1.0, "max_delay_s": 30.0, "forget_s": 600.0, "max_keys": 6,
                            "free_per_address": 3, **kw}, clock=lambda: now[0])  # type: ignore[arg-type]


def test_throttle_slows_guessing_progressively_and_never_for_long() -> None:
    now = [0.0]
    t = _throttle(now)
    keys = ["ip:1", "user:a"]
    for _ in range(3):
        t.attempt(keys)  # the free ones, back to back
    waits = []
    for _ in range(12):
        with pytest.raises(Refused) as refused:
            t.attempt(keys)
        waits.append(refused.value.retry_after)
        now[0] += refused.value.retry_after
        t.attempt(keys)
    assert waits[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]  # doubling...
    assert max(waits) == 30.0  # ...never more than max_delay_s: the right password is never locked out for long
    assert t.waiting("ip:2") == 0.0 and t.waiting("user:b") == 0.0  # others are not held back
    t.succeeded(keys)
    t.attempt(keys)  # the right password: a fresh start
    now[0] += 10_000
    assert t.waiting("user:a") == 0.0


def test_throttle_counts_attempts_before_they_are_checked() -> None:
    """Issue 16 #4: the old limiter counted only finished failures, so 20 concurrent guesses all ran."""
    now = [0.0]
    t = _throttle(now)
    passed, refused = 0, 0
    for _ in range(20):  # 20 attempts whose checks have not finished yet
        try:
            t.attempt(["ip:1", "user:a"])
            passed += 1
        except Refused:
            refused += 1
    assert (passed, refused) == (3, 17)


def test_throttle_never_forgets_a_delayed_name_when_its_table_fills() -> None:
    """Issue 16 #7: a full table dropped the oldest keys, blocked or not."""
    now = [0.0]
    t = _throttle(now)
    for _ in range(5):
        with contextlib.suppress(Refused):
            t.attempt(["user:victim"])
    assert t.waiting("user:victim") > 0
    for n in range(1000):  # a flood of fresh names
        t.attempt([f"user:flood{n}"])
        assert len(t) <= 6
    assert t.waiting("user:victim") > 0


@pytest.mark.parametrize(("peer", "header", "trusted", "client"), [
    ("203.0.113.9", "1.2.3.4", (), "203.0.113.9"),  # default: no proxy is trusted
    ("10.0.0.1", "1.2.3.4", (), "10.0.0.1"),
    ("10.0.0.1", "1.2.3.4", ("10.0.0.0/8",), "1.2.3.4"),
    ("10.0.0.1", "9.9.9.9, 1.2.3.4, 10.0.0.2", ("10.0.0.0/8",), "1.2.3.4"),  # a chain of proxies
    ("10.0.0.1", "not-an-address", ("10.0.0.0/8",), "10.0.0.1"),
    ("203.0.113.9", "1.2.3.4", ("10.0.0.0/8",), "203.0.113.9"),  # a client cannot pose as the proxy
])
def test_forwarded_addresses_count_only_from_configured_proxies(peer: str, header: str,
                                                                 trusted: tuple[str, ...], client: str) -> None:
    assert client_address(peer, header, networks(trusted)) == client


def test_verifier_runs_at_most_its_slots_at_once() -> None:
    v = Verifier(2, wait_s=60)
    release = threading.Event()

    def check() -> None:
        with v.slot():
            release.wait(timeout=60)

    threads = [threading.Thread(target=check) for _ in range(6)]
    for th in threads:
        th.start()
    for _ in range(2000):  # until both slots are taken (the other four wait for one)
        if v.running == 2:
            break
        release.wait(0.01)
    assert v.running == 2 and v.checks == 2
    release.set()
    for th in threads:
        th.join(timeout=60)
    assert (v.peak, v.checks, v.running) == (2, 6, 0)


@pytest.mark.parametrize("password", [" " * 10, "\t" * 12, "a" * 12, "short", "x" * 1025, "qwertyuiop",
                                      "Password1234"])
def test_weak_passwords_are_refused(tmp_path: Path, password: str) -> None:
    """Issue 16 #10: a password of 10 spaces was accepted for an engineer."""
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        accounts.create_tables(store.engine)
        with pytest.raises(accounts.AccountError):
            accounts.add_user(store.engine, "erin", "engineer", password)
        accounts.add_user(store.engine, "erin", "engineer", "a good long one")
        with pytest.raises(accounts.AccountError):
            accounts.set_password(store.engine, "erin", password)
        assert accounts.password_problem("erin.smith1", "erin.smith1") == "the password must not be the user name"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The embedded store, and a real PostgreSQL (tests/pg.py) for the shared one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 's.db'}"
        return
    if not pg.available():
        pytest.fail("PostgreSQL is not installed: scripts/setup.sh installs the Debian package `postgresql`")
    server = pg.Postgres()
    try:
        yield server.url
    finally:
        server.close()


def test_sessions_end_on_logout_disable_password_change_and_revoke(store_url: str) -> None:
    with Store(store_url) as store:
        e = store.engine
        accounts.create_tables(e)
        u = accounts.add_user(e, "nina", "customer", "correct horse", customer="acme")
        live = [accounts.create_session(e, 3600, user=u)[0] for _ in range(3)]
        assert all(accounts.session_by_id(e, sid) is not None for sid in live)
        accounts.end_session(e, live[0])
        assert accounts.session_by_id(e, live[0]) is None and accounts.session_by_id(e, live[1]) is not None
        accounts.set_password(e, "nina", "a new password")
        assert all(accounts.session_by_id(e, sid) is None for sid in live)
        sid = accounts.create_session(e, 3600, user=accounts.user_by_id(e, u.id))[0]
        accounts.set_disabled(e, "nina", True)
        assert accounts.session_by_id(e, sid) is None
        token, _ = accounts.add_token(e, "acme")
        sid = accounts.create_session(e, 3600, token_id=token.id)[0]
        assert accounts.session_by_id(e, sid) is not None
        accounts.revoke_token(e, token.id)
        assert accounts.session_by_id(e, sid) is None
        old = accounts.create_session(e, 60, token_id="tok-x", now=0.0)[0]
        assert accounts.session_by_id(e, old, now=61.0) is None  # expired
        for _ in range(accounts.MAX_SESSIONS + 10):  # a link opened again and again
            accounts.create_session(e, 3600, token_id="tok-y")
        assert accounts.session_count(e) <= accounts.MAX_SESSIONS + 1
        with e.connect() as conn:
            assert not any(sid in str(r) for r in conn.execute(accounts.sessions_t.select()).all())


def test_accounts_hash_with_argon2_and_refuse_bad_input(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        e = store.engine
        accounts.create_tables(e)
        u = accounts.add_user(e, "nina", "customer", "correct horse", customer="acme")
        with e.connect() as conn:
            stored = conn.execute(accounts.users_t.select()).mappings().one()["password_hash"]
        assert stored.startswith("$argon2id$") and "correct horse" not in stored
        assert accounts.authenticate(e, "nina", "correct horse") == u
        assert accounts.authenticate(e, "nina", "wrong horse!") is None
        assert accounts.authenticate(e, "nobody", "correct horse") is None
        for bad in [("x y", "engineer", "long enough pw", None), ("ok", "admin", "long enough pw", None),
                    ("ok", "customer", "long enough pw", None), ("ok", "engineer", "long enough pw", "acme"),
                    ("ok", "engineer", "short", None), ("nina", "customer", "long enough pw", "acme")]:
            with pytest.raises(accounts.AccountError):
                accounts.add_user(e, *bad)
        accounts.set_password(e, "nina", "a new password")
        assert accounts.user_by_id(e, u.id).epoch == 1  # type: ignore[union-attr]  # old sessions end
        token, secret = accounts.add_token(e, "acme", None, "label")
        assert accounts.token_by_secret(e, secret) == token and len(secret) >= 40
        with e.connect() as conn:
            assert secret not in str(conn.execute(accounts.tokens_t.select()).all())
        accounts.revoke_token(e, token.id)
        assert accounts.token_by_secret(e, secret) is None
        with pytest.raises(accounts.AccountError):
            accounts.revoke_token(e, token.id)
        assert accounts.secret_key(e) == accounts.secret_key(e)
