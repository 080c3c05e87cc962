#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fetch the corpus of real kernel modules and the oracle (Debian's objtool) that
# orctool's tests compare against. Everything lives in a cache outside the repo.
#
#   scripts/corpus.sh                      fetch the default corpora and oracles
#   scripts/corpus.sh 6.1-generic objtool-6.1   fetch only these
#   scripts/corpus.sh --print-dir          print the cache directory
#   scripts/corpus.sh --refresh [NAMES]    re-fetch if apt now offers another version
#
# Corpora: 6.12-cloud 6.12-generic 6.1-generic 7.3-cloud 7.3-generic, and 7.2-cloud (only
#          fetched when named).  Oracles: objtool-6.12 objtool-6.1 objtool-7.3.
# 6.x comes from this machine's apt (bookworm). 7.x comes from trixie-backports and sid, read
# through scripts/debian-suites.sh's private apt configuration in $CACHE/apt-suites (the
# system's sources are never touched): for 7.N, the newest 7.N.x for which the cloud and
# generic modules (linux-modules-*) and linux-kbuild-* all exist. objtool 7.x needs a newer
# glibc than bookworm's, so $CACHE/objtool-7.3/objtool is a shell wrapper that runs it with
# the loader and libraries of its own suite (trixie), unpacked in $CACHE/objtool-7.3/rt/.
# Layout:  $CACHE/<corpus>/{modules/,list.txt,VERSION,PACKAGE}, $CACHE/objtool-<v>/objtool,
#          $CACHE/manifest.json, $CACHE/debs/*.deb.
# A finished item has a .stamp and is left alone (even offline) unless --refresh.
set -euo pipefail

# The default set; EXTRA_NAMES are fetched only when named.
ALL_NAMES=(6.12-cloud 6.12-generic 6.1-generic 7.3-cloud 7.3-generic objtool-6.12 objtool-6.1 objtool-7.3)
EXTRA_NAMES=(7.2-cloud)
KNOWN_NAMES=("${ALL_NAMES[@]}" "${EXTRA_NAMES[@]}")

CACHE=${ORCTOOL_CORPUS:-$HOME/.cache/orctool-corpus}
CACHE=$(realpath -m -- "$CACHE")   # list.txt holds absolute paths, so the root must be absolute

say() { printf 'corpus: %s\n' "$*" >&2; }
die() { printf 'corpus: error: %s\n' "$*" >&2; exit 1; }

refresh=0
names=()
for arg in "$@"; do
  case $arg in
    --print-dir) printf '%s\n' "$CACHE"; exit 0 ;;
    --refresh) refresh=1 ;;
    -h|--help) awk 'NR < 3 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
    -*) die "unknown option: $arg" ;;
    *)
      ok=0
      for n in "${KNOWN_NAMES[@]}"; do [[ $arg == "$n" ]] && ok=1; done
      ((ok)) || die "unknown name: $arg (known: ${KNOWN_NAMES[*]})"
      names+=("$arg") ;;
  esac
