#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Coverage-guided fuzzing of orctool with Jazzer.js (libFuzzer in Node), one target at a time:
#
#   scripts/fuzz.sh TARGET [--time=SECONDS] [--stop] [-- LIBFUZZER_OPTIONS...]   fuzz (300 s)
#   scripts/fuzz.sh TARGET --triage              replay every finding, grouped by exception and frame
#   scripts/fuzz.sh TARGET --reproduce=FILE      run one input (a finding) once, as the fuzzer did
#   scripts/fuzz.sh TARGET --minimize=FILE [--time=SECONDS]   minimise a finding (-minimize_crash=1)
#   scripts/fuzz.sh TARGET --reseed              build the target's seeds again first
#   scripts/fuzz.sh --setup                      only set up the runtime
#
# TARGET: elf check dump patch verify explain (src/fuzz/<target>.ts, run from dist/: `npm run
# fuzz -- TARGET ...` builds first). A finding is an exception other than orctool's typed errors,
# a hang (10 s per input) or running out of memory. A run goes on after a finding (libFuzzer's
# -fork=1 with -ignore_crashes/-ignore_timeouts/-ignore_ooms: one fuzzing process, restarted
# after each finding); --stop fuzzes in a single process that stops at the first one.
#
# Jazzer.js 4's prebuilt addon needs glibc 2.38 and GLIBCXX_3.4.32, newer than bookworm's, so Node
# runs under Debian trixie's dynamic loader with trixie's libc6, libstdc++6 and libgcc-s1, fetched
# once through scripts/debian-suites.sh's private apt configuration (`apt-get download` and
# `dpkg -x` only; the system's apt sources are never touched) into $CACHE/rt, where $CACHE/rt/node
# runs the machine's node with them. Also in $CACHE (ORCTOOL_FUZZ, default ~/.cache/orctool-fuzz):
#   seeds/TARGET     the seed corpus, built once at run time (src/fuzz/seeds.ts; read-only input)
#   corpus/TARGET    the inputs the fuzzer found interesting (kept between runs)
#   findings/TARGET  crash-*, timeout-*, oom-* inputs; minimised-* from --minimize
#   logs/TARGET-*.log  the fuzzer's output of each run
set -euo pipefail

ROOT=$(cd "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${ORCTOOL_FUZZ:-$HOME/.cache/orctool-fuzz}
TARGETS=(elf check dump patch verify explain)
RT=$CACHE/rt
RT_PKGS=(libc6 libstdc++6 libgcc-s1)
RT_SUITE=trixie

say() { printf 'fuzz: %s\n' "$*" >&2; }
die() { printf 'fuzz: error: %s\n' "$*" >&2; exit 1; }
usage() { awk 'NR < 3 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; }

target='' time=300 reproduce='' minimize='' reseed=0 setup_only=0 stop=0 triage=0
extra=()
while (($#)); do
  case $1 in
    --time=*) time=${1#--time=} ;;
    --reproduce=*) reproduce=$(realpath -- "${1#--reproduce=}") ;;
    --minimize=*) minimize=$(realpath -- "${1#--minimize=}") ;;
    --reseed) reseed=1 ;;
    --stop) stop=1 ;;
    --triage) triage=1 ;;
    --setup) setup_only=1 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) [[ -z $target ]] || die "one target at a time"; target=$1 ;;
  esac
  shift
done
[[ $time =~ ^[1-9][0-9]*$ ]] || die "--time needs a number of seconds"
if ((!setup_only)); then
  [[ -n $target ]] || { usage >&2; exit 2; }
  [[ " ${TARGETS[*]} " == *" $target "* ]] || die "unknown target '$target' (one of ${TARGETS[*]})"
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9   # one set-up at a time; released before fuzzing

