#!/usr/bin/env bash
# Sets up everything the suite needs (scripts/setup.sh test) and runs the whole test suite: the static checks
# (ruff, mypy) and then pytest, which also runs the package's doctests. Extra arguments go to pytest.
# Every step runs even when an earlier one failed, so one run shows every problem; the exit code is the worst.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test

failed=0
echo "test: ruff check"
.venv/bin/ruff check monitor tests benchmarks scripts || failed=1
echo "test: mypy"
.venv/bin/mypy || failed=1

set +e
# three workers; a test that reads a played lab scenario runs in that scenario's group, so each scenario is played
# once, and every other test in its file's group, so module fixtures are set up once (tests/conftest.py)
.venv/bin/python -m pytest -n 3 --dist loadgroup --durations=20 "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
  echo "test: pytest collected no test; that is a failure" >&2
  exit 1
fi
if [[ $rc -eq 0 && $failed -ne 0 ]]; then
  echo "test: the tests passed but a static check failed (see above)" >&2
  exit 1
fi
exit $rc
