#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build Linux 6.12 or 7.3 from Debian's linux-source-<version> and keep the objects objtool is
# handed, for parity tests and benchmarks (src/corpus/kernel-objects.ts, npm run bench), and
# compare whole builds made with objtool and with orctool as the build's objtool. Nothing it
# builds goes into the repo: everything lives in ${ORCTOOL_KBUILD:-~/.cache/orctool-kbuild}.
#
#   scripts/build-kernel.sh                 all stages: tu, vmlinux, modules
#   scripts/build-kernel.sh --kernel 7.3    which kernel: 6.12 (default) or 7.3
#   scripts/build-kernel.sh --tu-only       only the per-translation-unit objects of --dirs
#   scripts/build-kernel.sh --vmlinux --modules    choose stages (tu is cheap once built)
#   scripts/build-kernel.sh --debug-info    the same with DWARF debug info (separate tree)
#   scripts/build-kernel.sh --no-ibt        IBT off (separate tree, tu stage only): kbuild then
#                                           runs objtool on every TU, which the wrapper keeps
#   scripts/build-kernel.sh --dirs 'kernel/ mm/'   directories whose TU objects are kept
#   scripts/build-kernel.sh --objtool=T     the tool the build runs as its objtool: objtool (the
#                                           tree's tools/objtool/objtool, default) or orctool
#   scripts/build-kernel.sh --orctool PATH  the orctool for --objtool=orctool (default: a snapshot
#                                           of this checkout's bin/orctool + dist/, taken when
#                                           the run starts, in $CACHE/orctool-snap/<hash>)
#   scripts/build-kernel.sh --compare       build with objtool, then with orctool (a pass whose
#                                           stamp matches what it would build now is reused),
#                                           then compare: every object objtool was handed (its
#                                           output: same ELF content; its messages; its exit
#                                           status; its input) and vmlinux, bzImage, System.map
#                                           and every .ko byte for byte. Report in $V/compare.txt;
#                                           exit 1 if anything differs
#   scripts/build-kernel.sh -j N            parallel jobs (default: nproc)
#   scripts/build-kernel.sh --print-dir     print the variant's directory and exit
#
# Config: x86_64_defconfig plus UNWINDER_ORC, PARAVIRT, XEN/XEN_PV, X86_KERNEL_IBT, the
# return-thunk mitigations (RETPOLINE, RETHUNK, SLS, CALL_DEPTH_TRACKING, so --prefix=16),
# a few modules (KVM, crypto asm, fuse, bridge, ...), DEBUG_INFO off unless --debug-info,
# WERROR and (7.3) OBJTOOL_WERROR off; --no-ibt: the same but X86_KERNEL_IBT off. With IBT the
# kernel runs objtool only on vmlinux.o and on module objects, never on the per-TU objects, so
# those are kept exactly as the compiler wrote them (7.3 also runs it on the data-only *.mod.o,
# .module-common.o, .vmlinux.export.o and, with --dry-run --noabs, on arch/x86/boot/startup/*.o).
# Without IBT (no delay-objtool) kbuild runs objtool on each TU right after compiling it.
# Every build runs with fixed KBUILD_BUILD_TIMESTAMP/VERSION/USER/HOST, so that builds with the
# two tools can be compared byte for byte. The build is given objtool=<wrapper>: the wrapper
# logs its command line, copies its input, runs the chosen tool, and keeps that tool's output
# object, messages (stderr) and exit status. Kbuild makes every object objtool ran on depend on
# $(objtool) (the wrapper), and the wrapper's text names the tool, so switching tools (or taking
# a new orctool snapshot) re-runs objtool on exactly those objects (and what is linked from
# them: the vmlinux link, bzImage, modpost, the .ko links); nothing else is recompiled.
#
# Source: 6.12 from this machine's apt (bookworm); 7.3 from Debian's trixie-backports through
# scripts/debian-suites.sh (private apt configuration in $CACHE/apt-suites; apt-get download,
# never installed). ORCTOOL_KSRC_DEB=<linux-source-<version> .deb> overrides either.
#
# Layout ($V = $CACHE/<version>, or $CACHE/<version>-debug with --debug-info, $CACHE/<version>-noibt
# with --no-ibt):
#   $CACHE/src/linux-source-<version>/  the extracted source (shared by all variants)
#   $V/build/                         the O= build tree
#   $V/objects/tu/files/<path>.o + list.txt  per-TU objects: with IBT as the compiler wrote them
#                                           (copied from the tree); --no-ibt: as objtool was
#                                           handed them (kept by the wrapper)
#   $V/objects/vmlinux/vmlinux.o + list.txt vmlinux.o before objtool ran on it; also the other
#                                           built-in objects objtool is run on (.vmlinux.export.o,
#                                           arch/x86/boot/startup/*.o), at <path>
#   $V/objects/modules/<path>.o + list.txt  module objects (with *.mod.o, .module-common.o)
#                                           before objtool ran on them
#   $V/objtool-commands.log           every objtool command line the build ran (cwd = build/)
#   $V/objtool-flags.txt              the distinct flag sets, with how many files each
#   $V/outputs/<tool>/<kind>/<path>.o  the object after <tool> ran on it (<kind>: vmlinux,
#                                           modules, tu), with .o.msg (stderr), .o.rc (exit
#                                           status), .o.in (sha256 of the input); commands.log
#                                           (exit, seconds, arguments); .stamp when a pass with
#                                           the vmlinux or modules stage finished
#   $V/images/<tool>/                 vmlinux, bzImage, System.map and <path>.ko of that pass
#   $V/logs/<tool>.log                make's output of the last pass with <tool>
#   $V/compare.txt                    the report of --compare
#   $V/times.txt                      wall time of each stage of the last runs
# A stage that finished writes $V/objects/<stage>/.stamp.
set -euo pipefail

