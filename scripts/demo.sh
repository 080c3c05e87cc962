#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The README's first command: set up, build the bundled example (the founding thread's
# paravirt save_fl alternative) with gcc, and run orctool on it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
mkdir -p out
gcc -c examples/save_fl.S -o out/save_fl.o
bin/orctool elf out/save_fl.o
