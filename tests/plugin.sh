#!/bin/sh
# plugin.sh -- an out-of-tree rule plugin end to end, as doc/plugin-guide.md
# tells a user to do it: install plastix into a temporary DESTDIR, build
# doc/examples/rules/oja.c against the INSTALLED <plastix/rule.h> and
# plastix.pc only, run a short experiment with it found through
# $PLX_RULE_PATH and through the config key rule.path, check that the
# trained weights moved and the frozen ones did not, list it with
# `plastix list rules --path`, and check the one-line errors (exit 2) for a
# rule on no path, a module without plx_rule_entry and a module with the
# wrong ABI version.  Exit 77 (skipped) without a C compiler or pkg-config.
set -u
: "${PLASTIX:?set PLASTIX to the plastix binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"
: "${BUILDDIR:?set BUILDDIR to the build tree}"
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
unset PLX_RULE_PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/plx-plugin.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0

ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
skip() { printf 'SKIP %s\n' "$1"; exit 77; }

command -v "$CC" >/dev/null 2>&1 || skip "no C compiler ($CC)"
command -v "$PKG_CONFIG" >/dev/null 2>&1 || skip "no $PKG_CONFIG"

# expect STATUS NAME -- command...: checks the exit status
expect() {
  want=$1; name=$2; shift 3
  "$@" >"$work/out" 2>"$work/err"
  got=$?
  if [ "$got" -eq "$want" ]; then ok "$name"; else
    bad "$name (exit $got, wanted $want)"; sed 's/^/     /' "$work/err" | head -5
  fi
}
# stderr must be exactly one line containing every TEXT
one_line_error() {
  name=$1; shift
  n=$(wc -l <"$work/err")
  miss=
  for text in "$@"; do
    grep -qF -- "$text" "$work/err" || miss="$miss '$text'"
  done
  if [ "$n" -eq 1 ] && [ -z "$miss" ]; then ok "$name message"; else
    bad "$name message: wanted one line with$miss, got $n line(s):"
    sed 's/^/     /' "$work/err" | head -5
  fi
}
# data of dataset DS in FILE, without the header naming it
dataset() {
  h5dump -y -w 0 -d "$2" "$1" 2>/dev/null | sed -n '/DATA {/,/^ *}/p'
}
# same_weights FILE PROJ: 0 when /weights/initial/PROJ == /weights/final/PROJ
same_weights() {
  dataset "$1" "/weights/initial/$2" >"$work/w0"
  dataset "$1" "/weights/final/$2" >"$work/w1"
  [ -s "$work/w0" ] || return 2
  cmp -s "$work/w0" "$work/w1"
}

# --- install into a temporary prefix ------------------------------------
dest="$work/dest"
if make -C "$BUILDDIR" install DESTDIR="$dest" >"$work/install.log" 2>&1; then
  ok "make install DESTDIR"
else
  bad "make install DESTDIR"; tail -20 "$work/install.log" | sed 's/^/     /'
  echo "$fails failure(s)"; exit 1
fi
header=$(find "$dest" -path '*/include/plastix/rule.h' | head -1)
pc=$(find "$dest" -name plastix.pc | head -1)
if [ -n "$header" ] && [ -n "$pc" ]; then ok "installed rule.h and plastix.pc"; else
  bad "installed rule.h ($header) and plastix.pc ($pc)"; echo "$fails failure(s)"; exit 1
fi
cmp -s "$header" "$SRCDIR/src/plastix/rule.h" && ok "installed rule.h is src/plastix/rule.h" \
  || bad "installed rule.h is src/plastix/rule.h"

# The .pc names the configured prefix, not the DESTDIR copy: point every
# absolute directory variable into DESTDIR (${prefix}-relative ones follow).
pcdir=$(dirname "$pc")
for v in prefix exec_prefix libdir includedir; do
  sed "s|^$v=/|$v=$dest/|" "$pc" >"$pc.tmp" && mv "$pc.tmp" "$pc"
done
# only the DESTDIR's pkgconfig directory: no system plastix.pc can answer
PKG_CONFIG_PATH=$pcdir; PKG_CONFIG_LIBDIR=$pcdir
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR
cflags=$($PKG_CONFIG --cflags plastix) && libs=$($PKG_CONFIG --libs plastix)
case "$cflags $libs" in
  *"$dest"*) ok "pkg-config plastix points into DESTDIR" ;;
  *) bad "pkg-config plastix points into DESTDIR (got '$cflags $libs')" ;;
esac
[ "$($PKG_CONFIG --variable=pluginabi plastix)" = \
  "$(sed -n 's/^#define PLX_RULE_ABI_VERSION \([0-9]*\)u*$/\1/p' "$header")" ] \
  && ok "plastix.pc pluginabi matches rule.h" || bad "plastix.pc pluginabi matches rule.h"

