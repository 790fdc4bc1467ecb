#!/usr/bin/env bash
# Sets up only what the demo uses (scripts/setup.sh demo: no Chromium, PostgreSQL, InfluxDB or test extras)
# and runs it: the SFP story on a simulated site of real SNMP agents on 127.0.0.1, polled by the real
# monitor on a simulated clock.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo
exec .venv/bin/saksi lab demo "$@"
