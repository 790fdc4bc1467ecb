"""Strict inventory loader: YAML in, frozen cross-checked records out, so nothing downstream re-validates config."""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from monitor.names import canonical_port

log = logging.getLogger(__name__)

SNMP_VERSIONS = ("1", "2c", "3")
AUTH_PROTOCOLS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
PRIV_PROTOCOLS = ("DES", "AES", "AES128", "AES192", "AES256")
LINK_ROLES = ("backbone", "access", "uplink")
MIN_V3_KEY_LENGTH = 8
_REF = re.compile(r"\$\{(env|file):([^}]*)\}")


class InventoryError(Exception):
    """Every problem found in one load, so an operator fixes the inventory in one edit rather than one per run."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        lines = (
            self.errors if len(self.errors) == 1 else [f"{len(self.errors)} inventory errors:", *self.errors]
        )
        super().__init__("\n  ".join(lines))


@dataclass(frozen=True, slots=True)
class Secret:
    """A resolved credential that cannot leak through logs, reprs or error messages by accident."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    customer: str
    timezone: str = "UTC"
    traps: bool = False
    description: str | None = None


@dataclass(frozen=True, slots=True)
class SnmpCredential:
    name: str
    version: str
    community: Secret | None = None
    user: str | None = None
    auth_protocol: str | None = None
    auth_key: Secret | None = None
    priv_protocol: str | None = None
    priv_key: Secret | None = None
    context: str = ""


@dataclass(frozen=True, slots=True)
class SshCredential:
    name: str
    username: str
    password: Secret | None = None
    key_file: str | None = None
    known_hosts: str | None = None
    trust_on_first_use: bool = False


@dataclass(frozen=True, slots=True)
class Device:
    """One polled box with its credentials resolved, so a collector needs nothing but this record."""

    name: str
    site: str
    host: str
    port: int
    platform: str
    snmp: SnmpCredential
    ssh: SshCredential | None = None
    ssh_port: int = 22
    timeout: float = 2.0
    retries: int = 1
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One end of a cable; the port is canonical so it compares equal to what collectors report."""

    device: str
    port: str

    def __str__(self) -> str:
        return f"{self.device}:{self.port}"


@dataclass(frozen=True, slots=True)
class Link:
    a: Endpoint
    b: Endpoint
    role: str
    media: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Inventory:
    """The validated whole; lookups by name are plain dict access."""

    customers: dict[str, Customer]
    sites: dict[str, Site]
    devices: dict[str, Device]
    links: tuple[Link, ...]

    def devices_at(self, site: str) -> list[Device]:
        return [d for d in self.devices.values() if d.site == site]

    def customer_of(self, device_name: str) -> str:
        """Return the owning customer's name; raises KeyError for an unknown device."""
        return self.sites[self.devices[device_name].site].customer

    def links_of(self, device: str, port: str | None = None) -> list[Link]:
        want = None if port is None else canonical_port(port)
        return [
            link
            for link in self.links
            if any(e.device == device and (want is None or e.port == want) for e in (link.a, link.b))
        ]


# --- YAML with positions -------------------------------------------------------------------------------------


class _Map(dict[Any, Any]):
    """A YAML mapping that remembers the line of itself and of each key, for error messages."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


class _Seq(list[Any]):
    """A YAML sequence that remembers the line of each item, for error messages."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps line numbers and rejects the duplicate keys PyYAML would silently overwrite."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    own = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    result, own_keys = _Map(node.start_mark.line + 1), set[Any]()
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "found unhashable key", key_node.start_mark)
        if index >= len(node.value) - own:  # keys merged in with << may be overridden, own keys not
            if key in own_keys:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            own_keys.add(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(node.start_mark.line + 1)
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(item.start_mark.line + 1)
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _parse(path: Path, errors: list[str]) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        errors.append(f"{path}:1: file is not valid UTF-8")
        return None
    except OSError as exc:
        errors.append(f"{path}:1: cannot read inventory file: {exc.strerror or type(exc).__name__}")
        return None
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
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
class _At:
    """Where a value sits (file, 1-based line, key path), the prefix of every error message."""

    file: str
    line: int
    path: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}" if self.path else f"{self.file}:{self.line}"


