"""Who is on duty: round-robin within a tier, skipping people marked away (a pure choice; state.py keeps
the position and the away list)."""

from __future__ import annotations

from collections.abc import Collection, Sequence


def pick(members: Sequence[str], position: int, away: Collection[str]) -> tuple[str | None, int, list[str]]:
    """The next person of a tier from `position` on, the position after them, and who was skipped as away.

    >>> pick(["alice", "bob", "carol"], 0, set())
    ('alice', 1, [])
    >>> pick(["alice", "bob", "carol"], 1, {"bob"})
    ('carol', 0, ['bob'])
    >>> pick(["alice"], 0, {"alice"})
    (None, 0, ['alice'])
    """
    skipped: list[str] = []
    n = len(members)
    for step in range(n):
        i = (position + step) % n
        if members[i] in away:
            skipped.append(members[i])
            continue
        return members[i], (i + 1) % n, skipped
    return None, position % n if n else 0, skipped
