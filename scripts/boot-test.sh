#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot test: does a kernel built with orctool as its objtool boot and unwind correctly?
#
#   scripts/boot-test.sh [--kernel 7.3|6.12] [--tool orctool|objtool|both] [-j N] [--clean]
#                        [--orctool PATH] [--timeout SECONDS] [--no-boot] [--compat]
#
# Builds a small x86-64 kernel (tinyconfig + ORC, IBT, retpoline/rethunk/SLS, call depth
# tracking, paravirt, jump labels, SMP, modules, serial console, initramfs, sysrq, stacktrace,
# kallsyms, DEBUG_ENTRY for --noinstr) from Debian's linux-source out of tree, once with the
# tree's own objtool and once with `make objtool=<orctool>`, both through a logging wrapper that
# records every command line, keeps each object as objtool was handed it and saves the object and
# command of any failing run in $CACHE/failures/. Fixed KBUILD_BUILD_* make the two builds
# comparable: vmlinux, bzImage, every .ko and every object objtool processed (its input, output
# and messages) are compared with cmp, and differing objects section by section
# (src/testing/elf-compare.ts). A test module (scripts/boot-test/boot_test_mod.c: dump_stack()
# three noinline frames deep, a kthread asleep in module code) is built against each tree.
#
# Each bzImage boots under QEMU (TCG, 2 CPUs as sockets=2: SeaBIOS's MP table lists one CPU per
# socket and the kernel has no ACPI) twice: plain (-cpu qemu64), and with -cpu Skylake-Client
# retbleed=stuff spectre_v2=retpoline (call depth tracking). The initramfs (busybox-static and
# scripts/boot-test/init.sh) prints /proc/self/stack and every task's /proc/PID/stack, loads the
# modules, triggers sysrq t, then sysrq l twelve times while dd and a fork/exec loop keep the
# other CPU busy in the kernel (NMI backtraces unwound from arbitrary instructions), then sysrq w,
# unloads, prints BOOT-TEST-DONE and reboots (no ACPI, so no poweroff: QEMU's -no-reboot turns
# the reboot into an exit). scripts/boot-test/check-log.py checks each console log; a table of
# the checks per build and boot ends the report ($CACHE/<version>/summary.txt). Exit status 1 if
# a build or any check failed.
#
#   --kernel V      6.12 or 7.3 (default 7.3)
#   --tool T        orctool, objtool or both (default both; comparisons need both)
#   -j N            make jobs (default nproc); builds run under nice -n 10
#   --clean         remove the build trees first (a full build of each, for its time)
#   --orctool PATH  the orctool to build with (default: a snapshot of this checkout's
#                   bin/orctool + dist/, taken when the run starts, under $CACHE/orctool-snap/,
#                   so a concurrent `npm run build` cannot change it mid-build)
#   --timeout S     per boot (default 600)
#   --no-boot       build and compare only
#   --compat        for an older orctool only: when it refuses an option as not implemented
#                   and that option only validates (--unret, --noinstr, --uaccess, --noabs), the
#                   wrapper saves the failure, then reruns orctool without it (a --dry-run command
#                   is skipped instead) and notes that in the command log. Off by default: a
#                   refusal fails the build, as it would a real one
#
# Everything lives under ${ORCTOOL_BOOT:-~/.cache/orctool-boot}/<version>/<tool>/: build/ (O=),
# objtool-wrapper, objtool-commands.log (exit, cwd, arguments, compat note, seconds),
# objtool-inputs/, objtool-stderr/, testmod/, initramfs.cpio.gz, boot-<profile>.log (+ .checks,
# .details: every trace looked at). Reruns reuse the builds (make is incremental; a new orctool
# snapshot changes the wrapper, a dependency of every object objtool ran on, so objtool reruns).
# Source: $ORCTOOL_KBUILD/src/linux-source-<version> (scripts/build-kernel.sh's extraction) if
# present, else extracted here from linux-source-<version> (apt for 6.12, Debian's newer suites
# through scripts/debian-suites.sh for 7.3). The source tree is only read.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$SCRIPT_DIR")
HELP=$SCRIPT_DIR/boot-test
CACHE=$(realpath -m -- "${ORCTOOL_BOOT:-$HOME/.cache/orctool-boot}")
KBUILD_CACHE=$(realpath -m -- "${ORCTOOL_KBUILD:-$HOME/.cache/orctool-kbuild}")

