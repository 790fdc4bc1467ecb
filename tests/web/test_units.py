"""The web view's pure parts: charts against thresholds, the optics sources, the login limiter, accounts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from monitor.model import Thresholds
from monitor.state.store import Store
from monitor.timeseries.reader import Row
from monitor.web import accounts, optics, views
from monitor.web.auth import LoginLimiter

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
    assert views.local(1_794_200_000.0, "Europe/Helsinki")[1] == "2026-11-09 06:53:20 EET"
    assert views.local(1_794_200_000.0, "America/New_York")[0] == "2026-11-08T23:53:20-05:00"
    assert views.local(None, "UTC") == ("", "-")


def test_login_limiter_blocks_then_forgets() -> None:
    now = [0.0]
    limiter = LoginLimiter(3, 60.0, clock=lambda: now[0], max_keys=4)
    keys = ["ip:1", "user:a"]
    for _ in range(3):
        assert limiter.retry_after(keys) is None
        limiter.failed(keys)
    assert limiter.retry_after(keys) == 60.0
    assert limiter.retry_after(["user:a"]) == 60.0 and limiter.retry_after(["ip:2"]) is None
    now[0] = 61.0
    assert limiter.retry_after(keys) is None
    for n in range(10):  # a flood of new keys stays bounded
        limiter.failed([f"ip:{n}"])
    assert len(limiter._failures) <= 4


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
