#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Everything orctool's demo and tests need on a fresh Debian machine: the toolchain that builds
# fixtures (gcc, binutils), xz for the module corpus, then the npm packages and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

# --minimal: only what the demo needs (gcc and binutils; no browser, no corpus tools).
tools="gcc:gcc as:binutils readelf:binutils objdump:binutils ld:binutils"
# chromium renders `orctool explain --html` in a test; time(1) measures peak memory in benchmarks.
[ "${1:-}" = --minimal ] || tools="$tools xz:xz-utils flock:util-linux chromium:chromium /usr/bin/time:time"
need=()
for tool in $tools; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# npm ci only when the lock file changed since the last install: it is the slow step.
stamp=node_modules/.orctool-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
npm run --silent build
