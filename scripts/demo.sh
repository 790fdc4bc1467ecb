#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the demo: the SFP story on a simulated site of real SNMP agents
# on 127.0.0.1, polled by the real monitor on a simulated clock.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/saksi lab demo "$@"