def _kind(value: object) -> str:
    names = {_Map: "mapping", _Seq: "list", type(None): "null"}
    return names.get(type(value), type(value).__name__)


class _Record:
    """One YAML mapping under validation: getters report with file, line and path, and return None on failure."""

    def __init__(self, file: Path, errors: list[str], raw: object, at: _At, allowed: Sequence[str]) -> None:
        self.file, self.errors, self.at = file, errors, at
        self.raw = raw if isinstance(raw, _Map) else _Map(at.line)
        self.start, self.is_map = len(errors), isinstance(raw, _Map)
        if not self.is_map:
            self.error(at, f"expected a mapping, got {_kind(raw)}")
        for key in self.raw:
            if key not in allowed:
                self.error(self.where(key), f"unknown key (allowed: {', '.join(allowed)})")

    @property
    def ok(self) -> bool:
        return len(self.errors) == self.start

    def error(self, at: _At, message: str) -> None:
        self.errors.append(f"{at}: {message}")

    def where(self, key: object) -> _At:
        path = f"{self.at.path}.{key}" if self.at.path else str(key)
        return _At(self.at.file, self.raw.key_lines.get(key, self.raw.line), path)

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def require(self, key: str, why: str = "missing required key") -> None:
        if self.is_map and not self.has(key):  # a non-mapping was reported once, not once per key
            self.error(self.where(key), why)

    def items(self, key: str) -> Iterator[tuple[object, _At]]:
        value = self.raw.get(key)
        if value is None:
            return
        if not isinstance(value, _Seq):
            self.error(self.where(key), f"expected a list, got {_kind(value)}")
            return
        base = self.where(key)
        for index, (item, line) in enumerate(zip(value, value.item_lines)):
            yield item, _At(base.file, line, f"{base.path}[{index}]")

    def text(
        self, key: str, *, required: bool = False, choices: Sequence[str] = (), path: bool = False
    ) -> str | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.require(key)
            return None
        if not isinstance(value, str):
            self.error(self.where(key), f"expected a string, got {_kind(value)}")
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
            self.error(self.where(key), f"expected true or false, got {_kind(value)}")
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


# --- sections ------------------------------------------------------------------------------------------------

_TOP = ("customers", "sites", "credentials", "devices", "links")


def _keys(record: type, skip: str = "") -> tuple[str, ...]:
    """The YAML keys of a section are the record's fields, so schema and type cannot drift apart."""
    return tuple(f.name for f in fields(record) if f.name != skip)


