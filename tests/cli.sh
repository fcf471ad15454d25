#!/bin/sh
# cli.sh -- the plastix command end to end: --help everywhere, exit
# statuses and one-line errors for bad input, the quickstart experiment
# exactly as the README runs it (run directory, manifest, HDF5, CSV,
# figures), analysis of the authors' network, no output from failed runs,
# a perceptual run reduced again by plastix report, and the built-in rule
# loaded as a plugin module.
set -u
: "${PLASTIX:?set PLASTIX to the plastix binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"
: "${BUILDDIR:?set BUILDDIR to the build tree}"
work=$(mktemp -d "${TMPDIR:-/tmp}/plx-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0

ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# expect STATUS NAME -- command...: checks the exit status
expect() {
  want=$1; name=$2; shift 3
  "$@" >"$work/out" 2>"$work/err"
  got=$?
  if [ "$got" -eq "$want" ]; then ok "$name"; else
    bad "$name (exit $got, wanted $want)"; sed 's/^/     /' "$work/err" | head -5
  fi
}
# stderr must be exactly one line containing TEXT
one_line_error() {
  name=$1; text=$2
  n=$(wc -l <"$work/err")
  if [ "$n" -eq 1 ] && grep -qF -- "$text" "$work/err"; then ok "$name message"; else
    bad "$name message: wanted one line with '$text', got:"; sed 's/^/     /' "$work/err" | head -5
  fi
}

# --- help and listings -------------------------------------------------
for c in "" run analyze check list compare report; do
  expect 0 "plastix $c --help" -- $PLASTIX $c --help
  grep -q "usage: plastix" "$work/out" || bad "plastix $c --help prints usage"
done
expect 0 "plastix --version" -- $PLASTIX --version
expect 0 "plastix list" -- $PLASTIX list
grep -q "trifactor" "$work/out" || bad "list shows trifactor"
grep -q "recurrent_langevin" "$work/out" || bad "list shows recurrent_langevin"
expect 0 "plastix list keys" -- $PLASTIX list keys
grep -q "model.nonlinearity.gain" "$work/out" || bad "list keys shows model keys"
expect 2 "no command" -- $PLASTIX
expect 2 "unknown command" -- $PLASTIX frobnicate

# --- bad input: exit 2, one line naming file, line and key --------------
cfg="$SRCDIR/configs/quickstart.cfg"
for f in quickstart bredenberg2020_estimation bredenberg2020_classification \
         bredenberg2020_reference_analysis; do
  expect 0 "check $f.cfg" -- $PLASTIX check "$SRCDIR/configs/$f.cfg"
done
expect 2 "missing config file" -- $PLASTIX check "$work/nope.cfg"
one_line_error "missing config file" "nope.cfg: cannot open config file"
sed 's/sigma = 0.2;/sigmma = 0.2;/' "$cfg" >"$work/typo.cfg"
line=$(grep -n "sigmma" "$work/typo.cfg" | cut -d: -f1)
expect 2 "key typo" -- $PLASTIX check "$work/typo.cfg"
one_line_error "key typo" "typo.cfg:$line: model.sigmma: unknown key (did you mean 'sigma'?"
sed 's/name = "trifactor";/name = "tri_factor";/' "$cfg" >"$work/rule.cfg"
expect 2 "unknown rule" -- $PLASTIX check "$work/rule.cfg"
one_line_error "unknown rule" "rule.name: unknown rule 'tri_factor' (did you mean 'trifactor'? valid rules: gradient, node_perturbation, trifactor"
sed 's/n = 40;/n = "forty";/' "$cfg" >"$work/type.cfg"
expect 2 "wrong type" -- $PLASTIX check "$work/type.cfg"
one_line_error "wrong type" "model.n: expected an integer, got a string"
expect 2 "out of range --set" -- $PLASTIX check "$cfg" --set model.dt=-0.1
one_line_error "out of range --set" "--set: model.dt: expected a number > 0 and <= 1, got -0.1"
expect 2 "bad option" -- $PLASTIX run "$cfg" --thread 2
expect 2 "missing weights" -- $PLASTIX analyze "$cfg" --weights "$work/none.h5" -o "$work/x"
one_line_error "missing weights" "none.h5: cannot open weights file"
[ ! -e "$work/x" ] && ! ls "$work" | grep -q "x.partial" && ok "failed analyze left no output" \
  || bad "failed analyze left output behind"

# diverging dynamics: exit 2, no run directory, no partial directory
expect 2 "diverging run" -- $PLASTIX run "$cfg" -o "$work/div" -q \
  --set model.init.W.dist=\"constant\" --set model.init.W.scale=1e308 --set train.trials=1
one_line_error "diverging run" "model.dt: dynamics diverged in evaluation 0, trials 0-0 at t = "
if [ -e "$work/div" ] || ls "$work" | grep -q "div.partial"; then
  bad "diverging run left output behind"; else ok "diverging run left no output"; fi

# --- the quickstart, exactly as the README runs it ----------------------
expect 0 "quickstart run" -- $PLASTIX run "$cfg" -o "$work/quick" -q
d="$work/quick"
for f in manifest.json config.cfg config.resolved.cfg results.h5 \
         tables/tuning.csv tables/preferred_histogram.csv tables/preferred_kde.csv \
         tables/population_rate.csv tables/bias_variance.csv tables/noise_volume.csv \
         tables/energy.csv tables/currents.csv tables/errors.csv \
         tables/learning_curve.csv tables/test_error_curve.csv \
         figures/preferred.png figures/population_rate.png figures/learning_curve.png \
         figures/bias_variance.png figures/tuning.png; do
  [ -s "$d/$f" ] || bad "quickstart wrote $f"
done
ok "quickstart files present"
grep -q '"complete": true' "$d/manifest.json" && ok "manifest complete" || bad "manifest complete"
for k in '"seed": 120994' '"plastix_version"' '"gsl"' '"openblas"' '"hdf5"' '"stationary_kappa": 1.5' '"prior_kappa": 0.75'; do
  grep -qF "$k" "$d/manifest.json" || bad "manifest has $k"
done
cmp -s "$cfg" "$d/config.cfg" && ok "config copied verbatim" || bad "config copied verbatim"
head -1 "$d/tables/population_rate.csv" | grep -qx "theta,mean,sem" && ok "tidy CSV header" || bad "tidy CSV header"
if command -v h5ls >/dev/null 2>&1; then
  h5ls -r "$d/results.h5" >"$work/h5" 2>&1
  for ds in /weights/initial/W /weights/final/D /probes/tuning/mean /probes/learning_curve/error; do
    grep -q "^$ds " "$work/h5" || bad "results.h5 has $ds"
  done
  ok "results.h5 layout"
fi
# rerunning into the same directory replaces it
expect 0 "rerun replaces run directory" -- $PLASTIX run "$cfg" -o "$work/quick" -q \
  --set train.trials=1 --set test.trials=2 --set test.prior_trials=1 --set train.eval.every=0
grep -q 'train.trials=1' "$d/manifest.json" && ok "rerun manifest" || bad "rerun manifest"
# a directory that is not a run directory is never replaced
mkdir -p "$work/precious" && echo keep >"$work/precious/data.txt"
expect 2 "refuses foreign directory" -- $PLASTIX run "$cfg" -o "$work/precious" -q --set train.trials=1
[ -f "$work/precious/data.txt" ] && ok "foreign directory untouched" || bad "foreign directory untouched"

# --- reproducibility: same config and seed, 1 or 2 threads: same bytes ----
small="--set train.trials=2 --set test.trials=3 --set test.prior_trials=2 --set train.eval.every=1 --set test.record_trials=1"
expect 0 "run with 1 thread" -- $PLASTIX run "$cfg" -o "$work/j1" -q -j 1 $small
expect 0 "run with 2 threads" -- $PLASTIX run "$cfg" -o "$work/j2" -q -j 2 $small
cmp -s "$work/j1/results.h5" "$work/j2/results.h5" && ok "results.h5 bitwise identical" \
  || bad "results.h5 differs between 1 and 2 threads"
same=1
for f in "$work"/j1/tables/*.csv; do cmp -s "$f" "$work/j2/tables/${f##*/}" || same=0; done
[ $same -eq 1 ] && ok "tables identical" || bad "tables differ between 1 and 2 threads"

