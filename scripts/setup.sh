#!/usr/bin/env bash
# Installs ddlsim's Debian dependencies (only those missing) and builds it.
# Usage: scripts/setup.sh [--no-build | --sanitize | --fuzz]
#   (none)      Release build in build/
#   --sanitize  AddressSanitizer + UndefinedBehaviorSanitizer build of everything in build-sanitize/,
#               then the whole test suite under them
#   --fuzz      clang and libclang-rt-14-dev too, and the libFuzzer targets (tests/fuzz/) in build-fuzz/
# Environment: BUILD_DIR (default: per mode, above), SUDO (default: sudo when not root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mode=${1-}
case "$mode" in
  "" | --no-build) default_dir="$here/build" ;;
  --sanitize) default_dir="$here/build-sanitize" ;;
  --fuzz) default_dir="$here/build-fuzz" ;;
  *) echo "setup: unknown option '$mode'; expected --no-build, --sanitize or --fuzz" >&2; exit 2 ;;
esac
build_dir=${BUILD_DIR:-"$default_dir"}

# Debian 12 (bookworm) package names; libsimgrid-dev there is SimGrid 3.32.
# universal-ctags measures function lengths for the code-size test (scripts/code_size.py).
packages=(g++ cmake make pkg-config libsimgrid-dev libboost-graph-dev nlohmann-json3-dev libfmt-dev doctest-dev
          python3 python3-matplotlib universal-ctags)
[ "$mode" = "--fuzz" ] && packages+=(clang libclang-rt-14-dev)

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

[ "$mode" = "--no-build" ] && exit 0

case "$mode" in
  --sanitize)
    cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDDLSIM_SANITIZE=ON
    cmake --build "$build_dir" -j "$(nproc)"
    ctest --test-dir "$build_dir" -j "$(nproc)" --output-on-failure ;;
  --fuzz)
    CC=clang CXX=clang++ cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDDLSIM_FUZZ=ON \
      -DBUILD_TESTING=OFF
    cmake --build "$build_dir" -j "$(nproc)" --target ddlsim_fuzzers ;;
  *)
    cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
    cmake --build "$build_dir" -j "$(nproc)" ;;
esac
