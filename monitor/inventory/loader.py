"""Strict inventory loader: YAML in, frozen cross-checked records out, so nothing downstream re-validates config."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.common.names import canonical_port
from monitor.common.strictyaml import At, Record, YamlMap, kind_of, read_yaml
from monitor.inventory.records import (
    AUTH_PROTOCOLS,
    LINK_ROLES,
    MIN_V3_KEY_LENGTH,
    PRIV_PROTOCOLS,
    SNMP_VERSIONS,
    Customer,
    Device,
    Endpoint,
    Inventory,
    InventoryError,
    Link,
    Site,
    SnmpCredential,
    SshCredential,
)

log = logging.getLogger(__name__)

_TOP = ("customers", "sites", "credentials", "devices", "links")


def _keys(record: type, skip: str = "") -> tuple[str, ...]:
    """The YAML keys of a section are the record's fields, so schema and type cannot drift apart."""
    return tuple(f.name for f in fields(record) if f.name != skip)


class _Loaded:
    """Everything read so far across files, so duplicates and references are checked inventory-wide."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.declared: dict[tuple[str, str], At] = {}
        self.customers: dict[str, Customer] = {}
        self.sites: list[tuple[Site, At]] = []
        self.snmp: dict[str, SnmpCredential] = {}
        self.ssh: dict[str, SshCredential] = {}
        self.devices: list[tuple[dict[str, Any], Record]] = []
        self.links: list[tuple[Link, Record]] = []

    def declare(self, kind: str, name: str | None, at: At) -> bool:
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

    def check_ref(self, kind: str, name: str | None, at: At) -> None:
        """Report a name never declared; a declared-but-invalid one was reported where it was declared."""
        if name and (kind, name) not in self.declared:
            self.errors.append(f"{at}: unknown {kind} {name!r}")

    def read(self, file: Path) -> None:
        doc = read_yaml(file, self.errors)
        if doc is None:  # an empty file, or a syntax error already reported
            return
        top = Record(file, self.errors, doc, At(str(file), 1, ""), _TOP)
        for raw, at in top.items("customers"):
            self._customer(Record(file, self.errors, raw, at, _keys(Customer)))
        for raw, at in top.items("sites"):
            self._site(Record(file, self.errors, raw, at, _keys(Site)))
        creds = Record(
            file,
            self.errors,
            top.raw.get("credentials") or YamlMap(1),
            top.where("credentials"),
            ("snmp", "ssh"),
        )
        for kind, allowed, build in (
            ("snmp", _keys(SnmpCredential, "name"), self._snmp),
            ("ssh", _keys(SshCredential, "name"), self._ssh),
        ):
            section, at = creds.raw.get(kind) or YamlMap(1), creds.where(kind)
            if not isinstance(section, YamlMap):
                creds.error(at, f"expected a mapping of credential names, got {kind_of(section)}")
                continue
            for name, raw in section.items():
                name_at = At(at.file, section.key_lines[name], f"{at.path}.{name}")
                if isinstance(name, str):
                    build(name, Record(file, self.errors, raw, name_at, allowed))
                else:
                    creds.error(name_at, f"credential name must be a string, got {kind_of(name)}")
        for raw, at in top.items("devices"):
            self._device(Record(file, self.errors, raw, at, _keys(Device)))
        for raw, at in top.items("links"):
            self._link(Record(file, self.errors, raw, at, _keys(Link)))

    def _customer(self, rec: Record) -> None:
        name, display = rec.text("name", required=True), rec.text("display_name")
        if self.declare("customer", name, rec.where("name")) and rec.ok and name:
            self.customers[name] = Customer(name, display or name)

    def _site(self, rec: Record) -> None:
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
            (Site(name or "", customer or "", timezone, traps, description, _patterns(rec, "watch"),
                  _patterns(rec, "ignore")), rec.where("customer"))
        )

    def _snmp(self, name: str, rec: Record) -> None:
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

    def _ssh(self, name: str, rec: Record) -> None:
        username, password = rec.text("username", required=True), rec.secret("password")
        key_file, known_hosts = rec.text("key_file", path=True), rec.text("known_hosts", path=True)
        tofu = rec.boolean("trust_on_first_use", False)
        if self.declare("SSH credential", name, rec.at) and rec.ok and username:
            self.ssh[name] = SshCredential(name, username, password, key_file, known_hosts, tofu)

    def _device(self, rec: Record) -> None:
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
            "watch": _patterns(rec, "watch"),
            "ignore": _patterns(rec, "ignore"),
        }
        self.declare("device", name, rec.where("name"))
        self.devices.append((given, rec))

    def _link(self, rec: Record) -> None:
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
        used: dict[Endpoint, At] = {}
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


def _patterns(rec: Record, key: str) -> tuple[str, ...]:
    """A list of port globs (`watch:`/`ignore:`); each must be a non-empty string."""
    out = []
    for item, at in rec.items(key):
        if not isinstance(item, str) or not item.strip():
            rec.error(at, f"expected a port name or glob such as 'Gi1/0/*', got {kind_of(item)}"
                      + (" (empty)" if isinstance(item, str) else ""))
        else:
            out.append(item.strip())
    return tuple(out)


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
