#!/usr/bin/python3
"""reference_peer.py -- time the authors' own code (Bredenberg, Simoncelli &
Savin 2020, github.com/colinbredenberg/Efficient-Plasticity-Camera-Ready),
one training trial of the estimation task, on a local checkout the user
points to.  Nothing of that code is part of plastix: this script imports it
from the checkout, sets the trial length, and calls its own
PlasticNet.train_run exactly as its __main__ does (initial weights drawn the
same way, rt_input = True).

    PLX_BENCH_REFERENCE=/path/to/Efficient-Plasticity-Camera-Ready \\
        /usr/bin/python3 bench/reference_peer.py [--duration 100]

Needs what that code imports: python3-numpy, python3-scipy,
python3-matplotlib and python3-sklearn (Debian).  Memory: the code keeps an
N x N x (T/dt) array of weight updates, so its resident size grows with the
trial length (about 1.3 GB for a 1000-time-unit trial).

Prints the machine and
    RESULT reference n=40 duration=... steps=... wall_s=... cpu_s=...
        us_step_wall=... us_step_cpu=... maxrss_mb=...
"""
import argparse
import contextlib
import copy
import io
import os
import resource
import sys
import time
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("MPLBACKEND", "Agg")

from numpy_trifactor import machine  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkout", default=os.environ.get("PLX_BENCH_REFERENCE"))
    ap.add_argument("--duration", type=float, default=100.0)
    a = ap.parse_args()
    if not a.checkout or not os.path.isfile(
            os.path.join(a.checkout, "normative_plasticity_cr.py")):
        print("# reference: set PLX_BENCH_REFERENCE to a checkout of "
              "colinbredenberg/Efficient-Plasticity-Camera-Ready")
        return 2
    sys.path.insert(0, os.path.abspath(a.checkout))
    import numpy as np
    machine("reference")
    with contextlib.redirect_stdout(io.StringIO()):
        import pl_exp_params_cr as ep
        ep.network_load = False          # train, do not unpickle a network
        import normative_plasticity_cr as npc
    params = copy.deepcopy(ep.params)
    input_params = copy.deepcopy(ep.input_params)
    params["T"] = a.duration
    input_params["T"] = a.duration
    params["trial_num"] = 1
    input_params["trial_num"] = 1
    # train_run reads these module globals, which its __main__ defines
    npc.params = params
    npc.input_params = input_params
    np.random.seed(120994)
    N = params["N"]
    w_0 = np.random.uniform(-0.3 / np.sqrt(N), 0.3 / np.sqrt(N), (N, N))
    i_w_0 = np.random.uniform(-0.5 / np.sqrt(params["input_dim"]),
                              0.5 / np.sqrt(params["input_dim"]),
                              (N, params["input_dim"]))
    bias_0 = np.zeros((N,))
    net = npc.PlasticNet(params, copy.deepcopy(ep.param_fns), input_params,
                         copy.deepcopy(ep.decoder), w_0, bias_0, i_w_0)
    w0, c0 = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        net.train_run(params["T"], 0.1 * np.ones((N,)), train=True,
                      rt_input=True)
    w, c = time.perf_counter() - w0, time.process_time() - c0
    steps = int(params["T"] / params["dt"]) - 1
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("RESULT reference n=%d duration=%g steps=%d wall_s=%.6f cpu_s=%.6f "
          "us_step_wall=%.4f us_step_cpu=%.4f maxrss_mb=%.1f" %
          (N, a.duration, steps, w, c, 1e6 * w / steps, 1e6 * c / steps, rss))
    return 0


if __name__ == "__main__":
    sys.exit(main())
