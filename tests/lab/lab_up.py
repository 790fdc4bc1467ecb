"""`saksi lab up` as the tests run it: its own process, the inventory it writes, and its lines as they come.

A test that needs the lab's real-time steps waits for the line that says a step was applied ("t=20s applied
step 1: change_config") instead of asking the devices again and again, one `saksi` process per look.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

SAKSI = Path(sys.executable).parent / "saksi"


class LabUp:
    """One `saksi lab up SCENARIO --write-inventory FILE` process, stopped by its PID."""

    def __init__(self, scenario_yaml: str, tmp: Path, *args: str) -> None:
        (tmp / "up.yaml").write_text(scenario_yaml)
        self.inventory = tmp / "lab.yaml"
        self.proc = subprocess.Popen([str(SAKSI), "lab", "up", str(tmp / "up.yaml"), "--write-inventory",
                                      str(self.inventory), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._ended = False
        self._news = threading.Condition()
        threading.Thread(target=self._read, name="lab-up-output", daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._news:
                self.lines.append(line.rstrip())
                self._news.notify_all()
        with self._news:
            self._ended = True
            self._news.notify_all()

    def wait_line(self, text: str, timeout: float = 30.0) -> str:
        """The first line that contains `text`; fails the test if none comes within `timeout` seconds."""
        def found() -> str | None:
            return next((line for line in self.lines if text in line), None)

        with self._news:
            self._news.wait_for(lambda: found() is not None or self._ended, timeout)
            line = found()
        assert line is not None, f"lab up said no {text!r} within {timeout:g}s: {self.lines[-20:]}"
        return line

    def started(self) -> Path:
        """The inventory, once lab up has written it."""
        self.wait_line("inventory written to")  # the path itself may be wrapped onto the next line
        assert self.inventory.exists(), self.lines
        return self.inventory

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; its exit code."""
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(15)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
