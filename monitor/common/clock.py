"""Times as people read them: in the time zone of the site they concern (a customer reads their own clock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo


def local(t: float | None, tz: str) -> tuple[str, str]:
    """(ISO 8601 with offset, words) of an epoch time in a site's time zone; ("", "-") when unknown.

    >>> local(0.0, "Europe/Helsinki")
    ('1970-01-01T02:00:00+02:00', '1970-01-01 02:00:00 EET')
    >>> local(None, "UTC")
    ('', '-')
    """
    if t is None:
        return "", "-"
    when = dt.datetime.fromtimestamp(t, ZoneInfo(tz))
    return when.isoformat(timespec="seconds"), when.strftime("%Y-%m-%d %H:%M:%S %Z")


def in_zone(tz: str) -> Callable[[float], str]:
    """A formatter of epoch times in words, in one time zone (for messages about one site).

    >>> in_zone("America/New_York")(0.0)
    '1969-12-31 19:00:00 EST'
    """
    return lambda t: local(t, tz)[1]
