"""Fixtures shared with the alert tests: real SMTP and webhook receivers on 127.0.0.1."""

from tests.alerts.conftest import smtp, webhook  # noqa: F401 - fixtures, found by name
