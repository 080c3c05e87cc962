# SPDX-License-Identifier: GPL-2.0-only
# Sourced by scripts/corpus.sh and scripts/build-kernel.sh: read Debian suites newer than this
# machine's (trixie, trixie-backports, sid) through a private apt configuration — its own sources
# file, lists and cache under $SUITES_DIR — and never through the system's sources. Only
# `apt-cache` questions and `apt-get download` are asked of it; packages are unpacked with dpkg -x.
#
#   SUITES_DIR=<dir>; . scripts/debian-suites.sh
#   suites_apt_ready                       # update the private lists (once per run, or when stale)
#   suites_candidate PKG[/SUITE]           # the version apt would download, empty if none
#   suites_pkgnames PREFIX                 # package names starting with PREFIX
#   suites_download DIR PKG[=VER|/SUITE]   # .deb into DIR; prints its path

SUITES_MIRROR=${SUITES_MIRROR:-http://deb.debian.org/debian}
SUITES_LIST=${SUITES_LIST:-trixie trixie-backports sid}

_suites_opts() {
  printf '%s\n' \
    -o "Dir::Etc::SourceList=$SUITES_DIR/sources.list" -o "Dir::Etc::SourceParts=$SUITES_DIR/sources.list.d" \
    -o "Dir::State::Lists=$SUITES_DIR/lists" -o "Dir::Cache=$SUITES_DIR/cache" \
    -o "Dir::Etc::Preferences=$SUITES_DIR/preferences" -o "Dir::Etc::PreferencesParts=$SUITES_DIR/preferences.d" \
    -o "Dir::Cache::pkgcache=pkgcache.bin" -o "Dir::Cache::srcpkgcache=srcpkgcache.bin" \
    -o "APT::Architectures::=amd64" -o "Debug::NoLocking=1"
}

_suites_ready=0
suites_apt_ready() {
  ((_suites_ready)) && return 0
  [[ -n ${SUITES_DIR:-} ]] || { echo "debian-suites: SUITES_DIR is not set" >&2; return 1; }
  mkdir -p "$SUITES_DIR"/{lists/partial,cache/archives/partial,sources.list.d,preferences.d}
  local want='' s
  for s in $SUITES_LIST; do
    want+="deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $SUITES_MIRROR $s main"$'\n'
  done
  local stamp=$SUITES_DIR/lists/.updated
  if [[ ! -f $SUITES_DIR/sources.list || "$(cat "$SUITES_DIR/sources.list")"$'\n' != "$want" ]]; then
    printf '%s' "$want" >"$SUITES_DIR/sources.list"
    rm -f "$stamp"
  fi
  : >"$SUITES_DIR/preferences"
  # Lists older than a day are refreshed; an offline refresh keeps the old lists.
  if [[ ! -f $stamp ]] || [[ -n $(find "$stamp" -mmin +1440 2>/dev/null) ]]; then
    local opts
    mapfile -t opts < <(_suites_opts)
    if apt-get "${opts[@]}" -qq update >&2; then
      touch "$stamp"
    else
      [[ -f $stamp ]] || { echo "debian-suites: apt-get update of $SUITES_LIST failed" >&2; return 1; }
      echo "debian-suites: update failed; using the lists of $(date -r "$stamp" +%F)" >&2
    fi
  fi
  _suites_ready=1
}

suites_apt_cache() {
  local opts
  mapfile -t opts < <(_suites_opts)
  apt-cache "${opts[@]}" "$@"
}

suites_candidate() {
  suites_apt_ready || return 1
  local pkg=$1 suite=
  if [[ $pkg == */* ]]; then suite=${pkg#*/}; pkg=${pkg%%/*}; fi
  if [[ -n $suite ]]; then
    # The newest version that the named suite itself offers.
    suites_apt_cache madison "$pkg" 2>/dev/null |
      awk -F'|' -v s="$suite" '{gsub(/ /,"",$2); if ($3 ~ (" " s "/")) print $2}' | sort -V | tail -n1
  else
    suites_apt_cache policy "$pkg" 2>/dev/null | awk '/^  Candidate:/ {if ($2 != "(none)") print $2; exit}'
  fi
}

suites_pkgnames() {
  suites_apt_ready || return 1
  suites_apt_cache pkgnames "$1" 2>/dev/null | LC_ALL=C sort
}

# suites_download DIR PKG[/SUITE]: the .deb of that version, downloaded once.
suites_download() {
  local dir=$1 spec=$2 pkg ver
  pkg=${spec%%/*}
  ver=$(suites_candidate "$spec")
  [[ -n $ver ]] || { echo "debian-suites: no version of $spec in $SUITES_LIST" >&2; return 1; }
  local deb="$dir/${pkg}_${ver//:/%3a}_amd64.deb"
  [[ -s $deb ]] || deb="$dir/${pkg}_${ver//:/%3a}_all.deb"
  if [[ ! -s $deb ]]; then
    local opts
    mapfile -t opts < <(_suites_opts)
    (cd "$dir" && apt-get "${opts[@]}" download -q "$pkg=$ver" 2>&1 >/dev/null | grep -v 'unsandboxed as root' >&2 || true)
    deb=$(ls -1 "$dir/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n1)
    [[ -s $deb ]] || { echo "debian-suites: could not download $pkg=$ver" >&2; return 1; }
  fi
  printf '%s\n' "$deb"
}