# --- compare: several rules from one config -------------------------------
ccfg="$SRCDIR/configs/compare_estimation.cfg"
expect 2 "run needs --rule on a rules map" -- $PLASTIX run "$ccfg" -o "$work/cr"
one_line_error "run needs --rule" "defines several rules (trifactor, gradient, node_perturbation): choose one with --rule NAME"
expect 0 "check --rule" -- $PLASTIX check "$ccfg" --rule node_perturbation
expect 0 "tiny compare" -- $PLASTIX compare "$ccfg" -o "$work/cmp" -q --seeds 2 --rules trifactor,gradient \
  --set train.trials=1 --set train.duration=50.0 --set train.eval.every=1 --set test.trials=2 \
  --set test.duration=100.0 --set test.prior_trials=1 --set test.prior_duration=50.0 \
  --set compare.fisher_trials=2 --set compare.fisher_duration=100.0
for f in scorecard seeds preferred_density population_rate sqrt_fisher_density learning_curve error_by_angle; do
  [ -s "$work/cmp/tables/$f.csv" ] || bad "compare wrote tables/$f.csv"
done
[ -s "$work/cmp/figures/scorecard.png" ] && ok "compare figures" || bad "compare figures"
grep -q '"rules"' "$work/cmp/manifest.json" && ok "compare manifest" || bad "compare manifest"
expect 2 "compare unknown rule" -- $PLASTIX compare "$ccfg" -o "$work/cmpx" --rules tri

