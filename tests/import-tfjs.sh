#!/bin/sh
# import-tfjs.sh -- scripts/import-tfjs.mjs end to end on a small Keras
# network built here with TensorFlow.js: a strided "same" conv (Keras pads
# it asymmetrically), batch normalisation with random statistics (folded
# into the conv), ReLU6, a depthwise conv, a pointwise conv, a residual
# addition, a conv with a ReLU activation and bias, and a pooled dense
# head (where the conversion stops).  The converted network must reproduce
# TensorFlow.js's activations: plastix check loads it against the /check
# the importer wrote (1e-3 of the largest value), then `plastix run`
# probes it; a config with a ReLU's ceiling removed or a residual taken
# from the wrong layer is refused, naming the first layer that differs.
# Exit 77 (skipped) without node, the npm packages h5wasm and
# @tensorflow/tfjs (PLASTIX_NODE_MODULES or ~/.cache/plastix/node_modules)
# or the default photographs (the natural-image path reads them).
set -u
: "${PLASTIX:?set PLASTIX to the plastix binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"
MODULES=${PLASTIX_NODE_MODULES:-$HOME/.cache/plastix/node_modules}
if ! command -v node >/dev/null 2>&1 || [ ! -d "$MODULES/h5wasm" ] ||
   [ ! -d "$MODULES/@tensorflow/tfjs" ]; then
  echo "import-tfjs: skipped (needs node and, in $MODULES, h5wasm and @tensorflow/tfjs)"
  exit 77
fi
if [ ! -f /usr/share/backgrounds/mate/nature/Aqua.jpg ]; then
  echo "import-tfjs: skipped (the default photographs are not installed)"
  exit 77
fi
export PLASTIX_NODE_MODULES="$MODULES"
work=$(mktemp -d "${TMPDIR:-/tmp}/plx-import.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }

# the Keras network, saved as model.json and weights.bin
cat > "$work/make.cjs" <<'EOF'
const fs = require("fs"), path = require("path");
const tf = require(path.join(process.env.PLASTIX_NODE_MODULES, "@tensorflow/tfjs"));
(async () => {
  const x = tf.input({ shape: [32, 32, 3] });
  const bn = () => tf.layers.batchNormalization({});
  let a = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same",
                             useBias: false, name: "stem" }).apply(x);
  a = bn().apply(a);
  a = tf.layers.reLU({ maxValue: 6, name: "stem_relu" }).apply(a);
  let b = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", useBias: false,
                                      name: "dw" }).apply(a);
  b = bn().apply(b);
  b = tf.layers.reLU({ maxValue: 0.5, name: "dw_relu" }).apply(b); // a ceiling reached
  b = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: "pw" }).apply(b);
  b = bn().apply(b);
  const c = tf.layers.add({ name: "res" }).apply([b, a]);
  let d = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: "same",
                             activation: "relu", name: "top" }).apply(c);
  d = tf.layers.globalAveragePooling2d({}).apply(d);
  d = tf.layers.dense({ units: 2 }).apply(d);
  const m = tf.model({ inputs: x, outputs: d });
  let s = 7;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  for (const l of m.layers) {
    if (l.getClassName() !== "BatchNormalization") continue;
    const n = l.getWeights()[0].shape[0], v = (f) => tf.tensor1d(Array.from({ length: n }, f));
    l.setWeights([v(() => 0.5 + rnd()), v(() => rnd() - 0.5), v(() => rnd() - 0.5),
                  v(() => 0.2 + rnd())]);
  }
  await m.save(tf.io.withSaveHandler(async (art) => {
    fs.writeFileSync(path.join(process.argv[2], "weights.bin"), Buffer.from(art.weightData));
    fs.writeFileSync(path.join(process.argv[2], "model.json"), JSON.stringify({
      modelTopology: art.modelTopology,
      weightsManifest: [{ paths: ["weights.bin"], weights: art.weightSpecs }] }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
})();
EOF
if node "$work/make.cjs" "$work" > "$work/make.log" 2>&1 && [ -s "$work/model.json" ]; then
  ok "a Keras network saved by TensorFlow.js"
else
  bad "a Keras network saved by TensorFlow.js"; cat "$work/make.log"; exit 1
fi

if node "$SRCDIR/scripts/import-tfjs.mjs" "$work" "$work/net" --probe stem_relu,dw_relu,top_relu \
    > "$work/import.log" 2>&1; then
  ok "import"
else
  bad "import"; cat "$work/import.log"
fi
grep -q "stopped before global_average_pooling2d" "$work/import.log" \
  && ok "conversion stops at the pooled head" || bad "conversion stops at the pooled head"
grep -q 'type = "zeropad"; name = "stem_pad"; pad = 0; pad_after = 1;' "$work/net.cfg" \
  && ok "Keras's asymmetric same padding as zeropad" || bad "asymmetric padding"
grep -q 'type = "add"; name = "res"; from = "stem_relu";' "$work/net.cfg" \
  && ok "the residual reads stem_relu" || bad "the residual reads stem_relu"
grep -q 'groups = 8;' "$work/net.cfg" && ok "depthwise as groups" || bad "depthwise as groups"

# the converted network reproduces TensorFlow.js's activations
if "$PLASTIX" check "$work/net.cfg" > "$work/check.log" 2>&1; then
  ok "plastix check: /check reproduced"
else
  bad "plastix check: /check reproduced"; cat "$work/check.log"
fi
if "$PLASTIX" run "$work/net.cfg" -o "$work/run" -q --set probe.orientations=12 \
    --set probe.phases=2 --set 'output.figures=[]' && [ -s "$work/run/tables/cardinal_ratio.csv" ]; then
  ok "plastix run probes it"
else
  bad "plastix run probes it"
fi

# a wrong architecture is refused at the first layer that differs:
# refused WHAT SED-EDIT LAYER checks net.cfg edited by SED-EDIT exits 2
# with LAYER named as the first layer not reproducing /check
refused() {
  sed "$2" "$work/net.cfg" > "$work/edited.cfg"
  "$PLASTIX" check "$work/edited.cfg" > "$work/edited.log" 2>&1
  if [ $? -eq 2 ] && grep -q "layer $3 does not reproduce /check" "$work/edited.log"; then
    ok "$1 is refused"
  else
    bad "$1 is refused"; cat "$work/edited.log"
  fi
}
grep -q 'name = "dw_relu"; max = 0.5;' "$work/net.cfg" && ok "a clipped ReLU's ceiling" \
  || bad "a clipped ReLU's ceiling"
refused "a clipped ReLU without its ceiling" 's/name = "dw_relu"; max = 0.5;/name = "dw_relu";/' \
  dw_relu
refused "a residual from the wrong layer" 's/from = "stem_relu";/from = "pw";/' top_relu

echo "$fails failure(s)"
[ $fails -eq 0 ]