class _Loaded:
    """Everything read so far across files, so duplicates and references are checked inventory-wide."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.declared: dict[tuple[str, str], _At] = {}
        self.customers: dict[str, Customer] = {}
        self.sites: list[tuple[Site, _At]] = []
        self.snmp: dict[str, SnmpCredential] = {}
        self.ssh: dict[str, SshCredential] = {}
        self.devices: list[tuple[dict[str, Any], _Record]] = []
        self.links: list[tuple[Link, _Record]] = []

    def declare(self, kind: str, name: str | None, at: _At) -> bool:
        """Claim a name; a second claim is an error that points at the first."""
        if name is None:
            return False
        first = self.declared.get((kind, name))
        if first is not None:
            self.errors.append(
                f"{at}: duplicate {kind} {name!r} (first defined at {first.file}:{first.line})"
            )
            return False
        self.declared[(kind, name)] = at
        return True

    def check_ref(self, kind: str, name: str | None, at: _At) -> None:
        """Report a name never declared; a declared-but-invalid one was reported where it was declared."""
        if name and (kind, name) not in self.declared:
            self.errors.append(f"{at}: unknown {kind} {name!r}")

    def read(self, file: Path) -> None:
        doc = _parse(file, self.errors)
        if doc is None:  # an empty file, or a syntax error already reported
            return
        top = _Record(file, self.errors, doc, _At(str(file), 1, ""), _TOP)
        for raw, at in top.items("customers"):
            self._customer(_Record(file, self.errors, raw, at, _keys(Customer)))
        for raw, at in top.items("sites"):
            self._site(_Record(file, self.errors, raw, at, _keys(Site)))
        creds = _Record(
            file,
            self.errors,
            top.raw.get("credentials") or _Map(1),
            top.where("credentials"),
            ("snmp", "ssh"),
        )
        for kind, allowed, build in (
            ("snmp", _keys(SnmpCredential, "name"), self._snmp),
            ("ssh", _keys(SshCredential, "name"), self._ssh),
        ):
            section, at = creds.raw.get(kind) or _Map(1), creds.where(kind)
            if not isinstance(section, _Map):
                creds.error(at, f"expected a mapping of credential names, got {_kind(section)}")
                continue
            for name, raw in section.items():
                name_at = _At(at.file, section.key_lines[name], f"{at.path}.{name}")
                if isinstance(name, str):
                    build(name, _Record(file, self.errors, raw, name_at, allowed))
                else:
                    creds.error(name_at, f"credential name must be a string, got {_kind(name)}")
        for raw, at in top.items("devices"):
            self._device(_Record(file, self.errors, raw, at, _keys(Device)))
        for raw, at in top.items("links"):
            self._link(_Record(file, self.errors, raw, at, _keys(Link)))

    def _customer(self, rec: _Record) -> None:
        name, display = rec.text("name", required=True), rec.text("display_name")
        if self.declare("customer", name, rec.where("name")) and rec.ok and name:
            self.customers[name] = Customer(name, display or name)

    def _site(self, rec: _Record) -> None:
        name, customer = rec.text("name", required=True), rec.text("customer", required=True)
        given = rec.text("timezone")
        timezone = "UTC" if given is None else given
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            rec.error(rec.where("timezone"), f"unknown IANA time zone {timezone!r}")
        traps, description = rec.boolean("traps", False), rec.text("description")
        self.declare("site", name, rec.where("name"))  # references are checked even when the record is bad
        self.sites.append(
            (Site(name or "", customer or "", timezone, traps, description), rec.where("customer"))
        )

    def _snmp(self, name: str, rec: _Record) -> None:
        raw_version = rec.raw.get("version")
        version = str(raw_version) if type(raw_version) in (int, str) else None
        if raw_version is None:
            rec.require("version")
        elif version not in SNMP_VERSIONS:
            rec.error(rec.where("version"), f"must be one of {', '.join(SNMP_VERSIONS)}")
        keys = {k: rec.secret(k) for k in ("community", "auth_key", "priv_key")}
        user, context = rec.text("user"), rec.text("context") or ""
        auth, priv = (
            rec.text("auth_protocol", choices=AUTH_PROTOCOLS),
            rec.text("priv_protocol", choices=PRIV_PROTOCOLS),
        )
        if version in ("1", "2c"):
            rec.require("community", f"required for SNMP v{version}")
            if keys["community"] is not None and not keys["community"].reveal():
                rec.error(rec.where("community"), "must not be empty")
            for key in ("user", "auth_protocol", "auth_key", "priv_protocol", "priv_key", "context"):
                if key in rec.raw:
                    rec.error(rec.where(key), "only valid for SNMP v3")
        elif version == "3":
            rec.require("user", "required for SNMP v3")
            if "community" in rec.raw:
                rec.error(rec.where("community"), "only valid for SNMP v1/v2c")
            for proto, key in (("auth_protocol", "auth_key"), ("priv_protocol", "priv_key")):
                if rec.has(proto) != rec.has(key):
                    missing = key if rec.has(proto) else proto
                    rec.error(rec.where(missing), f"{proto} and {key} must be given together")
            if rec.has("priv_protocol") and not rec.has("auth_protocol"):
                rec.error(rec.where("priv_protocol"), "privacy requires authentication (auth_protocol)")
            for key in ("auth_key", "priv_key"):
                secret = keys[key]
                if secret is not None and len(secret.reveal()) < MIN_V3_KEY_LENGTH:
                    rec.error(rec.where(key), f"must be at least {MIN_V3_KEY_LENGTH} characters")
        if self.declare("SNMP credential", name, rec.at) and rec.ok and version:
            self.snmp[name] = SnmpCredential(
                name,
                version,
                keys["community"],
                user,
                auth,
                keys["auth_key"],
                priv,
                keys["priv_key"],
                context,
            )

    def _ssh(self, name: str, rec: _Record) -> None:
        username, password = rec.text("username", required=True), rec.secret("password")
        key_file, known_hosts = rec.text("key_file", path=True), rec.text("known_hosts", path=True)
        tofu = rec.boolean("trust_on_first_use", False)
        if self.declare("SSH credential", name, rec.at) and rec.ok and username:
            self.ssh[name] = SshCredential(name, username, password, key_file, known_hosts, tofu)

    def _device(self, rec: _Record) -> None:
        name = rec.text("name", required=True)
        if name and ":" in name:
            rec.error(rec.where("name"), "must not contain ':' (links use DEVICE:PORT)")
        given: dict[str, Any] = {
            "name": name,
            "site": rec.text("site", required=True),
            "host": rec.text("host", required=True),
            "port": rec.integer("port", 161, 1, 65535),
            "platform": rec.text("platform", required=True),
            "snmp": rec.text("snmp", required=True),
            "ssh": rec.text("ssh"),
            "ssh_port": rec.integer("ssh_port", 22, 1, 65535),
            "timeout": rec.seconds("timeout", 2.0),
            "retries": rec.integer("retries", 1, 0),
            "description": rec.text("description"),
        }
        self.declare("device", name, rec.where("name"))
        self.devices.append((given, rec))

    def _link(self, rec: _Record) -> None:
        ends = []
        for key in ("a", "b"):
            value = rec.text(key, required=True)
            device, _, port = (value or "").partition(":")
            if device.strip() and port.strip():
                ends.append(Endpoint(device.strip(), canonical_port(port)))
            elif value is not None:
                rec.error(rec.where(key), "expected DEVICE:PORT")
        role, media, description = (
            rec.text("role", required=True, choices=LINK_ROLES),
            rec.text("media"),
            rec.text("description"),
        )
        if len(ends) == 2:
            self.links.append((Link(ends[0], ends[1], role or "", media, description), rec))

    def finish(self) -> Inventory:
        """Check cross-file references once every file is read; any error anywhere means no Inventory."""
        for site, at in self.sites:
            self.check_ref("customer", site.customer, at)
        devices: dict[str, Device] = {}
        for given, rec in self.devices:
            self.check_ref("site", given["site"], rec.where("site"))
            self.check_ref("SNMP credential", given["snmp"], rec.where("snmp"))
            self.check_ref("SSH credential", given["ssh"], rec.where("ssh"))
            snmp, ssh = self.snmp.get(given["snmp"]), self.ssh.get(given["ssh"] or "")
            if snmp is not None:
                devices[given["name"]] = Device(**{**given, "snmp": snmp, "ssh": ssh})
        used: dict[Endpoint, _At] = {}
        for link, rec in self.links:
            if link.a == link.b:
                self.errors.append(f"{rec.where('b')}: both ends are the same port {link.a}")
            for key, end in (("a", link.a), ("b", link.b)):
                self.check_ref("device", end.device, rec.where(key))
                first = used.setdefault(end, rec.where(key))
                if first != rec.where(key) and link.a != link.b:
                    self.errors.append(
                        f"{rec.where(key)}: port {end} is already used by the link at "
                        f"{first.file}:{first.line}"
                    )
        if self.errors:
            raise InventoryError(self.errors)
        sites = {site.name: site for site, _ in self.sites}
        return Inventory(dict(self.customers), sites, devices, tuple(link for link, _ in self.links))


def _files(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[Path]:
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    files: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found = sorted(p for p in item.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                raise InventoryError([f"{item}: no *.yaml or *.yml inventory files in directory"])
            files.extend(found)
        else:
            files.append(item)
    return files


def load_inventory(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> Inventory:
    """Load and merge inventory files, raising one InventoryError that lists every problem found."""
    loaded = _Loaded()
    files = _files(paths)
    for file in files:
        loaded.read(file)
    inventory = loaded.finish()
    log.debug(
        "inventory: %d files, %d devices, %d links", len(files), len(inventory.devices), len(inventory.links)
    )
    return inventory
