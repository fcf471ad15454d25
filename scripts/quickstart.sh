#!/bin/sh
# quickstart.sh -- set up (install packages, build) and run the quickstart
# experiment: runs/quickstart/ gets manifest.json, results.h5, tables/*.csv
# and figures/*.png.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
./_build/plastix run configs/quickstart.cfg -o runs/quickstart "$@"
echo "quickstart: open runs/quickstart/figures/ (population_rate.png, preferred.png, learning_curve.png)"
