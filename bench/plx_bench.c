/* plx_bench.c -- plastix measured through its library (libplastix): the
 * recurrent circuit trained by plx_train, timed around that call only
 * (config parsing and weight initialisation excluded).
 *
 *   plx_bench train CONFIG [--set K=V]... [--repeat R] [--label L] [--rule R]
 *       plx_train with CONFIG (bench/configs/estimation.cfg: tri-factor;
 *       frozen.cfg: rule none, fixed input); best of R runs.
 *   plx_bench scaling PLASTIC_CFG FROZEN_CFG --sizes 10,40,... [--seconds S]
 *       [--bandwidth GBS] [--bandwidth-l3 GBS] [--csv FILE] [--png STEM]
 *       per-step cost against N with and without plasticity (warm-up 0),
 *       next to the bound bytes-per-step / bandwidth (DRAM triad; the L3
 *       triad for context); CSV and a PNG.
 *   plx_bench seeds CONFIG --threads 1,2 [--jobs J] [--set K=V]...
 *       J independent seeds trained concurrently on T OpenMP threads:
 *       seed-steps per second and per core.
 *   plx_bench batch CONFIG --batches 1,8,32 [--steps S] [--set K=V]...
 *       the model alone (frozen, fixed input) stepping an N x B state:
 *       cost per column-step, i.e. B trials sharing one BLAS-3 call.
 *
 * Every mode prints the machine (bench/machine.h) and one
 *   RESULT <mode> key=value ...
 * line per measurement for bench/run.sh to collect. */
#include "machine.h"

#include "plastix/error.h"
#include "plastix/experiment.h"
#include "plastix/model.h"
#include "plastix/plot.h"
#include "plastix/rng.h"
#include "plastix/stimulus.h"
#include "plastix/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define MAX_SETS 64
#define MAX_LIST 64

typedef struct opts {
  const char *sets[MAX_SETS];
  size_t n_sets;
  int repeat;
  const char *label;
  const char *rule; /* rules.<rule> of a config with several */
  long list[MAX_LIST];
  size_t n_list;
  double seconds, bandwidth, bandwidth_l3;
  const char *csv, *png;
  long jobs, steps;
} opts;

static double wall_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double maxrss_mb(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0; /* kB on Linux */
}

static void die(const char *what, const plx_error *err)
{
  fprintf(stderr, "plx_bench: %s: %s\n", what, err ? err->msg : "failed");
  exit(1);
}

static size_t parse_list(const char *s, long *out, size_t cap)
{
  size_t n = 0;
  char *end;
  while (*s && n < cap) {
    long v = strtol(s, &end, 10);
    if (end == s || v <= 0) {
      fprintf(stderr, "plx_bench: bad list '%s'\n", s);
      exit(2);
    }
    out[n++] = v;
    s = *end == ',' ? end + 1 : end;
  }
  return n;
}

/* Load CONFIG with the common --set overrides plus `extra`, draw weights. */
static plx_experiment *load(const char *cfg, const opts *o, const char *const *extra,
                            size_t n_extra, int seed_set, uint64_t seed)
{
  const char *sets[MAX_SETS + 8];
  plx_load_opts lo;
  plx_experiment *e = NULL;
  plx_error err;
  size_t i, n = 0;
  for (i = 0; i < o->n_sets; i++)
    sets[n++] = o->sets[i];
  for (i = 0; i < n_extra && n < MAX_SETS + 8; i++)
    sets[n++] = extra[i];
  memset(&lo, 0, sizeof lo);
  lo.rule = o->rule;
  lo.seed_set = seed_set;
  lo.seed = seed;
  plx_error_clear(&err);
  if (plx_experiment_load_opts(&e, cfg, sets, n, &lo, &err))
    die(cfg, &err);
  if (plx_experiment_init_weights(e, &err))
    die("init weights", &err);
  return e;
}

static unsigned long train_steps(const plx_experiment *e)
{
  unsigned long K = plx_experiment_steps(e, e->train.duration);
  return (unsigned long)e->train.trials * (K > 0 ? K - 1 : 0);
}

