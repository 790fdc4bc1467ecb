#!/usr/bin/env bash
# Sets up Saksi on a fresh Debian machine, by need: `setup.sh demo` installs only what the demo runs
# (python3-venv and Saksi itself); `setup.sh test` (the default) adds what the test suite needs: net-snmp,
# InfluxDB, Chromium, PostgreSQL and the test extras. Only missing Debian packages are installed. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

NEED=${1:-test}
case $NEED in
  demo) DEBIAN_PACKAGES=(python3-venv); EXTRAS="" ;;
  test) DEBIAN_PACKAGES=(python3-venv snmp snmpd influxdb chromium postgresql); EXTRAS="[test]" ;;
  *) echo "usage: setup.sh [demo|test]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  $PYTHON -m venv .venv
fi
# one stamp per need; the test install includes everything the demo needs
stamp=.venv/.saksi-installed-$NEED
[[ $NEED == demo && -f .venv/.saksi-installed-test && ! pyproject.toml -nt .venv/.saksi-installed-test ]] && exit 0
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  echo "setup: installing saksi${EXTRAS:+ with its test dependencies} into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$EXTRAS"
  touch "$stamp"
fi
