"""What a `saksi` process costs before it does anything: the median of N runs of three commands that do little.

Run from the project root:

    .venv/bin/python benchmarks/cli_startup.py [--runs 15]

Each command runs through the real entry point (the venv's `saksi` script), one process at a time:

  `saksi --help`                      the group's help: Typer builds every command's signature;
  `saksi whereis X --db sqlite:///…`  a lookup in an empty store (a temporary file this script creates first),
                                      which answers "not found" (exit 1);
  `saksi check --help`                one command's help.

It prints the median wall time and the median CPU time (user + system, from getrusage(RUSAGE_CHILDREN)) of each.
On a shared machine the wall time follows the load; the CPU time is the steadier figure. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from monitor.state.url import open_store

SAKSI = str(Path(sys.executable).parent / "saksi")  # the real entry point, as an engineer runs it


def run_once(saksi: str, args: Sequence[str]) -> tuple[float, float, int]:
    """One run of `saksi ARGS`: its wall time, its CPU time (seconds) and its exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    code = subprocess.run([saksi, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, code


def measure(saksi: str, args: Sequence[str], runs: int) -> tuple[float, float, set[int]]:
    """Median wall and CPU seconds of `runs` runs (after one uncounted warm-up), and the exit codes seen."""
    run_once(saksi, args)
    results = [run_once(saksi, args) for _ in range(runs)]
    return (statistics.median(r[0] for r in results), statistics.median(r[1] for r in results),
            {r[2] for r in results})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (default 15)")
    parser.add_argument("--saksi", default=SAKSI, help="the command to time (default: this venv's saksi; another "
                        "checkout's, to compare in the same conditions)")
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="saksi-startup-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'saksi.db'}"
        open_store(db, create=True).close()  # `whereis` reads a store, it never creates one
        commands = {"saksi --help": ["--help"], "saksi whereis X --db sqlite:///<tmp>": ["whereis", "X", "--db", db],
                    "saksi check --help": ["check", "--help"]}
        print(f"{'command':<40} {'wall ms':>8} {'cpu ms':>8}  exit  ({opts.runs} runs, medians)")
        for label, args in commands.items():
            wall, cpu, codes = measure(opts.saksi, args, opts.runs)
            print(f"{label:<40} {wall * 1000:8.0f} {cpu * 1000:8.0f}  {','.join(map(str, sorted(codes)))}")


if __name__ == "__main__":
    main()
