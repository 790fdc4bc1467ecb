"""A real SSH server on 127.0.0.1 per lab device, answering `show` commands live from the lab model.

paramiko serves the protocol (host key, password authentication, a pty shell); what the device prints comes
from `monitor.lab.cli_render` in the platform's real layout, so the real collector (netmiko + ntc-templates)
reads it exactly as it reads a switch. Unknown commands get the platform's "% Invalid input" answer; a
device that is powered off or rebooting drops the connection, as a dead switch would.
"""

from __future__ import annotations

import hmac
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import paramiko

from monitor.lab.cli_render import COMMANDS, INVALID, SESSION, login_user, prompt
from monitor.lab.model import LabDevice, LabSite

if TYPE_CHECKING:
    from monitor.collectors.ssh import CollectOptions
    from monitor.confighist.history import ConfigHistory, ConfigVersion
    from monitor.inventory import Device
    from monitor.lab.runner import Lab
    from monitor.model import CliView

log = logging.getLogger(__name__)
LAB_SSH_USER = "saksi"
_TRANSPORT_LOG = "monitor.lab.ssh.transport"
logging.getLogger(_TRANSPORT_LOG).setLevel(logging.CRITICAL)


@dataclass
class Behaviour:
    """How a lab device's CLI misbehaves, for tests of the collector's failure paths."""

    outputs: dict[str, str] = field(default_factory=dict)  # command -> what to print instead
    mute_after_login: bool = False  # the prompt never comes
    mute_commands: set[str] = field(default_factory=set)  # these commands never return


class _Auth(paramiko.ServerInterface):
    def __init__(self, username: str, password: str, platform: str = "") -> None:
        self._username, self._password, self._platform = username, password, platform
        self.shell = threading.Event()
        self.user = ""

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        username = login_user(self._platform, username)  # RouterOS clients append terminal options to the name
        ok = hmac.compare_digest(username.encode(), self._username.encode()) and hmac.compare_digest(
            password.encode(), self._password.encode())
        if ok:
            self.user = username
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, *args: object) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.shell.set()
        return True


