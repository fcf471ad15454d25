#!/usr/bin/python3
"""torch_peers.py -- PyTorch CPU peers of the linear-net and deep-net paths
(issue 7), written the way a PyTorch user would write them: one thread,
float32 (the linear cases can also run in float64), the same architecture
and batch as plastix.  Timed as CPU time of this process, best of R repeats
after one warm-up repeat, like bench/plx_bench_nets.c; prints one
    RESULT <mode> key=value ...
line per measurement for bench/run.sh.

    torch_peers.py gemm [--d D]
        torch.mm, D x D x D, float32 and float64.
    torch_peers.py linear_full [--d D] [--layers L] [--dtype float32|float64]
        one full-batch gradient step through the covariance S: the same
        3L - 2 GEMMs as plx_linear_step (G = (2/d)(W - I) S pushed through
        W = W_L ... W_1), in place under torch.no_grad().
    torch_peers.py linear_epoch [--d D] [--layers L] [--patches N]
        [--batch B] [--steps K] [--dtype ...]
        the reference minibatch SGD: nn.Sequential of bias-free
        nn.Linear(d, d), F.mse_loss(net(x), x), loss.backward(),
        torch.optim.SGD(lr=1.0).step(), batches of a randperm per epoch.
    torch_peers.py deepnet CONFIG [--batch B] [--steps K] [--label L]
        one training step of the network of CONFIG's model.layers (the
        libconfig list is read here, so both sides build the same
        architecture): forward, F.cross_entropy, backward, optim.SGD
        (momentum and weight decay from train.momentum / train.decay).

Exit status 3 (and a "skipped" line) when torch cannot be imported.
"""
import argparse
import os
import re
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as exc:  # the peer is optional
    print("skipped: torch not importable by %s (%s); apt-get install python3-torch"
          % (sys.executable, exc))
    sys.exit(3)


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    la = os.getloadavg()
    print("# torch_peers: machine: cpu=\"%s\" cores=%d load=%.2f,%.2f,%.2f"
          % (cpu, os.cpu_count() or 0, *la))
    print("# torch_peers: torch %s, threads %d (interop %d), mkldnn %s"
          % (torch.__version__, torch.get_num_threads(), torch.get_num_interop_threads(),
             torch.backends.mkldnn.is_available()))
    blas = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if "blas" in p or "mkl" in p:
                    blas.add(os.path.realpath(p))
    except OSError:
        pass
    print("# torch_peers: blas mapped=%s" % (", ".join(sorted(blas)) or "none"))
    sys.stdout.flush()


def timed(step, steps, repeat):
    """Best CPU seconds per step over `repeat` repeats of `steps` steps,
    after one warm-up repeat.  step() may return a dict of phase times."""
    best, best_ph = float("inf"), None
    for r in range(-1, repeat):
        ph = {}
        t0 = time.process_time()
        for _ in range(steps):
            p = step()
            if p:
                for k, v in p.items():
                    ph[k] = ph.get(k, 0.0) + v
        t = (time.process_time() - t0) / steps
        if r >= 0 and t < best:
            best, best_ph = t, {k: v / steps for k, v in ph.items()}
    return best, best_ph or {}


# ---------------------------------------------------------------- gemm

def mode_gemm(a):
    d = a.d
    flops = 2.0 * d ** 3
    calls = 1 if flops >= 5e9 else int(5e9 / flops) + 1
    for dt, name in ((torch.float64, "double"), (torch.float32, "single")):
        A = torch.rand(d, d, dtype=dt) - 0.5
        B = torch.rand(d, d, dtype=dt) - 0.5
        C = torch.empty(d, d, dtype=dt)

        def step():
            for _ in range(calls):
                torch.mm(A, B, out=C)
        t, _ = timed(step, 1, a.repeat)
        t /= calls
        print("RESULT torch_gemm prec=%s d=%d us_cpu=%.1f gflops=%.2f"
              % (name, d, 1e6 * t, flops / t * 1e-9))


# -------------------------------------------------------------- linear

def dtype_of(a):
    return torch.float64 if a.dtype == "float64" else torch.float32


