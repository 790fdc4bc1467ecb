"""Incident references ("SAK-000123"): the one parser and formatter used by the store, the CLI, the web and
the API, so a reference a person types is read the same way everywhere and never reaches SQL unbounded."""

from __future__ import annotations

import re

from monitor.common.errors import SaksiError

PREFIX = "SAK-"
MAX_DIGITS = 12  # 999,999,999,999 incidents: far beyond any store, far inside SQLite's signed 64-bit INTEGER
_REF = re.compile(rf"(?:{PREFIX})?([0-9]{{1,{MAX_DIGITS}}})", re.IGNORECASE | re.ASCII)


class BadIncidentRef(SaksiError, ValueError):
    """Text that is not an incident reference; the message is one line, fit for a person."""


def parse_incident_ref(text: str) -> int:
    """The incident number in a reference as a person types it; ASCII digits only, at most 12 of them.

    >>> parse_incident_ref("SAK-000123"), parse_incident_ref("sak-123"), parse_incident_ref(" 123 ")
    (123, 123, 123)
    >>> parse_incident_ref("SAK-9223372036854775808")
    Traceback (most recent call last):
    ...
    monitor.common.refs.BadIncidentRef: not an incident reference: 'SAK-9223372036854775808' (try SAK-000123)
    >>> parse_incident_ref("١٢٣")  # Arabic-Indic digits are digits to Python, not to a reference
    Traceback (most recent call last):
    ...
    monitor.common.refs.BadIncidentRef: not an incident reference: '١٢٣' (try SAK-000123)
    """
    m = _REF.fullmatch(text.strip(" \t"))
    if m is None or int(m.group(1)) == 0:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise BadIncidentRef(f"not an incident reference: {shown!r} (try SAK-000123)")
    return int(m.group(1))


def format_incident_ref(n: int) -> str:
    """The reference a customer quotes for the n-th incident of a store.

    >>> format_incident_ref(123), format_incident_ref(1234567)
    ('SAK-000123', 'SAK-1234567')
    """
    return f"{PREFIX}{n:06d}"
