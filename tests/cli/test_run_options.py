"""`saksi run`'s numbers through the real entry point: a bad one is one line and exit 2, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_saksi


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "86401"])
def test_a_bad_alert_tick_is_one_line_and_nothing_starts(tmp_path: Path, value: str) -> None:
    db = tmp_path / "saksi.db"
    r = run_saksi("run", "--alert-tick", value, "-i", str(tmp_path / "missing"), "--db", f"sqlite:///{db}")
    assert r.returncode == 2
    assert r.stderr == "saksi: --alert-tick must be a number > 0 and at most 86400 seconds\n", r.stderr
    assert not db.exists(), "refused before the store was opened"


def test_the_alert_tick_is_documented_in_the_help() -> None:
    r = run_saksi("run", "--help")
    assert r.returncode == 0 and "--alert-tick SECONDS" in r.stdout, r.stdout
