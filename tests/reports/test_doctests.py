"""The pure helpers' doctests are their specs: run them (the suite does not collect doctests by itself)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["monitor.reports.match", "monitor.reports.records", "monitor.reports.triage", "monitor.reports.intake",
           "monitor.alerts.news", "monitor.alerts.customers"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))  # by name: the package re-exports `match`, `triage`
    assert result.attempted > 0 and result.failed == 0