# --- analysis of the authors' network ------------------------------------
expect 0 "analyze reference network" -- $PLASTIX analyze "$SRCDIR/configs/bredenberg2020_estimation.cfg" \
  --weights "$SRCDIR/tests/data/bredenberg2020_network_cr.json" -o "$work/ref" -q \
  --set test.trials=4 --set test.duration=200.0 --set test.prior_trials=2 --set test.prior_duration=200.0
grep -q '"weights_from"' "$work/ref/manifest.json" && ok "analysis manifest names weights" || bad "analysis manifest"
# the run's own results.h5 loads back as weights
expect 0 "analyze plastix results.h5" -- $PLASTIX analyze "$cfg" --weights "$work/ref/results.h5" \
  -o "$work/ref2" -q --set test.trials=2 --set test.duration=100.0 --set test.prior_trials=1 \
  --set test.prior_duration=100.0
expect 2 "analyze without weights" -- $PLASTIX analyze "$cfg" -o "$work/ref3"
# an output directory holding the weights read would be replaced by the run
expect 2 "analyze into the weights' run" -- $PLASTIX analyze "$cfg" \
  --weights "$work/ref/results.h5" -o "$work/ref" -q --set test.trials=2
one_line_error "analyze into the weights' run" "would replace"
[ -s "$work/ref/results.h5" ] && ok "the weights' run is left as it was" \
  || bad "analyze replaced the run of its weights"

# --- the linear-net path through plastix run / check ---------------------
lcfg="$SRCDIR/configs/linear_1layer_reduced.cfg"
expect 0 "check linear config" -- $PLASTIX check "$lcfg"
grep -q "linear_deep" "$work/out" && ok "check linear summary" || bad "check linear summary"
expect 0 "run linear config" -- $PLASTIX run "$lcfg" -o "$work/lin" -q --set train.epochs=50
[ -s "$work/lin/results.h5" ] && [ -s "$work/lin/tables/spectrum.csv" ] && [ -s "$work/lin/figures/spectrum.png" ] \
  && ok "linear run outputs" || bad "linear run outputs"