done
((${#names[@]})) || names=("${ALL_NAMES[@]}")

mkdir -p "$CACHE/debs"
# Serialize concurrent runs (e.g. two test workers) on one cache.
exec 9>"$CACHE/.lock"
flock 9

start=$SECONDS

SUITES_DIR=$CACHE/apt-suites
# shellcheck source=debian-suites.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/debian-suites.sh"

# --- apt helpers -------------------------------------------------------------

apt_ready=0
# Make sure apt can answer questions; update only if the lists look empty.
ensure_apt() {
  ((apt_ready)) && return
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    say "apt lists look empty: running apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
  fi
  apt_ready=1
}

# Install missing tools (we run as root on CI and dev machines; sudo otherwise).
apt_install() {
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  ensure_apt
  say "installing: $*"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed"
}

command -v xz >/dev/null || apt_install xz-utils
command -v dpkg-deb >/dev/null || die "dpkg is required"

# Candidate version of a package, empty if apt cannot install it.
candidate() {
  local v
  v=$(apt-cache policy "$1" 2>/dev/null | awk '/^  Candidate:/ {print $2; exit}')
  [[ -n $v && $v != "(none)" ]] && printf '%s\n' "$v" || true
}

# Highest version-sorted line of stdin.
newest() { sort -V | tail -n1; }

# --- version choice (only done when something must be fetched) ----------------

# Items named 7.* or objtool-7.* come from the newer suites, the others from this machine's apt.
from_suites() { [[ $1 == 7.* || $1 == objtool-7.* ]]; }

# The series of a name: 6.12-cloud -> 6.12, objtool-7.3 -> 7.3.
series_of() { local s=${1#objtool-}; printf '%s\n' "${s%%-*}"; }

# Candidate version of a name's package, from the apt that name uses.
cand() { if from_suites "$1"; then suites_candidate "$2"; else candidate "$2"; fi; }

declare -A PKG=()        # name -> package
declare -A RT_SUITE=()   # objtool-7.N -> the suite whose libc/libelf it runs with
declare -A CHOSEN=()     # series -> 1 once chosen

choose_versions() {
  local series
  series=$(series_of "$1")
  [[ -n ${CHOSEN[$series]:-} ]] && return
  CHOSEN[$series]=1
  case $series in
    6.*) choose_6 ;;
    7.*) choose_7 "$series" ;;
    *) die "no version rule for $1" ;;
  esac
}

# The private lists are updated when older than a day (offline, the old ones are kept). Called
# in this shell, not in $(...), so that later questions do not each check again.
suites_ready() { suites_apt_ready || die "cannot read the Debian suites ($SUITES_LIST)"; }

# The package that carries a flavour's modules for upstream U: since 7.x Debian ships them in
# linux-modules-U-FLAVOUR (linux-image-U-FLAVOUR only depends on it and on the signed
# linux-binary-*); older uploads keep them in the (unsigned) image.
suites_modules_pkg() {
  local p
  for p in "linux-modules-$1-$2" "linux-image-$1-$2-unsigned" "linux-image-$1-$2"; do
    [[ -n $(suites_candidate "$p") ]] && { printf '%s\n' "$p"; return; }
  done
}

# 7.N: the newest upstream U (e.g. 7.3.4+deb13) for which linux-kbuild-U and the cloud and
# generic modules all have candidates, so corpora and oracle share one version.
choose_7() {
  local series=$1 ups u c g kv suite
  suites_ready
  ups=$(suites_pkgnames "linux-kbuild-$series." \
        | sed -nE "s/^linux-kbuild-(${series//./\\.}\\.[0-9]+\\+deb[0-9]+)\$/\\1/p" | sort -rV)
  for u in $ups; do
    kv=$(suites_candidate "linux-kbuild-$u")
    [[ -n $kv ]] || continue
    c=$(suites_modules_pkg "$u" cloud-amd64)
    g=$(suites_modules_pkg "$u" amd64)
    [[ -n $c && -n $g ]] || continue
    PKG[$series-cloud]=$c
    PKG[$series-generic]=$g
    PKG[objtool-$series]=linux-kbuild-$u
    # The suite that offers this kbuild: trixie-backports runs on trixie's libraries.
    suite=$(suites_apt_cache madison "linux-kbuild-$u" 2>/dev/null |
            awk -F'|' -v v="$kv" '{gsub(/ /,"",$2); if ($2 == v) {split($3, a, " "); print a[2]; exit}}')
    suite=${suite%%/*}
    RT_SUITE[objtool-$series]=${suite%-backports}
    [[ -n ${RT_SUITE[objtool-$series]} ]] || RT_SUITE[objtool-$series]=trixie
    say "$series: chose $u (kbuild $kv from ${suite:-?})"
    return
  done
  say "note: no $series.x has linux-kbuild and cloud and generic modules in $SUITES_LIST"
}

choose_6() {
  ensure_apt
  # 6.12: newest upstream N for which the cloud and generic unsigned images and
  # linux-kbuild-N all have candidates, so corpus and oracle share one version.
  local ups u
  ups=$(apt-cache pkgnames linux-image-6.12. \
        | sed -nE 's/^linux-image-(6\.12\.[0-9]+\+deb[0-9]+)-cloud-amd64-unsigned$/\1/p' | sort -rV)
  for u in $ups; do
    if [[ -n $(candidate "linux-image-$u-cloud-amd64-unsigned") &&
          -n $(candidate "linux-image-$u-amd64-unsigned") &&
          -n $(candidate "linux-kbuild-$u") ]]; then
      PKG[6.12-cloud]=linux-image-$u-cloud-amd64-unsigned
      PKG[6.12-generic]=linux-image-$u-amd64-unsigned
      PKG[objtool-6.12]=linux-kbuild-$u
      break
    fi
  done
  # 6.1: linux-kbuild-6.1's candidate, and the generic image built from the same upload.
  PKG[objtool-6.1]=linux-kbuild-6.1
  local kv p best=
  kv=$(candidate linux-kbuild-6.1)
  local imgs
  imgs=$(apt-cache pkgnames linux-image-6.1.0- | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | sort -rV || true)
  for p in $imgs; do
    if [[ -n $kv && $(candidate "$p") == "$kv" ]]; then best=$p; break; fi
  done
  if [[ -z $best ]]; then
    for p in $imgs; do [[ -n $(candidate "$p") ]] && { best=$p; break; }; done
    [[ -n $best ]] && say "note: no linux-image-6.1.0-*-amd64-unsigned has version ${kv:-?} (linux-kbuild-6.1); using newest: $best $(candidate "$best")"
  fi
  PKG[6.1-generic]=$best
}

# Package for a name (after choose_versions).
pkg_for() { printf '%s\n' "${PKG[$1]:-}"; }

# Download the candidate .deb of PKG (PKG/SUITE for a 7.x name) into $CACHE/debs, once, from
# the apt that NAME uses; print its path.
fetch_deb() {
  local name=$1 pkg=$2 ver deb
  ver=$(cand "$name" "$pkg")
  [[ -n $ver ]] || die "apt offers no version of $pkg"
  # apt-get download names files <pkg>_<version with ':' as %3a>_<arch>.deb
  deb="$CACHE/debs/${pkg%%/*}_${ver//:/%3a}_amd64.deb"
  if [[ -s $deb ]]; then
    say "have $(basename "$deb")"
  elif from_suites "$name"; then
    say "downloading $pkg=$ver"
    deb=$(suites_download "$CACHE/debs" "$pkg") || die "could not download $pkg=$ver"
  else
    say "downloading $pkg=$ver"
    # As root apt warns that _apt cannot write here; harmless, so keep only real errors.
    (cd "$CACHE/debs" && apt-get download -q "$pkg=$ver" 2>&1 >/dev/null | grep -v 'unsandboxed as root' >&2 || true)
    [[ -s $deb ]] || die "could not download $pkg=$ver"
  fi
  printf '%s\n' "$deb"
}

# --- builders ------------------------------------------------------------------

# A corpus: modules/ from the image (.ko.xz decompressed), list.txt, VERSION.
build_corpus() {
  local name=$1 pkg deb ver tmp dest=$CACHE/$1
  pkg=$(pkg_for "$name")
  [[ -n $pkg ]] || die "no package found for $name"
  deb=$(fetch_deb "$name" "$pkg")
  ver=$(dpkg-deb -f "$deb" Version)
  tmp=$(mktemp -d "$CACHE/.tmp-$name.XXXXXX")
  chmod 755 "$tmp"   # mktemp makes it 0700; the oracle dir is this dir renamed
  say "$name: extracting $pkg $ver"
  dpkg-deb -x "$deb" "$tmp/pkg"
  local mods=$tmp/pkg/lib/modules               # 7.x (merged /usr): usr/lib/modules
  [[ -d $mods ]] || mods=$tmp/pkg/usr/lib/modules
  [[ -d $mods ]] || die "$pkg has no lib/modules or usr/lib/modules"
  mkdir -p "$tmp/out"
  mv "$mods" "$tmp/out/modules"                 # modules/<kernel release>/kernel/...
  rm -rf "$tmp/pkg"                             # vmlinuz, System.map, docs: not needed
  local nxz nzst
  nxz=$(find "$tmp/out/modules" -name '*.ko.xz' | wc -l)
  if ((nxz)); then
    say "$name: decompressing $nxz .ko.xz"
    find "$tmp/out/modules" -name '*.ko.xz' -print0 | xargs -0 -r -P2 -n200 xz -d -q || die "$name: xz -d failed"
  fi
  nzst=$(find "$tmp/out/modules" -name '*.ko.zst' | wc -l)
  if ((nzst)); then
    command -v zstd >/dev/null || apt_install zstd
    say "$name: decompressing $nzst .ko.zst"
    find "$tmp/out/modules" -name '*.ko.zst' -print0 | xargs -0 -r -P2 -n200 zstd -d -q --rm || die "$name: zstd -d failed"
  fi
  rm -rf "$dest"
  mv "$tmp/out" "$dest"
  rmdir "$tmp"
  find "$dest/modules" -name '*.ko' -type f | LC_ALL=C sort >"$dest/list.txt"
  [[ -s $dest/list.txt ]] || die "$name: no .ko files found"
  printf '%s\n' "$ver" >"$dest/VERSION"
  printf '%s\n' "$pkg" >"$dest/PACKAGE"
  printf '%s %s\n' "$pkg" "$ver" >"$dest/.stamp"
  say "$name: $(wc -l <"$dest/list.txt") modules"
}

# Libraries the oracle binary links against; install the ones the loader cannot find.
ensure_libs() {
  local bin=$1 missing
  missing=$(ldd "$bin" 2>/dev/null | awk '/not found/ {print $1}' || true)
  [[ -z $missing ]] && return
  local pkgs=()
  grep -q '^libelf' <<<"$missing" && pkgs+=(libelf1)
  grep -q '^libz' <<<"$missing" && pkgs+=(zlib1g)
  ((${#pkgs[@]})) || die "$bin needs libraries this script does not know: $missing"
  apt_install "${pkgs[@]}"
}

# The runtime of a 7.x oracle: libc6 (loader included), libelf1t64 and what libelf needs, from
# SUITE, unpacked into DIR/rt for oracle NAME; their versions go to DIR/rt/PACKAGES.
RT_PKGS=(libc6 libelf1t64 zlib1g libzstd1)
build_rt() {
  local dir=$1 suite=$2 name=$3 p deb
  mkdir -p "$dir/rt"
  for p in "${RT_PKGS[@]}"; do
    deb=$(fetch_deb "$name" "$p/$suite")
    dpkg-deb -x "$deb" "$dir/rt"
    printf '%s %s\n' "$p" "$(dpkg-deb -f "$deb" Version)" >>"$dir/rt/PACKAGES"
  done
  rm -rf "$dir/rt/usr/share"   # docs, locales: not needed
  [[ -x $dir/rt/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 ]] || die "no ld-linux-x86-64.so.2 in libc6/$suite"
}

# The wrapper DIR/objtool: runs DIR/REAL with the loader and libraries of DIR/rt. Paths are
# found from the wrapper's own place, so the cache may be moved. --argv0 keeps argv[0] what the
# caller typed, as with the 6.x symlinks.
write_wrapper() {
  local dir=$1 real=$2
  cat >"$dir/objtool" <<WRAPPER
#!/bin/sh
# objtool from $(pkg_for "$name"), whose glibc/libelf are newer than this system's: run it
# with the dynamic loader and libraries unpacked in rt/ (written by scripts/corpus.sh).
d=\$(dirname "\$(readlink -f "\$0")")
rt=\$d/rt
exec "\$rt/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --argv0 "\$0" \\
  --library-path "\$rt/usr/lib/x86_64-linux-gnu:\$rt/lib/x86_64-linux-gnu" \\
  "\$d/$real" "\$@"
WRAPPER
  chmod 755 "$dir/objtool"
  # Every library must come from rt/ (a bookworm one would not do).
  local rt=$dir/rt/usr/lib/x86_64-linux-gnu libs
  libs=$("$rt/ld-linux-x86-64.so.2" --library-path "$rt:$dir/rt/lib/x86_64-linux-gnu" --list "$dir/$real" 2>&1) \
    || die "$name: the loader cannot load $real: $libs"
  if grep -v -e linux-vdso -e "=> $dir/rt/" <<<"$libs" | grep -q .; then
    die "$name: $real needs libraries that rt/ lacks: $libs"
  fi
}

# An oracle: the kbuild package's x86 objtool, reachable as $CACHE/objtool-<v>/objtool.
build_oracle() {
  local name=$1 pkg deb ver tmp dest=$CACHE/$1 real
  pkg=$(pkg_for "$name")
  [[ -n $pkg ]] || die "no package found for $name"
  deb=$(fetch_deb "$name" "$pkg")
  ver=$(dpkg-deb -f "$deb" Version)
  tmp=$(mktemp -d "$CACHE/.tmp-$name.XXXXXX")
  chmod 755 "$tmp"   # mktemp makes it 0700; the oracle dir is this dir renamed
  say "$name: extracting $pkg $ver"
  dpkg-deb -x "$deb" "$tmp/pkg"
  # 6.12's tools/objtool/objtool is a multi-arch wrapper that execs objtool.real-$SRCARCH
  # found next to its argv[0], so we point straight at objtool.real-x86. 6.1 ships the
  # x86 binary itself as tools/objtool/objtool.
  real=$(cd "$tmp" && find pkg -path '*/tools/objtool/objtool.real-x86' -type f | head -n1)
  [[ -n $real ]] || real=$(cd "$tmp" && find pkg -path '*/tools/objtool/objtool' -type f | head -n1)
  [[ -n $real ]] || die "$pkg contains no tools/objtool/objtool"
  if from_suites "$name"; then
    build_rt "$tmp" "${RT_SUITE[$name]}" "$name"
    write_wrapper "$tmp" "$real"
  else
    ln -s "$real" "$tmp/objtool"                # relative: the cache may be moved
    ensure_libs "$tmp/objtool"
  fi
  local usage   # --help exits 129, so judge by what it prints
  usage=$(SRCARCH=x86 "$tmp/objtool" --help 2>&1 || true)
  [[ $usage == *"Usage: objtool"* ]] || die "$name: $real does not run: $usage"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  printf '%s\n' "$ver" >"$dest/VERSION"
  printf '%s\n' "$pkg" >"$dest/PACKAGE"
  printf '%s %s\n' "$pkg" "$ver" >"$dest/.stamp"
  if from_suites "$name"; then
    say "$name: $dest/objtool runs $real with rt/ ($(sed -z 's/\n$//; s/\n/, /g' "$dest/rt/PACKAGES"))"
  else
    say "$name: $dest/objtool -> $real"
  fi
}

# --- main ----------------------------------------------------------------------

rm -rf "$CACHE"/.tmp-*   # leftovers of an interrupted run (we hold the lock)

for name in "${names[@]}"; do
  stamp=$CACHE/$name/.stamp
  if [[ -f $stamp ]] && ((!refresh)); then
    say "$name: up to date ($(cat "$stamp"))"
    continue
  fi
  choose_versions "$name"
  pkg=$(pkg_for "$name")
  if [[ -f $stamp && -n $pkg && $(cat "$stamp") == "$pkg $(cand "$name" "$pkg")" ]]; then
    say "$name: up to date ($(cat "$stamp"))"
    continue
  fi
  case $name in
    objtool-*) build_oracle "$name" ;;
    *) build_corpus "$name" ;;
  esac
done

# manifest.json: every finished item in the cache, not only those named this run.
{
  printf '{\n'
  first=1
  for name in "${KNOWN_NAMES[@]}"; do
    [[ -f $CACHE/$name/.stamp ]] || continue
    ver=$(cat "$CACHE/$name/VERSION")
    case $name in
      objtool-*) path=$CACHE/$name/objtool; count=null ;;
      *) path=$CACHE/$name; count=$(wc -l <"$CACHE/$name/list.txt") ;;
    esac
    ((first)) || printf ',\n'
    first=0
    printf '  "%s": {"version": "%s", "path": "%s", "count": %s}' "$name" "$ver" "$path" "$count"
  done
  printf '\n}\n'
} >"$CACHE/manifest.json.tmp"
mv "$CACHE/manifest.json.tmp" "$CACHE/manifest.json"

say "done in $((SECONDS - start))s; cache: $CACHE"
