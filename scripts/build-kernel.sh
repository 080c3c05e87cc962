#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build Linux 6.12 or 7.3 from Debian's linux-source-<version> and keep the objects objtool is
# handed, for parity tests and benchmarks (src/corpus/kernel-objects.ts, npm run bench). Nothing
# it builds goes into the repo: everything lives in ${ORCTOOL_KBUILD:-~/.cache/orctool-kbuild}.
#
#   scripts/build-kernel.sh                 all stages: tu, vmlinux, modules
#   scripts/build-kernel.sh --kernel 7.3    which kernel: 6.12 (default) or 7.3
#   scripts/build-kernel.sh --tu-only       only the per-translation-unit objects of --dirs
#   scripts/build-kernel.sh --vmlinux --modules    choose stages (tu is cheap once built)
#   scripts/build-kernel.sh --debug-info    the same with DWARF debug info (separate tree)
#   scripts/build-kernel.sh --dirs 'kernel/ mm/'   directories whose TU objects are kept
#   scripts/build-kernel.sh -j N            parallel jobs (default: nproc)
#   scripts/build-kernel.sh --print-dir     print the variant's directory and exit
#
# Config: x86_64_defconfig plus UNWINDER_ORC, PARAVIRT, XEN/XEN_PV, X86_KERNEL_IBT, the
# return-thunk mitigations (RETPOLINE, RETHUNK, SLS, CALL_DEPTH_TRACKING, so --prefix=16),
# a few modules (KVM, crypto asm, fuse, bridge, ...), DEBUG_INFO off unless --debug-info,
# WERROR and (7.3) OBJTOOL_WERROR off. With IBT the kernel runs objtool only on vmlinux.o and
# on module objects, never on the per-TU objects, so those are kept exactly as the compiler
# wrote them (7.3 also runs it on the data-only *.mod.o, .module-common.o, .vmlinux.export.o and,
# with --dry-run --noabs, on arch/x86/boot/startup/*.o). The build is given objtool=<wrapper>:
# the wrapper logs its command line and copies its input before running the kernel's own
# objtool, which keeps every object objtool is handed as it got it.
#
# Source: 6.12 from this machine's apt (bookworm); 7.3 from Debian's trixie-backports through
# scripts/debian-suites.sh (private apt configuration in $CACHE/apt-suites; apt-get download,
# never installed). ORCTOOL_KSRC_DEB=<linux-source-<version> .deb> overrides either.
#
# Layout ($V = $CACHE/<version>, or $CACHE/<version>-debug with --debug-info):
#   $CACHE/src/linux-source-<version>/  the extracted source (shared by both variants)
#   $V/build/                         the O= build tree
#   $V/objects/tu/<path>.o + list.txt       per-TU objects, untouched by objtool
#   $V/objects/vmlinux/vmlinux.o + list.txt vmlinux.o before objtool ran on it; also the other
#                                           built-in objects objtool is run on (.vmlinux.export.o,
#                                           arch/x86/boot/startup/*.o), at <path>
#   $V/objects/modules/<path>.o + list.txt  module objects (with *.mod.o, .module-common.o)
#                                           before objtool ran on them
#   $V/objtool-commands.log           every objtool command line the build ran (cwd = build/)
#   $V/objtool-flags.txt              the distinct flag sets, with how many files each
#   $V/times.txt                      wall time of each stage of the last runs
# A stage that finished writes $V/objects/<stage>/.stamp.
set -euo pipefail

CACHE=${ORCTOOL_KBUILD:-$HOME/.cache/orctool-kbuild}
CACHE=$(realpath -m -- "$CACHE")
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEFAULT_DIRS='kernel/ mm/ fs/ext4/ net/ipv4/ arch/x86/kernel/ arch/x86/entry/ arch/x86/lib/ arch/x86/xen/'

say() { printf 'build-kernel: %s\n' "$*" >&2; }
die() { printf 'build-kernel: error: %s\n' "$*" >&2; exit 1; }

stages=()
kver=6.12
debug=0
jobs=$(nproc)
dirs=$DEFAULT_DIRS
print_dir=0
while (($#)); do
  case $1 in
    --tu-only) stages=(tu) ;;
    --tu) stages+=(tu) ;;
    --vmlinux) stages+=(vmlinux) ;;
    --modules) stages+=(modules) ;;
    --all) stages=(tu vmlinux modules) ;;
    --debug-info) debug=1 ;;
    --kernel) shift; kver=${1:-} ;;
    --kernel=*) kver=${1#--kernel=} ;;
    --dirs) shift; dirs=$1 ;;
    --dirs=*) dirs=${1#--dirs=} ;;
    -j) shift; jobs=$1 ;;
    -j*) jobs=${1#-j} ;;
    --print-dir) print_dir=1 ;;
    -h|--help) sed -n '3,43p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
