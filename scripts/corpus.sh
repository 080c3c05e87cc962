#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fetch the corpus of real kernel modules and the oracle (Debian's objtool) that
# orctool's tests compare against. Everything lives in a cache outside the repo.
#
#   scripts/corpus.sh                      fetch every corpus and oracle
#   scripts/corpus.sh 6.1-generic objtool-6.1   fetch only these
#   scripts/corpus.sh --print-dir          print the cache directory
#   scripts/corpus.sh --refresh [NAMES]    re-fetch if apt now offers another version
#
# Corpora: 6.12-cloud 6.12-generic 6.1-generic.  Oracles: objtool-6.12 objtool-6.1.
# Layout:  $CACHE/<corpus>/{modules/,list.txt,VERSION}, $CACHE/objtool-<v>/objtool,
#          $CACHE/manifest.json, $CACHE/debs/*.deb.
# A finished item has a .stamp and is left alone (even offline) unless --refresh.
set -euo pipefail

ALL_NAMES=(6.12-cloud 6.12-generic 6.1-generic objtool-6.12 objtool-6.1)

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
    -h|--help) sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option: $arg" ;;
    *)
      ok=0
      for n in "${ALL_NAMES[@]}"; do [[ $arg == "$n" ]] && ok=1; done
      ((ok)) || die "unknown name: $arg (known: ${ALL_NAMES[*]})"
      names+=("$arg") ;;
  esac
done
((${#names[@]})) || names=("${ALL_NAMES[@]}")

mkdir -p "$CACHE/debs"
# Serialize concurrent runs (e.g. two test workers) on one cache.
exec 9>"$CACHE/.lock"
flock 9

start=$SECONDS

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

chosen=0
IMG_6_12_CLOUD= IMG_6_12_GENERIC= KBUILD_6_12=
IMG_6_1= KBUILD_6_1=
choose_versions() {
  ((chosen)) && return
  chosen=1
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
      IMG_6_12_CLOUD=linux-image-$u-cloud-amd64-unsigned
      IMG_6_12_GENERIC=linux-image-$u-amd64-unsigned
      KBUILD_6_12=linux-kbuild-$u
      break
    fi
  done
  # 6.1: linux-kbuild-6.1's candidate, and the generic image built from the same upload.
  KBUILD_6_1=linux-kbuild-6.1
  local kv p best=
  kv=$(candidate "$KBUILD_6_1")
  local imgs
  imgs=$(apt-cache pkgnames linux-image-6.1.0- | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | sort -rV || true)
  for p in $imgs; do
    if [[ -n $kv && $(candidate "$p") == "$kv" ]]; then best=$p; break; fi
  done
  if [[ -z $best ]]; then
    for p in $imgs; do [[ -n $(candidate "$p") ]] && { best=$p; break; }; done
    [[ -n $best ]] && say "note: no linux-image-6.1.0-*-amd64-unsigned has version ${kv:-?} (linux-kbuild-6.1); using newest: $best $(candidate "$best")"
  fi
  IMG_6_1=$best
}

# Package for a name (after choose_versions).
pkg_for() {
  case $1 in
    6.12-cloud) echo "$IMG_6_12_CLOUD" ;;
    6.12-generic) echo "$IMG_6_12_GENERIC" ;;
    6.1-generic) echo "$IMG_6_1" ;;
    objtool-6.12) echo "$KBUILD_6_12" ;;
    objtool-6.1) echo "$KBUILD_6_1" ;;
  esac
}

# Download a package's candidate .deb into $CACHE/debs (once); print its path.
fetch_deb() {
  local pkg=$1 ver deb
  ver=$(candidate "$pkg")
  [[ -n $ver ]] || die "apt offers no version of $pkg"
  # apt-get download names files <pkg>_<version with ':' as %3a>_<arch>.deb
  deb="$CACHE/debs/${pkg}_${ver//:/%3a}_amd64.deb"
  if [[ -s $deb ]]; then
    say "have $(basename "$deb")"
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
  deb=$(fetch_deb "$pkg")
  ver=$(dpkg-deb -f "$deb" Version)
  tmp=$(mktemp -d "$CACHE/.tmp-$name.XXXXXX")
  chmod 755 "$tmp"   # mktemp makes it 0700; the oracle dir is this dir renamed
  say "$name: extracting $pkg $ver"
  dpkg-deb -x "$deb" "$tmp/pkg"
  [[ -d $tmp/pkg/lib/modules ]] || die "$pkg has no lib/modules"
  mkdir -p "$tmp/out"
  mv "$tmp/pkg/lib/modules" "$tmp/out/modules"   # modules/<kernel release>/kernel/...
  rm -rf "$tmp/pkg"                             # vmlinuz, System.map, docs: not needed
  local nxz
  nxz=$(find "$tmp/out/modules" -name '*.ko.xz' | wc -l)
  if ((nxz)); then
    say "$name: decompressing $nxz .ko.xz"
    find "$tmp/out/modules" -name '*.ko.xz' -print0 | xargs -0 -r -P2 -n200 xz -d -q || die "$name: xz -d failed"
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

# An oracle: the kbuild package's x86 objtool, reachable as $CACHE/objtool-<v>/objtool.
build_oracle() {
  local name=$1 pkg deb ver tmp dest=$CACHE/$1 real
  pkg=$(pkg_for "$name")
  [[ -n $pkg ]] || die "no package found for $name"
  deb=$(fetch_deb "$pkg")
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
  ln -s "$real" "$tmp/objtool"                  # relative: the cache may be moved
  ensure_libs "$tmp/objtool"
  local usage   # --help exits 129, so judge by what it prints
  usage=$(SRCARCH=x86 "$tmp/objtool" --help 2>&1 || true)
  [[ $usage == *"Usage: objtool"* ]] || die "$name: $real does not run: $usage"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  printf '%s\n' "$ver" >"$dest/VERSION"
  printf '%s\n' "$pkg" >"$dest/PACKAGE"
  printf '%s %s\n' "$pkg" "$ver" >"$dest/.stamp"
  say "$name: $dest/objtool -> $real"
}

# --- main ----------------------------------------------------------------------

rm -rf "$CACHE"/.tmp-*   # leftovers of an interrupted run (we hold the lock)

for name in "${names[@]}"; do
  stamp=$CACHE/$name/.stamp
  if [[ -f $stamp ]] && ((!refresh)); then
    say "$name: up to date ($(cat "$stamp"))"
    continue
  fi
  choose_versions
  pkg=$(pkg_for "$name")
  if [[ -f $stamp && -n $pkg && $(cat "$stamp") == "$pkg $(candidate "$pkg")" ]]; then
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
  for name in "${ALL_NAMES[@]}"; do
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
