"""Shared test services: real agents started on free 127.0.0.1 ports and stopped by PID."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from _pytest.mark.structures import ParameterSet

    from monitor.lab.runner import RunResult

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
# In the repository, trimmed to what Saksi reads (tests/fixtures/README.md): the suite relies on these.
LIBRENMS = FIXTURES / "librenms"  # 12 real devices' SNMP recordings with LibreNMS's expectations (GPL-3.0+)
NTC = FIXTURES / "ntc"  # ntc-templates' real `show` outputs with their parsed values (Apache-2.0)
# Outside it, used when present and skipped with a reason when not: the wide corpus (librenms-wide/, the
# untrimmed librenms/ for the comparison tests), next to the checkout or where $SAKSI_CORPUS says.
CORPUS = Path(os.environ.get("SAKSI_CORPUS", ROOT.parent / "shared" / "corpus"))
VENV_BIN = Path(sys.executable).parent


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def corpus_devices() -> list[str]:
    if not LIBRENMS.is_dir():
        return []
    return sorted(p.stem for p in LIBRENMS.glob("*.snmprec"))


@dataclass(frozen=True)
class Agent:
    host: str
    port: int
    data_dir: Path


def _wait_udp_agent(port: int, community: str, proc: subprocess.Popen[bytes], deadline_s: float = 60.0) -> None:
    """Wait until the agent answers a real SNMP GET (snmpsim indexes recordings before it listens)."""
    import asyncio

    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        get_cmd,
    )

    async def probe() -> bool:
        eng = SnmpEngine()
        try:
            tgt = await UdpTransportTarget.create(("127.0.0.1", port), timeout=0.5, retries=0)
            ei, _, _, _ = await get_cmd(eng, CommunityData(community), tgt, ContextData(),
                                        ObjectType(ObjectIdentity("1.3.6.1.2.1.1.3.0")), lookupMib=False)
            return ei is None
        finally:
            eng.close_dispatcher()

    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"agent exited with {proc.returncode}")
        if asyncio.run(probe()):
            return
        time.sleep(0.2)
    raise RuntimeError("agent did not answer in time")


def start_snmpsim(data_dir: Path, work: Path, probe_community: str) -> tuple[Agent, subprocess.Popen[bytes]]:
    port = free_udp_port()
    log = open(work / f"snmpsim-{port}.log", "wb")
    proc = subprocess.Popen(
        [str(VENV_BIN / "snmpsim-command-responder"), f"--data-dir={data_dir}", f"--cache-dir={work / 'cache'}",
         f"--agent-udpv4-endpoint=127.0.0.1:{port}", "--v3-user=saksi", "--v3-auth-key=saksi-auth-key",
         "--v3-auth-proto=SHA256", "--v3-priv-key=saksi-priv-key", "--v3-priv-proto=AES"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"},
    )
    try:
        _wait_udp_agent(port, probe_community, proc)
    except Exception:
        proc.kill()
        raise
    return Agent("127.0.0.1", port, data_dir), proc


def start_snmpd(work: Path, community: str, *, port: int | None = None, namespace_setup: str = "",
                extra_conf: str = "") -> tuple[int, subprocess.Popen[bytes]]:
    """A real net-snmp snmpd on 127.0.0.1 (persistent state in `work`, so a restart counts snmpEngineBoots).

    `namespace_setup`: shell commands run first in a private mount namespace (unshare -m), e.g. mounting a
    filesystem only this snmpd sees; the process is snmpd itself (exec), so it is stopped by its PID.
    """
    if shutil.which("snmpd") is None:
        pytest.skip("net-snmp snmpd is not installed (scripts/setup.sh installs it)")
    port = port or free_udp_port()
    conf, persist = work / "conf", work / "persist"  # only these (not /etc/snmp); persist keeps engineBoots
    conf.mkdir(exist_ok=True)
    persist.mkdir(exist_ok=True)
    (conf / "snmpd.conf").write_text(f"rocommunity {community} 127.0.0.1\nsysName saksi-test\n{extra_conf}")
    cmd = ["snmpd", "-f", "-Lf", str(work / "snmpd.log"), f"udp:127.0.0.1:{port}"]
    if namespace_setup:
        cmd = ["unshare", "-m", "sh", "-c", f"{namespace_setup} && exec {' '.join(cmd)}"]
    env = {**os.environ, "MIBS": "", "MIBDIRS": "", "SNMPCONFPATH": f"{conf}:{persist}",
           "SNMP_PERSISTENT_DIR": str(persist)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_udp_agent(port, community, proc, deadline_s=20)
    except Exception as exc:
        proc.kill()
        pytest.skip(f"snmpd did not start here ({exc}); see {work / 'snmpd.log'}")
    return port, proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process this test started, by its PID."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """snmpsim serving the real-device corpus (read in place, copied to a temp dir) and our own fixtures."""
    work = tmp_path_factory.mktemp("snmpsim")
    data = work / "data"
    data.mkdir()
    for name in corpus_devices():
        shutil.copy(LIBRENMS / f"{name}.snmprec", data / f"{name}.snmprec")
    for rec in (FIXTURES / "snmprec").glob("*.snmprec"):
        shutil.copy(rec, data / rec.name)
    agent, proc = start_snmpsim(data, work, "garbage")
    yield agent
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def run_saksi(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real entry point, as an engineer runs it."""
    return subprocess.run([str(VENV_BIN / "saksi"), *args], capture_output=True, text=True, timeout=timeout)