say() { printf 'boot-test: %s\n' "$*" >&2; }
die() { printf 'boot-test: error: %s\n' "$*" >&2; exit 1; }

kver=7.3 tool=both jobs=$(nproc) orctool= timeout_s=600 do_boot=1 strict=1 clean=0
while (($#)); do
  case $1 in
    --kernel) shift; kver=${1:-} ;;
    --kernel=*) kver=${1#--kernel=} ;;
    --tool) shift; tool=${1:-} ;;
    --tool=*) tool=${1#--tool=} ;;
    -j) shift; jobs=${1:-} ;;
    -j*) jobs=${1#-j} ;;
    --orctool) shift; orctool=${1:-} ;;
    --orctool=*) orctool=${1#--orctool=} ;;
    --timeout) shift; timeout_s=${1:-} ;;
    --timeout=*) timeout_s=${1#--timeout=} ;;
    --no-boot) do_boot=0 ;;
    --compat) strict=0 ;;
    --strict) strict=1 ;;
    --clean) clean=1 ;;
    -h|--help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
case $kver in 6.12|7.3) ;; *) die "--kernel: 6.12 or 7.3, not '$kver'" ;; esac
case $tool in orctool) TOOLS=(orctool) ;; objtool) TOOLS=(objtool) ;; both) TOOLS=(objtool orctool) ;;
  *) die "--tool: orctool, objtool or both, not '$tool'" ;; esac
[[ $jobs =~ ^[0-9]+$ ]] || die "-j needs a number"
[[ $timeout_s =~ ^[0-9]+$ ]] || die "--timeout needs a number"

V=$CACHE/$kver
FAIL_DIR=$CACHE/failures
mkdir -p "$V" "$FAIL_DIR"
exec 9>"$V/.lock"
flock -n 9 || { say "another boot test holds $V/.lock; waiting"; flock 9; }

# Fixed build identity, so that the two builds can be compared byte for byte.
KENV=(KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026' KBUILD_BUILD_VERSION=1
  KBUILD_BUILD_USER=orctool KBUILD_BUILD_HOST=orctool)

count_lines() { if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi; }

declare -a TIMES=()
record_time() { # NAME SECONDS
  TIMES+=("$(printf '%-34s %4dm%02ds' "$1" $(($2 / 60)) $(($2 % 60)))")
  printf '%s %s %ds jobs=%s\n' "$(date -u +%FT%TZ)" "$1" "$2" "$jobs" >>"$V/times.txt"
}

# --- dependencies ------------------------------------------------------------------------------

# shellcheck source=scripts/apt-install.sh
. "$SCRIPT_DIR/apt-install.sh"

install_deps() {
  local pkgs=(gcc make flex bison bc libelf-dev libssl-dev xz-utils gzip perl python3 cpio kmod binutils
    qemu-system-x86 busybox-static)
  [[ $kver == 6.12 ]] || pkgs+=(libxxhash-dev)
  apt_install_missing "${pkgs[@]}"
}

# --- the source ----------------------------------------------------------------------------------

SRC_PKG=linux-source-$kver
find_source() {
  local s
  for s in "$KBUILD_CACHE/src/$SRC_PKG" "$CACHE/src/$SRC_PKG"; do
    if [[ -f $s/Makefile && -f $s/.stamp ]]; then SRC=$s; return 0; fi
  done
  SRC=$CACHE/src/$SRC_PKG
  local tmp=$CACHE/src/.tmp deb=
  rm -rf "$tmp" "$SRC"; mkdir -p "$tmp"
  if [[ ! -f /usr/src/$SRC_PKG.tar.xz ]]; then
    deb=$(ls -1 /var/cache/apt/archives/${SRC_PKG}_*_all.deb 2>/dev/null | sort -V | tail -n1 || true)
  fi
  if [[ -z $deb && ! -f /usr/src/$SRC_PKG.tar.xz ]]; then
    if [[ $kver == 6.12 ]]; then
      say "apt-get install $SRC_PKG"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$SRC_PKG" >/dev/null ||
        die "apt-get install $SRC_PKG failed"
    else
      SUITES_DIR=$KBUILD_CACHE/apt-suites
      # shellcheck source=scripts/debian-suites.sh
      . "$SCRIPT_DIR/debian-suites.sh"
      mkdir -p "$SUITES_DIR/debs"
      say "apt-get download $SRC_PKG (Debian $SUITES_LIST, private apt configuration in $SUITES_DIR)"
      deb=$(suites_download "$SUITES_DIR/debs" "$SRC_PKG") || die "could not download $SRC_PKG"
    fi
  fi
  if [[ -n $deb ]]; then
    say "extracting $deb"
    dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$SRC_PKG.tar.xz" | tar -xJ -C "$tmp"
    dpkg-deb -f "$deb" Version >"$tmp/$SRC_PKG/.debian-version"
  else
    say "extracting /usr/src/$SRC_PKG.tar.xz"
    tar -xJf "/usr/src/$SRC_PKG.tar.xz" -C "$tmp"
    dpkg-query -W -f='${Version}\n' "$SRC_PKG" >"$tmp/$SRC_PKG/.debian-version"
  fi
  [[ -f $tmp/$SRC_PKG/Makefile ]] || die "the tarball has no $SRC_PKG/Makefile"
  date -u +%FT%TZ >"$tmp/$SRC_PKG/.stamp"
  mv "$tmp/$SRC_PKG" "$SRC"
  rmdir "$tmp"
}

