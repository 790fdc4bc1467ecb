"""Totals of what Saksi finds on the LibreNMS recordings, scored as tests/collectors/test_corpus_wide.py scores them.

`../shared/tools/compare_librenms.py` is the reference script; this prints the same four figures with the test's
scorer, which also places a LibreNMS sensor through its canonical port name ("TenGigE0/0/0/0" is
"TenGigabitEthernet0/0/0/0") and counts only thresholds the device states (not LibreNMS's guesses around the
current value). It serves each folder with snmpsim and runs `saksi check --json` per recording, as the test does.

    .venv/bin/python benchmarks/corpus_score.py [librenms] [librenms-wide]    # SAKSI_CORPUS overrides ../shared/corpus
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.collectors.test_corpus_wide import FOLDERS, Score, _check_one, devices, score  # noqa: E402
from tests.conftest import start_snmpsim, stop  # noqa: E402


def totals(folder: str) -> tuple[Score, int]:
    names = devices(folder)
    total = Score()
    with tempfile.TemporaryDirectory(prefix="saksi-corpus-") as tmp:
        work = Path(tmp)
        data = work / "data"
        data.mkdir()
        for n in names:
            shutil.copy(FOLDERS[folder] / f"{n}.snmprec", data / f"{n}.snmprec")
        agent, proc = start_snmpsim(data, work, names[0])
        try:
            for n in names:
                s = score(folder, n, _check_one(agent, n))
                for part in ("ports", "transceivers", "dom", "thresholds"):
                    mine, theirs = getattr(s, part), getattr(total, part)
                    theirs[0] += mine[0]
                    theirs[1] += mine[1]
                total.guessed += s.guessed
        finally:
            stop(proc)
    return total, len(names)


def main(folders: list[str]) -> None:
    for folder in folders or list(FOLDERS):
        if not devices(folder):
            print(f"{folder}: absent ({FOLDERS[folder]})")
            continue
        t, n = totals(folder)
        cells = [f"{a}/{b} ({100 * a / b:.0f} %)" if b else "0/0" for a, b in
                 (t.ports, t.transceivers, t.dom, t.thresholds)]
        print(f"{folder} ({n} devices): ports {cells[0]}, transceivers {cells[1]}, DOM {cells[2]}, "
              f"stated thresholds {cells[3]} (LibreNMS guesses left out: {t.guessed})")


if __name__ == "__main__":
    main(sys.argv[1:])
