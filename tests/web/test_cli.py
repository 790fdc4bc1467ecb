"""`saksi users`, `saksi tokens` and `saksi web` through the real entry point; the server is stopped by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.web.conftest import INVENTORY, free_port

SAKSI = [sys.executable, "-m", "monitor"]


def run(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SAKSI, *args], check=False, capture_output=True, text=True, env=env, timeout=60, input=stdin,
                          cwd=env["WORK"])


def test_users_tokens_and_the_web_server(tmp_path: Path) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "sites.yaml").write_text(INVENTORY)
    env = {**os.environ, "SAKSI_DB": f"sqlite:///{tmp_path / 'saksi.db'}", "WORK": str(tmp_path),
           "SAKSI_WEB_TEST_COMMUNITY": "lab-community"}
    (tmp_path / "pw").write_text("a long password\n")
    ok = run("users", "add", "erin", "--role", "engineer", "--password-file", str(tmp_path / "pw"), env=env)
    assert ok.returncode == 0, ok.stderr
    bad = run("users", "add", "zed", "--role", "customer", "--customer", "nobody", "--password-file",
              str(tmp_path / "pw"), env=env)
    assert bad.returncode == 2 and "unknown customer" in bad.stderr
    no_tty = run("users", "add", "zed", "--role", "engineer", env=env, stdin="")
    assert no_tty.returncode == 2 and "--password-file" in no_tty.stderr
    assert "erin\tengineer" in run("users", "list", env=env).stdout

    added = run("tokens", "add", "--customer", "acme", "--site", "sfp-moved-on-core", env=env)
    assert added.returncode == 0, added.stderr
    token_id, link = added.stdout.split()
    assert run("tokens", "add", "--customer", "acme", "--site", "globex-hq", env=env).returncode == 2
    reporter = run("tokens", "add", "--customer", "acme", "--label", "ACME on-call", "--can-report", env=env)
    assert reporter.returncode == 0, reporter.stderr
    listed = {line.split("\t")[0]: line.split("\t") for line in run("tokens", "list", env=env).stdout.splitlines()}
    assert listed[token_id][1:5] == ["live", "acme", "sfp-moved-on-core", "read"]
    assert listed[reporter.stdout.split()[0]][1:] == ["live", "acme", "*", "read+report", "ACME on-call"]

    port = free_port()
    proc = subprocess.Popen([*SAKSI, "web", "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(f"{base}/login").status_code == 200
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "saksi web did not start"
                time.sleep(0.2)
        path = link.replace("http://127.0.0.1:8080", "")
        with httpx.Client(base_url=base, follow_redirects=True) as c:
            assert c.get(path).status_code == 200  # follows to the site page
            assert "sfp-moved-on-core" in c.get("/sites").text
            assert run("tokens", "revoke", token_id, env=env).returncode == 0
            assert c.get("/sites").status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def test_weak_passwords_unknown_customers_and_account_changes(tmp_path: Path) -> None:
    """Issue 16 #10: ten spaces were a password, `--customer nosuch` passed without an inventory, and a
    disabled user could not be enabled again nor a password changed."""
    elsewhere = tmp_path / "no-inventory-here"
    elsewhere.mkdir()
    env = {**os.environ, "SAKSI_DB": f"sqlite:///{tmp_path / 'saksi.db'}", "WORK": str(elsewhere)}
    pw = {name: tmp_path / name for name in ("spaces", "good", "new")}
    pw["spaces"].write_text(" " * 10 + "\n")
    pw["good"].write_text("a long password\n")
    pw["new"].write_text("another long one\n")

    def one_line_error(r: subprocess.CompletedProcess[str], words: str) -> None:
        assert r.returncode == 2 and words in r.stderr, (r.returncode, r.stderr)
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr

    weak = run("users", "add", "erin", "--role", "engineer", "--password-file", str(pw["spaces"]), env=env)
    one_line_error(weak, "only spaces")
    assert run("users", "add", "erin", "--role", "engineer", "--password-file", str(pw["good"]),
               env=env).returncode == 0
    nosuch = run("users", "add", "zed", "--role", "customer", "--customer", "nosuch", "--password-file",
                 str(pw["good"]), env=env)
    one_line_error(nosuch, "unknown customer 'nosuch'")
    assert "zed" not in run("users", "list", env=env).stdout

    one_line_error(run("users", "passwd", "erin", "--password-file", str(pw["spaces"]), env=env), "only spaces")
    one_line_error(run("users", "passwd", "nobody", "--password-file", str(pw["new"]), env=env), "no user")
    one_line_error(run("users", "enable", "nobody", env=env), "no user")
    assert run("users", "disable", "erin", env=env).returncode == 0
    assert "erin\tengineer\t- disabled" in run("users", "list", env=env).stdout
    assert run("users", "enable", "erin", env=env).returncode == 0
    assert "disabled" not in run("users", "list", env=env).stdout
    changed = run("users", "passwd", "erin", "--password-file", str(pw["new"]), env=env)
    assert changed.returncode == 0, changed.stderr

    from monitor.state.store import Store
    from monitor.web import accounts

    with Store(env["SAKSI_DB"]) as store:
        assert accounts.authenticate(store.engine, "erin", "another long one") is not None
        assert accounts.authenticate(store.engine, "erin", "a long password") is None

    one_line_error(run("web", "--trusted-proxy", "not-an-address", "--inventory", str(elsewhere), env=env),
                   "--trusted-proxy")