# --- orctool ---------------------------------------------------------------------------------------

# (snapshot_orctool)
source "$REPO/scripts/orctool-snapshot.sh"

# --- the config -------------------------------------------------------------------------------------

CONFIG_ARGS=(
  -e 64BIT
  -d UNWINDER_GUESS -d UNWINDER_FRAME_POINTER -e UNWINDER_ORC
  -e SMP -e CPU_SUP_INTEL -e CPU_SUP_AMD
  -e HYPERVISOR_GUEST -e PARAVIRT -e PARAVIRT_SPINLOCKS
  -e X86_KERNEL_IBT
  -e CPU_MITIGATIONS -e MITIGATION_RETPOLINE -e MITIGATION_RETHUNK -e MITIGATION_SLS
  -e MITIGATION_CALL_DEPTH_TRACKING -e MITIGATION_UNRET_ENTRY -e MITIGATION_SRSO
  -e JUMP_LABEL
  -e MODULES -e MODULE_UNLOAD -d MODULE_SIG -d MODULE_COMPRESS
  -e PRINTK -e BUG -e KALLSYMS -e MULTIUSER -e FUTEX
  --set-val LOG_BUF_SHIFT 20
  -e TTY -e SERIAL_8250 -e SERIAL_8250_CONSOLE
  -e BLK_DEV_INITRD -e RD_GZIP
  -e PROC_FS -e SYSFS -e DEVTMPFS -e TMPFS
  -e BINFMT_ELF -e BINFMT_SCRIPT
  -e DEBUG_KERNEL -e MAGIC_SYSRQ -e STACKTRACE -e DEBUG_FS -e DEBUG_ENTRY
  -e RUNTIME_TESTING_MENU -m TEST_STATIC_KEYS
  -d WERROR -d OBJTOOL_WERROR
)
REQUIRED_Y=(64BIT X86_64 UNWINDER_ORC X86_KERNEL_IBT MITIGATION_RETPOLINE MITIGATION_RETHUNK MITIGATION_SLS
  PARAVIRT MODULES MODULE_UNLOAD PRINTK KALLSYMS TTY SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD RD_GZIP
  PROC_FS SYSFS DEVTMPFS BINFMT_ELF BINFMT_SCRIPT MAGIC_SYSRQ STACKTRACE OBJTOOL)
REQUIRED_N=(UNWINDER_FRAME_POINTER FRAME_POINTER WERROR OBJTOOL_WERROR)
OPTIONAL_Y=(MITIGATION_CALL_DEPTH_TRACKING CALL_PADDING SMP PARAVIRT_SPINLOCKS JUMP_LABEL DEBUG_FS DEBUG_ENTRY
  NOINSTR_VALIDATION MITIGATION_UNRET_ENTRY MITIGATION_SRSO HAVE_STATIC_CALL_INLINE)

