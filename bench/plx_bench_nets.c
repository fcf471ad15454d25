/* plx_bench_nets.c -- the linear-net and deep-net paths of plastix timed
 * through the library API, for the PyTorch peers of bench/torch_peers.py
 * (issue 7).  Every figure is CPU time of this process, best of R repeats
 * after one warm-up step.
 *
 *   plx_bench_nets gemm [--d D] [--repeat R]
 *       OpenBLAS cblas_dgemm and cblas_sgemm, D x D x D: the GEMM
 *       throughput the linear-net step is judged against.
 *   plx_bench_nets linear_full [--d D] [--layers L] [--repeat R]
 *       one full-batch step plx_linear_step (W = W_L ... W_1, reconstruct,
 *       eta 1): the path of configs/linear_{1,2}layer.cfg.
 *   plx_bench_nets linear_epoch [--d D] [--layers L] [--patches N]
 *       [--batch B] [--steps K] [--repeat R]
 *       the reference minibatch SGD (rule.method = "sgd"): per step a
 *       Fisher-Yates shuffle share, plx_patches_batch_cov of B random
 *       patches and plx_linear_step, exactly the loop of src/linearnet.c;
 *       K steps per repeat, the epoch is N / B steps.
 *   plx_bench_nets deepnet CONFIG [--batch B] [--steps K] [--repeat R]
 *       [--label L]
 *       one training step of the deep net of CONFIG (model.layers, input
 *       1 x size x size): plx_deepnet_forward, plx_deepnet_softmax_ce,
 *       plx_deepnet_backward, then plx_deepnet_momentum_step when
 *       train.momentum > 0 (with train.decay) else plx_deepnet_sgd; with
 *       the time split by phase.
 *
 * Every mode prints the machine (bench/machine.h) and RESULT lines for
 * bench/run.sh. */
#include "machine.h"

#include "plastix/config.h"
#include "plastix/deepnet.h"
#include "plastix/deepnet_train.h"
#include "plastix/error.h"
#include "plastix/linear.h"
#include "plastix/patches.h"
#include "plastix/rng.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct opts {
  size_t d, layers, patches, batch, steps;
  int repeat;
  const char *label;
} opts;

static double cpu_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const plx_error *err)
{
  fprintf(stderr, "plx_bench_nets: %s: %s\n", what, err ? err->msg : "failed");
  exit(1);
}

static void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "plx_bench_nets: out of memory (%zu bytes)\n", n);
    exit(1);
  }
  return p;
}

/* ---------------------------------------------------------------- gemm */

static int mode_gemm(const opts *o)
{
  const size_t d = o->d, dd = d * d;
  const int n = (int)d;
  const double flops = 2.0 * (double)d * (double)d * (double)d;
  double *A = xmalloc(dd * sizeof *A), *B = xmalloc(dd * sizeof *B),
         *C = xmalloc(dd * sizeof *C);
  float *As = xmalloc(dd * sizeof *As), *Bs = xmalloc(dd * sizeof *Bs),
        *Cs = xmalloc(dd * sizeof *Cs);
  double best_d = INFINITY, best_s = INFINITY;
  size_t i;
  int r, k;
  /* enough calls per repeat for ~0.1 s at 50 GFLOP/s, at least one */
  const int calls = flops >= 5e9 ? 1 : (int)(5e9 / flops) + 1;
  for (i = 0; i < dd; i++) {
    A[i] = (double)((i * 7919) % 1000) / 1000.0 - 0.5;
    B[i] = (double)((i * 104729) % 1000) / 1000.0 - 0.5;
    As[i] = (float)A[i];
    Bs[i] = (float)B[i];
  }
  for (r = -1; r < o->repeat; r++) { /* r = -1: warm-up */
    double c0 = cpu_s(), t;
    for (k = 0; k < calls; k++)
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A, n, B, n,
                  0.0, C, n);
    t = (cpu_s() - c0) / calls;
    if (r >= 0 && t < best_d)
      best_d = t;
    c0 = cpu_s();
    for (k = 0; k < calls; k++)
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, As, n, Bs, n,
                  0.0f, Cs, n);
    t = (cpu_s() - c0) / calls;
    if (r >= 0 && t < best_s)
      best_s = t;
  }
  printf("RESULT gemm prec=double d=%zu us_cpu=%.1f gflops=%.2f provider=%s\n", d,
         1e6 * best_d, flops / best_d * 1e-9, bench_provider("cblas_dgemm"));
  printf("RESULT gemm prec=single d=%zu us_cpu=%.1f gflops=%.2f provider=%s\n", d,
         1e6 * best_s, flops / best_s * 1e-9, bench_provider("cblas_sgemm"));
  free(A), free(B), free(C), free(As), free(Bs), free(Cs);
  return 0;
}