def mode_linear_full(a):
    d, L, dt = a.d, a.layers, dtype_of(a)
    eta = 1.0
    g = torch.Generator().manual_seed(2022)
    X = torch.rand(max(4096, d), d, generator=g, dtype=dt) - 0.5
    S = X.T @ X / X.shape[0]          # the patch covariance (d x d)
    del X
    W = [torch.empty(d, d, dtype=dt).uniform_(-0.005, 0.005, generator=g) for _ in range(L)]
    eye = torch.eye(d, dtype=dt)
    loss = [0.0]

    @torch.no_grad()
    def step():
        pre = [W[0]]                   # pre[l] = W_{l+1} ... W_1
        for l in range(1, L):
            pre.append(W[l] @ pre[-1])
        R = pre[-1] - eye              # W - I
        cur = torch.mm(R, S).mul_(2.0 / d)  # G = (2/d)(W - I) S
        loss[0] = 0.5 * float(torch.dot(cur.view(-1), R.view(-1)))
        for l in range(L - 1, 0, -1):
            nxt = W[l].T @ cur         # seen by the layer below (before W_l's update)
            W[l].addmm_(cur, pre[l - 1].T, alpha=-eta)
            cur = nxt
        W[0].add_(cur, alpha=-eta)

    t, _ = timed(step, a.steps, a.repeat)
    gemms = 1 + 3 * (L - 1)
    print("RESULT torch_linear_full layers=%d d=%d prec=%s us_step_cpu=%.1f gemms=%d "
          "gflops=%.2f loss=%.4g"
          % (L, d, "double" if dt == torch.float64 else "single", 1e6 * t, gemms,
             gemms * 2.0 * d ** 3 / t * 1e-9, loss[0]))


