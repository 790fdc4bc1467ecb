#!/usr/bin/env bash
# Sets up everything the suite needs (scripts/setup.sh test) and runs the whole test suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test

# Static checks (ruff, mypy: both in the test extra) go here, before pytest, e.g.
#   .venv/bin/ruff check monitor tests && .venv/bin/mypy monitor

set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
  echo "test: pytest collected no test; that is a failure" >&2
  exit 1
fi
exit $rc