# --- build the example and the broken modules against the install -------
# Sources are copied out of the tree so that nothing but the pkg-config
# include path can supply <plastix/rule.h>.
mods="$work/mods"; broken="$work/broken"
mkdir -p "$mods" "$broken" "$work/src"
cp "$SRCDIR/doc/examples/rules/oja.c" "$SRCDIR/tests/plugins/no_entry.c" \
   "$SRCDIR/tests/plugins/bad_abi.c" "$work/src/"
# shellcheck disable=SC2086 # word splitting of the flags is intended
build() {
  (cd "$work/src" && $CC -shared -fPIC -O2 -Wall -Wextra $cflags "$1.c" $libs \
     -o "$2/$1.so") >"$work/cc.log" 2>&1
}
if build oja "$mods"; then ok "oja.so builds against the installed header"; else
  bad "oja.so builds against the installed header"; sed 's/^/     /' "$work/cc.log" | head -20
fi
[ -s "$work/cc.log" ] && { bad "oja.c compiles without warnings"; sed 's/^/     /' "$work/cc.log" | head -10; }
# shellcheck disable=SC2086
if (cd "$work/src" && $CC -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only $cflags oja.c) \
     >"$work/cc.log" 2>&1; then ok "oja.c is clean C99 (-pedantic -Werror)"; else
  bad "oja.c is clean C99 (-pedantic -Werror)"; sed 's/^/     /' "$work/cc.log" | head -10
fi
# the example's own Makefile, in a copy of the directory
mkdir -p "$work/mk" && cp "$SRCDIR/doc/examples/rules/Makefile" "$SRCDIR/doc/examples/rules/oja.c" "$work/mk/"
if make -C "$work/mk" CC="$CC" PKG_CONFIG="$PKG_CONFIG" >"$work/cc.log" 2>&1 && [ -f "$work/mk/oja.so" ]; then
  ok "doc/examples/rules/Makefile builds oja.so"; else
  bad "doc/examples/rules/Makefile builds oja.so"; sed 's/^/     /' "$work/cc.log" | head -10
fi
build no_entry "$broken" && build bad_abi "$broken" && ok "broken test modules build" \
  || { bad "broken test modules build"; sed 's/^/     /' "$work/cc.log" | head -10; }
if command -v nm >/dev/null 2>&1 && [ -f "$mods/oja.so" ]; then
  nm -D "$mods/oja.so" | grep -q ' D plx_rule_entry$' && ok "oja.so exports plx_rule_entry" \
    || bad "oja.so exports plx_rule_entry"
fi

# --- a short experiment with the oja rule ---------------------------------
# quickstart.cfg with its rule section replaced (sections may come in any
# order, so the new one is appended)
cfg="$work/oja.cfg"
sed '/^rule = {/,/^};/d' "$SRCDIR/configs/quickstart.cfg" >"$cfg"
cat >>"$cfg" <<'EOF'

rule = {
  name = "oja";
  gate = "none";
  projections = {
    W = { eta = 1e-8; };
    C = { eta = 1e-8; decay = 0.001; };
  };
};
EOF
grep -q 'trifactor' "$cfg" && bad "rule section replaced in oja.cfg"
short="--set train.trials=1 --set test.trials=2 --set test.prior_trials=1 --set train.eval.every=0"

# shellcheck disable=SC2086
expect 0 "run oja via PLX_RULE_PATH" -- env PLX_RULE_PATH="$work/nowhere:$mods" \
  $PLASTIX run "$cfg" -o "$work/run1" -q $short
# a successful run prints nothing with -q
[ -s "$work/err" ] && { bad "run oja is quiet"; sed 's/^/     /' "$work/err" | head -5; }
grep -q '"rule": "oja"' "$work/run1/manifest.json" 2>/dev/null && ok "manifest names rule oja" \
  || bad "manifest names rule oja"
grep -q '"complete": true' "$work/run1/manifest.json" 2>/dev/null && ok "manifest complete" \
  || bad "manifest complete"
if command -v h5dump >/dev/null 2>&1; then
  for p in W C; do
    same_weights "$work/run1/results.h5" $p
    [ $? -eq 1 ] && ok "trained projection $p changed" || bad "trained projection $p changed"
  done
  for p in b D; do
    same_weights "$work/run1/results.h5" $p && ok "untrained projection $p unchanged" \
      || bad "untrained projection $p unchanged"
  done
else
  printf 'note: no h5dump, weights not compared\n'
fi

# the config key rule.path instead of the environment, with the reward gate
# shellcheck disable=SC2086
expect 0 "run oja via rule.path (gate = reward)" -- $PLASTIX run "$cfg" -o "$work/run2" -q $short \
  --set "rule.path=\"$work/nowhere:$mods\"" --set 'rule.gate="reward"' --set rule.baseline_rate=0.001
grep -q '"rule": "oja"' "$work/run2/manifest.json" 2>/dev/null && ok "rule.path manifest names oja" \
  || bad "rule.path manifest names oja"
if command -v h5dump >/dev/null 2>&1; then
  same_weights "$work/run2/results.h5" W
  [ $? -eq 1 ] && ok "reward-gated W changed" || bad "reward-gated W changed"