CACHE=${ORCTOOL_KBUILD:-$HOME/.cache/orctool-kbuild}
CACHE=$(realpath -m -- "$CACHE")
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$SCRIPT_DIR")
DEFAULT_DIRS='kernel/ mm/ fs/ext4/ net/ipv4/ arch/x86/kernel/ arch/x86/entry/ arch/x86/lib/ arch/x86/xen/'

say() { printf 'build-kernel: %s\n' "$*" >&2; }
die() { printf 'build-kernel: error: %s\n' "$*" >&2; exit 1; }

stages=()
kver=6.12
debug=0
noibt=0
jobs=$(nproc)
dirs=$DEFAULT_DIRS
print_dir=0
tool=objtool
orctool=
compare=0
while (($#)); do
  case $1 in
    --tu-only) stages=(tu) ;;
    --tu) stages+=(tu) ;;
    --vmlinux) stages+=(vmlinux) ;;
    --modules) stages+=(modules) ;;
    --all) stages=(tu vmlinux modules) ;;
    --debug-info) debug=1 ;;
    --no-ibt) noibt=1 ;;
    --kernel) shift; kver=${1:-} ;;
    --kernel=*) kver=${1#--kernel=} ;;
    --dirs) shift; dirs=$1 ;;
    --dirs=*) dirs=${1#--dirs=} ;;
    --objtool) shift; tool=${1:-} ;;
    --objtool=*) tool=${1#--objtool=} ;;
    --orctool) shift; orctool=${1:-} ;;
    --orctool=*) orctool=${1#--orctool=} ;;
    --compare) compare=1 ;;
    -j) shift; jobs=$1 ;;
    -j*) jobs=${1#-j} ;;
    --print-dir) print_dir=1 ;;
    -h|--help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
if ((${#stages[@]} == 0)); then
  if ((noibt)); then stages=(tu); else stages=(tu vmlinux modules); fi
fi
[[ $jobs =~ ^[0-9]+$ ]] || die "-j needs a number"
case $kver in 6.12|7.3) ;; *) die "--kernel: 6.12 or 7.3, not '$kver'" ;; esac
case $tool in objtool|orctool) ;; *) die "--objtool: objtool or orctool, not '$tool'" ;; esac
((debug && noibt)) && die "--debug-info and --no-ibt: one variant at a time"
if ((noibt)); then
  for s in "${stages[@]}"; do
    [[ $s == tu ]] || die "--no-ibt builds only the tu stage (without IBT kbuild runs objtool on each TU)"
  done
fi

SRC_PKG=linux-source-$kver
V=$CACHE/$kver; ((debug)) && V=$CACHE/$kver-debug; ((noibt)) && V=$CACHE/$kver-noibt
if ((print_dir)); then printf '%s\n' "$V"; exit 0; fi
BUILD=$V/build
OBJ=$V/objects
SRC=$CACHE/src/$SRC_PKG
mkdir -p "$CACHE" "$V" "$OBJ"

# Fixed build identity (as scripts/boot-test.sh), so that builds with objtool and with orctool
# can be compared byte for byte (otherwise .version, the user, host and date end up in vmlinux).
KENV=(KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026' KBUILD_BUILD_VERSION=1
  KBUILD_BUILD_USER=orctool KBUILD_BUILD_HOST=orctool)

# One build per cache at a time.
exec 9>"$CACHE/.lock"
flock -n 9 || { say "another build holds $CACHE/.lock; waiting"; flock 9; }

has_stage() { local s; for s in "${stages[@]}"; do [[ $s == "$1" ]] && return 0; done; return 1; }

# Wall time of each step, printed at the end and appended to times.txt.
declare -a timings=()
# (Under set -e a failing CMD ends the script here; inside run_pass, where set -e is off since
# its caller tests it, the status is returned.)
timed() { # timed NAME CMD...: run CMD, record its wall time, return its status
  local name=$1 t0=$SECONDS rc; shift
  "$@"; rc=$?
  local dt=$((SECONDS - t0))
  timings+=("$(printf '%-30s %4dm%02ds%s' "$name" $((dt / 60)) $((dt % 60)) "$( ((rc == 0)) || echo " FAILED (exit $rc)")")")
  printf '%s %s %ds jobs=%s%s\n' "$(date -u +%FT%TZ)" "$name" "$dt" "$jobs" "$( ((rc == 0)) || echo " FAILED")" >>"$V/times.txt"
  if ((rc == 0)); then say "$name done in ${dt}s"; else say "$name FAILED (exit $rc) after ${dt}s"; fi
  return $rc
}

# --- build dependencies ---------------------------------------------------------------------

# shellcheck source=scripts/apt-install.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"

install_deps() {
  local pkgs=(gcc make flex bison bc libelf-dev libssl-dev xz-utils perl python3 cpio kmod binutils time util-linux)
  # 7.3's tools/objtool builds its klp subcommand only with xxhash (optional, but then complete).
  [[ $kver == 6.12 ]] || pkgs+=(libxxhash-dev)
  apt_install_missing "${pkgs[@]}"
}

# --- the source --------------------------------------------------------------------------------

