/* orientation_pool.c -- `plastix report` of supervised-orientation runs
 * (Benjamin et al. 2022, Fig. 6): one run per seed, of one design, and the
 * statistics of the prior's effect over those seeds.  Per run, from its
 * results.h5: the final per-bin accuracy on the clean set, and the log
 * ratio of the probed layer's sensitivity near 90 degrees (the skewed
 * prior's mode) to that near 0 degrees -- the mean log D over the probe
 * orientations within 15 degrees of each -- at the last probe and at the
 * first probe where the layer's mean sensitivity reaches a quarter of its
 * final level ("early": which orientations are learned first).  Written:
 * tables/seeds.csv (every run's values) and tables/seed_statistics.csv
 * (each measure's mean, s.d., s.e.m., Student's t, p and sign test over
 * the seeds). */
#include "config.h"
#include "plastix/clock.h"
#include "plastix/config.h"
#include "plastix/error.h"
#include "plastix/h5io.h"
#include "plastix/orientation.h"
#include "plastix/rundir.h"
#include "plastix/seedstats.h"
#include "plastix/table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { M_ACCURACY, M_FINAL, M_EARLY, N_MEASURES = PLX_ORIENTATION_N_MEASURES };
const char *const plx_orientation_measures[N_MEASURES] = {"accuracy", "log_ratio_90_0_final",
                                                          "log_ratio_90_0_early"};
#define WINDOW_DEG 15.0

/* distance between two orientations on the 180-degree circle */
static double ori_distance(double a, double b)
{
  double d = fmod(fabs(a - b), 180.0);
  return d > 90.0 ? 180.0 - d : d;
}

/* mean log D within WINDOW_DEG of 90 minus that within it of 0, column col */
static double log_ratio(const double *s, const double *theta, size_t T, size_t col)
{
  double a = 0, b = 0;
  size_t i, na = 0, nb = 0;
  for (i = 0; i < T; i++) {
    const double l = log(s[i + col * T]);
    if (ori_distance(theta[i], 90.0) <= WINDOW_DEG + 1e-9) {
      a += l;
      na++;
    }
    if (ori_distance(theta[i], 0.0) <= WINDOW_DEG + 1e-9) {
      b += l;
      nb++;
    }
  }
  return na && nb ? a / (double)na - b / (double)nb : NAN;
}

/* one run's measures into v[N_MEASURES] */
static int run_measures(const char *run, double *v, plx_error *err)
{
  char path[1300];
  plx_h5 *h = NULL;
  double *s = NULL, *acc = NULL, *theta = NULL, tot_final = 0, a = 0;
  size_t T, L, r2, c2, r3, c3, i, t, t25;
  int rc;
  snprintf(path, sizeof path, "%s/results.h5", run);
  if ((rc = plx_h5_open(&h, path, 0, err)))
    return rc;
  if ((rc = plx_h5_read_matrix(h, "/orientation/sensitivity", &s, &T, &L, err)) ||
      (rc = plx_h5_read_matrix(h, "/orientation/accuracy", &acc, &r2, &c2, err)) ||
      (rc = plx_h5_read_matrix(h, "/orientation/theta_deg", &theta, &r3, &c3, err)))
    goto out;
  if (!T || !L || r3 != T || c2 != L || !r2) {
    rc = plx_error_set(err, PLX_EINVAL, "%s: /orientation arrays of unexpected shapes", path);
    goto out;
  }
  for (i = 0; i < r2; i++)
    a += acc[i + (L - 1) * r2];
  v[M_ACCURACY] = a / (double)r2;
  for (i = 0; i < T; i++)
    tot_final += s[i + (L - 1) * T];
  for (t = 0, t25 = L - 1; t < L; t++) {
    double tot = 0;
    for (i = 0; i < T; i++)
      tot += s[i + t * T];
    if (tot >= 0.25 * tot_final) {
      t25 = t;
      break;
    }
  }
  v[M_FINAL] = log_ratio(s, theta, T, L - 1);
  v[M_EARLY] = log_ratio(s, theta, T, t25);
out:
  free(s);
  free(acc);
  free(theta);
  plx_h5_close(h);
  return rc;
}