((${#stages[@]})) || stages=(tu vmlinux modules)
[[ $jobs =~ ^[0-9]+$ ]] || die "-j needs a number"
case $kver in 6.12|7.3) ;; *) die "--kernel: 6.12 or 7.3, not '$kver'" ;; esac

SRC_PKG=linux-source-$kver
V=$CACHE/$kver; ((debug)) && V=$CACHE/$kver-debug
if ((print_dir)); then printf '%s\n' "$V"; exit 0; fi
BUILD=$V/build
OBJ=$V/objects
SRC=$CACHE/src/$SRC_PKG
mkdir -p "$CACHE" "$V" "$OBJ"

# One build per cache at a time.
exec 9>"$CACHE/.lock"
flock -n 9 || { say "another build holds $CACHE/.lock; waiting"; flock 9; }

has_stage() { local s; for s in "${stages[@]}"; do [[ $s == "$1" ]] && return 0; done; return 1; }

# Wall time of each step, printed at the end and appended to times.txt.
declare -a timings=()
timed() { # timed NAME CMD...
  local name=$1 t0=$SECONDS; shift
  "$@"
  local dt=$((SECONDS - t0))
  timings+=("$(printf '%-22s %4dm%02ds' "$name" $((dt / 60)) $((dt % 60)))")
  printf '%s %s %ds jobs=%s\n' "$(date -u +%FT%TZ)" "$name" "$dt" "$jobs" >>"$V/times.txt"
  say "$name done in ${dt}s"
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
CONFIG_ARGS=(
  -e UNWINDER_ORC -d UNWINDER_FRAME_POINTER
  -e HYPERVISOR_GUEST -e PARAVIRT -e PARAVIRT_SPINLOCKS -e XEN -e XEN_PV "${XEN_HVM[@]}" -e XEN_PVH -e KVM_GUEST
  -e X86_KERNEL_IBT
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
REQUIRED_Y=(UNWINDER_ORC PARAVIRT XEN XEN_PV X86_KERNEL_IBT MITIGATION_RETPOLINE MITIGATION_RETHUNK
  MITIGATION_SLS MITIGATION_CALL_DEPTH_TRACKING CALL_PADDING OBJTOOL MODULES)
REQUIRED_M=(KVM KVM_INTEL FUSE_FS BRIDGE CRYPTO_AES_NI_INTEL)
REQUIRED_N=(WERROR)
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

# --- the objtool wrapper -------------------------------------------------------------------------

# Kbuild runs objtool as $(objtool) (scripts/Makefile.lib), with the build tree as the working
# directory and the object as the last argument; a command-line objtool=... overrides it.
# Every object it is handed is kept: vmlinux.o as vmlinux/vmlinux.o; module objects (--module)
# and the modules' data-only *.mod.o and .module-common.o (no --module) as modules/<path>; other
# built-in objects (.vmlinux.export.o, 7.3's arch/x86/boot/startup/*.o) as vmlinux/<path>.
# (In a case pattern * also matches a leading dot: .module-common.o is a *.o.)
write_wrapper() {
  local w=$V/objtool-wrapper tmp
  tmp=$(mktemp "$V/.wrapper.XXXXXX")
  cat >"$tmp" <<EOF
#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Written by orctool's scripts/build-kernel.sh: keep objtool's input, log the command, run it.
real='$BUILD/tools/objtool/objtool'
save='$OBJ'
log='$V/objtool-commands.log'
for last; do :; done
module=
for a; do [ "\$a" = --module ] && module=1; done
case "\$last" in
  vmlinux.o) dest="\$save/vmlinux/vmlinux.o" ;;
  /*|*..*) dest= ;;
  *.mod.o|.module-common.o) dest="\$save/modules/\$last" ;;
  *.o) if [ -n "\$module" ]; then dest="\$save/modules/\$last"; else dest="\$save/vmlinux/\$last"; fi ;;
  *) dest= ;;
esac
if [ -n "\$dest" ]; then
  mkdir -p "\${dest%/*}" && cp -f "\$last" "\$dest.tmp.\$\$" && mv -f "\$dest.tmp.\$\$" "\$dest"
fi
printf 'objtool %s\n' "\$*" >>"\$log"
exec "\$real" "\$@"
EOF
  chmod 755 "$tmp"
  # Kbuild records the wrapper as a dependency of every object it ran on: touch it only on change.
  if [[ -f $w ]] && cmp -s "$tmp" "$w"; then rm -f "$tmp"; else mv -f "$tmp" "$w"; fi
}

kmake() { make -C "$SRC" O="$BUILD" -j"$jobs" objtool="$V/objtool-wrapper" "$@"; }

# --- stages ---------------------------------------------------------------------------------------

# The per-TU objects of $dirs: .o files whose kbuild command is the compiler and runs no
# objtool (with IBT only single-object modules would); the vDSO is user-space code.
collect_tu() {
  local list=$OBJ/tu/list.txt.tmp d
  mkdir -p "$OBJ/tu"
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
      done >>"$list"
  done
  rm -rf "$OBJ/tu/files"
  mkdir -p "$OBJ/tu/files"
  tar -C "$BUILD" -cf - -T "$list" | tar -C "$OBJ/tu/files" -xf -
  mv -f "$list" "$OBJ/tu/list.txt"
  date -u +%FT%TZ >"$OBJ/tu/.stamp"
  say "kept $(wc -l <"$OBJ/tu/list.txt") TU objects in $OBJ/tu/files"
}

stage_tu() {
  local targets=() d
  for d in $dirs; do targets+=("${d%/}/"); done
  kmake "${targets[@]}"
  collect_tu
}

# list.txt of a stage's directory: every kept .o (find's -name '*.o' matches .module-common.o).
list_kept() {
  mkdir -p "$OBJ/$1"
  (cd "$OBJ/$1" && find . -name '*.o' -printf '%P\n' | LC_ALL=C sort) >"$OBJ/$1/list.txt.tmp"
  mv -f "$OBJ/$1/list.txt.tmp" "$OBJ/$1/list.txt"
}

stage_vmlinux() {
  rm -f "$OBJ/vmlinux/.stamp"
  kmake vmlinux
  [[ -f $OBJ/vmlinux/vmlinux.o ]] ||
    die "the wrapper did not see vmlinux.o (up to date from an earlier build without it? remove $BUILD/vmlinux.o)"
  list_kept vmlinux
  date -u +%FT%TZ >"$OBJ/vmlinux/.stamp"
  say "kept vmlinux.o and $(($(wc -l <"$OBJ/vmlinux/list.txt") - 1)) other built-in objects in $OBJ/vmlinux"
}

stage_modules() {
  rm -f "$OBJ/modules/.stamp"
  kmake modules
  list_kept modules
  date -u +%FT%TZ >"$OBJ/modules/.stamp"
  say "kept $(wc -l <"$OBJ/modules/list.txt") module objects in $OBJ/modules"
}

# The distinct objtool flag sets of the log (file name replaced by its kind), with how many
# files each (a command repeated by a rebuild counts once).
summarise_flags() {
  [[ -f $V/objtool-commands.log ]] || return 0
  LC_ALL=C sort -u "$V/objtool-commands.log" |
    awk '{
      f = $NF; m = 0
      for (i = 2; i < NF; i++) if ($i == "--module") m = 1
      if (f == "vmlinux.o" || f == ".vmlinux.export.o" || f == ".module-common.o") k = f
      else if (f ~ /\.mod\.o$/) k = "<module>.mod.o"
      else k = (m ? "<module>.o" : "<built-in>.o")
      $NF = k; print
    }' |
    LC_ALL=C sort | uniq -c | sort -rn >"$V/objtool-flags.txt"
}

# --- main ------------------------------------------------------------------------------------------

total0=$SECONDS
say "Linux $kver, cache $V, stages ${stages[*]}, -j$jobs"
timed deps install_deps
timed source extract_source
say "source $SRC ($(cat "$SRC/.debian-version"))"
timed config configure
write_wrapper
timed prepare kmake prepare
has_stage tu && timed "tu (${dirs// /,})" stage_tu
has_stage vmlinux && timed vmlinux stage_vmlinux
has_stage modules && timed modules stage_modules
summarise_flags

say "done in $(((SECONDS - total0) / 60))m$(((SECONDS - total0) % 60))s"
{
  printf '\nstage timings (this run):\n'
  printf '  %s\n' "${timings[@]}"
  printf '\nsource:        %s (%s)\n' "$SRC" "$(cat "$SRC/.debian-version")"
  printf 'build tree:    %s\n' "$BUILD"
  [[ -f $OBJ/tu/.stamp ]] && printf 'TU objects:    %s/tu/files (%s, list.txt)\n' "$OBJ" "$(wc -l <"$OBJ/tu/list.txt")"
  [[ -f $OBJ/vmlinux/.stamp ]] && printf 'vmlinux.o:     %s/vmlinux/vmlinux.o (%s bytes, before objtool; %s objects, list.txt)\n' "$OBJ" "$(stat -c %s "$OBJ/vmlinux/vmlinux.o")" "$(wc -l <"$OBJ/vmlinux/list.txt")"
  [[ -f $OBJ/modules/.stamp ]] && printf 'module objs:   %s/modules (%s, list.txt)\n' "$OBJ" "$(wc -l <"$OBJ/modules/list.txt")"
  if [[ -s $V/objtool-flags.txt ]]; then
    printf 'objtool log:   %s\n' "$V/objtool-commands.log"
    printf 'objtool command lines (count, flags, file):\n'
    sed 's/^/  /' "$V/objtool-flags.txt"
  fi
} >&2