/* One plx_train call: wall and CPU seconds. */
static void train_once(plx_experiment *e, double *w, double *c)
{
  plx_learning_curve lc;
  plx_error err;
  double w0, c0;
  plx_error_clear(&err);
  w0 = wall_s();
  c0 = cpu_s();
  if (plx_train(e, &lc, 1, NULL, &err))
    die("plx_train", &err);
  *c = cpu_s() - c0;
  *w = wall_s() - w0;
  plx_learning_curve_release(&lc);
}

static int mode_train(const char *cfg, const opts *o)
{
  plx_experiment *e = load(cfg, o, NULL, 0, 0, 0);
  unsigned long steps = train_steps(e);
  double bw = 1e300, bc = 1e300, mean_r = 0;
  int r;
  size_t i;
  bench_print_machine(stdout, "plx_bench");
  for (r = 0; r < o->repeat; r++) {
    double w, c;
    if (r > 0) { /* the same trial again: fresh weights, same streams */
      plx_error err;
      plx_error_clear(&err);
      if (plx_experiment_init_weights(e, &err))
        die("init weights", &err);
    }
    train_once(e, &w, &c);
    if (w < bw) bw = w;
    if (c < bc) bc = c;
  }
  for (i = 0; i < e->model->n_hidden; i++)
    mean_r += e->model->hidden[i];
  mean_r /= (double)e->model->n_hidden;
  printf("RESULT train label=%s n=%zu rule=%s trials=%ld duration=%g warmup=%g "
         "steps=%lu wall_s=%.6f cpu_s=%.6f us_step_wall=%.4f us_step_cpu=%.4f "
         "maxrss_mb=%.1f final_mean_r=%.4f\n",
         o->label ? o->label : "train", e->model->n_hidden,
         e->rule ? e->rule->name : "none", e->train.trials, e->train.duration,
         e->train.warmup, steps, bw, bc, 1e6 * bw / (double)steps,
         1e6 * bc / (double)steps, maxrss_mb(), mean_r);
  plx_experiment_free(e);
  return 0;
}

/* Bytes a step must move when nothing stays in cache (see README):
 * plastic: read and write W, C, b, D and the running averages of W, C, b;
 * frozen: read W, C, b, D.  Activity vectors (O(N)) are counted once. */
static double bytes_step(size_t N, size_t ni, size_t no, int plastic)
{
  const double nn = (double)N;
  const double w = nn * nn + nn * (double)ni + nn + (double)no * nn;
  const double avg = nn * nn + nn * (double)ni + nn;
  const double vec = 8.0 * nn * 8.0; /* r, r_prev, h, xi, ... */
  return plastic ? 8.0 * 2.0 * (w + avg) + vec : 8.0 * w + vec;
}

