"""The SSH edge: run a platform profile's read-only commands over netmiko and parse them into a `CliView`.

netmiko blocks, so every call runs in a thread pool and the event loop stays free for SNMP. Parsing lives in
`cli_parse` (pure); this module only sends commands, times them out, and turns failures into data: a refused
login, a host key that does not match or a prompt that never comes becomes a failed view with a reason, never
an exception that stops a poll cycle.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from monitor.collectors import cli_parse
from monitor.collectors.cli_parse import ROLES, CliError, CliProfile, CommandRefused, cli_profile
from monitor.common.errors import SaksiError
from monitor.inventory import Device
from monitor.model import DOM_KEYS, CliCommand, CliView, Disagreement, SensorKind, Snapshot, TableStatus

log = logging.getLogger(__name__)


def _no_channel_traffic(record: logging.LogRecord) -> bool:
    """netmiko logs every byte it reads at DEBUG, configurations and their secrets included: never let one out."""
    return record.levelno >= logging.INFO


logging.getLogger("netmiko").addFilter(_no_channel_traffic)  # a filter holds even when an operator asks for DEBUG

_GIVE_UP_AFTER = 2  # consecutive commands without an answer before the rest are skipped
_EXECUTOR: ThreadPoolExecutor | None = None


class SshError(SaksiError):
    """The SSH session could not be used; the message is meant for an operator and holds no secret."""


class SshTimeout(SshError):
    """No answer (connection, login banner or prompt) before the timeout."""


class SshAuthError(SshError):
    """The device refused the credentials."""


class SshHostKeyError(SshError):
    """The device's host key is unknown or does not match the known-hosts file."""


class CliClient(Protocol):
    """The narrow edge the collector needs: one command in, its text out."""

    async def send(self, command: str) -> str: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CollectOptions:
    roles: tuple[str, ...] = ROLES
    timeout: float = 10.0  # seconds for connecting, logging in, and each command's prompt


def executor() -> ThreadPoolExecutor:
    """The pool netmiko sessions run in (one thread per concurrent device)."""
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=int(os.environ.get("SAKSI_SSH_WORKERS", "16")),
                                       thread_name_prefix="saksi-ssh")
    return _EXECUTOR


def known_hosts_file(device: Device) -> Path:
    assert device.ssh is not None
    return Path(device.ssh.known_hosts or os.environ.get("SAKSI_KNOWN_HOSTS", "~/.ssh/known_hosts")).expanduser()


class NetmikoClient:
    """A netmiko session that only sends what the profile's allow-list permits."""

    def __init__(self, conn: Any, profile: CliProfile, timeout: float) -> None:
        self._conn, self._profile, self._timeout = conn, profile, timeout

    @classmethod
    async def connect(cls, device: Device, profile: CliProfile, timeout: float = 10.0) -> NetmikoClient:
        loop = asyncio.get_running_loop()
        conn = await loop.run_in_executor(executor(), _connect, device, profile, timeout)
        return cls(conn, profile, timeout)

    async def send(self, command: str) -> str:
        if not self._profile.allowed(command):
            raise CommandRefused(f"{command!r} is not in the {self._profile.platform} read-only allow-list")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor(), self._send, command)

    def _send(self, command: str) -> str:
        from netmiko.exceptions import ReadTimeout

        try:
            out: str = self._conn.send_command(command, read_timeout=self._timeout, strip_prompt=True,
                                               strip_command=True)
            return out
        except ReadTimeout:
            raise SshTimeout(f"no prompt within {self._timeout:g}s after {command!r}") from None
        except (OSError, EOFError) as exc:
            raise SshError(f"session lost during {command!r}: {type(exc).__name__}") from None

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(executor(), _disconnect, self._conn)


def _never_in_config_mode(*_: Any, **__: Any) -> bool:
    """Saksi's sessions only read: they never enter configuration mode, so there is none to leave."""
    return False


def _disconnect(conn: Any) -> None:
    """Log out the way the platform's netmiko driver does (its own logout command, then the channel and the
    transport closed), without the driver's config-mode check first: on Huawei that check waits for 2 s of
    silence on every session, and a read-only session has no configuration mode to leave."""
    conn.check_config_mode = _never_in_config_mode
    try:
        conn.disconnect()
    except Exception as exc:  # noqa: BLE001 - a dead session cannot be closed more politely
        log.debug("disconnect: %s", type(exc).__name__)


