#!/bin/sh
# mobilenet-probe.sh -- the natural-image experiment's probe on a network
# trained on photographs at scale: the MobileNetV2 that the npm package
# nsfwjs 4.4.0 (MIT) bundles (Keras; its first 98 layers, up to
# block_10_project_BN, are the ImageNet weights of keras.applications,
# frozen; the rest fine-tuned on photographs to classify them into five
# content classes).  It fetches the package and the importer's two npm
# dependencies, converts the network up to out_relu with
# scripts/import-tfjs.mjs (the input as nsfwjs feeds it: pixels / 255, so
# the Gabor lies on grey 0.5 with amplitude 0.5), checks it, and probes
# the trained network, its weights shuffled within each tensor, and the
# architecture's random start over SEEDS seeds (the trained network is
# the same in every seed; the controls differ).  doc/deep-nets.md,
# "A network trained at scale", has the results.
#
#   scripts/mobilenet-probe.sh                  # plastix from _build, runs/mobilenet
#   PLASTIX=_build_conv/plastix OUT=/tmp/mnv2 SEEDS=10 scripts/mobilenet-probe.sh
#
# Needs node and npm (Debian: apt-get install nodejs npm) and the npm
# registry.  About 40 s per seed on two cores at 36 orientations x 8
# phases (ten seeds: 6.5 min); --set probe.orientations=180 --set
# probe.phases=10 for the figure's resolution.
set -eu
cd "$(dirname "$0")/.."
PLASTIX=${PLASTIX:-_build/plastix}
OUT=${OUT:-runs/mobilenet}
SEEDS=${SEEDS:-10}
NODE_MODULES=${PLASTIX_NODE_MODULES:-$HOME/.cache/plastix/node_modules}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ ! -d "$NODE_MODULES/h5wasm" ] || [ ! -d "$NODE_MODULES/@tensorflow/tfjs" ]; then
  npm install --prefix "$(dirname "$NODE_MODULES")" h5wasm@0.10.3 @tensorflow/tfjs@4.22.0
fi
if [ ! -f "$OUT/nsfwjs/package/dist/models/mobilenet_v2/model.min.js" ]; then
  (cd "$OUT" && npm pack nsfwjs@4.4.0 && mkdir -p nsfwjs && tar xzf nsfwjs-4.4.0.tgz -C nsfwjs)
fi
PLASTIX_NODE_MODULES=$NODE_MODULES node scripts/import-tfjs.mjs \
  "$OUT/nsfwjs/package/dist/models/mobilenet_v2" "$OUT/mobilenet_v2" \
  --input-offset 0.5 --input-scale 0.5 \
  --probe Conv1_relu,block_3_expand_relu,block_6_expand_relu,block_10_expand_relu,block_13_expand_relu,block_16_expand_relu,out_relu
"$PLASTIX" check "$OUT/mobilenet_v2.cfg"
rm -rf "$OUT/run"
"$PLASTIX" run "$OUT/mobilenet_v2.cfg" -o "$OUT/run" -j 2 --set "experiment.seeds=$SEEDS" "$@"