# The tarball from, in order: ORCTOOL_KSRC_DEB (a linux-source-<version> .deb), the installed
# package's /usr/src/linux-source-<version>.tar.xz, apt's archive cache, or: for 6.12 apt-get
# install (bookworm has it), for 7.3 apt-get download from trixie-backports through the private
# apt configuration of scripts/debian-suites.sh (the system's apt sources are not touched).
extract_source() {
  [[ -f $SRC/.stamp ]] && return 0
  local tarball= deb=${ORCTOOL_KSRC_DEB:-}
  if [[ -z $deb && ! -f /usr/src/$SRC_PKG.tar.xz ]]; then
    deb=$(ls -1 /var/cache/apt/archives/${SRC_PKG}_*_all.deb 2>/dev/null | sort -V | tail -n1 || true)
  fi
  if [[ -z $deb && ! -f /usr/src/$SRC_PKG.tar.xz && $kver != 6.12 ]]; then
    SUITES_DIR=$CACHE/apt-suites
    # shellcheck source=scripts/debian-suites.sh
    . "$SCRIPT_DIR/debian-suites.sh"
    mkdir -p "$SUITES_DIR/debs"
    say "apt-get download $SRC_PKG (Debian $SUITES_LIST, private apt configuration in $SUITES_DIR)"
    deb=$(suites_download "$SUITES_DIR/debs" "$SRC_PKG") || die "could not download $SRC_PKG"
  fi
  rm -rf "$SRC" "$CACHE/src/.tmp"
  mkdir -p "$CACHE/src/.tmp"
  if [[ -n $deb ]]; then
    [[ -f $deb ]] || die "ORCTOOL_KSRC_DEB=$deb: no such file"
    [[ "$(dpkg-deb -f "$deb" Package)" == "$SRC_PKG" ]] || die "$deb is not a $SRC_PKG package"
    say "extracting $deb"
    dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$SRC_PKG.tar.xz" | tar -xJ -C "$CACHE/src/.tmp"
    dpkg-deb -f "$deb" Version >"$CACHE/src/.tmp/VERSION"
  else
    if [[ ! -f /usr/src/$SRC_PKG.tar.xz ]]; then
      say "apt-get install $SRC_PKG"
      local SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$SRC_PKG" >/dev/null ||
        { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$SRC_PKG" >/dev/null; } ||
        die "apt-get install $SRC_PKG failed"
    fi
    say "extracting /usr/src/$SRC_PKG.tar.xz"
    tar -xJf "/usr/src/$SRC_PKG.tar.xz" -C "$CACHE/src/.tmp"
    dpkg-query -W -f='${Version}\n' "$SRC_PKG" >"$CACHE/src/.tmp/VERSION"
  fi
  [[ -f $CACHE/src/.tmp/$SRC_PKG/Makefile ]] || die "the tarball has no $SRC_PKG/Makefile"
  mv "$CACHE/src/.tmp/$SRC_PKG" "$SRC"
  mv "$CACHE/src/.tmp/VERSION" "$SRC/.debian-version"
  rmdir "$CACHE/src/.tmp"
  date -u +%FT%TZ >"$SRC/.stamp"
}

# --- the config ---------------------------------------------------------------------------------

# scripts/config arguments on top of x86_64_defconfig. Symbols that must end up =y or =m (or
# must not be =y) are checked after olddefconfig (a dependency Kconfig refuses would otherwise
# go unnoticed). The 6.12 arguments are unchanged from when it was the only kernel.
#
# 6.12 -> 7.3: XEN_PVHVM became XEN_PVHVM_GUEST; PREFIX_SYMBOLS is gone (CALL_PADDING alone gives
# --prefix=$(FUNCTION_PADDING_BYTES), 16); OBJTOOL_WERROR is new (objtool --werror, "if unsure,
# say Y"): off. The x86 crypto asm modules (chacha20-x86_64, poly1305-x86_64, sha256/sha512-ssse3,
# crc32c-intel, ghash-clmulni-intel) became lib/crypto/x86 and lib/crc/x86 code of the
# CRYPTO_LIB_* / CRC libraries: defconfig builds the SHA, AES, GHASH and CRC32 ones in, and
# CHACHA20POLY1305 and ADIANTUM pull in libchacha, libpoly1305 and libnh (asm) as modules.
XEN_HVM_612=(-e XEN_PVHVM)
XEN_HVM_73=(-e XEN_PVHVM_GUEST)
CRYPTO_612=(-m CRYPTO_AES_NI_INTEL -m CRYPTO_CHACHA20_X86_64 -m CRYPTO_SHA256_SSSE3 -m CRYPTO_SHA512_SSSE3
  -m CRYPTO_CRC32C_INTEL -m CRYPTO_GHASH_CLMUL_NI_INTEL -m CRYPTO_POLY1305_X86_64)
CRYPTO_73=(-m CRYPTO_AES_NI_INTEL -m CRYPTO_CHACHA20POLY1305 -m CRYPTO_ADIANTUM)
case $kver in
  6.12) XEN_HVM=("${XEN_HVM_612[@]}") WERROR_OFF=(-d WERROR) CRYPTO=("${CRYPTO_612[@]}") ;;
  7.3) XEN_HVM=("${XEN_HVM_73[@]}") WERROR_OFF=(-d WERROR -d OBJTOOL_WERROR) CRYPTO=("${CRYPTO_73[@]}") ;;