/* -------------------------------------------------------------- linear */

/* A patch set of n random patches of side sqrt(d) built in memory (the
 * values do not matter for timing; no photographs, no cache). */
static plx_patches *fake_patches(size_t n, size_t d, plx_rng *rng)
{
  plx_patches *p = calloc(1, sizeof *p);
  size_t i;
  if (!p)
    return NULL;
  p->n = n;
  p->d = d;
  p->side = (size_t)lround(sqrt((double)d));
  p->x = xmalloc(n * d * sizeof *p->x);
  p->mean = xmalloc(d * sizeof *p->mean);
  p->cov = NULL;
  p->scale = 1.0 / 65535.0;
  for (i = 0; i < n * d; i++)
    p->x[i] = (uint16_t)(plx_rng_u64(rng) >> 48);
  for (i = 0; i < d; i++)
    p->mean[i] = 0.5;
  return p;
}

static void fake_patches_free(plx_patches *p)
{
  if (!p)
    return;
  free(p->x);
  free(p->mean);
  free(p);
}

static size_t linear_gemms(size_t layers)
{
  /* plx_linear_step: 1 GEMM for the gradient, 2 per layer above the
   * first; plx_linear_update: 1 per layer above the first */
  return 1 + 3 * (layers - 1);
}

static int mode_linear_full(const opts *o)
{
  const size_t d = o->d, n_cov = d < 4096 ? 4096 : d;
  plx_rng *rng = plx_rng_alloc(2022, 0, PLX_POP_INIT);
  plx_linear *m = plx_linear_new(d, o->layers, 0);
  plx_patches *p;
  size_t *idx = xmalloc(n_cov * sizeof *idx), i;
  double *S = xmalloc(d * d * sizeof *S), *work = xmalloc(d * 512 * sizeof *work);
  double best = INFINITY, loss = 0, gemm_flops;
  int r;
  if (!rng || !m)
    die("linear", NULL);
  p = fake_patches(n_cov, d, rng);
  if (!p)
    die("patches", NULL);
  for (i = 0; i < n_cov; i++)
    idx[i] = i;
  plx_patches_batch_cov(p, idx, n_cov, S, work, 512);
  plx_linear_init_uniform(m, 0.01, rng);
  for (r = -1; r < o->repeat; r++) {
    double c0 = cpu_s(), t;
    size_t k;
    for (k = 0; k < o->steps; k++)
      plx_linear_step(m, S, NULL, NULL, 1.0, &loss);
    t = (cpu_s() - c0) / (double)o->steps;
    if (r >= 0 && t < best)
      best = t;
  }
  gemm_flops = (double)linear_gemms(o->layers) * 2.0 * (double)d * (double)d * (double)d;
  printf("RESULT linear_full layers=%zu d=%zu prec=double us_step_cpu=%.1f gemms=%zu "
         "gflops=%.2f loss=%.4g\n",
         o->layers, d, 1e6 * best, linear_gemms(o->layers), gemm_flops / best * 1e-9, loss);
  fake_patches_free(p);
  plx_linear_free(m);
  plx_rng_free(rng);
  free(idx), free(S), free(work);
  return 0;
}

