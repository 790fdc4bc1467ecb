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
