#!/usr/bin/python3
"""brian2_rate.py -- Brian2 (Debian python3-brian) simulating the recurrent
stochastic rate circuit of the estimation config without plasticity:

    dr = [-f^-1(r) + W r + C s + b] dt + sigma dB,   r clipped to [0.001, 100]

N = 40, f the softplus of gain 30 (f^-1(r) = r + log1p(-exp(-30 r))/30),
sigma = 0.2, dt = 0.01 (one time unit = one Brian second), Euler--Maruyama,
a fixed input s (theta = 0.5) through C, b = 0, weights drawn as the paper's
initial ones.  W r is a summed variable of all-to-all Synapses (the Brian2
idiom for rate networks); the clip is a run_regularly operation after the
state update.  Compiled code is built before timing (a first short run), so
the figure is the simulation alone.

    /usr/bin/python3 bench/brian2_rate.py [--duration 200] [--n 40]
        [--target numpy|cython|auto] [--repeat 1]

Prints the machine and one line per target
    RESULT brian2 target=... n=... steps=... wall_s=... cpu_s=...
        us_step_wall=... us_step_cpu=... build_s=... maxrss_mb=... mean_r=...
"""
import argparse
import logging
import os
import resource
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

from numpy_trifactor import machine  # noqa: E402


def run(target, n, duration, repeat, seed):
    import brian2 as b2
    from brian2 import (NeuronGroup, Synapses, Network, defaultclock, prefs,
                        second)
    b2.BrianLogger.log_level_error()
    logging.getLogger("brian2").setLevel(logging.ERROR)
    prefs.codegen.target = target
    b2.seed(seed)
    rng = np.random.default_rng(seed)
    n_in = 12
    W = rng.uniform(-0.3 / np.sqrt(n), 0.3 / np.sqrt(n), (n, n))
    C = rng.uniform(-0.5 / np.sqrt(n_in), 0.5 / np.sqrt(n_in), (n, n_in))
    prefs_ang = -np.pi + 2.0 * np.pi * np.arange(n_in) / n_in
    s = np.maximum(np.cos(0.5 - prefs_ang), 0.0)

    defaultclock.dt = 0.01 * second
    eqs = """
    dr/dt = (-(r + log1p(-exp(-gain*r))/gain) + rec + inp + bias)/tau
            + sigma*xi*tau**-0.5 : 1
    rec : 1
    inp : 1 (constant)
    bias : 1 (constant)
    """
    ns = {"gain": 30.0, "sigma": 0.2, "tau": 1.0 * second}
    G = NeuronGroup(n, eqs, method="euler", namespace=ns)
    G.r = 0.1
    G.inp = C @ s
    G.bias = 0.0
    G.run_regularly("r = clip(r, 0.001, 100)", when="after_groups")
    S = Synapses(G, G, "w : 1\nrec_post = w*r_pre : 1 (summed)")
    S.connect()
    S.w = W[np.asarray(S.j[:]), np.asarray(S.i[:])]   # post j <- pre i
    net = Network(G, S)
    t0 = time.perf_counter()
    net.run(0.02 * second)          # code generation and compilation
    build = time.perf_counter() - t0
    steps = int(round(duration / 0.01))
    best_w = best_c = float("inf")
    for _ in range(max(1, repeat)):
        w0, c0 = time.perf_counter(), time.process_time()
        net.run(duration * second)
        w, c = time.perf_counter() - w0, time.process_time() - c0
        best_w, best_c = min(best_w, w), min(best_c, c)
    return steps, best_w, best_c, build, float(np.mean(G.r[:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--duration", type=float, default=200.0)
    ap.add_argument("--target", default="auto",
                    help="numpy, cython, auto (Brian2's default), or a "
                         "comma-separated list")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=120994)
    a = ap.parse_args()
    import brian2
    machine("brian2")
    print("# brian2: brian2 %s" % brian2.__version__)
    status = 0
    for target in a.target.split(","):
        try:
            steps, w, c, build, mean_r = run(target, a.n, a.duration, a.repeat,
                                             a.seed)
        except Exception as exc:  # a target that cannot work here
            print("# brian2: target %s failed: %s" % (target, exc))
            status = 1
            continue
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        print("RESULT brian2 target=%s n=%d duration=%g steps=%d wall_s=%.6f "
              "cpu_s=%.6f us_step_wall=%.4f us_step_cpu=%.4f build_s=%.3f "
              "maxrss_mb=%.1f mean_r=%.4f" %
              (target, a.n, a.duration, steps, w, c, 1e6 * w / steps,
               1e6 * c / steps, build, rss, mean_r))
        sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
