"""One dialect: every command and option explains itself, flags look like flags, and the README's CLI
reference is what the commands print (so it cannot drift). All through the real entry point."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from tests.conftest import run_saksi

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "cli_reference.py"


def generator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GENERATOR), *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


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