# --- the runtime: trixie's loader and libraries, and $RT/node ------------------------------
setup_rt() {
  [[ -f $RT/.stamp ]] && return
  say "setting up the runtime in $RT (${RT_PKGS[*]} from $RT_SUITE)"
  command -v dpkg-deb >/dev/null || die "dpkg-deb is required"
  local node tmp p deb
  node=$(command -v node) || die "node is required"
  SUITES_DIR=$CACHE/apt-suites
  SUITES_LIST=$RT_SUITE
  # shellcheck source=debian-suites.sh
  . "$ROOT/scripts/debian-suites.sh"
  suites_apt_ready || die "cannot read Debian $RT_SUITE's package lists"
  mkdir -p "$CACHE/debs"
  rm -rf "$CACHE"/.rt-*
  tmp=$(mktemp -d "$CACHE/.rt-XXXXXX")
  for p in "${RT_PKGS[@]}"; do
    deb=$(suites_download "$CACHE/debs" "$p") || die "could not download $p from $RT_SUITE"
    dpkg-deb -x "$deb" "$tmp"
    printf '%s %s\n' "$p" "$(dpkg-deb -f "$deb" Version)" >>"$tmp/PACKAGES"
  done
  rm -rf "$tmp/usr/share"
  [[ -x $tmp/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 ]] || die "no ld-linux-x86-64.so.2 in libc6/$RT_SUITE"
  cat >"$tmp/node" <<WRAPPER
#!/bin/sh
# $node under the dynamic loader and libraries of Debian $RT_SUITE unpacked here (written by
# scripts/fuzz.sh): Jazzer.js's addon needs a newer glibc and libstdc++ than the system's.
d=\$(dirname "\$(readlink -f "\$0")")
exec "\$d/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \\
  --library-path "\$d/usr/lib/x86_64-linux-gnu:\$d/lib/x86_64-linux-gnu" "$node" "\$@"
WRAPPER
  chmod 755 "$tmp/node"
  # Node itself must load every library from rt/, and run.
  local libs
  libs=$("$tmp/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$tmp/usr/lib/x86_64-linux-gnu:$tmp/lib/x86_64-linux-gnu" --list "$node" 2>&1) ||
    die "the loader cannot load $node: $libs"
  if grep -v -e linux-vdso -e "=> $tmp/" <<<"$libs" | grep -q .; then die "$node needs libraries that rt/ lacks: $libs"; fi
  [[ $("$tmp/node" -e 'console.log(process.versions.node)') == "$(node -e 'console.log(process.versions.node)')" ]] ||
    die "node does not run under $RT_SUITE's loader"
  rm -rf "$RT"
  mv "$tmp" "$RT"
  touch "$RT/.stamp"
  say "runtime: $RT/node ($(sed -z 's/\n$//; s/\n/, /g' "$RT/PACKAGES"))"
}
setup_rt
(cd "$ROOT" && "$RT/node" -e 'require("@jazzer.js/fuzzer")') 2>/dev/null ||
  die "Jazzer.js's addon does not load under $RT/node (npm ci? $(cd "$ROOT" && "$RT/node" -e 'require("@jazzer.js/fuzzer")' 2>&1 | grep -m1 Error))"
((setup_only)) && exit 0

