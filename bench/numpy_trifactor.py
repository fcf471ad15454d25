#!/usr/bin/python3
"""numpy_trifactor.py -- the peer a competent numpy user would write instead
of plastix: the recurrent stochastic circuit of Bredenberg, Simoncelli &
Savin (2020) trained on the estimation task with the tri-factor rule,
exactly as ../shared/spec/bredenberg2020.md describes the authors' code
(N = 40, 12 rectified-cosine inputs, softplus gain 30, sigma = 0.2,
dt = 0.01, clip [0.001, 100], input delay of one step, running averages at
rate 0.0015, warm-up 40 time units, the three Hebbian updates and the
decoder delta rule) -- but vectorised the way one writes fast numpy:
every array preallocated, in-place ufuncs with out=, the noise of a trial
drawn in blocks, no per-step allocation, no Python loop over units.

    /usr/bin/python3 bench/numpy_trifactor.py [--duration 200] [--warmup 40]
        [--trials 1] [--n 40] [--repeat 1] [--seed 120994]

Prints the machine and numpy's BLAS, then one line
    RESULT numpy_trifactor n=... steps=... wall_s=... cpu_s=...
        us_step_wall=... us_step_cpu=... maxrss_mb=... final_mean_r=...
(best of --repeat runs; time per Euler step includes everything a training
step does: stimulus process, Euler step, clipping, averages, updates).
"""
import argparse
import os
import platform
import resource
import sys
import time

import numpy as np


def machine(who):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    blas = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.find("/")
            if p >= 0 and "blas" in line[p:] and ".cpython-" not in line:
                blas.add(os.path.realpath(line[p:].strip()))
    la = os.getloadavg()
    print('# %s: machine: cpu="%s" cores=%d load=%.2f,%.2f,%.2f' %
          (who, cpu, os.cpu_count(), la[0], la[1], la[2]))
    print("# %s: python %s numpy %s blas=%s OPENBLAS_NUM_THREADS=%s" %
          (who, platform.python_version(), np.__version__,
           ", ".join(sorted(blas)) or "none mapped",
           os.environ.get("OPENBLAS_NUM_THREADS", "(unset)")))