esac
# --no-ibt: X86_KERNEL_IBT off, and so no delay-objtool: objtool runs on each TU (ORC, retpoline,
# rethunk, SLS, call depth tracking and its padding do not depend on IBT; checked below).
if ((noibt)); then IBT=(-d X86_KERNEL_IBT); else IBT=(-e X86_KERNEL_IBT); fi
CONFIG_ARGS=(
  -e UNWINDER_ORC -d UNWINDER_FRAME_POINTER
  -e HYPERVISOR_GUEST -e PARAVIRT -e PARAVIRT_SPINLOCKS -e XEN -e XEN_PV "${XEN_HVM[@]}" -e XEN_PVH -e KVM_GUEST
  "${IBT[@]}"
  -e CPU_MITIGATIONS -e MITIGATION_RETPOLINE -e MITIGATION_RETHUNK -e MITIGATION_UNRET_ENTRY
  -e MITIGATION_CALL_DEPTH_TRACKING -e MITIGATION_SRSO -e MITIGATION_SLS -e MITIGATION_IBPB_ENTRY
  -e MITIGATION_IBRS_ENTRY
  -e MODULES -d MODULE_SIG -d SYSTEM_TRUSTED_KEYRING "${WERROR_OFF[@]}"
  # module objects for objtool --module: asm-heavy ones (KVM's vmenter, crypto) and plain C
  -e VIRTUALIZATION -m KVM -m KVM_INTEL -m KVM_AMD
  "${CRYPTO[@]}"
  -m FUSE_FS -m OVERLAY_FS -m SQUASHFS -m ISO9660_FS -m BRIDGE -m TUN -m VETH -m DUMMY -m BLK_DEV_NBD
  -m XEN_BLKDEV_FRONTEND -m XEN_NETDEV_FRONTEND
)
REQUIRED_Y=(UNWINDER_ORC PARAVIRT XEN XEN_PV MITIGATION_RETPOLINE MITIGATION_RETHUNK
  MITIGATION_SLS MITIGATION_CALL_DEPTH_TRACKING CALL_PADDING OBJTOOL MODULES)
REQUIRED_M=(KVM KVM_INTEL FUSE_FS BRIDGE CRYPTO_AES_NI_INTEL)
REQUIRED_N=(WERROR)
if ((noibt)); then REQUIRED_N+=(X86_KERNEL_IBT LTO_CLANG KLP_BUILD); else REQUIRED_Y+=(X86_KERNEL_IBT); fi
case $kver in
  6.12) REQUIRED_Y+=(PREFIX_SYMBOLS) ;;
  7.3)
    REQUIRED_Y+=(XEN_PVHVM_GUEST CRYPTO_LIB_CHACHA_ARCH CRYPTO_LIB_POLY1305_ARCH CRYPTO_LIB_NH_ARCH)
    REQUIRED_M+=(CRYPTO_LIB_CHACHA CRYPTO_LIB_POLY1305 CRYPTO_LIB_NH)
    REQUIRED_N+=(OBJTOOL_WERROR)
    ;;
esac

