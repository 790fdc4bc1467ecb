#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the demo: snmpsim serves a recording of a real Cisco 3560
# (from the snmpsim-data package) on 127.0.0.1 and `saksi check` reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
work=$(mktemp -d)
trap 'kill "$agent" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/data"
bzcat .venv/lib/python3*/site-packages/snmpsim_data/data/network/switch/cisco-c3560.snmprec.bz2 \
  > "$work/data/cisco-c3560.snmprec"
port=$(.venv/bin/python -c 'import socket; s=socket.socket(2,2); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SNMPSIM_ALLOW_ROOT=true .venv/bin/snmpsim-command-responder --data-dir="$work/data" --cache-dir="$work/cache" \
  --agent-udpv4-endpoint="127.0.0.1:$port" >"$work/snmpsim.log" 2>&1 &
agent=$!
for _ in $(seq 60); do
  .venv/bin/saksi check --host 127.0.0.1 --port "$port" --community cisco-c3560 --timeout 0.5 --retries 0 \
    GigabitEthernet0/25 >/dev/null 2>&1 && break || [[ $? -eq 1 ]] && break
  sleep 0.5
done
echo "A Cisco 3560 (real recording) served by snmpsim on 127.0.0.1:$port"
.venv/bin/saksi check --host 127.0.0.1 --port "$port" --community cisco-c3560 "$@" || true