def train(n, trials, duration, warmup, seed):
    # --- the paper's estimation parameters (spec, "Updates" table) ---
    n_in, n_out = 12, 2
    dt, sigma, gain = 0.01, 0.2, 30.0
    lo, hi, r0 = 0.001, 100.0, 0.1
    avg_rate = 0.0015
    eta_w = eta_b = eta_c = 5e-6
    eta_d = 5e-6
    k_w, k_b, k_c = 0.0008, 0.0048, 0.0048
    mu, kappa, sigma_s = 0.0, 0.75, 0.06
    prefs = -np.pi + 2.0 * np.pi * np.arange(n_in) / n_in

    rng = np.random.default_rng(seed)
    W = rng.uniform(-0.3 / np.sqrt(n), 0.3 / np.sqrt(n), (n, n))
    C = rng.uniform(-0.5 / np.sqrt(n_in), 0.5 / np.sqrt(n_in), (n, n_in))
    b = np.zeros(n)
    D = rng.uniform(-1.0 / n, 1.0 / n, (n_out, n))

    # --- preallocated state and workspaces ---
    r = np.empty(n)
    h = np.empty(n)
    hc = np.empty(n)
    tmp = np.empty(n)
    tmp2 = np.empty(n)
    s = np.empty(n_in)
    s_prev = np.empty(n_in)
    y = np.empty(n_out)
    e = np.empty(n_out)
    rr = np.empty((n, n))
    rs = np.empty((n, n_in))
    avg_rr = np.empty((n, n))
    avg_rs = np.empty((n, n_in))
    avg_r = np.empty(n)
    dW = np.empty((n, n))
    dC = np.empty((n, n_in))
    dD = np.empty((n_out, n))
    wD = np.empty((n_out, n))
    wW = np.empty((n, n))
    wC = np.empty((n, n_in))
    keep = 1.0 - avg_rate
    steps = int(round(duration / dt))      # 0..steps-1, step 0 is the start
    block = 1000                           # noise drawn 1000 steps at a time
    sq = np.sqrt(dt)
    xi = np.empty((block, n))
    xs = np.empty(block)
    total = 0
    for trial in range(trials):
        theta = rng.vonmises(mu, kappa)
        np.subtract(theta, prefs, out=s)
        np.cos(s, out=s)
        np.maximum(s, 0.0, out=s)
        s_prev[:] = s
        r.fill(r0)
        avg_rr.fill(0.0)
        avg_rs.fill(0.0)
        avg_r.fill(0.0)
        for k in range(1, steps):
            j = (k - 1) % block
            if j == 0:
                rng.standard_normal(out=xi)
                xi *= sigma * sq
                rng.standard_normal(out=xs)
                xs *= sigma_s * sq
            # stimulus process (the reference's Langevin update), input now
            theta += -kappa * sigma_s * sigma_s * np.sin(theta - mu) * dt + xs[j]
            if theta < -np.pi:
                theta += 2.0 * np.pi
            elif theta > np.pi:
                theta -= 2.0 * np.pi
            np.subtract(theta, prefs, out=s)
            np.cos(s, out=s)
            np.maximum(s, 0.0, out=s)
            # Euler--Maruyama with the previous step's input:
            # r += dt (-f^-1(r) + W r + C s_prev + b) + sigma sqrt(dt) xi
            np.dot(W, r, out=h)
            np.dot(C, s_prev, out=hc)
            h += hc
            h += b
            np.multiply(r, -gain, out=tmp)          # f^-1(r) = r + log1p(-e^{-g r})/g
            np.exp(tmp, out=tmp)
            np.negative(tmp, out=tmp)
            np.log1p(tmp, out=tmp)
            tmp *= 1.0 / gain
            tmp += r
            h -= tmp
            h *= dt
            r += h
            r += xi[j]
            np.clip(r, lo, hi, out=r)
            s_prev[:] = s
            # target, readout, reward (before any update)
            y[0] = np.cos(theta)
            y[1] = np.sin(theta)
            np.dot(D, r, out=e)
            np.subtract(y, e, out=e)                # e = y - D r
            alpha = -float(e @ e)
            # running averages, every step (warm-up included)
            np.outer(r, r, out=rr)
            np.outer(r, s, out=rs)
            avg_rr *= keep
            np.multiply(rr, avg_rate, out=wW)
            avg_rr += wW
            avg_rs *= keep
            np.multiply(rs, avg_rate, out=wC)
            avg_rs += wC
            avg_r *= keep
            np.multiply(r, avg_rate, out=tmp2)
            avg_r += tmp2
            if k * dt > warmup:
                # W += eta [alpha (r r^T - <r r^T>) - k W], same for C, b
                np.subtract(rr, avg_rr, out=dW)
                dW *= alpha
                np.multiply(W, k_w, out=wW)
                dW -= wW
                dW *= eta_w
                W += dW
                np.subtract(rs, avg_rs, out=dC)
                dC *= alpha
                np.multiply(C, k_c, out=wC)
                dC -= wC
                dC *= eta_c
                C += dC
                np.subtract(r, avg_r, out=tmp)
                tmp *= alpha
                np.multiply(b, k_b, out=tmp2)
                tmp -= tmp2
                tmp *= eta_b
                b += tmp
                # decoder delta rule: D += eta [(y - D r) r^T - k_W D]
                np.outer(e, r, out=dD)
                np.multiply(D, k_w, out=wD)
                dD -= wD
                dD *= eta_d
                D += dD
            total += 1
    return total, float(r.mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--trials", type=int, default=1)
    ap.add_argument("--duration", type=float, default=200.0)
    ap.add_argument("--warmup", type=float, default=40.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=120994)
    a = ap.parse_args()
    machine("numpy_trifactor")
    best_w = best_c = float("inf")
    for _ in range(max(1, a.repeat)):
        w0, c0 = time.perf_counter(), time.process_time()
        steps, mean_r = train(a.n, a.trials, a.duration, a.warmup, a.seed)
        w, c = time.perf_counter() - w0, time.process_time() - c0
        best_w, best_c = min(best_w, w), min(best_c, c)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("RESULT numpy_trifactor n=%d trials=%d duration=%g warmup=%g steps=%d "
          "wall_s=%.6f cpu_s=%.6f us_step_wall=%.4f us_step_cpu=%.4f "
          "maxrss_mb=%.1f final_mean_r=%.4f" %
          (a.n, a.trials, a.duration, a.warmup, steps, best_w, best_c,
           1e6 * best_w / steps, 1e6 * best_c / steps, rss, mean_r))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
