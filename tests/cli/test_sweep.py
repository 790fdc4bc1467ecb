"""Every `saksi` command with malformed arguments: one line on stderr, exit 2, never a traceback.

The commands are discovered from the Typer app itself, so a command added tomorrow is swept too. Each case
runs through the real entry point (`monitor.cli.main.main`, as the `saksi` script calls it) in this process,
because a subprocess per case would cost a second of start-up for several hundred cases; a few cases at the
end go through the installed `saksi` script as well.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import typer

from monitor.cli.main import app, main
from tests.conftest import run_saksi

EXIT_BAD_INPUT = 2  # documented in `saksi --help` (monitor.cli.main.EXIT_CODES): usage or bad input
HUGE = "9" * 20  # beyond SQLite's signed 64-bit INTEGER
# the daemon and the web server, given everything they need but the one bad value: a value they do not
# refuse would start them (run: --once, so it ends with exit 0 and the case fails instead of hanging)
READY: dict[tuple[str, ...], tuple[str, ...]] = {("run",): ("--once", "--trap-port", "0", "--inventory", "{tmp}/inventory.yaml", "--db", "sqlite:///{tmp}/s.db"),
         ("web",): ("--inventory", "{tmp}/inventory.yaml", "--db", "sqlite:///{tmp}/s.db")}
STARTS_A_STORE = {("run",), ("web",), ("users", "add")}  # may create a new store file (never its directory)
INVENTORY = """
customers:
  - {name: acme}
sites:
  - {name: hq, customer: acme}
credentials:
  snmp:
    lab: {version: 2c, community: public}
devices:
  - {name: core-sw1, site: hq, host: 127.0.0.1, port: 1, platform: cisco_ios, snmp: lab, timeout: 0.2, retries: 0}
"""


@dataclass(frozen=True)
class Case:
    path: tuple[str, ...]
    why: str
    args: tuple[str, ...]  # {tmp} is replaced by the test's temporary directory

    @property
    def id(self) -> str:
        return f"{' '.join(self.path)}|{self.why}"


def _leaves(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subs = getattr(cmd, "commands", None)
    if subs is None:
        yield path, cmd
        return
    for name, sub in sorted(subs.items()):
        yield from _leaves(sub, (*path, name))


def _kind(param: Any) -> type | None:
    """The Python type a parameter holds (the element type of a list, the X of X | None)."""
    t = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    while get_origin(t) is not None:
        inner = [a for a in get_args(t) if a is not type(None)]
        t = inner[0] if inner else None
    return t if isinstance(t, type) else None


def _neutral(param: Any) -> str:
    """A value that is well-formed for the parameter's type, so a case exercises only its one defect."""
    kind = _kind(param)
    if kind is not None and issubclass(kind, bool):
        return ""
    if kind is not None and issubclass(kind, (int, float)):
        return "1"
    if kind is not None and issubclass(kind, Path):
        return "{tmp}/missing.yaml"
    return "no-such-thing"


def _base(cmd: Any, replace: dict[str, str] | None = None) -> list[str]:
    """The required arguments and options, filled with neutral values (or the replacement for one)."""
    replace = replace or {}
    args: list[str] = list(READY.get(_path_of(cmd), ()))
    for p in cmd.params:
        given = replace.get(p.name)
        if p.param_type_name == "argument" and (p.required or given is not None):
            args.append(given if given is not None else _neutral(p))
        elif p.param_type_name == "option" and (p.required or given is not None):
            args += [p.opts[0], given if given is not None else _neutral(p)]
    return args


def _with(cmd: Any, p: Any, value: str) -> tuple[str, ...]:
    return tuple(_base(cmd, {p.name: value}))


_PATHS: dict[int, tuple[str, ...]] = {}


def _path_of(cmd: Any) -> tuple[str, ...]:
    return _PATHS.get(id(cmd), ())


