"""Serving the web app with uvicorn: blocking for `saksi web`, or as a task in the daemon's own loop."""

from __future__ import annotations

import logging

import uvicorn

from monitor.inventory import Inventory
from monitor.store import Store
from monitor.web.app import create_app
from monitor.web.settings import WebSettings

log = logging.getLogger(__name__)


def server(store: Store, inventory: Inventory, settings: WebSettings, host: str = "127.0.0.1",
           port: int = 8080) -> uvicorn.Server:
    """A uvicorn server for the app; `.run()` blocks, `await .serve()` runs in a loop, `.should_exit` stops it."""
    app = create_app(store, inventory, settings)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False,
                            server_header=False, lifespan="off")
    return uvicorn.Server(config)