# the progress line off a terminal: one line per 10 % of 400 epochs; the
# first (1 epoch, 0.25 %) has too little behind it for an ETA
expect 0 "run linear config with progress" -- $PLASTIX run "$lcfg" -o "$work/linp"
grep '^\[train\]' "$work/err" >"$work/prog"
if [ "$(wc -l <"$work/prog")" -eq 11 ] && head -1 "$work/prog" | grep -q '^\[train\]   0%  elapsed [0-9hms]*  ETA --$' \
   && tail -1 "$work/prog" | grep -q '^\[train\] 100%  elapsed [0-9hms]*  ETA 0s$'; then
  ok "progress lines"
else
  bad "progress lines:"; sed 's/^/     /' "$work/prog"
fi
expect 2 "linear config typo" -- $PLASTIX run "$lcfg" -o "$work/linx" -q --set train.epoch=50
one_line_error "linear config typo" "train.epoch"
[ ! -e "$work/linx" ] && ok "no output from a failed linear run" || bad "failed linear run left output"

# --- the natural-image experiment through plastix check / run -----------
ncfg="$SRCDIR/configs/benjamin2022_natural_images.cfg"
if [ -f /usr/share/backgrounds/mate/nature/Aqua.jpg ]; then
  expect 0 "check natural-image config" -- $PLASTIX check "$ncfg"
  grep -q "natural-image experiment: 25 photographs" "$work/out" && ok "check natural-image summary" \
    || bad "check natural-image summary"
  # a tiny run: its tables and figures, the preference histograms included
  expect 0 "tiny natural-image run" -- $PLASTIX run "$ncfg" -o "$work/ni" -q \
    --set 'model.layers.[0].out=4' --set 'model.layers.[4].out=4' --set 'model.layers.[8].out=4' \
    --set 'model.layers.[10].out=4' --set 'model.layers.[12].out=4' --set 'model.layers.[15].out=8' \
    --set train.steps=4 --set train.log_every=2 --set probe.orientations=12 --set probe.phases=2 \
    --set 'conditions.run=["trained","untrained"]'
  [ -s "$work/ni/tables/preferred_summary.csv" ] && [ -s "$work/ni/figures/preferred.png" ] \
    && [ -s "$work/ni/figures/sensitivity.png" ] && ok "natural-image run outputs" \
    || bad "natural-image run outputs"
  # plastix report pools the seeds of natural-image runs of one design
  tiny_ni() {
    out=$1; shift
    $PLASTIX run "$ncfg" -o "$out" -q \
      --set 'model.layers.[0].out=4' --set 'model.layers.[4].out=4' --set 'model.layers.[8].out=4' \
      --set 'model.layers.[10].out=4' --set 'model.layers.[12].out=4' \
      --set 'model.layers.[15].out=8' --set train.steps=4 --set train.log_every=2 \
      --set probe.orientations=12 --set probe.phases=2 --set 'output.figures=[]' "$@"
  }
  expect 0 "tiny natural-image run, seeds 2-3" -- tiny_ni "$work/ni23" --set experiment.seed=2 \
    --set experiment.seeds=2 --set 'conditions.run=["trained","untrained","rotated"]'
  expect 0 "report pooling natural-image seeds" -- $PLASTIX report "$work/ni" "$work/ni23" \
    -o "$work/nipool" -q
  if [ "$(grep -c '^[123],trained,relu5,' "$work/nipool/tables/seeds.csv")" = 3 ] \
    && grep -q '^relu5,trained - untrained,3,' "$work/nipool/tables/seed_statistics.csv" \
    && grep -q '^relu5,trained - rotated,2,' "$work/nipool/tables/seed_statistics.csv" \
    && [ -s "$work/nipool/tables/preferred_statistics.csv" ]; then
    ok "pooled seeds and their counts per comparison"
  else
    bad "pooled seeds and their counts per comparison"
  fi
  expect 2 "report pooling into one of its runs" -- $PLASTIX report "$work/ni" "$work/ni23" \
    -o "$work/ni23" -q
  one_line_error "report pooling into one of its runs" "would replace"
  [ -s "$work/ni23/config.resolved.cfg" ] && ok "a refused pooling leaves its runs as they were" \
    || bad "a pooling replaced a run"
  expect 2 "report pooling a run twice" -- $PLASTIX report "$work/ni23" "$work/ni23/" \
    -o "$work/nipool2" -q
  one_line_error "report pooling a run twice" "are the same run directory"
  expect 0 "tiny natural-image run, seed 3 again" -- tiny_ni "$work/ni3" \
    --set experiment.seed=3
  expect 2 "report pooling a seed twice" -- $PLASTIX report "$work/ni23" "$work/ni3" \
    -o "$work/nipool2" -q
  one_line_error "report pooling a seed twice" "seed 3 is in"
  expect 0 "tiny natural-image run, another window" -- tiny_ni "$work/niw" \
    --set experiment.seed=4 --set probe.window=15.0
  expect 2 "report pooling two designs" -- $PLASTIX report "$work/ni" "$work/niw" \
    -o "$work/nipool2" -q
  one_line_error "report pooling two designs" "probe.window"
  expect 2 "report pooling without -o" -- $PLASTIX report "$work/ni" "$work/ni23" -q
  one_line_error "report pooling without -o" "needs -o DIR"
  expect 2 "report pooling with --set" -- $PLASTIX report "$work/ni" "$work/ni23" \
    -o "$work/nipool2" -q --set probe.window=15.0
  one_line_error "report pooling with --set" "changes no key"
  [ ! -e "$work/nipool2" ] && ok "no output from a refused pooling" \
    || bad "refused pooling left output"
