"""SSH collection end to end: the real collector (netmiko, ntc-templates) against the lab's real SSH servers.

Each lab device is a paramiko SSH server on 127.0.0.1 that renders its CLI live from the physical model, so a
scenario step (shutdown_port, change_config) shows up as a new configuration version with the right diff, and
every failure path (wrong password, unknown host key, a prompt that never comes, "% Invalid input", truncated
output, secrets in the configuration) is exercised over a real SSH session.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import paramiko
import pytest

from monitor.check.report import snapshot_json
from monitor.collectors.cli_parse import CommandRefused, cli_profile
from monitor.collectors.poll import poll_device
from monitor.collectors.snmp import PysnmpClient
from monitor.collectors.ssh import CollectOptions, NetmikoClient, attach, collect, collect_device
from monitor.common.names import canonical_port
from monitor.confighist.diff import port_summary
from monitor.confighist.history import ConfigHistory
from monitor.lab import runner, scenario
from monitor.lab.cli_render import SECRET_LINES
from monitor.lab.runner import Lab
from monitor.lab.scenario import Step, apply
from monitor.lab.ssh import lab_device, poll_cli, poll_config
from monitor.model import TableStatus

T = TypeVar("T")
SITE: dict[str, Any] = {
    "name": "ssh-e2e",
    "site": {"devices": [{"name": "core-sw1", "platform": "cisco_ios", "ports": 52},
                         {"name": "leaf-a", "platform": "arista_eos", "ports": 8},
                         {"name": "edge-j", "platform": "juniper_junos", "ports": 12},
                         {"name": "spine-n", "platform": "cisco_nxos", "ports": 8}],
             "links": [{"a": "core-sw1:Gi1/0/49", "b": "leaf-a:Ethernet1", "media": "1000base-lx", "role": "backbone"},
                       {"a": "core-sw1:Gi1/0/50", "b": "edge-j:ge-0/0/8", "media": "1000base-lx", "role": "uplink"},
                       {"a": "leaf-a:Ethernet2", "b": "spine-n:Ethernet1/1", "media": "10gbase-sr",
                        "role": "backbone"}]},
    "poll_interval": 60, "run_until": 600, "steps": [],
}
SECRETS = ["$1$lab$Q9saksiSecretHash0", "$1$lab$adminHash", "saksi-lab RO", "$6$lab$rootHash"]
FAST = CollectOptions(timeout=3.0)


def with_lab(body: Callable[[Lab], Awaitable[T]]) -> T:
    async def main() -> T:
        lab = await runner.start(scenario.parse(SITE, "ssh-e2e"))
        try:
            return await body(lab)
        finally:
            lab.close()

    return asyncio.run(main())


def step(lab: Lab, at: float, do: str, **args: Any) -> None:
    apply(lab.site, lab.scenario, Step(at=at, do=do, args=args, number=1))
    lab.settle(at)


@pytest.mark.parametrize("name", ["core-sw1", "leaf-a", "edge-j", "spine-n"])
def test_every_platform_is_read_over_ssh_and_agrees_with_snmp(name: str) -> None:
    async def body(lab: Lab) -> None:
        view = await poll_cli(lab, name, 0.0, FAST)
        assert view.ok, view.error
        failed = [c for c in view.commands if c.status not in (TableStatus.OK, TableStatus.SKIPPED)]
        assert not failed, failed
        dev = lab.site.devices[name]
        in_cages = {p.name: p.module for p in dev.ports.values() if p.module is not None}
        assert {m.port: m.serial for m in view.modules} == {port: m.serial for port, m in in_cages.items()}
        assert view.neighbors and all(n.sys_name in lab.site.devices for n in view.neighbors)
        assert view.config is not None and name in view.config
        client = PysnmpClient()
        try:
            snap = await poll_device(name, lab.target(name, timeout=1.0, retries=1), client, now=lambda: 0.0)
        finally:
            client.close()
        merged = attach(snap, view)
        assert merged.cli is not None and merged.cli.disagreements == ()
        data = snapshot_json(merged)
        assert data["ssh"]["ok"] and "config" in data["ssh"] and data["ssh"]["ports"]
        assert all(p["transceiver"]["source"].startswith("ssh:") for p in data["ssh"]["ports"] if p["transceiver"])

    with_lab(body)


def test_dom_over_ssh_matches_the_model() -> None:
    async def body(lab: Lab) -> None:
        view = await poll_cli(lab, "spine-n", 0.0, FAST)
        rx = [r for r in view.readings if r.port == "Ethernet1/1" and r.kind.value == "rx_power"]
        assert len(rx) == 1 and -9.0 < rx[0].value < -2.0
        assert rx[0].thresholds.low_alarm == -13.9  # NX-OS states the vendor thresholds on the CLI

    with_lab(body)


def test_a_disagreement_between_snmp_and_ssh_is_kept_visible() -> None:
    async def body(lab: Lab) -> None:
        server = lab.ssh.servers["core-sw1"]  # type: ignore[union-attr]
        text = server.render("show inventory")
        serial = lab.site.devices["core-sw1"].port("Gi1/0/49").module.serial  # type: ignore[union-attr]
        server.behaviour.outputs["show inventory"] = text.replace(serial, "XYZ0000SWAP")
        view = await poll_cli(lab, "core-sw1", 0.0, FAST)
        client = PysnmpClient()
        try:
            snap = await poll_device("core-sw1", lab.target("core-sw1", timeout=1.0, retries=1), client)
        finally:
            client.close()
        merged = attach(snap, view)
        assert merged.cli is not None
        [d] = merged.cli.disagreements
        assert (d.port, d.field, d.snmp, d.ssh) == ("GigabitEthernet1/0/49", "serial", serial, "XYZ0000SWAP")
        assert snapshot_json(merged)["ssh"]["disagreements"] == [
            {"port": "GigabitEthernet1/0/49", "field": "serial", "snmp": serial, "ssh": "XYZ0000SWAP"}]
        assert merged.transceiver_in(merged.port("GigabitEthernet1/0/49").ifindex).serial == serial  # type: ignore

    with_lab(body)


@pytest.mark.parametrize("name,port", [("core-sw1", "Gi1/0/49"), ("edge-j", "ge-0/0/8"), ("leaf-a", "Ethernet1"),
                                       ("spine-n", "Ethernet1/1")])
def test_lab_steps_become_configuration_versions_with_the_right_diff(tmp_path: Path, name: str, port: str) -> None:
    async def body(lab: Lab) -> None:
        history = ConfigHistory(lab.scenario.name, tmp_path)
        first = await poll_config(lab, name, history, 0.0)
        assert first is not None
        assert await poll_config(lab, name, history, 60.0) is None  # clock lines moved; nothing else did
        step(lab, 100, "shutdown_port", device=name, port=port)
        step(lab, 110, "change_config", device=name, interface=port, lines=["description MAINTENANCE CHG-1234"],
             remove=[line for line in lab.site.devices[name].interface_config(canonical_port(port))
                     if line.startswith("description")])
        second = await poll_config(lab, name, history, 120.0)
        assert second is not None and second.at == 120.0
        summary = port_summary(history.text(first), history.text(second), lab.site.devices[name].platform, port)
        off = "disable" if name == "edge-j" else "shutdown"
        assert any(line.endswith(f": + {off}") for line in summary), summary
        assert any("→" in line and "MAINTENANCE CHG-1234" in line for line in summary), summary
        assert "MAINTENANCE CHG-1234" in history.diff(name)
        step(lab, 200, "no_shutdown_port", device=name, port=port)
        third = await poll_config(lab, name, history, 240.0)
        assert third is not None
        assert [v.at for v in history.versions(name)] == [0.0, 120.0, 240.0]
        assert history.show(name, at=130.0) == history.text(second)
        history.close()

    with_lab(body)


def test_wrong_password_is_a_clear_per_device_error() -> None:
    async def body(lab: Lab) -> None:
        dev = lab_device(lab, "core-sw1")
        assert dev.ssh is not None
        bad = dataclasses.replace(dev, ssh=dataclasses.replace(dev.ssh, password=type(dev.ssh.password)("nope-x1")))
        view = await collect_device(bad, options=FAST)
        assert not view.ok and "authentication failed" in (view.error or "")
        assert "nope-x1" not in (view.error or "") and lab.ssh is not None and lab.ssh.password not in view.error

    with_lab(body)


def test_host_keys_are_verified_and_first_use_trust_is_opt_in(tmp_path: Path) -> None:
    async def body(lab: Lab) -> None:
        dev = lab_device(lab, "core-sw1")
        assert dev.ssh is not None
        unknown = tmp_path / "known_hosts"
        view = await collect_device(dataclasses.replace(dev, ssh=dataclasses.replace(dev.ssh, known_hosts=str(unknown))),
                                    options=FAST)
        assert not view.ok and "not in" in (view.error or "") and not unknown.exists()

        other = paramiko.ECDSAKey.generate()
        server = lab.ssh.servers["core-sw1"]  # type: ignore[union-attr]
        wrong = tmp_path / "wrong_hosts"
        wrong.write_text(f"[{server.host}]:{server.port} {other.get_name()} {other.get_base64()}\n")
        for tofu in (False, True):  # first-use trust never overrides a key that is known and different
            cred = dataclasses.replace(dev.ssh, known_hosts=str(wrong), trust_on_first_use=tofu)
            view = await collect_device(dataclasses.replace(dev, ssh=cred), options=FAST)
            assert not view.ok and "does NOT match" in (view.error or "")

        cred = dataclasses.replace(dev.ssh, known_hosts=str(unknown), trust_on_first_use=True)
        view = await collect_device(dataclasses.replace(dev, ssh=cred), options=FAST)
        assert view.ok, view.error
        assert server.host_key.get_base64() in unknown.read_text()
        strict = dataclasses.replace(dev.ssh, known_hosts=str(unknown), trust_on_first_use=False)
        assert (await collect_device(dataclasses.replace(dev, ssh=strict), options=FAST)).ok

    with_lab(body)


def test_a_prompt_that_never_comes_times_out_with_a_reason() -> None:
    async def body(lab: Lab) -> None:
        lab.ssh.servers["leaf-a"].behaviour.mute_after_login = True  # type: ignore[union-attr]
        view = await collect_device(lab_device(lab, "leaf-a"), options=CollectOptions(timeout=2.0))
        assert not view.ok and "prompt" in (view.error or "")

    with_lab(body)


def test_a_command_that_never_returns_is_a_timeout_and_the_rest_still_answer() -> None:
    async def body(lab: Lab) -> None:
        lab.ssh.servers["core-sw1"].behaviour.mute_commands.add("show running-config")  # type: ignore[union-attr]
        view = await collect_device(lab_device(lab, "core-sw1"), options=CollectOptions(timeout=2.0))
        assert view.ok and view.config is None
        assert view.command("config").status is TableStatus.TIMEOUT
        assert view.command("dom").status is TableStatus.OK and view.modules

    with_lab(body)


def test_invalid_input_garbled_and_truncated_outputs_are_errors_not_data(tmp_path: Path) -> None:
    async def body(lab: Lab) -> None:
        server = lab.ssh.servers["core-sw1"]  # type: ignore[union-attr]
        config = server.render("show running-config")
        server.behaviour.outputs.update({
            "show interface transceiver": "                      ^\n% Invalid input detected at '^' marker.\n",
            "show lldp neighbors detail": "\x00\x1b[2J garbage ####\n%%%% ~~~ \n" * 3,
            "show running-config": config[: len(config) // 2],
        })
        view = await poll_cli(lab, "core-sw1", 0.0, FAST)
        assert view.ok
        dom = view.command("dom")
        assert dom.status is TableStatus.ERROR and "Invalid input" in (dom.error or "") and not view.readings
        assert view.command("lldp").status in (TableStatus.ERROR, TableStatus.EMPTY) and not view.neighbors
        assert view.command("config").status is TableStatus.ERROR and "truncated" in (view.command("config").error or "")
        history = ConfigHistory("ssh-e2e", tmp_path)
        assert await poll_config(lab, "core-sw1", history, 0.0) is None and history.versions("core-sw1") == []

    with_lab(body)


def test_commands_outside_the_allow_list_are_refused_before_they_reach_the_device() -> None:
    async def body(lab: Lab) -> None:
        dev = lab_device(lab, "core-sw1")
        client = await NetmikoClient.connect(dev, cli_profile("cisco_ios"), 3.0)
        try:
            for bad in ("configure terminal", "reload", "copy running-config tftp://x", "show run | redirect flash:x",
                        "show version\nreload"):
                with pytest.raises(CommandRefused):
                    await client.send(bad)
            assert "hostname core-sw1" in await client.send("show running-config")
        finally:
            await client.close()
        seen = lab.ssh.servers["core-sw1"].commands_seen  # type: ignore[union-attr]
        assert "show running-config" in seen
        assert not [c for c in seen if c.split()[0] in ("configure", "reload", "copy")]

    with_lab(body)


def test_a_powered_off_device_fails_cleanly() -> None:
    async def body(lab: Lab) -> None:
        step(lab, 10, "power_off_device", device="leaf-a")
        view = await collect_device(lab_device(lab, "leaf-a"), options=FAST)
        assert not view.ok and view.error

    with_lab(body)


def test_no_secret_reaches_the_history_the_logs_or_the_report(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("netmiko", "paramiko"):
        logging.getLogger(name).setLevel(logging.DEBUG)  # even a debugging operator must not see them

    async def body(lab: Lab) -> dict[str, Any]:
        assert all(s in "\n".join(SECRET_LINES) or s == "$6$lab$rootHash" for s in SECRETS)
        history = ConfigHistory("ssh-e2e", tmp_path)
        reports = {}
        for name in ("core-sw1", "edge-j"):
            view = await poll_cli(lab, name, 0.0, FAST)
            assert view.config is not None and "<redacted>" in view.config
            assert await poll_config(lab, name, history, 0.0) is not None
            client = PysnmpClient()
            try:
                snap = await poll_device(name, lab.target(name, timeout=1.0, retries=1), client)
            finally:
                client.close()
            reports[name] = snapshot_json(attach(snap, view))
            reports[name + "-repr"] = repr(view)
        history.close()
        return reports

    try:
        reports = with_lab(body)
    finally:
        logging.getLogger("netmiko").setLevel(logging.INFO)
        logging.getLogger("paramiko").setLevel(logging.NOTSET)
    stored = b"".join(_git_objects(tmp_path))
    assert b"<redacted>" in stored
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
        assert secret not in caplog.text, secret
        assert secret not in str(reports), secret


def _git_objects(root: Path) -> list[bytes]:
    """Every object in every repository, inflated: what `git cat-file` would show."""
    import zlib

    out = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            data = (Path(dirpath) / f).read_bytes()
            try:
                out.append(zlib.decompress(data))
            except zlib.error:
                out.append(data)
    return out


def test_collect_with_the_protocol_records_each_command(tmp_path: Path) -> None:
    """`collect` takes any CliClient: a real netmiko session here, opened once and reused."""
    async def body(lab: Lab) -> None:
        dev = lab_device(lab, "spine-n")
        client = await NetmikoClient.connect(dev, cli_profile("cisco_nxos"), 3.0)
        try:
            view = await collect(dev, client, now=lambda: 42.0, options=CollectOptions(roles=("modules", "lldp")))
        finally:
            await client.close()
        assert view.taken_at == 42.0 and [c.role for c in view.commands] == ["modules", "lldp"]
        assert view.modules and view.neighbors and view.config is None

    with_lab(body)