fi
# with neither, the rule is nowhere
expect 2 "oja without a path" -- $PLASTIX check "$cfg"
one_line_error "oja without a path" "rule.name: unknown rule 'oja' (" "valid rules: " "trifactor"

# the plugin's own parameters go through the core's validation ...
expect 2 "oja: bad gate" -- env PLX_RULE_PATH="$mods" $PLASTIX check "$cfg" --set 'rule.gate="always"'
one_line_error "oja: bad gate" "rule.gate: expected one of" '"always"'
expect 2 "oja: unknown key" -- env PLX_RULE_PATH="$mods" $PLASTIX check "$cfg" --set rule.etaa=1.0
one_line_error "oja: unknown key" "rule.etaa: unknown key"
expect 2 "oja: negative eta" -- env PLX_RULE_PATH="$mods" $PLASTIX check "$cfg" \
  --set rule.projections.W.eta=-1.0
one_line_error "oja: negative eta" "rule.projections.W.eta: expected a number >= 0"
# ... and its semantic checks report file:line too
sed 's/W = { eta = 1e-8; };/D = { eta = 1e-8; };/' "$cfg" >"$work/readout.cfg"
line=$(grep -n 'D = { eta = 1e-8; };' "$work/readout.cfg" | cut -d: -f1)
expect 2 "oja: readout refused" -- env PLX_RULE_PATH="$mods" $PLASTIX check "$work/readout.cfg"
one_line_error "oja: readout refused" "readout.cfg:$line: rule.projections.D: 'D' is the readout"
sed 's/W = { eta = 1e-8; };/V = { eta = 1e-8; };/' "$cfg" >"$work/noproj.cfg"
expect 2 "oja: unknown projection" -- env PLX_RULE_PATH="$mods" $PLASTIX check "$work/noproj.cfg"
one_line_error "oja: unknown projection" "rule.projections.V: the model has no projection 'V' (it has: W, C, b, D)"

# --- listing ----------------------------------------------------------------
expect 0 "list rules --path" -- $PLASTIX list rules --path "$mods"
grep -q '^  oja ' "$work/out" && ok "list rules --path shows oja" \
  || { bad "list rules --path shows oja"; sed 's/^/     /' "$work/out" | head -5; }
grep -q 'rule.projections.<name>.eta' "$work/out" && grep -q 'rule.gate' "$work/out" \
  && ok "list rules --path shows oja's keys" || bad "list rules --path shows oja's keys"
expect 0 "list rules with PLX_RULE_PATH" -- env PLX_RULE_PATH="$mods" $PLASTIX list rules
grep -q '^  oja ' "$work/out" && ok "list rules shows oja from PLX_RULE_PATH" \
  || bad "list rules shows oja from PLX_RULE_PATH"

# a broken module is listed with its load error, and the listing still works
expect 0 "list rules --path with broken modules" -- $PLASTIX list rules --path "$broken"
grep -q "^  bad_abi .*bad_abi.so: rule ABI version" "$work/out" && ok "list shows bad_abi's error" \
  || bad "list shows bad_abi's error"

# --- errors: one line, exit 2, nothing written -----------------------------
expect 2 "rule on no path" -- env PLX_RULE_PATH="$mods" $PLASTIX run "$cfg" -o "$work/e1" -q \
  --set 'rule.name="nosuchrule"'
one_line_error "rule on no path" "rule.name: unknown rule 'nosuchrule' (" "valid rules: " \
  "trifactor" "rule.path, \$PLX_RULE_PATH and "
sed 's/.*valid rules: \([^;]*\);.*/\1/' "$work/err" | tr -d ' ' | tr ',' '\n' | grep -qx oja \
  && ok "valid rules include oja" || bad "valid rules include oja"

expect 2 "module without plx_rule_entry" -- env PLX_RULE_PATH="$broken" $PLASTIX run "$cfg" \
  -o "$work/e2" -q --set 'rule.name="no_entry"'
one_line_error "module without plx_rule_entry" "rule.name: $broken/no_entry.so: " \
  "no exported symbol 'plx_rule_entry'"

expect 2 "module with wrong ABI version" -- $PLASTIX run "$cfg" -o "$work/e3" -q \
  --set 'rule.name="bad_abi"' --set "rule.path=\"$broken\""
one_line_error "module with wrong ABI version" "rule.name: $broken/bad_abi.so: " "ABI version"
abi=$(sed -n 's/^#define PLX_RULE_ABI_VERSION \([0-9]*\)u*$/\1/p' "$header")
grep -qF "ABI version $((abi + 1)), but this plastix needs $abi" "$work/err" \
  && ok "ABI message names both versions" || bad "ABI message names both versions"

left=
for d in e1 e2 e3; do
  for f in "$work/$d" "$work/$d".partial*; do
    [ -e "$f" ] && left="$left $f"
  done
done
[ -z "$left" ] && ok "failed runs left no output" || bad "failed runs left output behind:$left"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