fi
expect 2 "natural-image config typo" -- $PLASTIX run "$ncfg" -o "$work/nix" -q --set train.stepz=3
one_line_error "natural-image config typo" "train.stepz"
expect 2 "natural-image missing photo" -- $PLASTIX run "$ncfg" -o "$work/nix" -q \
  --set 'images.files=["/nonexistent/photo.jpg"]'
one_line_error "natural-image missing photo" "images.files"
[ ! -e "$work/nix" ] && ok "no output from a failed natural-image run" || bad "failed natural-image run left output"

# --- the perceptual-learning path through plastix check / run -------------
pcfg="$SRCDIR/configs/wenliang2018_reduced.cfg"
expect 0 "check perceptual config" -- $PLASTIX check "$pcfg"
grep -q "perceptual learning" "$work/out" && ok "check perceptual summary" || bad "check perceptual summary"
expect 2 "perceptual config typo" -- $PLASTIX run "$pcfg" -o "$work/plx" -q --set train.lrr=0.1
one_line_error "perceptual config typo" "train.lrr"
expect 2 "perceptual missing weights" -- $PLASTIX run "$pcfg" -o "$work/plx" -q \
  --set 'model.pretrained="/nonexistent/weights.h5"'
one_line_error "perceptual missing weights" "model.pretrained"
[ ! -e "$work/plx" ] && ok "no output from a failed perceptual run" || bad "failed perceptual run left output"

# --- plastix report: a finished perceptual run reduced again ------------
expect 0 "tiny perceptual run" -- $PLASTIX run "$pcfg" -o "$work/plr" -q -j 1 \
  --set 'stimulus.reference_orientations=[0.0]' --set 'stimulus.separations=[5.0]' \
  --set train.iterations=6 --set test.early_iteration=2 --set test.pairs=20 \
  --set units.orientations=8 --set units.repeats=3 --set 'output.figures=[]'
expect 0 "report of the run" -- $PLASTIX report "$work/plr" -q
same=1
for t in "$work/plr/tables/"*.csv; do
  cmp -s "$t" "$work/plr-report/tables/${t##*/}" || same=0
done
[ $same -eq 1 ] && ok "report reproduces every table" || bad "report tables differ from the run's"
grep -q '"report_of"' "$work/plr-report/manifest.json" && ok "report manifest names its run" \
  || bad "report manifest names its run"
expect 0 "report with another threshold" -- $PLASTIX report "$work/plr" -o "$work/plr1" -q \
  --set units.min_activation=0.1
expect 2 "report: key that needs a run" -- $PLASTIX report "$work/plr" -o "$work/plr2" -q \
  --set train.lr=0.5