configure() { # B
  local B=$1 want="tinyconfig ${CONFIG_ARGS[*]}"
  if [[ -f $B/.config && -f $B/.boot-test-config-args && "$(cat "$B/.boot-test-config-args")" == "$want" ]]; then
    return 0 # unchanged: leave .config alone so nothing rebuilds
  fi
  mkdir -p "$B"
  make -s -C "$SRC" O="$B" tinyconfig >/dev/null
  "$SRC/scripts/config" --file "$B/.config" "${CONFIG_ARGS[@]}"
  make -s -C "$SRC" O="$B" olddefconfig >/dev/null
  local s bad=()
  for s in "${REQUIRED_Y[@]}"; do grep -qx "CONFIG_$s=y" "$B/.config" || bad+=("$s=y"); done
  for s in "${REQUIRED_N[@]}"; do if grep -q "^CONFIG_$s=[ym]" "$B/.config"; then bad+=("$s=n"); fi; done
  ((${#bad[@]} == 0)) || die "Kconfig did not give ${bad[*]} (see $B/.config)"
  printf '%s\n' "$want" >"$B/.boot-test-config-args"
}

config_summary() { # B
  local s on=() off=()
  for s in "${OPTIONAL_Y[@]}" TEST_STATIC_KEYS; do
    if grep -q "^CONFIG_$s=[ym]" "$1/.config"; then on+=("$s"); else off+=("$s"); fi
  done
  printf 'optional on: %s; off: %s\n' "${on[*]}" "${off[*]:-none}"
}

# --- the objtool wrapper ------------------------------------------------------------------------------

# Kbuild runs $(objtool) with the build tree as working directory and the object last; the
# command-line objtool=... overrides Makefile.lib's `objtool := $(objtree)/tools/objtool/objtool`.
write_wrapper() { # TOOL T B
  local t=$1 T=$2 B=$3 real w=$2/objtool-wrapper tmp compat=0
  case $t in objtool) real=$B/tools/objtool/objtool ;; orctool) real=$ORCTOOL; ((strict)) || compat=1 ;; esac
  tmp=$(mktemp "$T/.wrapper.XXXXXX")
  cat >"$tmp" <<EOF
#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Written by orctool's scripts/boot-test.sh ($t build): log the command, keep the input object
# and the messages, run $t; on failure keep the object and the command in failures/.
real='$real'
T='$T'
fail='$FAIL_DIR'
compat=$compat
for last; do :; done
# The object's name relative to \$T: build/<path> for the kernel (kbuild runs in the build tree),
# testmod/<path> for the test module (7.x runs external module builds in the module directory).
case "\$last" in /*) obj="\$last" ;; *) obj="\$PWD/\$last" ;; esac
case "\$obj" in
  *..*) key= ;;
  "\$T"/*) key="\${obj#"\$T"/}" ;;
  *) key="other\$obj" ;;
esac
if [ -n "\$key" ] && [ -f "\$last" ]; then
  mkdir -p "\$(dirname "\$T/objtool-inputs/\$key")" "\$(dirname "\$T/objtool-stderr/\$key")"
  cp -f "\$last" "\$T/objtool-inputs/\$key"
  err="\$T/objtool-stderr/\$key.txt"
else
  mkdir -p "\$T/objtool-stderr"; err="\$T/objtool-stderr/.other.\$\$.txt"
fi
t0=\$(date +%s.%N)
"\$real" "\$@" 2>"\$err"
rc=\$?
t1=\$(date +%s.%N)
note=
if [ \$rc -ne 0 ]; then
  f="\$fail/$kver-$t-\$(printf '%s' "\$key" | tr '/' '_')"
  mkdir -p "\$fail"
  [ -n "\$key" ] && cp -f "\$T/objtool-inputs/\$key" "\$f"
  { echo "object:  \$f (as $t was handed it; in the build: \$obj)"; echo "cwd:     \$PWD"
    echo "command: \$real \$*"; echo "exit:    \$rc"; echo "stderr:"; cat "\$err"; } >"\$f.txt"
  echo "boot-test wrapper: $t failed (exit \$rc) on \$last; saved to \$f" >&2
  # compat (orctool, unless --strict): an option orctool refuses as not implemented that only
  # validates (never changes the object) is dropped and orctool run again; a --dry-run run
  # (which writes nothing) is skipped instead.
  tries=0
  while [ \$rc -ne 0 ] && [ \$compat = 1 ] && [ \$tries -lt 4 ]; do
    tries=\$((tries + 1))
    opt=\$(sed -n "s/.*unknown option '\\(--[a-z_-]*\\)'.*/\\1/p; s/.*option \\(--[a-z_-]*\\) is not implemented.*/\\1/p" "\$err" | head -n1)
    case "\$opt" in --unret|--noinstr|--uaccess|--noabs) ;; *) break ;; esac
    dry=
    for a; do shift; [ "\$a" = "\$opt" ] || set -- "\$@" "\$a"; [ "\$a" = --dry-run ] && dry=1; done
    if [ -n "\$dry" ]; then
      note="\${note}compat: skipped (--dry-run, \$opt not implemented); "; rc=0; : >"\$err"; break
    fi
    note="\${note}compat: without \$opt; "
    "\$real" "\$@" 2>"\$err"
    rc=\$?
  done
  [ -n "\$note" ] && echo "boot-test wrapper: \$note(exit \$rc)" >&2
