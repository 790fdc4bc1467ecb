"""Configuration history like Oxidized: one git repository per site, one file per device, a commit per change.

Every configuration is redacted (secrets become a marker before anything is stored) and stripped of noise lines
(clock, uptime, "Building configuration") before it is compared, so a commit means somebody changed something.
Objects are written before the branch moves and the branch moves by an atomic lock-file rename (dulwich), so a
process that dies mid-write leaves the previous history intact, never a half-written version.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dulwich.errors import NotGitRepository
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from monitor.collectors.cli_parse import cli_profile, config_problem, redact, strip_noise
from monitor.common.errors import SaksiError

log = logging.getLogger(__name__)
DEFAULT_ROOT = Path("var/config-history")
BRANCH = Ref(b"refs/heads/main")
_IDENTITY = b"Saksi <saksi@localhost>"
_TRAILER = re.compile(r"^(Poll-Time|Source|Platform): (.*)$", re.MULTILINE)


class ConfigHistoryError(SaksiError):
    """The history cannot answer: unknown device, no version at that time, or a configuration refused."""


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    device: str
    commit: str  # hex id of the git commit
    at: float  # poll time (epoch seconds; simulated seconds in the lab)
    source: str  # how it was fetched, e.g. "ssh:show running-config"
    platform: str = ""

    @property
    def short(self) -> str:
        return self.commit[:10]


def default_root() -> Path:
    return Path(os.environ.get("SAKSI_CONFIG_HISTORY", str(DEFAULT_ROOT)))


def normalise(text: str, platform: str) -> str:
    """What is stored: secrets redacted, then noise dropped (redaction first, so no noise rule can hide one)."""
    profile = cli_profile(platform)
    return strip_noise(redact(text, profile), profile)


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


class ConfigHistory:
    """The versions of every device of one site, in `root/<site>.git`."""

    def __init__(self, site: str, root: Path | None = None) -> None:
        self.site = site
        self.path = (root or default_root()) / f"{_safe(site)}.git"
        self._repo: Repo | None = None

    @property
    def repo(self) -> Repo:
        if self._repo is None:
            try:
                self._repo = Repo(str(self.path))
            except NotGitRepository:
                self.path.mkdir(parents=True, exist_ok=True)
                self._repo = Repo.init_bare(str(self.path))
        return self._repo

    def close(self) -> None:
        if self._repo is not None:
            self._repo.close()
            self._repo = None

    def __enter__(self) -> ConfigHistory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------------

    def record(self, device: str, platform: str, text: str, at: float, source: str) -> ConfigVersion | None:
        """Store a fetched configuration as a new version if it changed; None when it is the same as the last.

        Raises ConfigHistoryError for a configuration that is refused or truncated (it would read as deletions).
        """
        problem = config_problem(text, cli_profile(platform))
        if problem is not None:
            raise ConfigHistoryError(f"{device}: configuration not recorded: {problem}")
        content = normalise(text, platform).encode()
        with self._writer():
            return self._commit(device, platform, content, at, source)

    @contextlib.contextmanager
    def _writer(self) -> Iterator[None]:
        """One writer per site at a time; the OS drops the lock when a writer dies, so a `.lock` file it left
        behind (killed between creating and renaming it) is known to be stale and is removed."""
        self.repo  # noqa: B018 - creates the repository on first use
        with open(self.path / "saksi-writer.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                stale = self.path / (BRANCH.decode() + ".lock")
                if stale.exists():
                    log.warning("site %s: removing %s left by a writer that died", self.site, stale.name)
                    stale.unlink()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _commit(self, device: str, platform: str, content: bytes, at: float, source: str) -> ConfigVersion | None:
        repo, path = self.repo, _file(device)
        for _ in range(5):  # another writer may move the branch between our read and our update
            head = repo.refs.as_dict().get(BRANCH)
            entries = dict(self._tree(head)) if head else {}
            blob = Blob.from_string(content)
            if path in entries and entries[path][1] == blob.id:
                return None
            entries[path] = (0o100644, blob.id)
            tree = Tree()
            for name, (mode, sha) in entries.items():
                tree.add(name, mode, ObjectID(sha))
            commit = Commit()
            commit.tree, commit.parents = tree.id, [head] if head else []
            commit.author = commit.committer = _IDENTITY
            commit.author_time = commit.commit_time = int(at)
            commit.author_timezone = commit.commit_timezone = 0
            commit.encoding = b"UTF-8"
            commit.message = (f"{device}: configuration changed ({_stamp(at)})\n\nPoll-Time: {at!r}\n"
                              f"Source: {source}\nPlatform: {platform}\n").encode()
            for obj in (blob, tree, commit):  # loose objects, each written to a lock file and renamed into place
                repo.object_store.add_object(obj)
            if repo.refs.set_if_equals(BRANCH, head, commit.id):
                if not head:
                    repo.refs.set_symbolic_ref(Ref(b"HEAD"), BRANCH)
                log.info("%s: configuration version %s recorded (%s)", device, commit.id.decode()[:10], source)
                return ConfigVersion(device, commit.id.decode(), at, source, platform)
        raise ConfigHistoryError(f"{device}: history of site {self.site} kept moving; version not recorded")

    def _tree(self, commit_id: bytes) -> dict[bytes, tuple[int, bytes]]:
        tree = self.repo[self.repo[commit_id].tree]  # type: ignore[attr-defined]
        return {e.path: (e.mode, e.sha) for e in tree.items()}  # type: ignore[attr-defined]

    # -- reading ---------------------------------------------------------------------------------------

    def versions(self, device: str) -> list[ConfigVersion]:
        """Every stored version of a device, oldest first."""
        head = self.repo.refs.as_dict().get(BRANCH) if self.path.exists() else None
        if not head:
            return []
        out = []
        for entry in self.repo.get_walker(include=[head], paths=[_file(device)]):
            c = entry.commit
            fields = dict(_TRAILER.findall(c.message.decode(errors="replace")))
            out.append(ConfigVersion(device, c.id.decode(), float(fields.get("Poll-Time", c.commit_time)),
                                     fields.get("Source", ""), fields.get("Platform", "")))
        return sorted(out, key=lambda v: v.at)

    def version_at(self, device: str, at: float | None = None) -> ConfigVersion:
        """The version in force at a time (the latest at or before it); the newest when `at` is None."""
        versions = self.versions(device)
        if not versions:
            raise ConfigHistoryError(f"no configuration history for {device!r} in site {self.site!r}")
        chosen = [v for v in versions if at is None or v.at <= at]
        if not chosen:
            raise ConfigHistoryError(f"{device}: no version at or before {_stamp(at or 0)} (the first is "
                                     f"{_stamp(versions[0].at)})")
        return chosen[-1]

    def text(self, version: ConfigVersion) -> str:
        mode_sha = self._tree(version.commit.encode()).get(_file(version.device))
        if mode_sha is None:
            raise ConfigHistoryError(f"{version.device}: version {version.short} holds no configuration")
        return self.repo[mode_sha[1]].as_raw_string().decode()

    def show(self, device: str, at: float | None = None) -> str:
        return self.text(self.version_at(device, at))

    def pair(self, device: str, t1: float | None = None, t2: float | None = None) -> tuple[ConfigVersion,
                                                                                             ConfigVersion]:
        """The two versions a diff compares: by default the one before the newest, and the newest."""
        new = self.version_at(device, t2)
        if t1 is not None:
            return self.version_at(device, t1), new
        older = [v for v in self.versions(device) if v.at < new.at]
        return (older[-1] if older else new), new

    def diff(self, device: str, t1: float | None = None, t2: float | None = None, context: int = 3) -> str:
        """A unified diff between the versions in force at t1 and t2 (empty when they are the same)."""
        old, new = self.pair(device, t1, t2)
        return unified(self.text(old), self.text(new), f"{device}@{_stamp(old.at)} ({old.short})",
                       f"{device}@{_stamp(new.at)} ({new.short})", context)


def unified(old: str, new: str, old_name: str, new_name: str, context: int = 3) -> str:
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, n=context, lineterm="")
    return "\n".join(lines) + "\n" if old != new else ""


def _safe(name: str) -> str:
    """A file name for a device or site: path separators and dots at the start cannot escape the repository.

    >>> _safe("../etc/passwd"), _safe("core-sw1")
    ('_.._etc_passwd', 'core-sw1')
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return "_" + cleaned if cleaned.startswith(".") else cleaned


def _file(device: str) -> bytes:
    return f"{_safe(device)}.cfg".encode()