one_line_error "report: key that needs a run" "train.lr"
expect 2 "report: bad value" -- $PLASTIX report "$work/plr" -o "$work/plr2" -q \
  --set 'units.min_activation="high"'
one_line_error "report: bad value" "units.min_activation"
[ ! -e "$work/plr2" ] && ok "no output from a refused report" || bad "refused report left output"
expect 2 "perceptual run into its pretrained run" -- $PLASTIX run "$pcfg" -o "$work/plr" -q \
  --set "model.pretrained=\"$work/plr/results.h5\"" --set 'model.pretrained_group="/weights/initial"'
one_line_error "perceptual run into its pretrained run" "would replace"
expect 2 "report into its own run" -- $PLASTIX report "$work/plr" -o "$work/plr/" -q
one_line_error "report into its own run" "would replace"
[ -s "$work/plr/config.resolved.cfg" ] && [ -s "$work/plr/tables/units.csv" ] \
  && ok "a refused report leaves its run as it was" || bad "a report replaced its run"
expect 2 "report: not a run directory" -- $PLASTIX report "$work/nope" -q
one_line_error "report: not a run directory" "not a run directory"
expect 2 "report: not a perceptual run" -- $PLASTIX report "$work/quick" -q
one_line_error "report: not a perceptual run" "perceptual_learning"
expect 0 "tiny perceptual run, another seed" -- $PLASTIX run "$pcfg" -o "$work/plr_s2" -q -j 1 \
  --set 'stimulus.reference_orientations=[0.0]' --set 'stimulus.separations=[5.0]' \
  --set train.iterations=6 --set test.early_iteration=2 --set test.pairs=20 \
  --set units.orientations=8 --set units.repeats=3 --set 'output.figures=[]' \
  --set experiment.seed=2
expect 0 "report over two runs" -- $PLASTIX report "$work/plr" "$work/plr_s2" -o "$work/plrs" -q
[ -s "$work/plrs/tables/effects_over_runs.csv" ] && [ -s "$work/plrs/tables/effects_by_run.csv" ] \
  && ok "report over runs writes its tables" || bad "report over runs writes its tables"
# plr_s2 reduced with another unit threshold: not the same design, unless
# the report sets the threshold for both
expect 0 "report of seed 2 with another threshold" -- $PLASTIX report "$work/plr_s2" \
  -o "$work/plr_s2t" -q --set units.min_activation=0.1
expect 2 "report over runs of two designs" -- $PLASTIX report "$work/plr" "$work/plr_s2t" \
  -o "$work/plrd" -q
one_line_error "report over runs of two designs" "units.min_activation"
[ ! -e "$work/plrd" ] && ok "no output from a refused report over runs" \
  || bad "refused report over runs left output"
expect 0 "report over runs, threshold made equal" -- $PLASTIX report "$work/plr" \
  "$work/plr_s2t" -o "$work/plrd" -q --set units.min_activation=0.1
expect 2 "report over runs without -o" -- $PLASTIX report "$work/plr" "$work/plr_s2t" -q
one_line_error "report over runs without -o" "needs -o DIR"
# one network counted twice would pass for two: a run given twice, and a
# run with its own report (plr1: the same weights and seed, another name)
expect 2 "report over a run given twice" -- $PLASTIX report "$work/plr" "$work/plr/" \
  -o "$work/plrt" -q
one_line_error "report over a run given twice" "are the same run directory"
expect 2 "report over a run and its report" -- $PLASTIX report "$work/plr" "$work/plr1" \
  -o "$work/plrt" -q --set units.min_activation=0.1
one_line_error "report over a run and its report" "train the same network"
[ ! -e "$work/plrt" ] && ok "no output from a report over one network twice" \
  || bad "a report over one network twice left output"