static int mode_scaling(const char *plastic_cfg, const char *frozen_cfg, const opts *o)
{
  FILE *csv = NULL;
  double xs[MAX_LIST], yp[MAX_LIST], yf[MAX_LIST], bp[MAX_LIST], bf[MAX_LIST];
  double lp[MAX_LIST], lf[MAX_LIST];
  size_t k;
  bench_print_machine(stdout, "plx_bench");
  if (o->csv && !(csv = fopen(o->csv, "w"))) {
    perror(o->csv);
    return 1;
  }
  if (csv)
    fprintf(csv, "n,us_step_plastic,us_step_frozen,bytes_step_plastic,"
                 "bytes_step_frozen,bound_us_plastic,bound_us_frozen,"
                 "ratio_plastic,ratio_frozen,bandwidth_gbs,l3_bound_us_plastic,"
                 "l3_bound_us_frozen,bandwidth_l3_gbs\n");
  for (k = 0; k < o->n_list; k++) {
    const long N = o->list[k];
    double us[2], bytes[2];
    int pl;
    for (pl = 1; pl >= 0; pl--) {
      char sn[64], sd[64];
      const char *extra[4] = {sn, sd, "train.warmup=0", "train.trials=1"};
      plx_experiment *e;
      unsigned long steps;
      double w, c, per, best = 1e300, dt;
      long want;
      int r;
      snprintf(sn, sizeof sn, "model.n=%ld", N);
      /* calibrate with a short trial */
      snprintf(sd, sizeof sd, "train.duration=%.6f", 21 * 0.01);
      e = load(pl ? plastic_cfg : frozen_cfg, o, extra, 4, 0, 0);
      dt = e->model->dt;
      steps = train_steps(e);
      train_once(e, &w, &c);
      per = w / (double)steps;
      bytes[pl] = bytes_step((size_t)N, e->model->n_in, e->model->n_out, pl);
      plx_experiment_free(e);
      want = (long)(o->seconds / (double)o->repeat / per);
      if (want < 20) want = 20;
      if (want > 2000000) want = 2000000;
      snprintf(sd, sizeof sd, "train.duration=%.6f", (double)(want + 1) * dt);
      e = load(pl ? plastic_cfg : frozen_cfg, o, extra, 4, 0, 0);
      steps = train_steps(e);
      for (r = 0; r < o->repeat; r++) {
        train_once(e, &w, &c);
        if (w < best) best = w;
      }
      us[pl] = 1e6 * best / (double)steps;
      plx_experiment_free(e);
    }
    xs[k] = (double)N;
    yp[k] = us[1];
    yf[k] = us[0];
    bp[k] = o->bandwidth > 0 ? 1e6 * bytes[1] / (o->bandwidth * 1e9) : NAN;
    bf[k] = o->bandwidth > 0 ? 1e6 * bytes[0] / (o->bandwidth * 1e9) : NAN;
    lp[k] = o->bandwidth_l3 > 0 ? 1e6 * bytes[1] / (o->bandwidth_l3 * 1e9) : NAN;
    lf[k] = o->bandwidth_l3 > 0 ? 1e6 * bytes[0] / (o->bandwidth_l3 * 1e9) : NAN;
    printf("RESULT scaling n=%ld us_step_plastic=%.4f us_step_frozen=%.4f "
           "bytes_step_plastic=%.0f bytes_step_frozen=%.0f bound_us_plastic=%.4f "
           "bound_us_frozen=%.4f ratio_plastic=%.3f ratio_frozen=%.3f "
           "l3_bound_us_plastic=%.4f l3_bound_us_frozen=%.4f\n",
           N, us[1], us[0], bytes[1], bytes[0], bp[k], bf[k], us[1] / bp[k],
           us[0] / bf[k], lp[k], lf[k]);
    fflush(stdout);
    if (csv)
      fprintf(csv, "%ld,%.6g,%.6g,%.0f,%.0f,%.6g,%.6g,%.4g,%.4g,%.4g,%.6g,%.6g,%.4g\n",
              N, us[1], us[0], bytes[1], bytes[0], bp[k], bf[k], us[1] / bp[k],
              us[0] / bf[k], o->bandwidth, lp[k], lf[k], o->bandwidth_l3);
  }
  if (csv)
    fclose(csv);
  if (o->png && o->n_list > 0) {
    plx_figure *fig = plx_figure_new(1, 1, 720, 520);
    plx_axes *ax = plx_figure_axes(fig, 0, 0);
    plx_error err;
    char title[160];
    plx_error_clear(&err);
    snprintf(title, sizeof title,
             "plastix: cost per Euler step (one core; DRAM triad %.1f GB/s)",
             o->bandwidth);
    plx_figure_title(fig, title);
    plx_axes_logx(ax, 1);
    plx_axes_logy(ax, 1);
    plx_axes_xlabel(ax, "recurrent units N");
    plx_axes_ylabel(ax, "time per Euler step (us)");
    plx_axes_line(ax, xs, yp, o->n_list, PLX_C_VERMILLION, PLX_SOLID,
                  "tri-factor plasticity (measured)");
    plx_axes_scatter(ax, xs, yp, o->n_list, PLX_C_VERMILLION, NULL);
    plx_axes_line(ax, xs, yf, o->n_list, PLX_C_BLUE, PLX_SOLID,
                  "no plasticity (measured)");
    plx_axes_scatter(ax, xs, yf, o->n_list, PLX_C_BLUE, NULL);
    if (o->bandwidth > 0) {
      plx_axes_line(ax, xs, bp, o->n_list, PLX_C_VERMILLION, PLX_DASHED,
                    "bound: bytes moved / bandwidth (plastic)");
      plx_axes_line(ax, xs, bf, o->n_list, PLX_C_BLUE, PLX_DASHED,
                    "bound: bytes moved / bandwidth (frozen)");
    }
    if (o->bandwidth_l3 > 0) {
      plx_axes_line(ax, xs, lp, o->n_list, PLX_C_VERMILLION, PLX_DOTTED,
                    "same bytes at L3 triad bandwidth (plastic)");
      plx_axes_line(ax, xs, lf, o->n_list, PLX_C_BLUE, PLX_DOTTED,
                    "same bytes at L3 triad bandwidth (frozen)");
    }
    if (plx_figure_save(fig, o->png, PLX_FIG_PNG, &err))
      fprintf(stderr, "plx_bench: %s\n", err.msg);
    else
      printf("# plx_bench: figure %s.png\n", o->png);
    plx_figure_free(fig);
  }
  return 0;
}