fi
printf '%s\t%s\t%s\t%s\t%s\n' "\$rc" "\$PWD" "\$*" "\$note" "\$(echo "\$t1 - \$t0" | bc)" >>"\$T/objtool-commands.log"
[ -s "\$err" ] && cat "\$err" >&2
exit \$rc
EOF
  chmod 755 "$tmp"
  # Kbuild records the wrapper as a dependency of every object it ran on: touch it only on change.
  if [[ -f $w ]] && cmp -s "$tmp" "$w"; then rm -f "$tmp"; else mv -f "$tmp" "$w"; fi
}

kmake() { # B ARGS...
  local B=$1; shift
  env "${KENV[@]}" nice -n 10 make -C "$SRC" O="$B" -j"$jobs" objtool="$T/objtool-wrapper" "$@"
}

# --- building -----------------------------------------------------------------------------------------

build_tree() { # TOOL: configure, bzImage + modules, the test module, the initramfs
  local t=$1 B=$T/build t0 n0 n1 fresh=0
  configure "$B"
  write_wrapper "$t" "$T" "$B"
  [[ -f $B/vmlinux ]] || fresh=1
  n0=$(count_lines "$T/objtool-commands.log")
  t0=$SECONDS
  say "$t: make bzImage modules (log $T/build.log)"
  if ! kmake "$B" bzImage modules >"$T/build.log" 2>&1; then
    grep -E 'error|Error|failed|warning:' "$T/build.log" | tail -n 20 >&2 || true
    say "$t: kernel build FAILED (see $T/build.log)"
    return 1
  fi
  record_time "$kver $t bzImage+modules$( ((fresh)) && echo ' (full)' || echo ' (incremental)')" $((SECONDS - t0))
  ((fresh)) && echo $((SECONDS - t0)) >"$T/full-build-seconds"
  n1=$(count_lines "$T/objtool-commands.log")
  echo $((n1 - n0)) >"$T/objtool-calls-last-build"

  # The test module, out of tree against this build.
  mkdir -p "$T/testmod"
  local f
  for f in boot_test_mod.c Kbuild; do
    cmp -s "$HELP/$f" "$T/testmod/$f" || cp -f "$HELP/$f" "$T/testmod/$f"
  done
  t0=$SECONDS
  if ! kmake "$B" M="$T/testmod" modules >"$T/testmod-build.log" 2>&1; then
    tail -n 20 "$T/testmod-build.log" >&2
    say "$t: test module build FAILED (see $T/testmod-build.log)"
    return 1
  fi
  record_time "$kver $t test module" $((SECONDS - t0))

  build_initramfs "$t" || return 1
}

gen_init_cpio() {
  local g=$CACHE/gen_init_cpio-$kver
  if [[ ! -x $g || $SRC/usr/gen_init_cpio.c -nt $g ]]; then
    gcc -O2 -o "$g" "$SRC/usr/gen_init_cpio.c" || return 1
  fi
  "$g" "$@"
}

build_initramfs() { # TOOL
  local B=$T/build list=$T/initramfs.list a ko
  {
    printf 'dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\n'
    printf 'dir /%s 0755 0 0\n' proc sys bin sbin lib lib/modules tmp
    printf 'file /bin/busybox /bin/busybox 0755 0 0\n'
    for a in $(/bin/busybox --list); do
      [[ $a == busybox ]] || printf 'slink /bin/%s busybox 0777 0 0\n' "$a"
    done
    printf 'file /init %s 0755 0 0\n' "$HELP/init.sh"
    printf 'file /lib/modules/boot_test_mod.ko %s 0644 0 0\n' "$T/testmod/boot_test_mod.ko"
    if [[ -f $B/modules.order ]]; then
      while read -r ko; do
        ko=${ko%.o}.ko
        [[ -f $B/$ko ]] && printf 'file /lib/modules/%s %s 0644 0 0\n' "${ko##*/}" "$B/$ko"
      done <"$B/modules.order"
    fi
  } >"$list"
  gen_init_cpio -t 0 "$list" | gzip -n -9 >"$T/initramfs.cpio.gz.tmp" || { say "initramfs FAILED"; return 1; }
  mv -f "$T/initramfs.cpio.gz.tmp" "$T/initramfs.cpio.gz"
}