def cases() -> list[Case]:
    out: list[Case] = []
    for path, cmd in _leaves(typer.main.get_command(app)):
        _PATHS[id(cmd)] = path
        out.append(Case(path, "unknown-option", (*_base(cmd), "--no-such-option")))
        if any(p.required for p in cmd.params):
            out.append(Case(path, "nothing", ()))
        if not cmd.params:
            out.append(Case(path, "extra-argument", ("surplus",)))
        for p in cmd.params:
            kind = _kind(p)
            if kind is not None and issubclass(kind, bool) or getattr(p, "is_flag", False):
                continue
            if kind is not None and issubclass(kind, (int, float)):
                out.append(Case(path, f"{p.name}=not-a-number", _with(cmd, p, "not-a-number")))
                out.append(Case(path, f"{p.name}=huge", _with(cmd, p, HUGE)))
                out.append(Case(path, f"{p.name}=negative", _with(cmd, p, "-5")))
            if kind is not None and issubclass(kind, float):
                out.append(Case(path, f"{p.name}=nan", _with(cmd, p, "nan")))
            if kind is not None and issubclass(kind, Path):
                out.append(Case(path, f"{p.name}=missing-file", _with(cmd, p, "{tmp}/no/such/file.yaml")))
                out.append(Case(path, f"{p.name}=garbage-file", _with(cmd, p, "{tmp}/garbage.bin")))
            if p.name == "db":
                for why, url in (("not-a-url", "notaurl"), ("proc", "sqlite:////proc/x.db"),
                                 ("no-directory", "sqlite:///{tmp}/no/such/dir/saksi.db"),
                                 *(() if path in STARTS_A_STORE else (("typo-file", "sqlite:///{tmp}/typo.db"),)),
                                 ("unknown-dialect", "nosuchdb://x/y"),
                                 ("no-server", "postgresql+psycopg://saksi:secret@127.0.0.1:1/saksi")):
                    out.append(Case(path, f"db={why}", (*_base(cmd), "--db", url)))
            if p.name == "ref":
                for why, ref in (("huge", HUGE), ("huge-sak", f"SAK-{HUGE}"), ("not-ascii", "SAK-١٢٣"),
                                 ("empty", ""), ("words", "drop table")):
                    out.append(Case(path, f"ref={why}", (*_with(cmd, p, ref), "--db", "sqlite:///{tmp}/s.db")))
            if p.name in ("device", "args"):
                out.append(Case(path, f"{p.name}=unknown-device",
                                (*_with(cmd, p, "no-such-device"), "--inventory", "{tmp}/inventory.yaml")))
            if p.name == "inventory":
                out.append(Case(path, "inventory=garbage", (*_base(cmd), "--inventory", "{tmp}/garbage.bin")))
    return out


CASES = cases()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "garbage.bin").write_bytes(b"\x00\xff{[: not yaml\n\x89PNG")
    (tmp_path / "inventory.yaml").write_text(INVENTORY)
    from monitor.state.store import Store

    Store(f"sqlite:///{tmp_path / 's.db'}").close()  # an empty, real store: a huge reference must not reach SQL
    monkeypatch.chdir(tmp_path)  # no inventory/ and no var/ here: defaults are missing too
    monkeypatch.delenv("SAKSI_DB", raising=False)
    monkeypatch.delenv("SAKSI_ALERTING", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    return tmp_path


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    root = logging.getLogger()
    for h in list(root.handlers):  # basicConfig in main() then writes to this case's captured stderr
        root.removeHandler(h)
    saved = sys.argv
    sys.argv = ["saksi", *args]
    try:
        main()
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.argv = saved
    out, err = capsys.readouterr()
    return (code if isinstance(code, int) else 1), out, err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_arguments_give_one_line_and_exit_2(case: Case, workdir: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    args = [*case.path, *(a.replace("{tmp}", str(workdir)) for a in case.args)]
    code, out, err = _run(args, capsys)
    lines = [line for line in err.splitlines() if line.strip() and "deprecated" not in line]  # notes aside
    assert "Traceback" not in err + out, f"saksi {' '.join(args)}\n{err}"
    assert code == EXIT_BAD_INPUT, f"saksi {' '.join(args)} exited {code}: {err or out}"
    assert len(lines) == 1 and "saksi" in lines[0].split(":")[0], f"saksi {' '.join(args)}: not one line:\n{err}"
    assert "secret" not in err  # a password in --db never reaches the terminal


def test_the_exit_codes_are_documented(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["--help"], capsys)
    assert code == 0 and "Exit codes:" in out and "2 bad input" in " ".join(out.split())


def test_the_sweep_covers_every_command() -> None:
    """The sweep is derived from the app: each command has cases, and the known groups are there."""
    swept = {c.path for c in CASES}
    leaves = {p for p, _ in _leaves(typer.main.get_command(app))}
    assert swept == leaves
    assert {("incident", "show"), ("incident", "ack"), ("run",), ("users", "list"), ("web",)} <= leaves


@pytest.mark.parametrize("args", [
    ["incident", "show", HUGE], ["incident", "ack", f"SAK-{HUGE}"], ["run", "--db", "sqlite:////proc/x.db"],
    ["users", "list", "--db", "notaurl"], ["users", "list", "--db", "sqlite:///typo.db"]],
    ids=["show-huge", "ack-huge", "run-proc", "users-notaurl", "users-typo"])
def test_the_installed_script_says_one_line(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "site.yaml").write_text(INVENTORY)
    monkeypatch.chdir(tmp_path)
    r = run_saksi(*args, "--db", f"sqlite:///{tmp_path / 'none.db'}") if "--db" not in args else run_saksi(*args)
    assert r.returncode == EXIT_BAD_INPUT and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "typo.db").exists() and not (tmp_path / "none.db").exists()


def test_a_typed_directory_is_never_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "site.yaml").write_text(INVENTORY)
    monkeypatch.chdir(tmp_path)
    r = run_saksi("run", "--once", "--db", f"sqlite:///{tmp_path / 'no' / 'dir' / 'saksi.db'}")
    assert r.returncode == EXIT_BAD_INPUT and "no directory" in r.stderr, r.stderr
    assert not (tmp_path / "no").exists()
