#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The README's first command: set up, build the bundled example (the founding thread's paravirt
# save_fl alternative, whose PUSHF replacement moves the stack pointer mid-site) with gcc, then
# run orctool's pipeline on it: stack validation (warnings, if any) and ORC generation, the
# site's per-offset table, the ORC dump, and verify.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --minimal >&2
mkdir -p out
gcc -c examples/save_fl.S -o out/save_fl.o
export ORCTOOL_SERVER=0
echo "== orctool --orc out/save_fl.o (stack validation; warnings, if any)"
bin/orctool --orc out/save_fl.o
echo
echo "== orctool explain out/save_fl.o save_fl_demo+0x4 (the alternative site, offset by offset)"
bin/orctool explain out/save_fl.o save_fl_demo+0x4
echo
echo "== orctool --dump=orc out/save_fl.o (the ORC table made from that merge)"
bin/orctool --dump=orc out/save_fl.o
echo
echo "== orctool verify out/save_fl.o (the table against every variant the kernel can patch in)"
bin/orctool verify out/save_fl.o