class LabSshServer:
    """One listening socket, one thread per session; `close()` stops them all."""

    def __init__(self, site: LabSite, device: LabDevice, host_key: paramiko.PKey, password: str,
                 username: str = LAB_SSH_USER, host: str = "127.0.0.1") -> None:
        self.site, self.device, self.host_key = site, device, host_key
        self._username, self._password = username, password
        self.behaviour = Behaviour()
        self.commands_seen: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self._closed = threading.Event()
        self._transports: list[paramiko.Transport] = []
        threading.Thread(target=self._accept, name=f"lab-ssh-{device.name}", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        try:
            self._sock.close()
        except OSError:
            pass
        for t in list(self._transports):
            t.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        if not self.device.alive(self.site.now):
            conn.close()  # a switch that is off or rebooting does not answer
            return
        transport = paramiko.Transport(conn)
        transport.set_log_channel(_TRANSPORT_LOG)  # a client hanging up is not an error worth a traceback
        self._transports.append(transport)
        transport.add_server_key(self.host_key)
        auth = _Auth(self._username, self._password, self.device.platform)
        try:
            transport.start_server(server=auth)
            chan = transport.accept(10)
            if chan is None or not auth.shell.wait(10):
                return
            self._shell(chan, auth.user)
            chan.close()  # hang up like a switch does after `exit`: the client closes the connection itself
            for _ in range(50):
                if not transport.is_active() or self._closed.wait(0.05):
                    break
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.debug("lab ssh %s: session ended: %s", self.device.name, type(exc).__name__)
        finally:
            transport.close()
            if transport in self._transports:
                self._transports.remove(transport)

    def _shell(self, chan: paramiko.Channel, user: str) -> None:
        if self.behaviour.mute_after_login:
            self._closed.wait(60)
            return
        the_prompt = prompt(self.device.platform, self.device.name, user)
        chan.sendall(f"\r\n{the_prompt}".encode())
        line, last = "", ""
        while not self._closed.is_set():
            data = chan.recv(4096)
            if not data:
                return
            for ch in data.decode(errors="replace"):
                if ch in "\r\n":
                    if not (ch == "\n" and last == "\r"):
                        chan.sendall(b"\r\n")
                        if not self._answer(chan, line.strip()):
                            return
                        chan.sendall(the_prompt.encode())
                    line = ""
                elif ch in "\x08\x7f":
                    line = line[:-1]
                else:
                    line += ch
                    chan.sendall(ch.encode())
                last = ch

    def _answer(self, chan: paramiko.Channel, command: str) -> bool:
        """Print what the device prints for a command; False when the session should end."""
        if command in ("exit", "quit", "logout"):
            return False
        if not command:
            return True
        self.commands_seen.append(command)
        if command in self.behaviour.mute_commands:
            self._closed.wait(60)
            return False
        text = self.render(command)
        if text:
            chan.sendall(text.replace("\r\n", "\n").replace("\n", "\r\n").encode())
        return True

    def render(self, command: str) -> str:
        """What this device prints for one command line, now."""
        if command in self.behaviour.outputs:
            return self.behaviour.outputs[command]
        platform = self.device.platform
        if command in SESSION.get(platform, {}):
            answer = SESSION[platform][command]
            return f"{answer}\n" if answer else ""
        renderer = COMMANDS.get(platform, {}).get(command)
        if renderer is None:
            return INVALID.get(platform, INVALID["default"]) + "\n"
        return renderer(self.site, self.device, self.site.now)


@dataclass
class LabSsh:
    """The SSH side of a running lab: one server per device, the host key they share, and the lab's login."""

    servers: dict[str, LabSshServer]
    known_hosts: Path
    password: str
    directory: Path

    def close(self) -> None:
        for s in self.servers.values():
            s.close()


def start_ssh(site: LabSite, directory: Path, password: str,
              clock: Callable[[], float] | None = None, hosts: dict[str, str] | None = None) -> LabSsh:
    """Start one SSH server per device; the host key is generated into `directory` with a known_hosts file."""
    directory.mkdir(parents=True, exist_ok=True)
    key = paramiko.ECDSAKey.generate()
    key.write_private_key_file(str(directory / "host_key"))
    servers = {name: LabSshServer(site, dev, key, password, host=(hosts or {}).get(name, "127.0.0.1"))
               for name, dev in site.devices.items()}
    known = directory / "known_hosts"
    known.write_text("".join(f"[{s.host}]:{s.port} {key.get_name()} {key.get_base64()}\n"
                             for s in servers.values()))
    return LabSsh(servers, known, password, directory)


def lab_device(lab: Lab, name: str) -> Device:
    """The inventory record of a lab device, with the lab's SSH login (host key verified against its file)."""
    from monitor.inventory import Device, Secret, SnmpCredential, SshCredential
    from monitor.lab.runner import LAB_COMMUNITY

    ssh = lab.ssh
    assert ssh is not None, "the lab was started without SSH servers"
    dev = lab.site.devices[name]
    return Device(name=name, site=lab.scenario.name, host=lab.hosts[name], port=lab.ports[name], platform=dev.platform,
                  snmp=SnmpCredential("lab", "2c", community=Secret(LAB_COMMUNITY)),
                  ssh=SshCredential("lab", LAB_SSH_USER, password=Secret(ssh.password),
                                    known_hosts=str(ssh.known_hosts)),
                  ssh_port=ssh.servers[name].port, timeout=2.0)


async def poll_cli(lab: Lab, name: str, now: float, options: CollectOptions | None = None) -> CliView:
    """One SSH collection of a lab device through the real collector (netmiko, ntc-templates)."""
    from monitor.collectors.ssh import collect_device

    return await collect_device(lab_device(lab, name), now=lambda: now, options=options)


async def poll_config(lab: Lab, name: str, history: ConfigHistory, now: float) -> ConfigVersion | None:
    """Fetch a lab device's running configuration over SSH and record it; the new version, or None if unchanged.

    A device that cannot be reached, or whose configuration comes back refused or truncated, records nothing
    (its previous version stays the current one) and is logged once at INFO.
    """
    from monitor.collectors.ssh import CollectOptions

    view = await poll_cli(lab, name, now, CollectOptions(roles=("config",)))
    if view.config is None:
        log.info("%s: configuration not fetched: %s", name, view.error or view.command("config").error)
        return None
    return history.record(name, lab.site.devices[name].platform, view.config, at=now, source="ssh:lab")