# Proof that the build ran the wrapper and not tools/objtool/objtool: the commands kbuild saved
# for the objects it ran objtool on (.*.cmd files), and the wrapper's log.
objtool_usage() { # TOOL
  local B=$T/build via_wrapper via_tree log=$T/objtool-commands.log
  via_wrapper=$(find "$B" "$T/testmod" -path "$B/tools" -prune -o -name '.*.cmd' -type f -print0 2>/dev/null |
    xargs -0 grep -l "^savedcmd_.*$T/objtool-wrapper" 2>/dev/null | wc -l || true)
  via_tree=$(find "$B" "$T/testmod" -path "$B/tools" -prune -o -name '.*.cmd' -type f -print0 2>/dev/null |
    xargs -0 grep -l '^savedcmd_.*tools/objtool/objtool ' 2>/dev/null | wc -l || true)
  printf '%s: wrapper calls logged %s in all (last kernel build %s) on %s distinct objects; failed %s, compat fallbacks %s; kbuild commands (.cmd) running the wrapper %s, running tools/objtool/objtool %s\n' \
    "$1" "$(count_lines "$log")" "$(cat "$T/objtool-calls-last-build" 2>/dev/null || echo ?)" \
    "$(awk -F'\t' '{ n = split($3, a, " "); print $2 "/" a[n] }' "$log" 2>/dev/null | sort -u | wc -l)" \
    "$(awk -F'\t' '$1 != 0' "$log" 2>/dev/null | wc -l)" "$(awk -F'\t' '$4 != ""' "$log" 2>/dev/null | wc -l)" \
    "$via_wrapper" "$via_tree"
  awk -F'\t' '$5 != "" { n = split($3, a, " "); seen = 1; if (a[n] == "vmlinux.o") v = $5; else r += $5 }
    END { if (seen) printf "    time in the tool (latest run of each object): vmlinux.o %.1fs, all others %.1fs\n", v, r }' \
    <(awk -F'\t' '{ n = split($3, a, " "); last[$2 "/" a[n]] = $0 } END { for (k in last) print last[k] }' "$log" 2>/dev/null) || true
  awk -F'\t' '$1 != 0 || $4 != "" { n = split($3, a, " "); print "    " (($1 != 0) ? "FAILED" : $4) ": " $3 }' "$log" 2>/dev/null |
    LC_ALL=C sort | uniq -c | sed 's/^/  /' || true
}

# --- comparing the two builds ---------------------------------------------------------------------

compare_builds() {
  local A=$V/objtool B=$V/orctool f k list keys in_s out_s msg nin=0 nout=0 nmsg=0 total=0 ea eb
  echo "== $kver: objtool build vs orctool build (cmp)"
  if cmp -s "$A/build/.config" "$B/build/.config"; then echo ".config: identical"; else echo ".config: DIFFERENT"; fi
  list=$(cd "$A" && find build -name '*.ko' | LC_ALL=C sort)
  for f in build/vmlinux build/arch/x86/boot/bzImage $list testmod/boot_test_mod.ko; do
    if cmp -s "$A/$f" "$B/$f"; then echo "$f: identical"
    else echo "$f: DIFFERENT ($(cmp "$A/$f" "$B/$f" 2>&1 | head -n1 | sed "s|$V/||g"))"; fi
  done
  echo "every object objtool was handed: input (as handed over), output (the object afterwards), messages (stderr):"
  keys=$( { (cd "$A/objtool-inputs" 2>/dev/null && find . -type f -printf '%P\n'); (cd "$B/objtool-inputs" 2>/dev/null && find . -type f -printf '%P\n'); } | LC_ALL=C sort -u)
  for k in $keys; do
    total=$((total + 1))
    if cmp -s "$A/objtool-inputs/$k" "$B/objtool-inputs/$k"; then in_s=same; nin=$((nin + 1)); else in_s=DIFF; fi
    if cmp -s "$A/$k" "$B/$k"; then out_s=same; nout=$((nout + 1))
    elif [[ -f $A/$k && -f $B/$k ]]; then out_s="DIFF: $(node "$REPO/dist/testing/elf-compare.js" "$A/$k" "$B/$k" || true)"
    else out_s="DIFF: missing"; fi
    ea=$A/objtool-stderr/$k.txt eb=$B/objtool-stderr/$k.txt
    if { [[ ! -s $ea ]] && [[ ! -s $eb ]]; } || cmp -s "$ea" "$eb"; then msg=same; nmsg=$((nmsg + 1))
    else msg="DIFF (objtool $(cat "$ea" 2>/dev/null | wc -l) lines, orctool $(cat "$eb" 2>/dev/null | wc -l))"; fi
    printf '  %-52s input %-4s messages %-4s output %s\n' "$k" "$in_s" "$msg" "$out_s"
  done
  echo "  of $total objects: inputs identical $nin, outputs identical $nout, messages identical $nmsg"
}