def _connect(device: Device, profile: CliProfile, timeout: float) -> Any:
    """Open a netmiko session with host-key checking; every failure becomes an SshError naming the cause."""
    import paramiko
    from netmiko import ConnectHandler
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadTimeout

    cred = device.ssh
    assert cred is not None
    known = known_hosts_file(device)
    where = f"{device.host}:{device.ssh_port}"
    params: dict[str, Any] = {
        "device_type": profile.netmiko, "host": device.host, "port": device.ssh_port, "username": cred.username,
        "password": cred.password.reveal() if cred.password is not None else None, "key_file": cred.key_file,
        "use_keys": cred.key_file is not None, "allow_agent": False, "system_host_keys": False,
        "alt_host_keys": True, "alt_key_file": str(known), "ssh_strict": not cred.trust_on_first_use,
        "conn_timeout": timeout, "auth_timeout": timeout, "banner_timeout": timeout, "blocking_timeout": timeout,
        "read_timeout_override": timeout, "session_log": None, "fast_cli": True}
    try:
        conn = ConnectHandler(**params)
    except NetmikoAuthenticationException:
        raise SshAuthError(f"{where}: authentication failed for user {cred.username!r}") from None
    except paramiko.BadHostKeyException:
        raise SshHostKeyError(f"{where}: host key does NOT match {known} (possible impersonation)") from None
    except paramiko.SSHException as exc:  # netmiko re-raises paramiko's host-key errors with their text
        text = str(exc)
        if "does not match" in text:
            raise SshHostKeyError(f"{where}: host key does NOT match {known} (possible impersonation)") from None
        if "not found in known_hosts" in text:
            raise SshHostKeyError(f"{where}: host key not in {known} (add it, or set trust_on_first_use)") from None
        raise SshError(f"{where}: SSH error: {' '.join(text.split())[:160]}") from None
    except (NetmikoTimeoutException, ReadTimeout, TimeoutError):
        raise SshTimeout(f"{where}: no SSH session or prompt within {timeout:g}s") from None
    except (OSError, EOFError) as exc:
        raise SshError(f"{where}: cannot connect: {type(exc).__name__}: {exc}") from None
    except ValueError as exc:  # netmiko raises ValueError when no prompt pattern matches
        raise SshTimeout(f"{where}: no usable prompt ({str(exc)[:80]})") from None
    if cred.trust_on_first_use:
        _remember_host_key(conn, device, known)
    return conn


def _remember_host_key(conn: Any, device: Device, known: Path) -> None:
    """First-use trust: store the key the device showed, so every later session is verified against it."""
    import paramiko

    key = conn.remote_conn_pre.get_transport().get_remote_server_key()
    name = device.host if device.ssh_port == 22 else f"[{device.host}]:{device.ssh_port}"
    hosts = paramiko.HostKeys(str(known)) if known.exists() else paramiko.HostKeys()
    if hosts.lookup(name) is None:
        known.parent.mkdir(parents=True, exist_ok=True)
        with known.open("a") as f:
            f.write(f"{name} {key.get_name()} {key.get_base64()}\n")
        log.warning("%s: trusted host key on first use (%s %s) into %s", device.name, key.get_name(),
                    key.fingerprint if hasattr(key, "fingerprint") else "", known)


async def collect(device: Device, client: CliClient, now: Callable[[], float] = time.time,
                  options: CollectOptions = CollectOptions()) -> CliView:
    """Run the profile's commands on an open session; each command's health is recorded, failures included."""
    profile = cli_profile(device.platform)
    started, t0 = now(), time.perf_counter()
    outputs: dict[str, str | BaseException] = {}
    commands: list[CliCommand] = []
    found: dict[str, list[Any]] = {}
    config: str | None = None
    silent = 0
    for role in options.roles:
        spec = profile.commands.get(role)
        if spec is None:
            commands.append(CliCommand(role, "", TableStatus.SKIPPED, 0, "not available on this platform"))
            continue
        if silent >= _GIVE_UP_AFTER:
            commands.append(CliCommand(role, spec.command, TableStatus.SKIPPED, 0, "device stopped answering"))
            continue
        if spec.command not in outputs:
            try:
                outputs[spec.command] = await client.send(spec.command)
            except SaksiError as exc:
                outputs[spec.command] = exc
        raw = outputs[spec.command]
        if isinstance(raw, BaseException):
            status = TableStatus.TIMEOUT if isinstance(raw, SshTimeout) else TableStatus.ERROR
            silent = silent + 1 if status is TableStatus.TIMEOUT else 0
            commands.append(CliCommand(role, spec.command, status, 0, str(raw)))
            continue
        silent = 0
        try:
            if role == "config":
                problem = cli_parse.config_problem(raw, profile)
                if problem is not None:
                    raise CliError(f"{spec.command!r}: {problem}")
                config = cli_parse.redact(raw, profile)
                rows = [config]
            else:
                rows = _records(profile, role, cli_parse.parse_rows(profile, spec, raw))
                found[role] = rows
        except CliError as exc:
            commands.append(CliCommand(role, spec.command, TableStatus.ERROR, 0, str(exc)))
            continue
        commands.append(CliCommand(role, spec.command, TableStatus.OK if rows else TableStatus.EMPTY, len(rows)))
    bad = [c for c in commands if c.status in (TableStatus.TIMEOUT, TableStatus.ERROR)]
    for c in bad:
        log.info("%s: %s: %s", device.name, c.command, c.error)
    return CliView(
        device=device.name, platform=device.platform, taken_at=started, ok=True, commands=tuple(commands),
        ports=tuple(found.get("interfaces", ())), modules=tuple(found.get("modules", ())),
        readings=tuple(found.get("dom", ())), neighbors=tuple(found.get("lldp", ())),
        inventory=tuple(found.get("inventory", ())), config=config, duration_s=time.perf_counter() - t0)


