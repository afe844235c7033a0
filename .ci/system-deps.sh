#!/usr/bin/env bash
# System packages the tests need (installed only when missing): make, the Python venv module.
set -euo pipefail
need=()
command -v make >/dev/null || need+=(make)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi
