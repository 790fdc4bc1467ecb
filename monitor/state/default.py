"""Where the state store lives when nobody says so: a constant the command line's help shows, in a module that
imports nothing, so `saksi --help` does not load SQLAlchemy to print it."""

from __future__ import annotations

DEFAULT_URL = "sqlite:///var/saksi.db"
