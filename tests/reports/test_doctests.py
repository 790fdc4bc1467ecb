"""The pure helpers' doctests are their specs: run them (the suite does not collect doctests by itself)."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from monitor.alerts import customers, news
from monitor.reports import intake, match, records, triage


@pytest.mark.parametrize("module", [match, records, triage, intake, news, customers], ids=lambda m: m.__name__)
def test_doctests(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
