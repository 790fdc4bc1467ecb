"""Serving the web app with uvicorn: blocking for `saksi web`, or as a task in the daemon's own loop."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Generator

import uvicorn

from monitor.inventory import Inventory
from monitor.state.store import Store
from monitor.web.app import create_app
from monitor.web.settings import WebSettings

log = logging.getLogger(__name__)


class EmbeddedServer(uvicorn.Server):
    """A server inside `saksi run`: the daemon owns SIGTERM/SIGINT and stops it with `should_exit`.

    uvicorn's own serve() replaces the process's signal handlers while it runs, which would take the
    daemon's stop away from it.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def server(store: Store, inventory: Inventory, settings: WebSettings, host: str = "127.0.0.1",
           port: int = 8080, embedded: bool = False) -> uvicorn.Server:
    """A uvicorn server for the app; `.run()` blocks, `await .serve()` runs in a loop, `.should_exit` stops it."""
    app = create_app(store, inventory, settings)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False,
                            server_header=False, lifespan="off")
    return (EmbeddedServer if embedded else uvicorn.Server)(config)