# two seeds on one pretrained network differ only in their stimulus noise:
# one network, refused as two
for s in 3 4; do
  expect 0 "tiny perceptual run on plr's weights, seed $s" -- $PLASTIX run "$pcfg" \
    -o "$work/plr_w$s" -q -j 1 \
    --set 'stimulus.reference_orientations=[0.0]' --set 'stimulus.separations=[5.0]' \
    --set train.iterations=6 --set test.early_iteration=2 --set test.pairs=20 \
    --set units.orientations=8 --set units.repeats=3 --set 'output.figures=[]' \
    --set "model.pretrained=\"$work/plr/results.h5\"" \
    --set 'model.pretrained_group="/weights/initial"' --set experiment.seed=$s
done
expect 2 "report over two seeds on one pretrained network" -- $PLASTIX report \
  "$work/plr_w3" "$work/plr_w4" -o "$work/plrw" -q
one_line_error "report over two seeds on one pretrained network" "train the same network"
[ ! -e "$work/plrw" ] && ok "no output from a report over one pretrained network twice" \
  || bad "a report over one pretrained network twice left output"
if [ -d "$work/ni" ]; then
  expect 2 "report pooling runs of two tasks" -- $PLASTIX report "$work/ni" "$work/plr" \
    -o "$work/nipool3" -q
  one_line_error "report pooling runs of two tasks" "not a natural-image run"
fi

# --- plastix report of orientation runs: statistics over seeds -----------
ocfg="$SRCDIR/configs/benjamin2022_orientation_skewed.cfg"
tiny_or() {
  out=$1; shift
  $PLASTIX run "$ocfg" -o "$out" -q --set stimulus.size=16 --set stimulus.period=4.0 \
    --set stimulus.mask_radius=7.0 --set stimulus.mask_blur=1.0 --set 'model.layers.[0].out=16' \
    --set 'model.layers.[2].out=8' --set train.batch=32 --set train.steps=6 \
    --set train.log_every=2 --set 'output.figures=[]' "$@"
}
expect 0 "tiny orientation run, seed 1" -- tiny_or "$work/or1"
expect 0 "tiny orientation run, seed 2" -- tiny_or "$work/or2" --set experiment.seed=2
expect 0 "report over orientation seeds" -- $PLASTIX report "$work/or1" "$work/or2" \
  -o "$work/orpool" -q
if [ "$(grep -c '^/' "$work/orpool/tables/seeds.csv")" = 2 ] \
  && grep -q '^log_ratio_90_0_final,2,' "$work/orpool/tables/seed_statistics.csv"; then
  ok "orientation seeds and their statistics"
else
  bad "orientation seeds and their statistics"
fi
expect 0 "tiny orientation run, seed 1 again" -- tiny_or "$work/or1b"
expect 2 "report over an orientation seed twice" -- $PLASTIX report "$work/or1" "$work/or1b" \
  -o "$work/orpool2" -q
one_line_error "report over an orientation seed twice" "seed 1 is in"
expect 0 "tiny orientation run, another rate" -- tiny_or "$work/or3" --set experiment.seed=3 \
  --set train.lr=0.1
expect 2 "report over orientation runs of two designs" -- $PLASTIX report "$work/or1" \
  "$work/or3" -o "$work/orpool2" -q
one_line_error "report over orientation runs of two designs" "train.lr"
expect 2 "report over one orientation run" -- $PLASTIX report "$work/or1" -o "$work/orpool2" -q
one_line_error "report over one orientation run" "two or more runs"
expect 2 "report over orientation runs with --set" -- $PLASTIX report "$work/or1" "$work/or2" \
  -o "$work/orpool2" -q --set train.lr=0.1
one_line_error "report over orientation runs with --set" "changes no key"
[ ! -e "$work/orpool2" ] && ok "no output from a refused orientation report" \
  || bad "a refused orientation report left output"

# --- the built-in rules are also built as plugin modules ----------------
# (tests/plugin.sh loads out-of-tree modules; a module named like a
# built-in is shadowed by the built-in)
moddir="$BUILDDIR/rules/.libs"
if [ -f "$moddir/trifactor.so" ]; then
  expect 0 "module exports plx_rule_entry" -- sh -c "nm -D '$moddir/trifactor.so' | grep -q ' plx_rule_entry'"
fi

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
