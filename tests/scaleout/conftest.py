"""Scale-out fixtures: a real PostgreSQL on 127.0.0.1 (tests/pg.py) and the alert receivers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerts.conftest import smtp, webhook  # noqa: F401  (fixtures, re-exported for these tests)
from tests.pg import Postgres, available


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    if not available():
        pytest.fail("PostgreSQL is not installed: scripts/setup.sh installs the Debian package `postgresql`")
    pg = Postgres()
    try:
        yield pg
    finally:
        pg.close()
