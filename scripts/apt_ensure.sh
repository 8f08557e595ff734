# SPDX-License-Identifier: GPL-3.0-or-later
# Sourced by the scripts here: apt_ensure PKG... installs the packages that are not
# installed yet (no recommends), with sudo unless root. Does nothing when all are there.
apt_ensure() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    printf '\033[1m==> %s\033[0m\n' "Installing system packages: ${missing[*]}"
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
