# SPDX-License-Identifier: GPL-2.0-only
# Sourced by scripts/build-kernel.sh and scripts/boot-test.sh: the orctool a kernel build runs.
#
# snapshot_orctool: a copy of bin/orctool and dist/ (bin/orctool runs dist/cli/launch.cjs, which
# loads the bundle dist/orctool.cjs and its code cache; cp -a keeps the mtime the cache is checked
# against) and iced-x86, in $CACHE/orctool-snap/<hash of bin/ and dist/>, so that a concurrent
# `npm run build` cannot change it mid-build; or the one given with --orctool ($orctool). Sets
# ORCTOOL (the command), ORCTOOL_DIST (its dist/, for dist/testing/elf-compare.js) and
# ORCTOOL_ID (what it is, for logs). Needs REPO, CACHE, orctool and die from the caller.
ORCTOOL='' ORCTOOL_ID='' ORCTOOL_DIST=''
snapshot_orctool() {
  if [[ -n $orctool ]]; then
    ORCTOOL=$(realpath -- "$orctool"); [[ -x $ORCTOOL ]] || die "--orctool $orctool: not executable"
    ORCTOOL_ID="given with --orctool"
    ORCTOOL_DIST=$(dirname "$(dirname "$ORCTOOL")")/dist
    [[ -f $ORCTOOL_DIST/testing/elf-compare.js ]] || ORCTOOL_DIST=$REPO/dist
    return 0
  fi
  [[ -f $REPO/dist/orctool.cjs && -f $REPO/dist/cli/launch.cjs ]] || die "orctool is not built: npm run build"
  local h dir
  h=$( (cd "$REPO" && find bin dist -type f ! -name '*.map' -print0 | LC_ALL=C sort -z | xargs -0 cat) | sha256sum | cut -c1-12)
  dir=$CACHE/orctool-snap/$h
  if [[ ! -x $dir/bin/orctool ]]; then
    rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
    cp -a "$REPO/bin" "$REPO/dist" "$REPO/package.json" "$dir.tmp/"
    mkdir -p "$dir.tmp/node_modules" && cp -a "$REPO/node_modules/iced-x86" "$dir.tmp/node_modules/"
    rm -rf "$dir"; mv "$dir.tmp" "$dir"
  fi
  ORCTOOL=$dir/bin/orctool
  ORCTOOL_DIST=$dir/dist
  ORCTOOL_ID="snapshot $h of $REPO (git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo ?)$(
    git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || echo ', src/ modified'), dist/orctool.cjs $(date -r "$REPO/dist/orctool.cjs" -u +%FT%TZ))"
}