# --- lab scenarios: each played once per suite run, its readers on one worker --------------------------------------
SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))
_running: list[pytest.Item] = []  # the test being set up or run in this process (a worker runs one at a time)


def on_scenario(path: Path) -> pytest.MarkDecorator:
    """The mark of a test that reads `played(path)`: that scenario's xdist group, so one worker plays it once."""
    return pytest.mark.xdist_group(f"scn:{path.stem}")


def scenario_params(paths: list[Path]) -> list[ParameterSet]:
    """`paths` as parameters named by their stems, each test in its scenario's group."""
    return [pytest.param(p, id=p.stem, marks=on_scenario(p)) for p in paths]


def played(path: Path) -> RunResult:
    """The scenario as the daemon's cycle plays it with the lab's defaults (the demo's alerting), played once per
    process and shared by every test that only reads it; a test that plays with other options plays its own."""
    item = _running[-1] if _running else None
    if item is not None:
        groups = {str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args}
        assert groups == {f"scn:{path.stem}"}, (
            f"{item.nodeid} reads the play of {path.name}: mark it with on_scenario(path), or the scenario is "
            f"played again on another worker")
    return _play(path)


@functools.cache
def _play(path: Path) -> RunResult:
    from monitor.lab import runner, scenario  # the lab's imports are heavy: only where a scenario is played

    return asyncio.run(runner.run(scenario.load(path)))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _running[:] = [item]


def _group_of(item: pytest.Item) -> str:
    """The item's xdist group, named as xdist names it (several marks: their names joined)."""
    names = {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
    return "_".join(sorted(names))


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Iterator[None]:
    """For `--dist loadgroup`: a test in a group (a scenario's) stays there; every other test joins its file's
    group, so module-scoped fixtures are still set up once, as with `--dist loadfile`.

    A worker tells the controller each test's group by a suffix to its node id. xdist 3.8 writes it where pytest
    9.2 no longer reads it (pytest-dev/pytest-xdist#1386), and every test would then be scheduled alone: after
    the other hooks, it is written where pytest reads it."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))  # its file
    yield
    if not config.getoption("loadgroup", False):  # set on the workers of --dist loadgroup only
        return
    from _pytest.nodeid import NodeId

    for item in items:
        suffix = f"@{_group_of(item)}"
        if not item.nodeid.endswith(suffix):  # xdist's own suffix is there with pytest < 9.2
            item._id = NodeId.parse(item.nodeid + suffix)
            assert item.nodeid.endswith(suffix), "this pytest keeps node ids elsewhere: see the docstring above"