def _records(profile: CliProfile, role: str, rows: list[dict[str, Any]]) -> list[Any]:
    spec = profile.commands[role]
    if role == "modules":
        return list(cli_parse.to_modules(spec, rows))
    if role == "dom":
        return list(cli_parse.to_readings(spec, rows))
    if role == "lldp":
        return list(cli_parse.to_neighbors(spec, rows))
    if role == "interfaces":
        return list(cli_parse.to_ports(profile, spec, rows))
    return list(cli_parse.to_inventory(spec, rows))


async def collect_device(device: Device, now: Callable[[], float] = time.time,
                         options: CollectOptions | None = None) -> CliView:
    """Open a session, collect, close: the whole SSH poll of one device, failures returned as a failed view."""
    opts = options or CollectOptions(timeout=max(device.timeout * 5, 10.0))
    started, t0 = now(), time.perf_counter()
    try:
        profile = cli_profile(device.platform)
        if device.ssh is None:
            raise SshError("no SSH credentials in the inventory")
        client = await NetmikoClient.connect(device, profile, opts.timeout)
    except SaksiError as exc:
        log.info("%s: SSH not collected: %s", device.name, exc)
        return CliView(device=device.name, platform=device.platform, taken_at=started, ok=False, error=str(exc),
                       duration_s=time.perf_counter() - t0)
    try:
        view = await collect(device, client, now=lambda: started, options=opts)
    finally:
        await client.close()
    return replace(view, duration_s=time.perf_counter() - t0)


# -- merging into the SNMP snapshot ------------------------------------------------------------------------

_TOLERANCE = {SensorKind.RX_POWER: 1.0, SensorKind.TX_POWER: 1.0, SensorKind.TEMPERATURE: 3.0,
              SensorKind.VOLTAGE: 0.1, SensorKind.BIAS: 2.0}


def attach(snap: Snapshot, view: CliView) -> Snapshot:
    """The snapshot with the SSH view beside SNMP's values, and every disagreement between the two."""
    return replace(snap, cli=replace(view, disagreements=tuple(disagreements(snap, view))))


def disagreements(snap: Snapshot, view: CliView) -> list[Disagreement]:
    """Where SNMP and SSH both give a value for the same port and the values differ (beyond reading noise)."""
    out: list[Disagreement] = []
    if not snap.reachable or not view.ok:
        return out
    for port in snap.ports:
        name = port.name
        cli_port = view.port(name)
        if cli_port is not None:
            for fld, a, b in (("admin", port.admin, cli_port.admin), ("oper", port.oper, cli_port.oper)):
                if "unknown" not in (a, b) and a != b:
                    out.append(Disagreement(name, fld, a, b))
        t, m = snap.transceiver_in(port.ifindex), view.module_in(name)
        if t is not None and m is not None and t.serial and t.serial.strip().upper() != m.serial.strip().upper():
            out.append(Disagreement(name, "serial", t.serial, m.serial))
        for r in view.readings_of(name):
            s = next((s for s in snap.sensors_of(port.ifindex) if s.kind is r.kind and s.lane in (None, r.lane, 1)
                      and s.value is not None), None)
            if s is not None and s.value is not None and abs(s.value - r.value) > _TOLERANCE[r.kind]:
                out.append(Disagreement(name, DOM_KEYS[r.kind], f"{s.value:g}", f"{r.value:g}"))
        n, cn = snap.neighbor_on(port.ifindex), view.neighbor_on(name)
        if n is not None and cn is not None and n.sys_name and cn.sys_name and \
                n.sys_name.split(".")[0].lower() != cn.sys_name.split(".")[0].lower():
            out.append(Disagreement(name, "neighbor", n.sys_name, cn.sys_name))
    return out