# --- booting ------------------------------------------------------------------------------------------

PROFILES=(plain stuff)
profile_qemu_args() {
  case $1 in
    plain) echo "-cpu qemu64" ;;
    stuff) echo "-cpu Skylake-Client" ;;
  esac
}
profile_append() {
  case $1 in
    plain) echo "" ;;
    stuff) echo "retbleed=stuff spectre_v2=retpoline" ;;
  esac
}

boot_one() { # TOOL PROFILE
  local t=$1 p=$2 B=$T/build log=$T/boot-$2.log rc=0 t0 extra=()
  local append="console=ttyS0 panic=-1 loglevel=7 printk.devkmsg=on $(profile_append "$p")"
  say "$t: boot $p ($(profile_qemu_args "$p"); $append)"
  t0=$SECONDS
  # shellcheck disable=SC2046
  timeout -k 10 "$timeout_s" qemu-system-x86_64 -machine pc -accel tcg $(profile_qemu_args "$p") -smp cpus=2,sockets=2 -m 256M \
    -nographic -no-reboot -kernel "$B/arch/x86/boot/bzImage" -initrd "$T/initramfs.cpio.gz" \
    -append "$append" </dev/null >"$log" 2>"$log.qemu-stderr" || rc=$?
  local dt=$((SECONDS - t0))
  record_time "$kver $t boot $p" "$dt"
  echo "$dt" >"$log.seconds"
  [[ $p == stuff ]] && grep -qx 'CONFIG_MITIGATION_CALL_DEPTH_TRACKING=y' "$B/.config" && extra+=(--expect-stuffing)
  grep -q '^CONFIG_TEST_STATIC_KEYS=m' "$B/.config" && extra+=(--expect-static-keys)
  # vmlinux's symbols and ORC table (dumped by the tree's objtool), to tell an NMI sample whose
  # unwind stops where the ORC table says it must from one that goes wrong
  nm -S --defined-only "$B/vmlinux" >"$T/vmlinux.nm"
  "$B/tools/objtool/objtool" --dump=orc "$B/vmlinux" >"$T/vmlinux.orc" 2>/dev/null || : >"$T/vmlinux.orc"
  python3 "$HELP/check-log.py" "$log" --qemu-rc "$rc" "${extra[@]}" --symbols "$T/vmlinux.nm" --orc "$T/vmlinux.orc" \
    --details "$log.details" >"$log.checks" || true
  printf 'boot time\tINFO\t%ss\n' "$dt" >>"$log.checks"
}

# --- main ---------------------------------------------------------------------------------------------

total0=$SECONDS
t0=$SECONDS; install_deps
find_source
say "Linux $kver from $SRC ($(cat "$SRC/.debian-version" 2>/dev/null || echo '?')), tools ${TOOLS[*]}, -j$jobs, cache $V"
if [[ " ${TOOLS[*]} " == *" orctool "* ]]; then
  snapshot_orctool
  say "orctool: $ORCTOOL ${ORCTOOL_ID:+($ORCTOOL_ID)}"
fi