configure() {
  local args=("${CONFIG_ARGS[@]}")
  if ((debug)); then
    args+=(-d DEBUG_INFO_NONE -e DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -d DEBUG_INFO_REDUCED
      -e DEBUG_INFO_COMPRESSED_NONE -d DEBUG_INFO_COMPRESSED_ZLIB -d DEBUG_INFO_COMPRESSED_ZSTD -d DEBUG_INFO_SPLIT -d DEBUG_INFO_BTF -d GDB_SCRIPTS)
  else
    args+=(-e DEBUG_INFO_NONE -d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -d DEBUG_INFO_DWARF4 -d DEBUG_INFO_DWARF5)
  fi
  local want="defconfig=x86_64_defconfig ${args[*]}"
  if [[ -f $BUILD/.config && -f $V/config-args && "$(cat "$V/config-args")" == "$want" ]]; then
    return 0 # unchanged: leave .config alone so nothing rebuilds
  fi
  mkdir -p "$BUILD"
  make -s -C "$SRC" O="$BUILD" x86_64_defconfig >/dev/null
  "$SRC/scripts/config" --file "$BUILD/.config" "${args[@]}"
  make -s -C "$SRC" O="$BUILD" olddefconfig >/dev/null
  local s bad=()
  for s in "${REQUIRED_Y[@]}"; do grep -qx "CONFIG_$s=y" "$BUILD/.config" || bad+=("$s=y"); done
  for s in "${REQUIRED_M[@]}"; do grep -qx "CONFIG_$s=m" "$BUILD/.config" || bad+=("$s=m"); done
  for s in "${REQUIRED_N[@]}"; do if grep -q "^CONFIG_$s=[ym]" "$BUILD/.config"; then bad+=("$s=n"); fi; done
  if ((debug)); then
    grep -qx 'CONFIG_DEBUG_INFO=y' "$BUILD/.config" || bad+=(DEBUG_INFO=y)
    grep -qx 'CONFIG_DEBUG_INFO_COMPRESSED_NONE=y' "$BUILD/.config" || bad+=(DEBUG_INFO_COMPRESSED_NONE=y)
  else grep -q '^CONFIG_DEBUG_INFO=y' "$BUILD/.config" && bad+=(DEBUG_INFO=n); fi
  ((${#bad[@]} == 0)) || die "Kconfig did not give ${bad[*]} (see $BUILD/.config)"
  printf '%s\n' "$want" >"$V/config-args"
}

# --- orctool ---------------------------------------------------------------------------------------

# (snapshot_orctool)
source "$REPO/scripts/orctool-snapshot.sh"

# --- the objtool wrapper -------------------------------------------------------------------------

# Kbuild runs objtool as $(objtool) (scripts/Makefile.lib), with the build tree as the working
# directory and the object as the last argument; a command-line objtool=... overrides it.
# Every object it is handed is kept, under a key: vmlinux.o as vmlinux/vmlinux.o; module objects
# (--module) and the modules' data-only *.mod.o and .module-common.o (no --module) as
# modules/<path>; other built-in objects (.vmlinux.export.o, 7.3's arch/x86/boot/startup/*.o) as
# vmlinux/<path>; with --no-ibt every TU as tu/<path> (kept in objects/tu/files/<path>). The
# input goes to objects/<key>, the tool's output, messages and exit status to outputs/<tool>/<key>.
# (In a case pattern * also matches a leading dot: .module-common.o is a *.o.)
wrapper_text() { # TOOL
  local t=$1 real
  case $t in objtool) real=$BUILD/tools/objtool/objtool ;; orctool) real=$ORCTOOL ;; esac
  cat <<EOF
#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Written by orctool's scripts/build-kernel.sh ($t): keep the input object, log the command, run
# $t, keep its output object, messages and exit status.
real='$real'
save='$OBJ'
out='$V/outputs/$t'
log='$V/objtool-commands.log'
noibt=$noibt
for last; do :; done
module=
for a; do [ "\$a" = --module ] && module=1; done
case "\$last" in
  vmlinux.o) key=vmlinux/vmlinux.o ;;
  /*|*..*) key= ;;
  *.mod.o|.module-common.o) key="modules/\$last" ;;
  *.o) if [ \$noibt = 1 ]; then key="tu/\$last"; elif [ -n "\$module" ]; then key="modules/\$last"; else key="vmlinux/\$last"; fi ;;
  *) key= ;;
esac
printf 'objtool %s\n' "\$*" >>"\$log"
if [ -z "\$key" ] || [ ! -f "\$last" ]; then exec "\$real" "\$@"; fi
case "\$key" in tu/*) in="\$save/tu/files/\${key#tu/}" ;; *) in="\$save/\$key" ;; esac
o="\$out/\$key"
mkdir -p "\${in%/*}" "\${o%/*}" && cp -f "\$last" "\$in.tmp.\$\$" && mv -f "\$in.tmp.\$\$" "\$in" || exit 1
t0=\$(date +%s.%N)
"\$real" "\$@" 2>"\$o.msg.tmp.\$\$"
rc=\$?
t1=\$(date +%s.%N)
cp -f "\$last" "\$o.tmp.\$\$" && mv -f "\$o.tmp.\$\$" "\$o"
sha256sum <"\$in" | cut -c1-64 >"\$o.in"
echo \$rc >"\$o.rc"
mv -f "\$o.msg.tmp.\$\$" "\$o.msg"
printf '%s\t%s\t%s\n' "\$rc" "\$(awk "BEGIN { printf \"%.2f\", \$t1 - \$t0 }")" "\$*" >>"\$out/commands.log"
cat "\$o.msg" >&2
exit \$rc
EOF
}

# Install the wrapper for TOOL. Kbuild records $(objtool) as a dependency of every object it ran
# on (cmd_gen_objtooldep), so a new text (another tool, another orctool snapshot) re-runs objtool
# on all of them: that tool's kept outputs are dropped then, and only then (touch it only on change).
write_wrapper() { # TOOL
  local t=$1 w=$V/objtool-wrapper tmp
  tmp=$(mktemp "$V/.wrapper.XXXXXX") || return 1
  wrapper_text "$t" >"$tmp" || return 1
  chmod 755 "$tmp"
  if [[ -f $w ]] && cmp -s "$tmp" "$w"; then rm -f "$tmp"; return 0; fi
  rm -rf "$V/outputs/$t"
  mv -f "$tmp" "$w"
}

# make's output of a pass goes to the terminal and to $PASS_LOG.
PASS_LOG=/dev/null
kmake() { env "${KENV[@]}" make -C "$SRC" O="$BUILD" -j"$jobs" objtool="$V/objtool-wrapper" "$@" 2>&1 | tee -a "$PASS_LOG"; }

count_lines() { if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi; }

# --- stages ---------------------------------------------------------------------------------------
# (run from run_pass, whose caller tests its status: bash's set -e is off in there, so every
# step checks its own)

# The per-TU objects of $dirs: .o files whose kbuild command is the compiler and runs no
# objtool (with IBT only single-object modules would); the vDSO is user-space code.
collect_tu() {
  local list=$OBJ/tu/list.txt.tmp d
  mkdir -p "$OBJ/tu" || return 1
  : >"$list"
  for d in $dirs; do
    d=${d%/}
    [[ -d $BUILD/$d ]] || continue
    (cd "$BUILD" && find "$d" -name '*.o' ! -name '*.mod.o' ! -path '*/vdso/*' -print) | LC_ALL=C sort |
      while read -r o; do
        local cmd=$BUILD/${o%/*}/.${o##*/}.cmd
        [[ -f $cmd ]] || continue
        local first
        first=$(head -n1 "$cmd")
        case $first in
          *objtool*) continue ;;
          "savedcmd_$o := gcc "*) printf '%s\n' "$o" ;;
        esac
      done >>"$list" || return 1
  done
  rm -rf "$OBJ/tu/files"
  mkdir -p "$OBJ/tu/files" || return 1
  tar -C "$BUILD" -cf - -T "$list" | tar -C "$OBJ/tu/files" -xf - || return 1
  mv -f "$list" "$OBJ/tu/list.txt" || return 1
  date -u +%FT%TZ >"$OBJ/tu/.stamp"
  say "kept $(wc -l <"$OBJ/tu/list.txt") TU objects in $OBJ/tu/files"
}

