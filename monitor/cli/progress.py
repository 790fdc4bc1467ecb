"""A spinner for anything that can take more than two seconds, on a terminal only (never in pipes or JSON)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


@contextmanager
def progress(console: Console, what: str, shown: bool | None = None) -> Iterator[None]:
    """Show `what` with a spinner while the block runs; `shown` defaults to "stdout is a terminal"."""
    on = console.is_terminal if shown is None else shown
    with console.status(what, spinner="dots") if on else nullcontext():
        yield
