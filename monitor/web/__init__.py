"""The web view: the read-only site view for customer IT, and the engineers' incident page."""

from __future__ import annotations

from monitor.web.app import create_app
from monitor.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