static int mode_linear_epoch(const opts *o)
{
  const size_t d = o->d, n = o->patches, B = o->batch;
  const size_t per_epoch = (n + B - 1) / B;
  plx_rng *rng = plx_rng_alloc(2022, 0, PLX_POP_INIT);
  plx_rng *shuf = plx_rng_alloc(2022, 0, PLX_POP_SUB(PLX_POP_DATA, 1));
  plx_linear *m = plx_linear_new(d, o->layers, 0);
  plx_patches *p;
  size_t *perm = xmalloc(n * sizeof *perm), i, step = 0;
  double *S = xmalloc(d * d * sizeof *S), *covw = xmalloc(d * 512 * sizeof *covw);
  double best = INFINITY, best_cov = INFINITY, loss = 0;
  int r;
  if (!rng || !shuf || !m || B == 0 || B > n)
    die("linear_epoch (need 0 < batch <= patches)", NULL);
  p = fake_patches(n, d, rng);
  if (!p)
    die("patches", NULL);
  for (i = 0; i < n; i++)
    perm[i] = i;
  plx_linear_init_uniform(m, 0.01, rng);
  for (r = -1; r < o->repeat; r++) {
    double c0 = cpu_s(), t, tc = 0;
    size_t k;
    for (k = 0; k < o->steps; k++, step++) {
      size_t s = step % per_epoch, m0 = s * B, mb = n - m0 < B ? n - m0 : B;
      double c1;
      if (s == 0) { /* a fresh shuffle per epoch, as src/linearnet.c */
        plx_rng_reseed(shuf, 2022, (uint64_t)(step / per_epoch), PLX_POP_SUB(PLX_POP_DATA, 1));
        for (i = n - 1; i > 0; i--) {
          size_t j = (size_t)plx_rng_below(shuf, i + 1), tt = perm[i];
          perm[i] = perm[j];
          perm[j] = tt;
        }
      }
      c1 = cpu_s();
      plx_patches_batch_cov(p, perm + m0, mb, S, covw, 512);
      tc += cpu_s() - c1;
      plx_linear_step(m, S, NULL, NULL, 1.0, &loss);
    }
    t = (cpu_s() - c0) / (double)o->steps;
    if (r >= 0 && t < best) {
      best = t;
      best_cov = tc / (double)o->steps;
    }
  }
  printf("RESULT linear_epoch layers=%zu d=%zu prec=double patches=%zu batch=%zu "
         "steps_per_epoch=%zu steps_timed=%zu us_step_cpu=%.1f us_cov_cpu=%.1f "
         "s_epoch_cpu=%.3f loss=%.4g\n",
         o->layers, d, n, B, per_epoch, o->steps, 1e6 * best, 1e6 * best_cov,
         best * (double)per_epoch, loss);
  fake_patches_free(p);
  plx_linear_free(m);
  plx_rng_free(rng);
  plx_rng_free(shuf);
  free(perm), free(S), free(covw);
  return 0;
}

/* ------------------------------------------------------------- deepnet */

static const plx_param_spec model_spec[] = {
    {"type", PLX_PARAM_STRING, 0, 0, NULL, 0, 0, "deepnet", NULL, "deepnet"},
    PLX_P_LIST("layers", plx_layer_spec, "layers in order"),
    PLX_P_FLOAT_MIN("init_scale", 1.0, 0.0, PLX_PARAM_MIN_EXCL, "init scale"),
    PLX_P_END};

static double lookup_float(config_t *raw, const char *path, double def)
{
  double v;
  int iv;
  if (config_lookup_float(raw, path, &v) == CONFIG_TRUE)
    return v;
  if (config_lookup_int(raw, path, &iv) == CONFIG_TRUE)
    return (double)iv;
  return def;
}

