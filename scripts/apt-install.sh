# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the build scripts (build-kernel.sh, boot-test.sh): install the Debian packages of
# this machine's own suites that are missing, as root or through sudo, updating apt's lists
# once if the first try fails. The caller defines say() and die().
apt_install_missing() {
  local need=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
  done
  ((${#need[@]})) || return 0
  say "installing ${need[*]}"
  local SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } ||
    die "apt-get install ${need[*]} failed"
}
