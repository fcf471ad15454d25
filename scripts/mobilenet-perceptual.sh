#!/bin/sh
# mobilenet-perceptual.sh -- the perceptual-learning experiment
# (Wenliang & Seitz 2018) on an ImageNet-trained network: MobileNetV2's
# ImageNet layers (nsfwjs 4.4.0, converted by scripts/mobilenet-probe.sh
# into OUT/mobilenet_v2.h5 and OUT/mobilenet_v2.cfg; run that first) up
# to block_10_expand_relu, the last layer of its frozen ImageNet part, with
# a readout on it, at 112-px images; the paper's unit-analysis stimuli
# (contrast 0.2, noise s.d. 15), six references x {1, 5} degrees, the
# paper's inclusion threshold 1.0; units at the image centre of Conv1_relu
# and block_1_expand_relu (low) and block_6 / block_10_expand_relu (high).
# About 50 min on two cores.  doc/perceptual-learning.md, "An
# ImageNet-trained network", has the results.
#
#   PLASTIX=_build/plastix OUT=runs/mobilenet scripts/mobilenet-perceptual.sh
set -eu
cd "$(dirname "$0")/.."
PLASTIX=${PLASTIX:-_build/plastix}
OUT=${OUT:-runs/mobilenet}
OUT=$(cd "$OUT" && pwd)
[ -f "$OUT/mobilenet_v2.cfg" ] || { echo "run scripts/mobilenet-probe.sh first" >&2; exit 2; }
cfg="$OUT/perceptual_mobilenet.cfg"
{
  cat <<HEAD
# written by scripts/mobilenet-perceptual.sh from $OUT/mobilenet_v2.cfg
experiment = { name = "perceptual_mobilenet"; seed = 1; };
stimulus = {
  type = "gabor";
  size = 112;
  reference_orientations = [0.0, 30.0, 60.0, 90.0, 120.0, 150.0];
  separations = [1.0, 5.0];
  wavelengths = [10.0];
  contrasts = [0.2];
  noise_sds = [15.0];
  envelope = 25.0;
  phase = 0.0;
  normalise = true;
};
model = {
  type = "deepnet";
  pretrained = "mobilenet_v2.h5";
  pretrained_group = "/weights/trained";
  layers = (
HEAD
  awk '/^  layers = \(/ {on = 1; next}
       on && /name = "block_10_expand_relu"/ {sub(/ *,? *$/, ""); print $0 ","; exit}
       on {print}' "$OUT/mobilenet_v2.cfg"
  cat <<'TAIL'
    { type = "fc"; name = "readout"; out = 1; }
  );
};
task = { type = "perceptual_learning"; };
train = { rule = "gradient"; iterations = 200; batch = 20; lr = 0.001; momentum = 0.9;
          log_points = 8; psi_window = 11; };
test = { pairs = 200; transfer = true; all_separations = true; early_iteration = 10; };
units = { enabled = true;
          layers = ["Conv1_relu", "block_1_expand_relu", "block_6_expand_relu",
                    "block_10_expand_relu"];
          orientations = 100; repeats = 20; contrast = 0.2; noise_sd = 15.0; wavelength = 10.0;
          min_activation = 1.0; high_layers = 2; };
freeze = { depths = []; };
output = { figures = ["png"]; };
TAIL
} > "$cfg"
"$PLASTIX" check "$cfg"
rm -rf "$OUT/perceptual"
[ "${CHECK_ONLY:-0}" = 1 ] || "$PLASTIX" run "$cfg" -o "$OUT/perceptual" -j 2 "$@"
