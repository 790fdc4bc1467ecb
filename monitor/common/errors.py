"""One exception root, so a caller can tell Saksi's expected failures from bugs."""

from __future__ import annotations


class SaksiError(Exception):
    """An expected failure with a message meant for an operator."""


class SnmpError(SaksiError):
    """The agent answered with an error, or the request could not be made."""


class SnmpTimeout(SnmpError):
    """No answer before the timeout: the device's state is unknown, never 'gone'."""


class SnmpAuthError(SnmpError):
    """SNMPv3 credentials were refused (v1/v2c agents stay silent instead: a timeout)."""