static int mode_seeds(const char *cfg, const opts *o)
{
  size_t t;
  double rate1 = 0, eff1 = 0;
  bench_print_machine(stdout, "plx_bench");
  for (t = 0; t < o->n_list; t++) {
    const int T = (int)o->list[t];
    const long J = o->jobs > 0 ? o->jobs : 4L * T;
    plx_experiment **es = calloc((size_t)J, sizeof *es);
    unsigned long steps = 0;
    double w0, w, c0, c, rate;
    long j;
    int failed = 0;
    if (!es)
      return 1;
    for (j = 0; j < J; j++) {
      es[j] = load(cfg, o, NULL, 0, 1, (uint64_t)(j + 1));
      steps += train_steps(es[j]);
    }
    w0 = wall_s();
    c0 = cpu_s();
#pragma omp parallel for schedule(dynamic, 1) num_threads(T)
    for (j = 0; j < J; j++) {
      plx_learning_curve lc;
      plx_error err;
      plx_error_clear(&err);
      if (plx_train(es[j], &lc, 1, NULL, &err)) {
#pragma omp atomic write
        failed = 1;
      }
      plx_learning_curve_release(&lc);
    }
    w = wall_s() - w0;
    c = cpu_s() - c0;
    if (failed) {
      fprintf(stderr, "plx_bench: a seed failed to train\n");
      return 1;
    }
    rate = (double)steps / w;
    if (t == 0) {
      rate1 = rate / T;
      eff1 = (double)steps / c;
    }
    /* steps per CPU-second: what each core achieves while it runs, which a
     * loaded machine does not distort (wall time needs T idle cores) */
    printf("RESULT seeds threads=%d jobs=%ld seed_steps=%lu wall_s=%.4f cpu_s=%.4f "
           "seed_steps_per_s=%.0f per_core=%.0f speedup_vs_first=%.3f "
           "steps_per_cpu_s=%.0f cpu_projected_speedup=%.3f\n",
           T, J, steps, w, c, rate, rate / T, rate1 > 0 ? rate / rate1 : 0.0,
           (double)steps / c, eff1 > 0 ? T * ((double)steps / c) / eff1 : 0.0);
    fflush(stdout);
    for (j = 0; j < J; j++)
      plx_experiment_free(es[j]);
    free(es);
  }
  return 0;
}

static int mode_batch(const char *cfg, const opts *o)
{
  plx_experiment *e = load(cfg, o, NULL, 0, 0, 0);
  long bmax = 1;
  size_t t;
  bench_print_machine(stdout, "plx_bench");
  for (t = 0; t < o->n_list; t++)
    if (o->list[t] > bmax)
      bmax = o->list[t];
  for (t = 0; t < o->n_list; t++) {
    const size_t B = (size_t)o->list[t], ni = e->model->n_in;
    const long S = o->steps > 0 ? o->steps : 20000;
    plx_model *m = NULL;
    plx_rng **rngs = calloc(B, sizeof *rngs);
    double *x = malloc(ni * B * sizeof *x);
    plx_error err;
    double w0, w;
    size_t b;
    long k;
    plx_error_clear(&err);
    if (!rngs || !x || plx_model_clone(e->model, B, &m, &err))
      die("model clone", &err);
    for (b = 0; b < B; b++) {
      rngs[b] = plx_rng_alloc(e->seed, b, PLX_POP_TEST_NETWORK);
      /* column b holds its own fixed stimulus */
      plx_encoder_encode(&e->encoder, -M_PI + 2.0 * M_PI * ((double)b + 0.5) / (double)B,
                         x + b * ni);
    }
    if (m->type->reset(m, x, B))
      die("model reset", NULL);
    w0 = wall_s();
    for (k = 0; k < S; k++)
      if (m->type->step(m, x, rngs, &err))
        die("model step", &err);
    w = wall_s() - w0;
    printf("RESULT batch n=%zu batch=%zu steps=%ld wall_s=%.4f us_step=%.4f "
           "us_column_step=%.4f column_steps_per_s=%.0f\n",
           e->model->n_hidden, B, S, w, 1e6 * w / (double)S,
           1e6 * w / (double)S / (double)B, (double)S * (double)B / w);
    fflush(stdout);
    for (b = 0; b < B; b++)
      plx_rng_free(rngs[b]);
    free(rngs);
    free(x);
    plx_model_free(m);
  }
  plx_experiment_free(e);
  return 0;
}

