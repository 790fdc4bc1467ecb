"""A `saksi` process loads only what its command needs: importing the command line, or printing its help, must
not import the daemon, the lab, the web app or their libraries (the test suite starts hundreds of `saksi`
processes, and an engineer's `saksi whereis` should not wait for FastAPI).

A module check in a fresh interpreter, not a timing: `benchmarks/cli_startup.py` measures the time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# what the commands import when they run, each with a module of the project that loads it at import time
HEAVY = {
    "fastapi": "monitor.web.app",
    "uvicorn": "monitor.web.server",
    "monitor.web.app": "monitor.web.app",
    "monitor.lab.runner": "monitor.lab.runner",
    "monitor.alerts.pipeline": "monitor.alerts.pipeline",
    "monitor.daemon.monitor": "monitor.daemon.monitor",
    "apscheduler": "monitor.daemon.monitor",
    "monitor.collectors.poll": "monitor.collectors.poll",
    "pysnmp.hlapi": "monitor.collectors.snmp",
    "sqlalchemy": "monitor.state.store",
    "influxdb_client": "monitor.timeseries.influx",
    "dulwich": "monitor.confighist.history",
    "hier_config": "monitor.confighist.diff",
    "ruamel.yaml": "monitor.discover.inventory_file",
    "monitor.inventory": "monitor.inventory",
}
# a fresh interpreter imports these, optionally runs `saksi ARGS` through the real entry point, and prints
# the names of the modules it holds
PROBE = """
import json, sys
for name in json.loads(sys.argv[1]):
    __import__(name)
if len(sys.argv) > 2:
    from monitor.cli.main import main
    sys.argv = ["saksi", *sys.argv[2:]]
    try:
        main()
    except SystemExit:
        pass
sys.stderr.write(json.dumps(sorted(sys.modules)))
"""


def loaded(imports: list[str], *saksi_args: str) -> set[str]:
    """The modules a fresh interpreter holds after importing `imports` (and running `saksi ARGS`)."""
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps(imports), *saksi_args],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stderr.splitlines()[-1]))


def heavy_in(modules: set[str]) -> list[str]:
    """The heavy names present, each as a package or one of its submodules.

    >>> heavy_in({"sqlalchemy.engine", "typer", "monitor.lab.runner"})
    ['monitor.lab.runner', 'sqlalchemy']
    """
    return sorted(h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in modules))


def test_importing_the_command_line_loads_none_of_the_heavy_modules() -> None:
    modules = loaded(["monitor.cli.main"])
    assert {"typer", "monitor.cli.main", "monitor.cli.run", "monitor.cli.web"} <= modules  # every command registered
    assert heavy_in(modules) == []


@pytest.mark.parametrize("args", [("--help",), ("check", "--help"), ("lab", "--help"), ("config", "diff", "--help"),
                                  ("incident", "ack", "--help"), ("run", "--help")], ids=" ".join)
def test_a_commands_help_loads_none_of_the_heavy_modules(args: tuple[str, ...]) -> None:
    assert heavy_in(loaded([], *args)) == []


def test_the_heavy_names_are_what_their_modules_load() -> None:
    """The control: each name is a module its owner really imports, so the checks above can fail."""
    modules = loaded(sorted(set(HEAVY.values())))
    assert heavy_in(modules) == sorted(HEAVY)
