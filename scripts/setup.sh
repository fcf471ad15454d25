#!/bin/sh
# setup.sh -- install what a fresh Debian 12 machine lacks, then build
# plastix in BUILD_DIR (default _build).  Used by scripts/quickstart.sh and
# scripts/test.sh; CONFIGURE_FLAGS are passed to ./configure.
set -eu
cd "$(dirname "$0")/.."

# EXTRA_PACKAGES adds packages; the benchmarks' peers (make bench, all
# optional: bench/README.md) are EXTRA_PACKAGES="python3-numpy python3-brian
# cython3 valgrind python3-torch".
# Natural photographs for the linear-net and deep-net paths come from two
# Debian wallpaper packages (mate-backgrounds: nature/*.jpg; lomiri); the
# 11 cardinal-rich photographs of plasma-workspace-wallpapers are the
# natural-image experiment's second set (tests/test_natimg.c).
PACKAGES="build-essential autoconf automake libtool libltdl-dev autoconf-archive
pkg-config check libgsl-dev libopenblas-dev liblapacke-dev libconfig-dev
libhdf5-dev hdf5-tools libcairo2-dev libpng-dev libjpeg-dev
mate-backgrounds lomiri-wallpapers-16.04 plasma-workspace-wallpapers ${EXTRA_PACKAGES:-}"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

[ -x configure ] && [ configure -nt configure.ac ] && [ -f Makefile.in ] && [ Makefile.in -nt Makefile.am ] ||
  autoreconf -fi >/dev/null
BUILD_DIR=${BUILD_DIR:-_build}
mkdir -p "$BUILD_DIR"
cd "$BUILD_DIR"
if [ ! -f Makefile ] || [ "$(cat .configure-flags 2>/dev/null)" != "${CONFIGURE_FLAGS:-}" ]; then
  # shellcheck disable=SC2086
  ../configure -q ${CONFIGURE_FLAGS:-}
  echo "${CONFIGURE_FLAGS:-}" > .configure-flags
fi
make -j"$(nproc)" >/dev/null
echo "setup: built $(pwd)/plastix"