def mode_linear_epoch(a):
    d, L, n, dt = a.d, a.layers, a.patches, dtype_of(a)
    B = a.batch or (16384 if L == 1 else 4096)
    per_epoch = (n + B - 1) // B
    g = torch.Generator().manual_seed(2022)
    X = torch.rand(n, d, generator=g, dtype=dt) - 0.5  # centred patches, one per row
    net = nn.Sequential(*[nn.Linear(d, d, bias=False) for _ in range(L)]).to(dt)
    with torch.no_grad():
        for m in net:
            m.weight.uniform_(-0.005, 0.005, generator=g)
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    state = {"step": 0, "perm": None, "loss": 0.0}

    def step():
        s = state["step"] % per_epoch
        if s == 0:
            state["perm"] = torch.randperm(n, generator=g)
        idx = state["perm"][s * B:(s + 1) * B]
        xb = X[idx]
        loss = F.mse_loss(net(xb), xb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        state["step"] += 1
        state["loss"] = loss.item()

    t, _ = timed(step, a.steps, a.repeat)
    print("RESULT torch_linear_epoch layers=%d d=%d prec=%s patches=%d batch=%d "
          "steps_per_epoch=%d steps_timed=%d us_step_cpu=%.1f s_epoch_cpu=%.3f loss=%.4g"
          % (L, d, "double" if dt == torch.float64 else "single", n, B, per_epoch,
             a.steps, 1e6 * t, t * per_epoch, state["loss"]))


# ------------------------------------------------------------- deepnet

def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    out = []
    for line in text.splitlines():
        q = False
        for i, c in enumerate(line):
            if c == '"':
                q = not q
            elif not q and (c == "#" or line.startswith("//", i)):
                line = line[:i]
                break
        out.append(line)
    return "\n".join(out)


def value(v):
    v = v.strip()
    if v.startswith('"'):
        return v.strip('"')
    if v in ("true", "false"):
        return v == "true"
    try:
        return int(v)
    except ValueError:
        return float(v)


def pairs(body):
    return {k: value(v) for k, v in re.findall(r"(\w+)\s*[=:]\s*(\"[^\"]*\"|[^;,\s}]+)", body)}


def group(text, name):
    m = re.search(r"\b%s\s*[=:]\s*\{([^{}]*)\}" % name, text)
    return pairs(m.group(1)) if m else {}


def read_config(path):
    """model.layers (a list of groups), the input side and train.* of a
    plastix deep-net config."""
    with open(path) as f:
        text = strip_comments(f.read())
    m = re.search(r"\blayers\s*[=:]\s*\((.*?)\)\s*;", text, flags=re.S)
    if not m:
        sys.exit("torch_peers: %s: no model.layers list" % path)
    layers = [pairs(g) for g in re.findall(r"\{([^{}]*)\}", m.group(1))]
    size = group(text, "stimulus").get("size") or group(text, "images").get("crop") or 64
    init = re.search(r"\binit_scale\s*[=:]\s*([0-9.eE+-]+)", text)
    return layers, int(size), group(text, "train"), float(init.group(1)) if init else 1.0


def build(layers, size, init_scale):
    """nn.Sequential of the plastix layer list, for 1 x size x size input
    (plastix defaults: kernel 3, stride 1, pad 0, groups 1; LRN size 5,
    alpha 1e-4, beta 0.75, k 2; max pooling without padding, floor)."""
    mods, c, h, w, flat = [], 1, size, size, False
    for L in layers:
        t = L["type"]
        k, s = L.get("kernel", 3), L.get("stride", 1)
        if t == "conv":
            p = L.get("pad", 0)
            mods.append(nn.Conv2d(c, L["out"], k, stride=s, padding=p, groups=L.get("groups", 1)))
            c, h, w = L["out"], (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        elif t == "relu":
            mods.append(nn.ReLU(inplace=True))
        elif t == "maxpool":
            mods.append(nn.MaxPool2d(k, stride=s))
            h, w = (h - k) // s + 1, (w - k) // s + 1
        elif t == "lrn":
            mods.append(nn.LocalResponseNorm(L.get("size", 5), alpha=L.get("alpha", 1e-4),
                                             beta=L.get("beta", 0.75), k=L.get("k", 2.0)))
        elif t == "fc":
            if not flat:
                mods.append(nn.Flatten())
                flat = True
            mods.append(nn.Linear(c * h * w, L["out"]))
            c, h, w = L["out"], 1, 1
        else:
            sys.exit("torch_peers: unknown layer type %s" % t)
    net = nn.Sequential(*mods)
    with torch.no_grad():  # plastix's init: PyTorch's default times init_scale
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.mul_(init_scale)
                m.bias.mul_(init_scale)
    return net, c


def mode_deepnet(a):
    layers, size, train, init_scale = read_config(a.config)
    B = a.batch or int(train.get("batch", 64))
    lr, mu = float(train.get("lr", 0.01)), float(train.get("momentum", 0.0))
    decay = float(train.get("decay", 0.0))
    torch.manual_seed(1)
    net, classes = build(layers, size, init_scale)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=mu, weight_decay=decay)
    x = torch.randn(B, 1, size, size)
    y = torch.randint(0, classes, (B,))
    nparams = sum(p.numel() for p in net.parameters())
    print("# torch_peers: %s: %s, input 1x%dx%d, batch %d, %d parameters, lr %g momentum %g "
          "decay %g\n# torch_peers: %s" % (a.label, a.config, size, size, B, nparams, lr, mu,
                                            decay, str(net).replace("\n", " ")))
    state = {"loss": 0.0}

    def step():
        t0 = time.process_time()
        loss = F.cross_entropy(net(x), y)
        t1 = time.process_time()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.process_time()
        opt.step()
        t3 = time.process_time()
        state["loss"] = loss.item()
        return {"forward": t1 - t0, "backward": t2 - t1, "update": t3 - t2}

    t, ph = timed(step, a.steps, a.repeat)
    print("RESULT torch_deepnet case=%s batch=%d params=%d us_step_cpu=%.0f us_forward=%.0f "
          "us_backward=%.0f us_update=%.0f loss=%.4g"
          % (a.label, B, nparams, 1e6 * t, 1e6 * ph.get("forward", 0),
             1e6 * ph.get("backward", 0), 1e6 * ph.get("update", 0), state["loss"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["gemm", "linear_full", "linear_epoch", "deepnet"])
    ap.add_argument("config", nargs="?")
    ap.add_argument("--d", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--patches", type=int, default=131072)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--label", default="deepnet")
    a = ap.parse_args()
    a.repeat, a.steps = max(1, a.repeat), max(1, a.steps)
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    machine()
    if a.mode == "deepnet":
        if not a.config:
            ap.error("deepnet needs CONFIG")
        mode_deepnet(a)
    else:
        {"gemm": mode_gemm, "linear_full": mode_linear_full,
         "linear_epoch": mode_linear_epoch}[a.mode](a)


if __name__ == "__main__":
    main()