typedef struct pool {
  const char *const *runs;
  size_t n;
  long long *seed;
  double *x; /* x[r * N_MEASURES + m] */
  plx_seed_stat st[N_MEASURES];
  double seconds;
} pool;

static void pool_manifest(plx_jw *w, void *ctx)
{
  const pool *pl = ctx;
  size_t j;
  int m;
  plx_manifest_invocation(w, "report", pl->runs[0], NULL, 0);
  plx_jw_array_begin(w, "report_of");
  for (j = 0; j < pl->n; j++)
    plx_jw_string(w, NULL, pl->runs[j]);
  plx_jw_array_end(w);
  plx_jw_string(w, "task", "orientation");
  plx_jw_array_begin(w, "seeds");
  for (j = 0; j < pl->n; j++)
    plx_jw_int(w, NULL, pl->seed[j]);
  plx_jw_array_end(w);
  plx_jw_object_begin(w, "seed_statistics");
  for (m = 0; m < N_MEASURES; m++) {
    plx_jw_object_begin(w, plx_orientation_measures[m]);
    plx_jw_int(w, "n", (long long)pl->st[m].n);
    plx_jw_number(w, "mean", pl->st[m].mean);
    plx_jw_number(w, "sd", pl->st[m].sd);
    plx_jw_number(w, "t", pl->st[m].t);
    plx_jw_number(w, "p_two_sided", pl->st[m].p);
    plx_jw_object_end(w);
  }
  plx_jw_object_end(w);
  plx_manifest_total_and_environment(w, pl->seconds);
}

