"""Strict YAML with positions: every value knows its file and line, so every error says `file:line: key: reason`.

Shared by the inventory loader and the alerting file; duplicate keys, wrong types and unknown keys are errors,
and `${env:NAME}` / `${file:PATH}` references are resolved into `Secret`s, never kept in clear.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from monitor.common.secrets import Secret

log = logging.getLogger(__name__)

_REF = re.compile(r"\$\{(env|file):([^}]*)\}")


class YamlMap(dict[Any, Any]):
    """A YAML mapping that remembers the line of itself and of each key, for error messages."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


class YamlSeq(list[Any]):
    """A YAML sequence that remembers the line of each item, for error messages."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class LineLoader(yaml.SafeLoader):
    """SafeLoader that keeps line numbers and rejects the duplicate keys PyYAML would silently overwrite."""


def _construct_map(loader: LineLoader, node: yaml.MappingNode) -> YamlMap:
    own = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    result, own_keys = YamlMap(node.start_mark.line + 1), set[Any]()
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found unhashable key", key_node.start_mark) from None
        if index >= len(node.value) - own:  # keys merged in with << may be overridden, own keys not
            if key in own_keys:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            own_keys.add(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: LineLoader, node: yaml.SequenceNode) -> YamlSeq:
    result = YamlSeq(node.start_mark.line + 1)
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(item.start_mark.line + 1)
    return result


LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def read_yaml(path: Path, errors: list[str], what: str = "inventory file") -> object:
    """The document, or None with the reason appended to `errors` (never the snippet: it may hold a secret)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        errors.append(f"{path}:1: file is not valid UTF-8")
        return None
    except OSError as exc:
        errors.append(f"{path}:1: cannot read {what}: {exc.strerror or type(exc).__name__}")
        return None
    try:
        return yaml.load(text, Loader=LineLoader)  # LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:  # only the problem text: the snippet could hold a literal secret
        mark = exc.problem_mark or exc.context_mark
        errors.append(f"{path}:{mark.line + 1 if mark else 1}: YAML error: {exc.problem or exc.context}")
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        errors.append(f"{path}:{line}: YAML error: unacceptable character #x{code:04x}")
    except (yaml.YAMLError, RecursionError) as exc:
        errors.append(f"{path}:1: YAML error: {type(exc).__name__}")
    return None


# --- typed field access --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class At:
    """Where a value sits (file, 1-based line, key path), the prefix of every error message."""

    file: str
    line: int
    path: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}" if self.path else f"{self.file}:{self.line}"


def kind_of(value: object) -> str:
    names = {YamlMap: "mapping", YamlSeq: "list", type(None): "null"}
    return names.get(type(value), type(value).__name__)


class Record:
    """One YAML mapping under validation: getters report with file, line and path, and return None on failure."""

    def __init__(self, file: Path, errors: list[str], raw: object, at: At, allowed: Sequence[str]) -> None:
        self.file, self.errors, self.at = file, errors, at
        self.raw = raw if isinstance(raw, YamlMap) else YamlMap(at.line)
        self.start, self.is_map = len(errors), isinstance(raw, YamlMap)
        if not self.is_map:
            self.error(at, f"expected a mapping, got {kind_of(raw)}")
        for key in self.raw:
            if key not in allowed:
                self.error(self.where(key), f"unknown key (allowed: {', '.join(allowed)})")

    @property
    def ok(self) -> bool:
        return len(self.errors) == self.start

    def error(self, at: At, message: str) -> None:
        self.errors.append(f"{at}: {message}")

    def where(self, key: object) -> At:
        path = f"{self.at.path}.{key}" if self.at.path else str(key)
        return At(self.at.file, self.raw.key_lines.get(key, self.raw.line), path)

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def require(self, key: str, why: str = "missing required key") -> None:
        if self.is_map and not self.has(key):  # a non-mapping was reported once, not once per key
            self.error(self.where(key), why)

    def items(self, key: str) -> Iterator[tuple[object, At]]:
        value = self.raw.get(key)
        if value is None:
            return
        if not isinstance(value, YamlSeq):
            self.error(self.where(key), f"expected a list, got {kind_of(value)}")
            return
        base = self.where(key)
        for index, (item, line) in enumerate(zip(value, value.item_lines, strict=True)):
            yield item, At(base.file, line, f"{base.path}[{index}]")

    def text(
        self, key: str, *, required: bool = False, choices: Sequence[str] = (), path: bool = False
    ) -> str | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.require(key)
            return None
        if not isinstance(value, str):
            self.error(self.where(key), f"expected a string, got {kind_of(value)}")
            return None
        value = self._resolve(key, value)
        if value is None:
            return None
        if required and not value.strip():
            self.error(self.where(key), "must not be empty")
        if choices:
            match = next((c for c in choices if c.lower() == value.lower()), None)
            if match is None:
                self.error(self.where(key), f"must be one of {', '.join(choices)}")
            return match
        return str(self.file.parent / value) if path and value else value

    def secret(self, key: str) -> Secret | None:
        value = self.text(key)
        return None if value is None else Secret(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(self.where(key), f"expected true or false, got {kind_of(value)}")
            return default
        return value

    def integer(self, key: str, default: int, low: int, high: int | None = None) -> int:
        value = self.raw.get(key)
        if value is None:
            return default
        if type(value) is not int or value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            self.error(self.where(key), f"expected an integer {bound}")
            return default
        return value

    def seconds(self, key: str, default: float) -> float:
        value = self.raw.get(key)
        if value is None:
            return default
        if type(value) not in (int, float) or not math.isfinite(value) or value <= 0:
            self.error(self.where(key), "expected a number of seconds > 0")
            return default
        return float(value)

    def _resolve(self, key: str, value: str) -> str | None:
        """Expand ${env:NAME} and ${file:PATH}; problems name the reference, never the resolved value."""
        problems: list[str] = []

        def expand(match: re.Match[str]) -> str:
            kind, name = match.groups()
            if not name:
                problems.append(f"empty ${{{kind}:}} reference")
                return ""
            if kind == "env":
                found = os.environ.get(name)
                if found is None:
                    problems.append(f"environment variable {name!r} is not set")
                return found or ""
            file = self.file.parent / name
            try:
                content = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                problems.append(
                    f"cannot read secret file {str(file)!r}: {getattr(exc, 'strerror', None) or type(exc).__name__}"
                )
                return ""
            return content.removesuffix("\n").removesuffix("\r")

        result = _REF.sub(expand, value)
        for problem in problems:
            self.error(self.where(key), problem)
        return None if problems else result
