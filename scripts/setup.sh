#!/usr/bin/env bash
# Installs ddlsim's Debian dependencies (only those missing) and builds it in Release.
# Usage: scripts/setup.sh [--no-build]
# Environment: BUILD_DIR (default: build), SUDO (default: sudo when not root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-"$here/build"}

# Debian 12 (bookworm) package names; libsimgrid-dev there is SimGrid 3.32.
# universal-ctags measures function lengths for the code-size test (scripts/code_size.py).
packages=(g++ cmake make pkg-config libsimgrid-dev libboost-graph-dev nlohmann-json3-dev libfmt-dev doctest-dev
          python3 python3-matplotlib universal-ctags)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=${SUDO-}
  if [ -z "${SUDO+x}" ] && [ "$(id -u)" -ne 0 ]; then sudo_cmd=sudo; fi
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

[ "${1-}" = "--no-build" ] && exit 0

cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" -j "$(nproc)"
