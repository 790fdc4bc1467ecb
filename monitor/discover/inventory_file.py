"""Write a discovered site as an inventory file, or fold it into an existing one without losing hand edits.

ruamel.yaml reads and writes the file round-trip, so comments, key order and layout a person wrote stay as
they were. Discovery owns little: it adds the customer, site, credentials, devices and links that are missing,
and keeps `host`, `port` and `platform` of the devices it found up to date. Every other key, and every device
or link it did not see, stays as written.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from monitor.common.errors import SaksiError
from monitor.common.names import canonical_port
from monitor.discover.crawl import Credential
from monitor.discover.site import Draft

OWNED_DEVICE_KEYS = ("host", "port", "platform")


class InventoryFileError(SaksiError):
    """The file to update cannot be read as an inventory mapping."""


@dataclass
class Merge:
    """What an update did, for the report: nothing here is silent."""

    added_devices: list[str] = field(default_factory=list)
    updated_devices: list[str] = field(default_factory=list)  # "name: key old -> new"
    added_links: list[str] = field(default_factory=list)
    kept_links: list[str] = field(default_factory=list)  # a discovered link whose port a written link already uses
    not_seen: list[str] = field(default_factory=list)  # devices of the site in the file that discovery did not see


def _yaml() -> YAML:
    y = YAML()  # round-trip
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    return y


def _flow(**items: Any) -> CommentedMap:
    m = CommentedMap(items)
    m.fa.set_flow_style()
    return m


def _section(doc: CommentedMap, key: str, kind: type) -> Any:
    value = doc.get(key)
    if value is None:
        value = kind()
        doc[key] = value
    if not isinstance(value, kind):
        raise InventoryFileError(f"{key}: expected a {'list' if kind is CommentedSeq else 'mapping'}")
    return value


def _names(items: Sequence[Any]) -> dict[str, Any]:
    return {str(i["name"]): i for i in items if isinstance(i, dict) and "name" in i}


def _endpoint(text: object) -> str:
    """DEVICE:PORT with the port canonical, so a hand-written 'Gi1/0/1' matches a found 'GigabitEthernet1/0/1'."""
    device, _, port = str(text).partition(":")
    return f"{device.strip()}:{canonical_port(port)}"


def merge(existing: str | None, draft: Draft, credentials: Sequence[Credential], *, site: str, customer: str,
          snmp_port: int = 161, header: str = "") -> tuple[str, Merge]:
    """The new file text and what changed; `existing` None writes a new file."""
    y = _yaml()
    try:
        doc = y.load(existing) if existing and existing.strip() else None
    except Exception as exc:  # noqa: BLE001 - ruamel raises many types; the file is the user's, say why
        raise InventoryFileError(f"cannot read the file to update: {str(exc).splitlines()[0]}") from None
    if doc is None:
        doc = CommentedMap()
        if header:
            doc.yaml_set_start_comment(header)
    if not isinstance(doc, CommentedMap):
        raise InventoryFileError("the file to update is not an inventory (a mapping of customers, sites, ...)")
    report = Merge()
    customers = _section(doc, "customers", CommentedSeq)
    sites = _section(doc, "sites", CommentedSeq)
    site_entry = _names(sites).get(site)
    if site_entry is None:
        sites.append(_flow(name=site, customer=customer))
    else:
        customer = str(site_entry.get("customer", customer))
    if customer not in _names(customers):
        customers.append(_flow(name=customer))
    used = {d.snmp for d in draft.devices}
    snmp = _section(_section(doc, "credentials", CommentedMap), "snmp", CommentedMap)
    for cred in credentials:
        if cred.name in used and cred.name not in snmp:
            snmp[cred.name] = _flow(**cred.inventory_entry())
    devices = _section(doc, "devices", CommentedSeq)
    by_name = _names(devices)
    by_host = {(str(d.get("host")), _int(d.get("port", 161))): d for d in by_name.values()}
    found = set()
    for d in draft.devices:
        entry = by_name.get(d.name) or by_host.get((d.host, snmp_port))
        if entry is None:
            entry = _flow(name=d.name, site=site, host=d.host)
            if snmp_port != 161:
                entry["port"] = snmp_port
            entry.update(platform=d.platform, snmp=d.snmp)
            devices.append(entry)
            report.added_devices.append(d.name)
        else:
            wanted: dict[str, Any] = {"host": d.host, "platform": d.platform}
            if snmp_port != 161 or "port" in entry:
                wanted["port"] = snmp_port
            for key, value in wanted.items():
                if entry.get(key) != value:
                    report.updated_devices.append(f"{entry['name']}: {key} {entry.get(key)} -> {value}")
                    entry[key] = value
        found.add(str(entry["name"]))
    report.not_seen = sorted(n for n, e in by_name.items() if e.get("site") == site and n not in found)
    links = _section(doc, "links", CommentedSeq)
    written = {frozenset((_endpoint(link.get("a")), _endpoint(link.get("b")))): link
               for link in links if isinstance(link, dict)}
    ports = {end: pair for pair in written for end in pair}
    renamed = {d.name: str((by_name.get(d.name) or by_host.get((d.host, snmp_port)) or {"name": d.name})["name"])
               for d in draft.devices}
    for link in draft.links:
        a, b = (_rename(end, renamed) for end in (link.a, link.b))
        pair = frozenset((_endpoint(a), _endpoint(b)))
        if pair in written:
            continue
        clash = next((ports[e] for e in pair if e in ports), None)
        if clash is not None:
            report.kept_links.append(f"{a} -- {b} (the file links {' -- '.join(sorted(clash))})")
            continue
        links.append(_flow(a=a, b=b, role=link.role))
        written[pair] = links[-1]
        ports.update({e: pair for e in pair})
        report.added_links.append(f"{a} -- {b} ({link.role})")
    out = io.StringIO()
    y.dump(doc, out)
    return out.getvalue(), report


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _rename(end: str, renamed: dict[str, str]) -> str:
    """A found device may already be in the file under the name a person gave it."""
    device, _, port = end.partition(":")
    return f"{renamed.get(device, device)}:{port}"
