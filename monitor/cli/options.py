"""Options several commands share, declared once so their names, help and defaults cannot drift apart."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.state.default import DEFAULT_URL

DbOption = Annotated[str | None, typer.Option(
    "--db", help=f"store URL (default: $SAKSI_DB or {DEFAULT_URL})", show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]
InventoryOption = Annotated[list[Path] | None, typer.Option(
    "--inventory", "-i", help="inventory file or folder (default: inventory/)", show_default=False)]
SecureCookiesOption = Annotated[bool, typer.Option(
    "--secure-cookies", help="web view: only send cookies over HTTPS")]
TrustedProxyOption = Annotated[list[str] | None, typer.Option(
    "--trusted-proxy", help="web view: address or network of a reverse proxy whose X-Forwarded-For is believed "
    "(repeatable; default: none, the TCP peer is the client)", show_default=False)]