[[ -f $ROOT/dist/fuzz/$target.js ]] || die "no dist/fuzz/$target.js: npm run build first (npm run fuzz -- $target builds)"
if ((triage)); then
  shopt -s nullglob
  found=("$CACHE/findings/$target"/{crash,timeout,oom,minimised}-*)
  ((${#found[@]})) || { say "no findings for $target"; exit 0; }
  exec nice -n 10 node --enable-source-maps "$ROOT/dist/fuzz/replay.js" "$target" "${found[@]}"
fi

# --- seeds, once ------------------------------------------------------------------------------
SEEDS=$CACHE/seeds/$target
if ((reseed)) || [[ ! -f $SEEDS/.stamp ]]; then
  rm -rf "$SEEDS" "$SEEDS.tmp"
  node "$ROOT/dist/fuzz/seeds.js" "$target" "$SEEDS.tmp" || die "building the seeds failed"
  touch "$SEEDS.tmp/.stamp"
  mv "$SEEDS.tmp" "$SEEDS"
fi
CORPUS=$CACHE/corpus/$target
FINDINGS=$CACHE/findings/$target
mkdir -p "$CORPUS" "$FINDINGS" "$CACHE/logs"
# The fuzzer (and each process -fork starts) loads a copy of dist/ taken now: a build during the
# run (other work in the tree) changes nothing under it. node_modules and package.json ("type":
# "module") beside the copy resolve as from the tree.
SNAP=$CACHE/build
mkdir -p "$SNAP"
cp "$ROOT/package.json" "$SNAP/package.json"
ln -sfn "$ROOT/node_modules" "$SNAP/node_modules"
rm -rf "$SNAP/dist.new"
cp -a "$ROOT/dist" "$SNAP/dist.new"
rm -rf "$SNAP/dist"
mv "$SNAP/dist.new" "$SNAP/dist"
flock -u 9

# --- the run ------------------------------------------------------------------------------
SCRATCH=$(mktemp -d "$( [[ -d /dev/shm && -w /dev/shm ]] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/orctool-fuzz-$target.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
export ORCTOOL_FUZZ_SCRATCH=$SCRATCH/work
# libFuzzer's subprocesses (--minimize) are started from argv[0]: the wrapper, not the loader.
export ORCTOOL_FUZZ_NODE=$RT/node
# V8's heap stays under libFuzzer's RSS limit, so running out of memory is libFuzzer's oom-* finding.
export NODE_OPTIONS="--max-old-space-size=2048"

jazzer=(
  "$RT/node" "$ROOT/node_modules/@jazzer.js/core/dist/cli.js" "$SNAP/dist/fuzz/$target.js"
  --sync --timeout=10000
  # Coverage instrumentation of orctool's code only: not node_modules (iced-x86), not the harness.
  --includes "$SNAP/dist/" --excludes node_modules --excludes "$SNAP/dist/fuzz/"
  # No bug detectors: inputs never reach a command line or a path; what counts is the exceptions.
  --disable_bug_detectors '.*'
)
lf=(-max_len=1048576 -rss_limit_mb=3072 -print_final_stats=1)
cd "$ROOT"
if [[ -n $reproduce ]]; then
  nice -n 10 "${jazzer[@]}" "$reproduce" -- "${lf[@]}" -runs=1 "${extra[@]}"
elif [[ -n $minimize ]]; then
  out=$FINDINGS/minimised-$(basename -- "$minimize")
  say "minimising $minimize into $out (${time} s)"
  nice -n 10 "${jazzer[@]}" "$minimize" -- "${lf[@]}" -minimize_crash=1 -max_total_time="$time" \
    -exact_artifact_path="$out" "${extra[@]}" || true
  [[ -f $out ]] && say "minimised: $out ($(stat -c %s "$out") bytes, from $(stat -c %s "$minimize"))"
else
  log=$CACHE/logs/$target-$(date +%Y%m%d-%H%M%S).log
  say "fuzzing $target for ${time} s: corpus $CORPUS, seeds $SEEDS ($(find "$SEEDS" -type f ! -name .stamp | wc -l)), findings $FINDINGS, log $log"
  mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  ((stop)) && mode=()
  before=$(find "$FINDINGS" -type f ! -name 'minimised-*' | wc -l)
  status=0
  nice -n 10 "${jazzer[@]}" "$CORPUS" "$SEEDS" -- "${lf[@]}" "${mode[@]}" -max_total_time="$time" \
    -artifact_prefix="$FINDINGS/" "${extra[@]}" 2>&1 | tee "$log" || status=$?
  after=$(find "$FINDINGS" -type f ! -name 'minimised-*' | wc -l)
  say "corpus: $(find "$CORPUS" -type f | wc -l) inputs; findings: $((after - before)) new, $after in $FINDINGS (scripts/fuzz.sh $target --triage)"
  exit "$status"
fi
