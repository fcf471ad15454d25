#!/bin/sh
# doc-figures.sh -- rerun the deep-net path's full-scale experiments and
# copy their figures into doc/figures (the figures doc/deep-nets.md and
# doc/perceptual-learning.md show).  Every figure comes from one config,
# with the --set overrides written here; the run directories stay in RUNS
# (tables, arrays, manifests with config, seed and library versions).
#
#   scripts/doc-figures.sh                # plastix from _build, runs in runs/doc
#   PLASTIX=/usr/local/bin/plastix RUNS=/tmp/doc scripts/doc-figures.sh
#
# About 70 minutes on two cores: the three orientation runs (one thread
# each, ~7 min) and the node-perturbation one (~16 min) run beside the natural-image pretraining (~5 min alone
# on two threads, ~9 beside them); the perceptual config on its weights
# takes 57 min on two threads (1.9 CPU-hours).
set -eu
cd "$(dirname "$0")/.."
PLASTIX=${PLASTIX:-_build/plastix}
RUNS=${RUNS:-runs/doc}
JOBS=${JOBS:-2}
mkdir -p doc/figures "$RUNS"
RUNS=$(cd "$RUNS" && pwd)

run() {
  name=$1
  shift
  rm -rf "${RUNS:?}/$name"
  "$PLASTIX" run "$@" -o "$RUNS/$name" -q
  echo "doc-figures: $name done"
}

# Benjamin et al. 2022, Fig. 6: the supervised orientation task (one thread each)
pids=""
for c in skewed balanced noise; do
  run "orientation_$c" "configs/benjamin2022_orientation_$c.cfg" &
  pids="$pids $!"
done
# the skewed prior trained by node perturbation (doc/deep-nets.md, "Local
# rules on the same task"; ~16 min on one thread)
run orientation_skewed_np configs/benjamin2022_orientation_skewed.cfg \
  --set 'train.rule="node_perturbation"' --set train.batch=512 --set train.steps=3000 \
  --set train.lr=0.005 --set train.log_every=100 &
pids="$pids $!"

# Benjamin et al. 2022, Fig. 2 / SI Fig. 1: photographs, one seed, full scale
run natimg configs/benjamin2022_natural_images.cfg -j "$JOBS"

# Wenliang & Seitz 2018 on those weights: the whole config (12 references
# x the five separations 0.5 .. 10 degrees, freezing 1..4 layers, 50 noisy
# repeats per unit orientation); only the weights file is set here
run perceptual configs/wenliang2018_orientation.cfg -j "$JOBS" \
  --set "model.pretrained=\"$RUNS/natimg/results.h5\""
for p in $pids; do
  wait "$p"
done

for c in skewed balanced noise skewed_np; do
  cp "$RUNS/orientation_$c/figures/orientation.png" "doc/figures/orientation_$c.png"
done
for f in sensitivity preferred training; do
  cp "$RUNS/natimg/figures/$f.png" "doc/figures/natimg_$f.png"
done
for f in behaviour layers units fisher freeze; do
  cp "$RUNS/perceptual/figures/perceptual_$f.png" "doc/figures/perceptual_$f.png"
done
echo "doc-figures: wrote doc/figures from $RUNS"