static void usage(void)
{
  fprintf(stderr,
          "usage: plx_bench train CONFIG [--set K=V]... [--repeat R] [--label L]\n"
          "                 [--rule NAME]   (rules.NAME of a config with several)\n"
          "       plx_bench scaling PLASTIC_CFG FROZEN_CFG --sizes LIST [--seconds S]\n"
          "                 [--bandwidth GBS] [--bandwidth-l3 GBS] [--csv FILE]\n"
          "                 [--png STEM] [--repeat R]\n"
          "       plx_bench seeds CONFIG --threads LIST [--jobs J] [--set K=V]...\n"
          "       plx_bench batch CONFIG --batches LIST [--steps S] [--set K=V]...\n");
}

int main(int argc, char **argv)
{
  opts o;
  const char *pos[3] = {NULL, NULL, NULL};
  size_t n_pos = 0;
  int i;
  memset(&o, 0, sizeof o);
  o.repeat = 1;
  o.seconds = 2.0;
  if (argc < 2) {
    usage();
    return 2;
  }
  for (i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--set") == 0 && v && o.n_sets < MAX_SETS) {
      o.sets[o.n_sets++] = v;
      i++;
    } else if (strcmp(a, "--repeat") == 0 && v) {
      o.repeat = atoi(v);
      i++;
    } else if (strcmp(a, "--rule") == 0 && v) {
      o.rule = v;
      i++;
    } else if (strcmp(a, "--label") == 0 && v) {
      o.label = v;
      i++;
    } else if ((strcmp(a, "--sizes") == 0 || strcmp(a, "--threads") == 0 ||
                strcmp(a, "--batches") == 0) && v) {
      o.n_list = parse_list(v, o.list, MAX_LIST);
      i++;
    } else if (strcmp(a, "--seconds") == 0 && v) {
      o.seconds = atof(v);
      i++;
    } else if (strcmp(a, "--bandwidth") == 0 && v) {
      o.bandwidth = atof(v);
      i++;
    } else if (strcmp(a, "--bandwidth-l3") == 0 && v) {
      o.bandwidth_l3 = atof(v);
      i++;
    } else if (strcmp(a, "--csv") == 0 && v) {
      o.csv = v;
      i++;
    } else if (strcmp(a, "--png") == 0 && v) {
      o.png = v;
      i++;
    } else if (strcmp(a, "--jobs") == 0 && v) {
      o.jobs = atol(v);
      i++;
    } else if (strcmp(a, "--steps") == 0 && v) {
      o.steps = atol(v);
      i++;
    } else if (a[0] != '-' && n_pos < 3) {
      pos[n_pos++] = a;
    } else {
      usage();
      return 2;
    }
  }
  if (o.repeat < 1)
    o.repeat = 1;
  if (strcmp(argv[1], "train") == 0 && n_pos == 1)
    return mode_train(pos[0], &o);
  if (strcmp(argv[1], "scaling") == 0 && n_pos == 2 && o.n_list)
    return mode_scaling(pos[0], pos[1], &o);
  if (strcmp(argv[1], "seeds") == 0 && n_pos == 1 && o.n_list)
    return mode_seeds(pos[0], &o);
  if (strcmp(argv[1], "batch") == 0 && n_pos == 1 && o.n_list)
    return mode_batch(pos[0], &o);
  usage();
  return 2;
}
