#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The README's first command: set up, build the bundled example (the founding thread's paravirt
# save_fl alternative, whose PUSHF replacement moves the stack pointer mid-site) with gcc, then
# run orctool's pipeline on it: stack validation (warnings, if any), ORC generation, ORC dump.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
mkdir -p out
gcc -c examples/save_fl.S -o out/save_fl.o
echo "== orctool --orc out/save_fl.o (warnings, if any)"
bin/orctool --orc out/save_fl.o
echo "== orctool --dump=orc out/save_fl.o"
bin/orctool --dump=orc out/save_fl.o
