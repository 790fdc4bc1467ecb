"""`saksi run --web`: the monitor and the site view in one process, on one store, stopped together."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import run_saksi

SAKSI = Path(sys.executable).parent / "saksi"


def _inventory(tmp_path: Path) -> Path:
    inv = tmp_path / "inv.yaml"
    inv.write_text("customers: [{name: acme}]\nsites: [{name: hq, customer: acme}]\ndevices: []\n")
    return inv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_run_serves_the_web_view_and_sigterm_stops_both(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen([str(SAKSI), "run", "--inventory", str(_inventory(tmp_path)), "--db",
                             f"sqlite:///{tmp_path / 's.db'}", "--trap-port", "0", "--web", f"127.0.0.1:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, status = time.monotonic() + 30, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = _get(f"http://127.0.0.1:{port}/login")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200, proc.stdout.read() if proc.poll() is not None and proc.stdout else status
        assert _get(f"http://127.0.0.1:{port}/api/incidents") == 401, "the API still wants a login"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = proc.stdout.read() if proc.stdout else ""
    assert f"web view on http://127.0.0.1:{port}/" in out
    assert "Traceback" not in out, out


def test_a_web_port_in_use_is_a_clear_startup_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = run_saksi("run", "--inventory", str(_inventory(tmp_path)), "--db", f"sqlite:///{tmp_path / 's.db'}",
                      "--trap-port", "0", "--web", f"127.0.0.1:{port}")
    assert r.returncode == 2 and f"--web 127.0.0.1:{port}: cannot listen there" in r.stderr, r.stderr


def test_run_web_honours_secure_cookies_as_saksi_web_does(tmp_path: Path) -> None:
    """Behind TLS the embedded view must mark its session cookie Secure, exactly as `saksi web --secure-cookies`."""
    import httpx

    from tests.web.conftest import csrf_of

    db = f"sqlite:///{tmp_path / 's.db'}"
    (tmp_path / "pw").write_text("correct horse battery staple 42\n")
    added = run_saksi("users", "add", "erin", "--role", "engineer", "--password-file", str(tmp_path / "pw"),
                      "--db", db, "--inventory", str(_inventory(tmp_path)))
    assert added.returncode == 0, added.stderr
    port = _free_port()
    proc = subprocess.Popen([str(SAKSI), "run", "--inventory", str(_inventory(tmp_path)), "--db", db, "--trap-port",
                             "0", "--web", f"127.0.0.1:{port}", "--secure-cookies", "--trusted-proxy", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                _get(f"http://127.0.0.1:{port}/login")
                break
            except OSError:
                time.sleep(0.2)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            page = c.get("/login")
            cookies = page.headers.get_list("set-cookie")
            assert cookies and all("secure" in k.lower() for k in cookies), cookies
            # a Secure cookie never comes back over plain HTTP: the login form's CSRF check refuses the post
            r = c.post("/login", data={"name": "erin", "password": "correct horse battery staple 42",
                                       "csrf_token": csrf_of(page.text), "next": "/sites"})
        assert r.status_code == 403, r.status_code
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_web_options_without_web_or_a_bad_proxy_are_one_line_errors(tmp_path: Path) -> None:
    base = ["run", "--inventory", str(_inventory(tmp_path)), "--db", f"sqlite:///{tmp_path / 's.db'}",
            "--trap-port", "0"]
    r = run_saksi(*base, "--secure-cookies")
    assert r.returncode == 2 and r.stderr.strip() == "saksi: --secure-cookies needs --web", r.stderr
    r = run_saksi(*base, "--web", "127.0.0.1:0", "--trusted-proxy", "not-an-address")
    assert r.returncode == 2 and r.stderr.startswith("saksi: --trusted-proxy:") and r.stderr.count("\n") == 1, r.stderr