declare -A BUILD_OK=()
for t in "${TOOLS[@]}"; do
  T=$V/$t; mkdir -p "$T"
  if ((clean)); then rm -rf "$T/build" "$T/testmod" "$T/objtool-inputs" "$T/objtool-stderr" "$T/full-build-seconds"; fi
  if build_tree "$t"; then BUILD_OK[$t]=1; else BUILD_OK[$t]=0; fi
done

summary=$V/summary.txt
{
  echo "Linux $kver ($SRC, $(cat "$SRC/.debian-version" 2>/dev/null || echo '?')), tinyconfig + boot test options"
  [[ -n ${ORCTOOL:-} ]] && echo "orctool: $ORCTOOL ${ORCTOOL_ID:+($ORCTOOL_ID)}"
  for t in "${TOOLS[@]}"; do
    T=$V/$t
    echo "$t build: $([[ ${BUILD_OK[$t]} == 1 ]] && echo ok || echo FAILED)$(
      [[ -f $T/full-build-seconds ]] && printf ', full build %ss' "$(cat "$T/full-build-seconds")")"
    [[ -f $T/build/.config ]] && echo "  $(config_summary "$T/build")"
    objtool_usage "$t" | sed '1s/^/  /' 
    if [[ -f $T/objtool-commands.log ]]; then
      echo "  objtool command lines (count, arguments but the file):"
      cut -f3 "$T/objtool-commands.log" | awk '{ $NF = ""; print }' | LC_ALL=C sort | uniq -c | sort -rn | sed 's/^/    /'
    fi
  done
} >"$summary"

status=0
for t in "${TOOLS[@]}"; do [[ ${BUILD_OK[$t]} == 1 ]] || status=1; done
if ((${#TOOLS[@]} == 2)) && [[ ${BUILD_OK[objtool]} == 1 && ${BUILD_OK[orctool]} == 1 ]]; then
  compare_builds >"$V/compare.txt"
  cat "$V/compare.txt" >>"$summary"
fi

if ((do_boot)); then
  for t in "${TOOLS[@]}"; do
    [[ ${BUILD_OK[$t]} == 1 ]] || continue
    T=$V/$t
    for p in "${PROFILES[@]}"; do boot_one "$t" "$p"; done
  done
  # The table: a row per check, a column per build and profile.
  cols=() files=()
  for t in "${TOOLS[@]}"; do
    [[ ${BUILD_OK[$t]} == 1 ]] || continue
    for p in "${PROFILES[@]}"; do cols+=("$t/$p"); files+=("$V/$t/boot-$p.log.checks"); done
  done
  if ((${#cols[@]})); then
    {
      echo
      echo "== boot checks"
      python3 - "${cols[@]}" -- "${files[@]}" <<'EOF'
import sys
args = sys.argv[1:]; k = args.index('--'); cols, files = args[:k], args[k + 1:]
rows, res = [], {}
for c, f in zip(cols, files):
    for line in open(f):
        name, st, detail = (line.rstrip('\n').split('\t') + ['', ''])[:3]
        if name not in rows:
            rows.append(name)
        res[(name, c)] = (st, detail)
w = max(len(r) for r in rows)
print(f'{"check":<{w}}  ' + '  '.join(f'{c:>15}' for c in cols))
for r in rows:
    cells = []
    for c in cols:
        st, d = res.get((r, c), ('-', ''))
        cells.append(f'{(d if st == "INFO" else st):>15}')
    print(f'{r:<{w}}  ' + '  '.join(cells))
print()
print('details (FAIL and N/A rows, and the unwinds):')
for c in cols:
    for r in rows:
        st, d = res.get((r, c), ('-', ''))
        if st in ('FAIL', 'N/A') or r.startswith(('module dump_stack', 'sysrq <TASK>', 'sysrq-l: NMI', '/proc/')):
            print(f'  {c:<15} {r}: {st}: {d}')
EOF
    } >>"$summary"
    cat "${files[@]}" | grep -q $'\tFAIL\t' && status=1
  fi
fi

{
  echo
  echo "== times (this run)"
  printf '  %s\n' "${TIMES[@]}"
  printf '  %-34s %4dm%02ds\n' "total" $(((SECONDS - total0) / 60)) $(((SECONDS - total0) % 60))
  echo "files: $V/<tool>/{build,boot-<profile>.log[.checks,.details],objtool-commands.log}; failures: $FAIL_DIR"
  echo "result: $( ((status == 0)) && echo PASS || echo FAIL)"
} >>"$summary"
cat "$summary"
exit $status
