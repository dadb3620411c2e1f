#!/usr/bin/env bash
# Makes sure a headless Chromium is there for the report.html browser test: prints its path. Uses
# OTEL_HARNESS_CHROMIUM or /usr/bin/chromium; otherwise (as root, on Debian or Ubuntu) installs Debian's
# chromium package once. Exit 5 when none can be had.
set -euo pipefail
say() { echo "chromium: $*" >&2; }

for candidate in "${OTEL_HARNESS_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "no Chromium found; install Debian's chromium (sudo apt-get install -y chromium) or set OTEL_HARNESS_CHROMIUM"
  exit 5
fi
say "installing chromium from Debian (one time)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q chromium >/dev/null
echo /usr/bin/chromium
