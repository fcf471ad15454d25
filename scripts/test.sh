#!/bin/sh
# test.sh -- set up (install packages) and run the whole test suite the way
# CI does: a build with warnings as errors and AddressSanitizer/UBSan running
# every Check suite and the CLI tests, then `make distcheck` (a release
# tarball that builds, installs and passes the suite on its own).
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=_build-ci CONFIGURE_FLAGS="--enable-werror --enable-sanitizers" ./scripts/setup.sh
cd _build-ci
status=0
make -j"$(nproc)" check || status=$?
if [ "$status" -ne 0 ]; then
  for f in tests/*.log; do
    grep -q "^FAIL\|^ERROR" "$f" 2>/dev/null && { echo "=== $f"; tail -40 "$f"; }
  done
  exit "$status"
fi
if [ "${SKIP_DISTCHECK:-0}" != 1 ]; then
  make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror" >/dev/null
  echo "test: make distcheck passed"
fi
echo "test: all suites passed"
