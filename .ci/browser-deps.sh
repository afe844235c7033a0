#!/usr/bin/env bash
# Browser tests' system needs: Debian's `chromium` package, installed only when missing.
# Playwright drives it through executable_path=/usr/bin/chromium; never `playwright install`.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium
fi