# --no-ibt: the TUs of $dirs the wrapper kept as objtool was handed them.
list_kept_tu() {
  local list=$OBJ/tu/list.txt.tmp d
  mkdir -p "$OBJ/tu/files" || return 1
  : >"$list"
  for d in $dirs; do
    d=${d%/}
    [[ -d $OBJ/tu/files/$d ]] || continue
    (cd "$OBJ/tu/files" && find "$d" -name '*.o' -print) >>"$list" || return 1
  done
  LC_ALL=C sort -u -o "$list" "$list" && mv -f "$list" "$OBJ/tu/list.txt" || return 1
  date -u +%FT%TZ >"$OBJ/tu/.stamp"
  say "kept $(wc -l <"$OBJ/tu/list.txt") TU objects (as objtool was handed them) in $OBJ/tu/files"
}

stage_tu() {
  local targets=() d
  for d in $dirs; do targets+=("${d%/}/"); done
  rm -f "$OBJ/tu/.stamp"
  kmake "${targets[@]}" || return 1
  if ((noibt)); then list_kept_tu; else collect_tu; fi
}

# list.txt of a stage's directory: every kept .o (find's -name '*.o' matches .module-common.o).
list_kept() {
  mkdir -p "$OBJ/$1" || return 1
  (cd "$OBJ/$1" && find . -name '*.o' -printf '%P\n' | LC_ALL=C sort) >"$OBJ/$1/list.txt.tmp" || return 1
  mv -f "$OBJ/$1/list.txt.tmp" "$OBJ/$1/list.txt"
}

stage_vmlinux() {
  rm -f "$OBJ/vmlinux/.stamp"
  kmake bzImage || return 1
  if [[ ! -f $OBJ/vmlinux/vmlinux.o ]]; then
    say "the wrapper did not see vmlinux.o (up to date from an earlier build without it? remove $BUILD/vmlinux.o)"
    return 1
  fi
  list_kept vmlinux || return 1
  date -u +%FT%TZ >"$OBJ/vmlinux/.stamp"
  say "kept vmlinux.o and $(($(wc -l <"$OBJ/vmlinux/list.txt") - 1)) other built-in objects in $OBJ/vmlinux"
}

stage_modules() {
  rm -f "$OBJ/modules/.stamp"
  kmake modules || return 1
  list_kept modules || return 1
  date -u +%FT%TZ >"$OBJ/modules/.stamp"
  say "kept $(wc -l <"$OBJ/modules/list.txt") module objects in $OBJ/modules"
}

# The images of this pass's stages: vmlinux, System.map, bzImage (vmlinux stage), every module
# of modules.order as <path>.ko (modules stage).
save_images() { # TOOL
  local I=$V/images/$1 ko
  rm -rf "$I.tmp" && mkdir -p "$I.tmp" || return 1
  if has_stage vmlinux; then
    cp -p "$BUILD/vmlinux" "$BUILD/System.map" "$BUILD/arch/x86/boot/bzImage" "$I.tmp/" || return 1
  fi
  if has_stage modules; then
    while read -r ko; do
      ko=${ko%.o}; ko=${ko%.ko}.ko
      mkdir -p "$(dirname "$I.tmp/$ko")" && cp -p "$BUILD/$ko" "$I.tmp/$ko" || return 1
    done <"$BUILD/modules.order"
  fi
  rm -rf "$I" && mv "$I.tmp" "$I"
}

# --- a pass: the stages with one tool ----------------------------------------------------------

# What a finished pass depends on: the wrapper's text (the tool, an orctool snapshot's hash), the
# config, the build identity, the stages. --compare reuses a pass whose stamp holds the same.
pass_id() { # TOOL
  { wrapper_text "$1"; cat "$V/config-args"; printf '%s\n' "${KENV[@]}" "$kver" "${stages[@]}" "$dirs"; } | sha256sum | cut -c1-64
}

declare -A PASS_STATE=()
run_pass() { # TOOL
  local t=$1 id O=$V/outputs/$1 t0=$SECONDS n0 s
  id=$(pass_id "$t")
  if ((compare)) && [[ -f $O/.stamp && "$(cat "$O/.stamp")" == "$id" ]]; then
    PASS_STATE[$t]=reused
    say "$t pass: reusing the finished one ($(sed -n 1p "$O/pass.txt" 2>/dev/null))"
    return 0
  fi
  say "$t pass: stages ${stages[*]} with $t as the build's objtool"
  write_wrapper "$t" || return 1
  mkdir -p "$O" "$V/logs" || return 1
  rm -f "$O/.stamp" "$O/pass.txt"
  PASS_LOG=$V/logs/$t.log
  : >"$PASS_LOG"
  n0=$(count_lines "$O/commands.log")
  local -a st=()
  timed_step() { # NAME CMD...
    local name=$1 t1=$SECONDS; shift
    timed "$name [$t]" "$@" || return 1
    st+=("$name $((SECONDS - t1))s")
  }
  timed_step prepare kmake prepare || return 1
  if has_stage tu; then timed_step tu stage_tu || return 1; fi
  if has_stage vmlinux; then timed_step vmlinux+bzImage stage_vmlinux || return 1; fi
  if has_stage modules; then timed_step modules stage_modules || return 1; fi
  if has_stage vmlinux || has_stage modules; then timed_step images save_images "$t" || return 1; fi
  s=$((SECONDS - t0))
  {
    printf '%s pass finished %s in %dm%02ds (%s), stages %s\n' "$t" "$(date -u +%FT%TZ)" $((s / 60)) $((s % 60)) "$(IFS=,; echo "${st[*]}")" "${stages[*]}"
    [[ $t == orctool ]] && printf '  orctool: %s (%s)\n' "$ORCTOOL" "$ORCTOOL_ID"
    tail -n +$((n0 + 1)) "$O/commands.log" 2>/dev/null | awk -F'\t' '
      { n++; if ($1 != 0) bad++; k = split($3, a, " "); if (a[k] == "vmlinux.o") v += $2; else r += $2 }
      END { printf "  %s ran on %d objects this pass (%d failed); time in it: vmlinux.o %.1fs, the others %.1fs\n", "'"$t"'", n, bad, v, r }'
    printf '  make ran (kbuild short commands, this pass): %s\n' "$(awk '/^  [A-Z][A-Z0-9_]* /{ k = $1; if ($2 == "[M]") k = k " [M]"; n[k]++ } END { for (k in n) printf "%s %d, ", k, n[k] }' "$PASS_LOG" | sed 's/, $//')"
  } >"$O/pass.txt"
  printf '%s\n' "$id" >"$O/.stamp"
  PASS_STATE[$t]=ran
}

