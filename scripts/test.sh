#!/bin/sh
# test.sh -- set up (install packages) and run the whole test suite the way
# CI does:
#   1. a build with warnings as errors and AddressSanitizer/UBSan running
#      every Check suite, the CLI and plugin tests -- except the two long
#      statistical reproduction suites (test_compare, test_repro_bredenberg),
#      which spend minutes integrating circuits that the other suites
#      already drive under the sanitizers (PLX_SKIP_SLOW=1);
#   2. `make distcheck` with warnings as errors: a release tarball that
#      builds, installs and passes the whole suite, those two included.
set -eu
cd "$(dirname "$0")/.."
# the benchmarks' Python peers come from Debian too
BUILD_DIR=_build-ci CONFIGURE_FLAGS="--enable-werror --enable-sanitizers" \
  EXTRA_PACKAGES="python3-numpy python3-brian cython3 valgrind ${EXTRA_PACKAGES:-}" \
  ./scripts/setup.sh
cd _build-ci
status=0
# the sanitizers slow every test down two to three times, and a CI machine
# may be shared: give Check's per-test timeouts room (nothing is timed)
CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-4} PLX_SKIP_SLOW=1 make -j"$(nproc)" check || status=$?
if [ "$status" -ne 0 ]; then
  for f in tests/*.log; do
    grep -q "^FAIL\|^ERROR" "$f" 2>/dev/null && { echo "=== $f"; tail -40 "$f"; }
  done
  exit "$status"
fi
# every benchmark once at a tiny size: proves they run; nothing depends on time
make bench BENCH_SIZE=tiny >/dev/null
echo "test: benchmarks ran (tiny size)"
if [ "${SKIP_DISTCHECK:-0}" != 1 ]; then
  make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror" >/dev/null
  echo "test: make distcheck passed"
fi
echo "test: all suites passed"
