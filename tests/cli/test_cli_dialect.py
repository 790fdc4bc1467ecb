"""One dialect: every command and option explains itself, flags look like flags, and the README's CLI
reference is what the commands print (so it cannot drift). All through the real entry point."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.check.test_unused import LiveLab
from tests.conftest import run_saksi

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "cli_reference.py"


def generator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GENERATOR), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_the_readme_reference_is_what_the_commands_print() -> None:
    r = generator("--check")
    assert r.returncode == 0, r.stderr + "\n(run: .venv/bin/python scripts/cli_reference.py --write)"
    assert "### `saksi check`" in (ROOT / "README.md").read_text()


def test_a_stale_reference_fails_the_check(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text().replace("print the version and exit", "print it"))
    r = generator("--check", "--readme", str(readme))
    assert r.returncode == 1 and "stale" in r.stderr


def test_every_command_and_option_has_help() -> None:
    r = generator("--missing")
    assert r.returncode == 0 and r.stdout == "", r.stdout


def test_flags_render_as_flags_and_the_version_is_the_package_one() -> None:
    for args in (["--help"], ["check", "--help"], ["run", "--help"], ["lab", "run", "--help"]):
        r = run_saksi(*args)
        assert r.returncode == 0 and "<bool>" not in r.stdout, r.stdout
    assert "-v, --verbose" in run_saksi("--help").stdout
    r = run_saksi("--version")
    assert r.returncode == 0 and r.stdout == f"saksi {version('saksi')}\n"


# --- the sweep: one reference form, one port-name form ------------------------------------------------------

REF = re.compile(r"\b(?:SAK|INC)-\d+\b")
SHORT_PORT = re.compile(r"(?<![\w/-])(?:Gi|Te|Fa|Et|Eth|Twe|Fo|Hu)\d+(?:/\d+)*\b")  # Gi1/0/49, Te1/1/1, Et1
SCENARIO = ROOT / "tests" / "scenarios" / "sfp-moved-on-core.yaml"


@pytest.fixture
def lab() -> Iterator[LiveLab]:
    live = LiveLab()
    try:
        yield live
    finally:
        live.close()


def test_every_command_speaks_one_reference_form_and_one_port_name_form(lab: LiveLab, tmp_path: Path) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(lab.lab.inventory_yaml(site="lab"))
    db = ["--db", f"sqlite:///{tmp_path / 'saksi.db'}"]
    checked = run_saksi("check", "-i", str(inv), "core-sw1", "gi1/0/49", "--no-ssh", "--json")
    assert checked.returncode == 0, checked.stderr
    serial = json.loads(checked.stdout)["ports"][0]["transceiver"]["serial"]
    assert run_saksi("run", "--once", "-i", str(inv), *db, "--trap-port", "0").returncode == 0
    lab.step(1, "remove_transceiver", device="core-sw1", port="Gi1/0/49")
    once = run_saksi("run", "--once", "-i", str(inv), *db, "--trap-port", "0")
    assert once.returncode == 0, once.stderr
    # run says what it does on start (INFO, not WARNING) and --once ends with a summary
    assert "INFO monitor.cli.run: watching 2 devices at 1 site, each polled every 60 s" in once.stderr
    assert "traps off" in once.stderr and "WARNING" not in once.stderr, once.stderr
    assert once.stdout == "saksi run --once: 2 devices: 2 answered; 1 open incident\n", once.stdout
    listed = json.loads(run_saksi("incidents", *db, "--json").stdout)
    assert listed and all(re.fullmatch(r"SAK-\d{6}", i["id"]) for i in listed), listed
    ref = listed[0]["id"]
    outputs = {
        "check": run_saksi("check", "-i", str(inv), "core-sw1", "--no-ssh"),
        "incidents": run_saksi("incidents", *db),
        "incident show": run_saksi("incident", "show", ref.lower(), *db),
        "incident show by number": run_saksi("incident", "show", str(int(ref.split("-")[1])), *db, "--json"),
        "whereis (any case)": run_saksi("whereis", serial.lower(), *db),
        "run --once": once,
        "lab run": run_saksi("lab", "run", str(SCENARIO)),
    }
    for what, r in outputs.items():
        assert r.returncode in (0, 1) and "Traceback" not in r.stderr, f"{what}: {r.stderr}"
        text = r.stdout + r.stderr
        refs = set(REF.findall(text))
        assert all(re.fullmatch(r"SAK-\d{6}", x) for x in refs), f"{what}: {sorted(refs)}"
        short = sorted(set(SHORT_PORT.findall(text)))
        assert not short, f"{what}: short port names {short}"
    assert outputs["whereis (any case)"].returncode == 0 and "GigabitEthernet1/0/49" in outputs[
        "whereis (any case)"].stdout
    shown = outputs["incident show"].stdout
    assert ref in shown and "GigabitEthernet1/0/49" in shown
    assert REF.search(outputs["lab run"].stdout), "the lab's incidents carry references too"
