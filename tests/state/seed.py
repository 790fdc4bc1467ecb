"""Seeding a store for a test the way the daemon fills it: through `Store.save_observation`, nothing else.

Each poll is one observation with nothing new in it (its baseline the poll itself when it answered, as after a
device's first poll); changes come in one observation of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from monitor.model import Snapshot
from monitor.state.store import Store
from monitor.witness.changes import Change


def seed(store: Store, site: str, polls: Iterable[Snapshot] = (), changes: Sequence[Change] = ()) -> None:
    """The polls, one observation each and in order, then the changes (if any) in one more."""
    for snap in polls:
        store.save_observation(site, snap)
    if changes:
        store.save_observation(site, changes=changes)