int plx_orientation_report_runs(plx_orientation_report *op, const char *const *runs,
                                size_t n_runs, plx_error *err)
{
  static const char *const may_differ[] = {"experiment.seed", "experiment.name",
                                           "experiment.description", "output", NULL};
  static const char *const sn[] = {"run", "seed", "accuracy", "log_ratio_90_0_final",
                                   "log_ratio_90_0_early"};
  static const char *const tn[] = {"measure", "n", "mean", "sd", "sem", "t", "p_two_sided",
                                   "n_positive", "p_sign"};
  plx_config *first = NULL, *cfg = NULL;
  plx_table *ts = NULL, *tt = NULL;
  plx_rundir *rd = NULL;
  pool pl;
  double t0 = plx_clock_seconds();
  size_t j, k;
  int m, rc = PLX_OK;
  memset(&pl, 0, sizeof pl);
  pl.runs = runs;
  pl.n = n_runs;
  if (op->n_overrides)
    return plx_error_set(err, PLX_EINVAL, "--set %s: a report of orientation runs changes "
                         "no key (it takes the runs as measured)", op->overrides[0]);
  if (!op->out || n_runs < 2)
    return plx_error_set(err, PLX_EINVAL, "a report of orientation runs takes two or more "
                         "runs (one per seed) and -o DIR (the statistics over them)");
  if ((rc = plx_rundir_not_input(op->out, runs, n_runs, err)) ||
      (rc = plx_rundir_distinct(runs, n_runs, err)))
    return rc;
  pl.seed = calloc(n_runs, sizeof *pl.seed);
  pl.x = calloc(n_runs * N_MEASURES, sizeof *pl.x);
  if (!pl.seed || !pl.x) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  for (j = 0; j < n_runs && !rc; j++) {
    char path[1300];
    snprintf(path, sizeof path, "%s/config.resolved.cfg", runs[j]);
    if (access(path, R_OK)) {
      rc = plx_error_set(err, PLX_EINVAL, "%s: not a run directory (expected "
                         "config.resolved.cfg in it)", runs[j]);
      break;
    }
    if (!plx_orientation_is(path)) {
      rc = plx_error_set(err, PLX_EINVAL, "%s: not an orientation run (a report pools runs "
                         "of one task)", runs[j]);
      break;
    }
    if ((rc = plx_config_load(j ? &cfg : &first, path, NULL, 0, err)))
      break;
    pl.seed[j] = 1; /* the key's default */
    config_lookup_int64(plx_config_raw(j ? cfg : first), "experiment.seed", &pl.seed[j]);
    if (j)
      rc = plx_config_same_design(first, cfg, may_differ, NULL, err);
    plx_config_free(cfg);
    cfg = NULL;
    for (k = 0; k < j && !rc; k++)
      if (pl.seed[k] == pl.seed[j])
        rc = plx_error_set(err, PLX_EINVAL, "seed %lld is in %s and in %s: a report pools "
                           "distinct networks", pl.seed[j], runs[k], runs[j]);
    if (!rc)
      rc = run_measures(runs[j], pl.x + j * N_MEASURES, err);
  }
  if (rc)
    goto done;
  for (m = 0; m < N_MEASURES; m++)
    plx_seed_stat_of(pl.x + m, n_runs, N_MEASURES, &pl.st[m]);
  /* accuracy is a level, not an effect with a sign: described, not tested */
  pl.st[M_ACCURACY].t = pl.st[M_ACCURACY].p = pl.st[M_ACCURACY].p_sign = NAN;
  memcpy(op->stats, pl.st, sizeof op->stats);
  ts = plx_table_new(5, sn, "sifff");
  tt = plx_table_new(9, tn, "sifffffif");
  if (!ts || !tt) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  plx_table_comment(ts, "one row per run: the final per-bin accuracy; the mean log "
                        "sensitivity of the probed layer within 15 degrees of 90 minus that "
                        "within 15 degrees of 0, at the last probe and at the first probe "
                        "where the layer's mean sensitivity reached a quarter of its final");
  plx_table_comment(tt, "each measure over the seeds: Student's t of the mean against zero "
                        "(n - 1 degrees of freedom), seeds above zero and the exact sign test; "
                        "accuracy is described only (mean, s.d., s.e.m.): testing it against "
                        "zero would say nothing");
  for (j = 0; j < n_runs; j++) {
    const char *str[1] = {runs[j]};
    double v[1 + N_MEASURES];
    v[0] = (double)pl.seed[j];
    for (m = 0; m < N_MEASURES; m++)
      v[1 + m] = pl.x[j * N_MEASURES + (size_t)m];
    if ((rc = plx_table_append(ts, str, v)))
      break;
  }
  for (m = 0; m < N_MEASURES && !rc; m++) {
    const char *str[1] = {plx_orientation_measures[m]};
    const plx_seed_stat *st = &pl.st[m];
    double v[8] = {(double)st->n, st->mean, st->sd, st->sd / sqrt((double)st->n), st->t, st->p,
                   isnan(st->p_sign) ? NAN : (double)st->positive, st->p_sign};
    rc = plx_table_append(tt, str, v);
  }
  if (rc) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  if ((rc = plx_rundir_open(&rd, op->out, 0, err)))
    goto done;
  snprintf(op->out_used, sizeof op->out_used, "%s", op->out);
  if (op->watch)
    *op->watch = rd;
  if ((rc = plx_rundir_table(rd, "seeds", ts, err)) ||
      (rc = plx_rundir_table(rd, "seed_statistics", tt, err)))
    goto done;
  pl.seconds = plx_clock_seconds() - t0;
  if (op->watch)
    *op->watch = NULL;
  rc = plx_rundir_commit(rd, pool_manifest, &pl, err);
  rd = NULL;
done:
  if (op->watch)
    *op->watch = NULL;
  if (rd)
    plx_rundir_abort(rd);
  plx_config_free(first);
  plx_config_free(cfg);
  plx_table_free(ts);
  plx_table_free(tt);
  free(pl.seed);
  free(pl.x);
  return rc;
}