# The distinct objtool flag sets of the log (file name replaced by its kind), with how many
# files each (a command repeated by a rebuild counts once).
summarise_flags() {
  [[ -f $V/objtool-commands.log ]] || return 0
  LC_ALL=C sort -u "$V/objtool-commands.log" |
    awk -v noibt="$noibt" '{
      f = $NF; m = 0
      for (i = 2; i < NF; i++) if ($i == "--module") m = 1
      if (f == "vmlinux.o" || f == ".vmlinux.export.o" || f == ".module-common.o") k = f
      else if (f ~ /\.mod\.o$/) k = "<module>.mod.o"
      else if (noibt) k = (m ? "<module TU>.o" : "<built-in TU>.o")
      else k = (m ? "<module>.o" : "<built-in>.o")
      $NF = k; print
    }' |
    LC_ALL=C sort | uniq -c | sort -rn >"$V/objtool-flags.txt"
}

# --- comparing the two passes ---------------------------------------------------------------------

# Every object objtool was handed: its output (cmp; when the bytes differ, the same ELF content by
# src/testing/elf-compare.ts: every section's header and bytes, where sections sit aside), its
# messages, its exit status and its input (sha256); then the images byte for byte.
compare_passes() {
  local A=$V/outputs/objtool B=$V/outputs/orctool IA=$V/images/objtool IB=$V/images/orctool
  local ec=$ORCTOOL_DIST/testing/elf-compare.js k d r t
  local n=0 nout=0 nbytes=0 nmsg=0 nrc=0 nin=0 ni=0 nisame=0 nko=0
  local -a diffs=()
  echo "== Linux $kver ($(cat "$SRC/.debian-version")): objtool vs orctool as the build's objtool"
  echo "build tree: $BUILD ($(sed 's/^defconfig=//' "$V/config-args" | cut -c1-60)...)"
  echo "build identity: ${KENV[*]}"
  echo "orctool: $ORCTOOL ($ORCTOOL_ID)"
  for t in objtool orctool; do
    echo "$t pass: ${PASS_STATE[$t]:-not run}$( [[ ${PASS_STATE[$t]:-} == reused ]] && echo ' (its stamp matches this run: same wrapper text, config, identity, stages)')"
    [[ -f $V/outputs/$t/pass.txt ]] && sed 's/^/  /' "$V/outputs/$t/pass.txt"
  done
  while read -r k; do
    [[ -n $k ]] || continue
    n=$((n + 1)); d=()
    if cmp -s "$A/$k" "$B/$k"; then nout=$((nout + 1)); nbytes=$((nbytes + 1))
    elif [[ -f $A/$k && -f $B/$k ]]; then
      if r=$(node "$ec" "$B/$k" "$A/$k" 2>&1); then nout=$((nout + 1)); else d+=("output: $r"); fi
    else d+=("output: only $([[ -f $A/$k ]] && echo objtool || echo orctool) ran on it"); fi
    if cmp -s "$A/$k.msg" "$B/$k.msg"; then nmsg=$((nmsg + 1))
    else d+=("messages: objtool $(count_lines "$A/$k.msg") lines, orctool $(count_lines "$B/$k.msg"); first difference: $(diff "$A/$k.msg" "$B/$k.msg" 2>&1 | grep -m2 '^[<>]' | tr '\n' ' ')"); fi
    if cmp -s "$A/$k.rc" "$B/$k.rc"; then nrc=$((nrc + 1))
    else d+=("exit status: objtool $(cat "$A/$k.rc" 2>/dev/null || echo -), orctool $(cat "$B/$k.rc" 2>/dev/null || echo -)"); fi
    if cmp -s "$A/$k.in" "$B/$k.in"; then nin=$((nin + 1)); else d+=("input differs (the builds handed the tools different objects)"); fi
    ((${#d[@]} == 0)) || diffs+=("$k: $(printf '%s; ' "${d[@]}" | sed 's/; $//')")
  done < <({ (cd "$A" 2>/dev/null && find . -name '*.o' -printf '%P\n'); (cd "$B" 2>/dev/null && find . -name '*.o' -printf '%P\n'); } | LC_ALL=C sort -u)
  echo "objects objtool was handed ($n, each with its own command line from kbuild):"
  printf '  output: same ELF content      %d/%d (byte-identical %d, layout only %d)\n' "$nout" "$n" "$nbytes" $((nout - nbytes))
  printf '  messages (stderr) identical   %d/%d\n' "$nmsg" "$n"
  printf '  exit status identical         %d/%d\n' "$nrc" "$n"
  printf '  input identical (sha256)      %d/%d\n' "$nin" "$n"
  while read -r k; do
    [[ -n $k ]] || continue
    ni=$((ni + 1)); [[ $k == *.ko ]] && nko=$((nko + 1))
    if cmp -s "$IA/$k" "$IB/$k"; then nisame=$((nisame + 1))
    elif [[ -f $IA/$k && -f $IB/$k ]]; then
      r=$(cmp "$IA/$k" "$IB/$k" 2>&1 | head -n1)
      if [[ $r =~ differ:\ byte\ ([0-9]+), ]]; then r="first differing byte at offset $(printf '0x%x' $((BASH_REMATCH[1] - 1)))"
      else r=${r//"$IA/"/objtool:}; r=${r//"$IB/"/orctool:}; fi
      r="$r (sizes: objtool $(stat -c %s "$IA/$k"), orctool $(stat -c %s "$IB/$k"))"
      [[ $k == bzImage || $k == System.map ]] || r="$r; as ELF: $(node "$ec" "$IB/$k" "$IA/$k" 2>&1 || true)"
      diffs+=("image $k: $r")
    else diffs+=("image $k: only in the $([[ -f $IA/$k ]] && echo objtool || echo orctool) pass"); fi
  done < <({ (cd "$IA" 2>/dev/null && find . -type f -printf '%P\n'); (cd "$IB" 2>/dev/null && find . -type f -printf '%P\n'); } | LC_ALL=C sort -u)
  echo "images ($(((ni - nko))) of vmlinux, bzImage, System.map; $nko .ko):"
  printf '  byte-identical                %d/%d\n' "$nisame" "$ni"
  if ((${#diffs[@]})); then
    echo "differences (${#diffs[@]}):"
    printf '  %s\n' "${diffs[@]}"
  fi
  local ok=1
  ((${#diffs[@]} == 0 && n > 0)) || ok=0
  [[ ${PASS_STATE[objtool]:-} != failed && ${PASS_STATE[orctool]:-} != failed ]] || ok=0
  echo "result: $( ((ok)) && echo 'SAME' || echo 'DIFFERENT')"
  ((ok))
}

# --- main ------------------------------------------------------------------------------------------

total0=$SECONDS
say "Linux $kver, cache $V, stages ${stages[*]}, -j$jobs, $( ((compare)) && echo 'compare objtool with orctool' || echo "objtool=$tool")"
timed deps install_deps
timed source extract_source
say "source $SRC ($(cat "$SRC/.debian-version"))"
timed config configure
if [[ $tool == orctool ]] || ((compare)); then
  snapshot_orctool
  say "orctool: $ORCTOOL ($ORCTOOL_ID)"
fi

status=0
if ((compare)); then
  run_pass objtool || { PASS_STATE[objtool]=failed; die "the objtool pass failed (make's output: $V/logs/objtool.log)"; }
  run_pass orctool || { PASS_STATE[orctool]=failed; say "the orctool pass failed (make's output: $V/logs/orctool.log)"; }
  summarise_flags
  compare_passes >"$V/compare.txt" || status=1
else
  run_pass "$tool" || die "the build with $tool failed (make's output: $V/logs/$tool.log)"
  summarise_flags
fi

say "done in $(((SECONDS - total0) / 60))m$(((SECONDS - total0) % 60))s"
{
  printf '\nstage timings (this run):\n'
  printf '  %s\n' "${timings[@]}"
  printf '\nsource:        %s (%s)\n' "$SRC" "$(cat "$SRC/.debian-version")"
  printf 'build tree:    %s\n' "$BUILD"
  [[ -f $OBJ/tu/.stamp ]] && printf 'TU objects:    %s/tu/files (%s, list.txt)\n' "$OBJ" "$(wc -l <"$OBJ/tu/list.txt")"
  [[ -f $OBJ/vmlinux/.stamp ]] && printf 'vmlinux.o:     %s/vmlinux/vmlinux.o (%s bytes, before objtool; %s objects, list.txt)\n' "$OBJ" "$(stat -c %s "$OBJ/vmlinux/vmlinux.o")" "$(wc -l <"$OBJ/vmlinux/list.txt")"
  [[ -f $OBJ/modules/.stamp ]] && printf 'module objs:   %s/modules (%s, list.txt)\n' "$OBJ" "$(wc -l <"$OBJ/modules/list.txt")"
  for t in objtool orctool; do
    [[ -f $V/outputs/$t/pass.txt ]] && printf '%s outputs: %s/outputs/%s, images %s/images/%s; last pass:\n%s\n' "$t" "$V" "$t" "$V" "$t" "$(sed 's/^/  /' "$V/outputs/$t/pass.txt")"
  done
  if [[ -s $V/objtool-flags.txt ]]; then
    printf 'objtool log:   %s\n' "$V/objtool-commands.log"
    printf 'objtool command lines (count, flags, file):\n'
    sed 's/^/  /' "$V/objtool-flags.txt"
  fi
} >&2
if ((compare)); then
  echo
  cat "$V/compare.txt"
  say "report: $V/compare.txt"
fi
exit $status