static int mode_deepnet(const char *cfgpath, const opts *o)
{
  plx_config *cfg = NULL;
  const plx_params *mp;
  plx_deepnet *net = NULL;
  plx_deepnet_momentum *mom = NULL;
  plx_error err;
  plx_rng *rng;
  config_t *raw;
  int size = 0, cfg_batch = 0, r, *lab;
  size_t B, in, classes, i, k;
  float *x, *dl;
  double lr, mu, decay, loss = 0;
  double best = INFINITY, ph_best[4] = {0, 0, 0, 0};
  const char *label = o->label ? o->label : "deepnet";
  plx_error_clear(&err);
  if (plx_config_load(&cfg, cfgpath, NULL, 0, &err) ||
      plx_config_bind(cfg, "model", model_spec, NULL, &mp, &err))
    die(cfgpath, &err);
  raw = plx_config_raw(cfg);
  /* input side: stimulus.size (orientation task) or images.crop */
  if (config_lookup_int(raw, "stimulus.size", &size) != CONFIG_TRUE &&
      config_lookup_int(raw, "images.crop", &size) != CONFIG_TRUE)
    size = 64;
  config_lookup_int(raw, "train.batch", &cfg_batch);
  lr = lookup_float(raw, "train.lr", 0.01);
  mu = lookup_float(raw, "train.momentum", 0.0);
  decay = lookup_float(raw, "train.decay", 0.0);
  B = o->batch ? o->batch : (size_t)(cfg_batch > 0 ? cfg_batch : 64);
  if (plx_deepnet_new(&net, plx_params_group(mp, "layers"), 1, (size_t)size, (size_t)size,
                      B, &err))
    die("deepnet", &err);
  rng = plx_rng_alloc(1, 0, PLX_POP_INIT);
  plx_deepnet_init(net, plx_params_float(mp, "init_scale"), rng);
  if (mu > 0 && !(mom = plx_deepnet_momentum_new(net)))
    die("momentum", NULL);
  in = net->in_size;
  classes = net->layers[net->n_layers - 1].out_size;
  x = xmalloc(B * in * sizeof *x);
  dl = xmalloc(B * classes * sizeof *dl);
  lab = xmalloc(B * sizeof *lab);
  for (i = 0; i < B * in; i++)
    x[i] = (float)plx_rng_normal(rng);
  for (i = 0; i < B; i++)
    lab[i] = (int)plx_rng_below(rng, classes);

  printf("# plx_bench_nets: %s: %s, input 1x%dx%d, batch %zu (config: %d), %zu layers, "
         "%zu parameters, lr %g momentum %g decay %g\n",
         label, cfgpath, size, size, B, cfg_batch, net->n_layers, plx_deepnet_params(net),
         lr, mu, decay);
  for (r = -1; r < o->repeat; r++) {
    double ph[4] = {0, 0, 0, 0}, t;
    for (k = 0; k < o->steps; k++) {
      double c0 = cpu_s(), c1, c2, c3, c4;
      if (plx_deepnet_forward(net, x, B))
        die("forward", NULL);
      c1 = cpu_s();
      loss = plx_deepnet_softmax_ce(net, lab, NULL, dl, NULL);
      c2 = cpu_s();
      if (plx_deepnet_backward(net, dl))
        die("backward", NULL);
      c3 = cpu_s();
      if (mom)
        plx_deepnet_momentum_step(mom, net, lr, mu, decay);
      else
        plx_deepnet_sgd(net, lr, decay);
      c4 = cpu_s();
      ph[0] += c1 - c0, ph[1] += c2 - c1, ph[2] += c3 - c2, ph[3] += c4 - c3;
    }
    t = (ph[0] + ph[1] + ph[2] + ph[3]) / (double)o->steps;
    if (r >= 0 && t < best) {
      best = t;
      for (i = 0; i < 4; i++)
        ph_best[i] = ph[i] / (double)o->steps;
    }
  }
  printf("RESULT deepnet case=%s batch=%zu params=%zu us_step_cpu=%.0f us_forward=%.0f "
         "us_loss=%.0f us_backward=%.0f us_update=%.0f loss=%.4g\n",
         label, B, plx_deepnet_params(net), 1e6 * best, 1e6 * ph_best[0], 1e6 * ph_best[1],
         1e6 * ph_best[2], 1e6 * ph_best[3], loss);
  free(x), free(dl), free(lab);
  plx_deepnet_momentum_free(mom);
  plx_deepnet_free(net);
  plx_rng_free(rng);
  plx_config_free(cfg);
  return 0;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
  fprintf(stderr,
          "usage: plx_bench_nets gemm [--d D] [--repeat R]\n"
          "       plx_bench_nets linear_full [--d D] [--layers L] [--steps K] [--repeat R]\n"
          "       plx_bench_nets linear_epoch [--d D] [--layers L] [--patches N] "
          "[--batch B] [--steps K] [--repeat R]\n"
          "       plx_bench_nets deepnet CONFIG [--batch B] [--steps K] [--repeat R] "
          "[--label L]\n");
}

int main(int argc, char **argv)
{
  opts o;
  const char *pos = NULL;
  int i;
  memset(&o, 0, sizeof o);
  o.d = 1024;
  o.layers = 1;
  o.patches = 131072;
  o.batch = 0;
  o.steps = 1;
  o.repeat = 3;
  if (argc < 2) {
    usage();
    return 2;
  }
  for (i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v && strcmp(a, "--d") == 0)
      o.d = (size_t)atol(v), i++;
    else if (v && strcmp(a, "--layers") == 0)
      o.layers = (size_t)atol(v), i++;
    else if (v && strcmp(a, "--patches") == 0)
      o.patches = (size_t)atol(v), i++;
    else if (v && strcmp(a, "--batch") == 0)
      o.batch = (size_t)atol(v), i++;
    else if (v && strcmp(a, "--steps") == 0)
      o.steps = (size_t)atol(v), i++;
    else if (v && strcmp(a, "--repeat") == 0)
      o.repeat = atoi(v), i++;
    else if (v && strcmp(a, "--label") == 0)
      o.label = v, i++;
    else if (a[0] != '-' && !pos)
      pos = a;
    else {
      usage();
      return 2;
    }
  }
  if (o.repeat < 1)
    o.repeat = 1;
  if (o.steps < 1)
    o.steps = 1;
  if (o.d < 1 || o.layers < 1) {
    usage();
    return 2;
  }
  bench_print_machine(stdout, "plx_bench_nets");
  fflush(stdout);
  if (strcmp(argv[1], "gemm") == 0 && !pos)
    return mode_gemm(&o);
  if (strcmp(argv[1], "linear_full") == 0 && !pos)
    return mode_linear_full(&o);
  if (strcmp(argv[1], "linear_epoch") == 0 && !pos) {
    if (!o.batch)
      o.batch = o.layers == 1 ? 16384 : 4096;
    return mode_linear_epoch(&o);
  }
  if (strcmp(argv[1], "deepnet") == 0 && pos)
    return mode_deepnet(pos, &o);
  usage();
  return 2;
}
