/* natimg_pool.c -- `plastix report` of natural-image runs: the seeds of
 * several runs of one design (say seeds 1-8 of one run and 9-20 of
 * another) pooled, and the statistics over all of them written as the
 * tables a run of all those seeds writes (tables/seed_statistics.csv,
 * tables/preferred_statistics.csv).  The per-seed values come from each
 * run's tables/seeds.csv (log contrast c of the sensitivity) and
 * tables/preferred_summary.csv (the centre units' measures); the runs'
 * conditions may differ, and each comparison counts the seeds that have
 * both of its conditions. */
#include "config.h"
#include "plastix/config.h"
#include "plastix/error.h"
#include "plastix/json.h"
#include "plastix/natimg.h"
#include "plastix/rundir.h"
#include "plastix/table.h"
#include "plastix/clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { K = PLX_NATIMG_N_CONDITIONS, M = PLX_NATIMG_N_UNIT_MEASURES };

/* the pooled seeds and their values, seed-major like a run's arrays:
 * x[(s * K + k) * P + p], NaN where a seed lacks a condition */
typedef struct pool {
  const char *const *runs;
  size_t n_runs, n_seeds, P;
  long *seed;      /* ascending                                  */
  size_t *run_of;  /* the run each seed came from                */
  double *ratio, *con, *z;
  double *units[M];
  double seconds;
  const plx_natimg_opts *op;
} pool;

static void pool_free(pool *pl)
{
  int m;
  free(pl->seed);
  free(pl->run_of);
  free(pl->ratio);
  free(pl->con);
  free(pl->z);
  for (m = 0; m < M; m++)
    free(pl->units[m]);
}

static int condition_index(const char *name)
{
  int k;
  for (k = 0; k < K; k++)
    if (!strcmp(name, plx_natimg_condition_names[k]))
      return k;
  return -1;
}

static int read_table(plx_table **t, const char *run, const char *name, plx_error *err)
{
  char path[1300];
  plx_error e2;
  snprintf(path, sizeof path, "%s/tables/%s.csv", run, name);
  if (access(path, R_OK))
    return plx_error_set(err, PLX_EINVAL, "%s: no tables/%s.csv (every natural-image run of "
                         "this plastix writes it; a run of one seed by an older one does not)",
                         run, name);
  if (plx_table_read_csv(t, path, &e2))
    return plx_error_set(err, PLX_EINVAL, "%s", e2.msg);
  return PLX_OK;
}

/* the columns a table must have, by name, into col[] */
static int columns(const plx_table *t, const char *run, const char *name,
                   const char *const *want, size_t n, int *col, plx_error *err)
{
  size_t i;
  for (i = 0; i < n; i++)
    if ((col[i] = plx_table_col_index(t, want[i])) < 0)
      return plx_error_set(err, PLX_EINVAL, "%s/tables/%s.csv: no column '%s'", run, name,
                           want[i]);
  return PLX_OK;
}

/* seed, condition and layer of row r: the seed's index in pl, k and p */
static int row_key(const pool *pl, const plx_table *t, size_t r, const int *col,
                   const char *where, size_t *si, int *k, size_t *p, plx_error *err)
{
  const long seed = (long)plx_table_get(t, r, (size_t)col[0]);
  const char *cond = plx_table_get_string(t, r, (size_t)col[1]);
  const char *layer = plx_table_get_string(t, r, (size_t)col[2]);
  size_t lo = 0, hi = pl->n_seeds;
  while (lo < hi) { /* pl->seed is sorted */
    const size_t mid = (lo + hi) / 2;
    if (pl->seed[mid] < seed)
      lo = mid + 1;
    else
      hi = mid;
  }
  *si = lo;
  if ((*k = condition_index(cond ? cond : "")) < 0)
    return plx_error_set(err, PLX_EINVAL, "%s, row %zu: unknown condition '%s'", where, r + 1,
                         cond ? cond : "");
  for (*p = 0; *p < pl->P; (*p)++)
    if (layer && !strcmp(layer, pl->op->probe_names[*p]))
      return PLX_OK;
  return plx_error_set(err, PLX_EINVAL, "%s, row %zu: layer '%s' is not probed in %s", where,
                       r + 1, layer ? layer : "", pl->runs[0]);
}

/* (seed, run) pairs: by seed, then by run */
static int cmp_seed_run(const void *a, const void *b)
{
  const long *x = a, *y = b;
  return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

/* The seeds of every run (tables/seeds.csv), none in two runs; the probed
 * layers in the order of the first run's table. */
static int collect_seeds(pool *pl, plx_table *const *seeds, plx_natimg_opts *op,
                         plx_error *err)
{
  static const char *const key[] = {"seed", "layer"};
  size_t j, r, n = 0, cap = 0, i;
  long *pair = NULL;
  int col[2] = {0, 0}, rc;
  for (j = pl->n_runs; j-- > 0;) /* ends with run 0's columns */
    if ((rc = columns(seeds[j], pl->runs[j], "seeds", key, 2, col, err)))
      return rc;
  for (r = 0; r < plx_table_rows(seeds[0]); r++) {
    const char *layer = plx_table_get_string(seeds[0], r, (size_t)col[1]);
    size_t p;
    for (p = 0; p < op->n_probes; p++)
      if (!strcmp(op->probe_names[p], layer ? layer : ""))
        break;
    if (p == op->n_probes) {
      if (op->n_probes == PLX_NATIMG_MAX_PROBES)
        return plx_error_set(err, PLX_EINVAL, "%s: more than %d probed layers", pl->runs[0],
                             PLX_NATIMG_MAX_PROBES);
      snprintf(op->probe_names[op->n_probes++], sizeof op->probe_names[0], "%s",
               layer ? layer : "");
    }
  }
  pl->P = op->n_probes;
  /* every row's (seed, run), sorted; then each seed once, from one run */
  for (j = 0; j < pl->n_runs; j++)
    cap += plx_table_rows(seeds[j]);
  if (!(pair = malloc(2 * (cap + 1) * sizeof *pair)) ||
      !(pl->seed = malloc((cap + 1) * sizeof *pl->seed)) ||
      !(pl->run_of = malloc((cap + 1) * sizeof *pl->run_of))) {
    free(pair);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  for (j = 0, i = 0; j < pl->n_runs; j++) {
    const size_t sc = (size_t)plx_table_col_index(seeds[j], "seed"); /* checked above */
    for (r = 0; r < plx_table_rows(seeds[j]); r++, i++) {
      pair[2 * i] = (long)plx_table_get(seeds[j], r, sc);
      pair[2 * i + 1] = (long)j;
    }
  }
  qsort(pair, cap, 2 * sizeof *pair, cmp_seed_run);
  for (i = 0; i < cap; i++) {
    const long s = pair[2 * i];
    const size_t run = (size_t)pair[2 * i + 1];
    if (n && pl->seed[n - 1] == s) {
      if (pl->run_of[n - 1] != run) {
        rc = plx_error_set(err, PLX_EINVAL, "seed %ld is in %s and in %s: a report pools "
                           "distinct networks", s, pl->runs[pl->run_of[n - 1]], pl->runs[run]);
        free(pair);
        return rc;
      }
      continue;
    }
    pl->seed[n] = s;
    pl->run_of[n++] = run;
  }
  free(pair);
  pl->n_seeds = n;
  return PLX_OK;
}

static double *nan_array(size_t n)
{
  double *x = malloc((n + 1) * sizeof *x);
  size_t i;
  for (i = 0; x && i < n; i++)
    x[i] = NAN;
  return x;
}

/* every run's per-seed values into the pooled arrays */
static int fill(pool *pl, plx_table *const *seeds, plx_table *const *summ, plx_natimg_opts *op,
                plx_error *err)
{
  static const char *const sc[] = {"seed", "condition", "layer", "cardinal_oblique_ratio",
                                   "log_contrast", "z"};
  const char *uc[3 + M] = {"seed", "condition", "layer"};
  const size_t N = pl->n_seeds * K * pl->P;
  char where[1400];
  size_t j, r, si, p;
  int col[3 + M], k, m, rc;
  for (m = 0; m < M; m++)
    uc[3 + m] = plx_natimg_unit_measures[m];
  if (!(pl->ratio = nan_array(N)) || !(pl->con = nan_array(N)) || !(pl->z = nan_array(N)))
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  for (m = 0; m < M; m++)
    if (!(pl->units[m] = nan_array(N)))
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
  for (j = 0; j < pl->n_runs; j++) {
    if ((rc = columns(seeds[j], pl->runs[j], "seeds", sc, 6, col, err)))
      return rc;
    snprintf(where, sizeof where, "%s/tables/seeds.csv", pl->runs[j]);
    for (r = 0; r < plx_table_rows(seeds[j]); r++) {
      size_t i;
      if ((rc = row_key(pl, seeds[j], r, col, where, &si, &k, &p, err)))
        return rc;
      i = (si * K + (size_t)k) * pl->P + p;
      pl->ratio[i] = plx_table_get(seeds[j], r, (size_t)col[3]);
      pl->con[i] = plx_table_get(seeds[j], r, (size_t)col[4]);
      pl->z[i] = plx_table_get(seeds[j], r, (size_t)col[5]);
      op->measured[k] = 1;
    }
    if ((rc = columns(summ[j], pl->runs[j], "preferred_summary", uc, 3 + M, col, err)))
      return rc;
    snprintf(where, sizeof where, "%s/tables/preferred_summary.csv", pl->runs[j]);
    for (r = 0; r < plx_table_rows(summ[j]); r++) {
      if ((rc = row_key(pl, summ[j], r, col, where, &si, &k, &p, err)))
        return rc;
      if (si == pl->n_seeds || pl->seed[si] != (long)plx_table_get(summ[j], r, (size_t)col[0]))
        return plx_error_set(err, PLX_EINVAL, "%s, row %zu: seed %.0f is not in the run's "
                             "tables/seeds.csv", where, r + 1,
                             plx_table_get(summ[j], r, (size_t)col[0]));
      for (m = 0; m < M; m++)
        pl->units[m][(si * K + (size_t)k) * pl->P + p] =
            plx_table_get(summ[j], r, (size_t)col[3 + m]);
    }
  }
  return PLX_OK;
}

static void pool_manifest(plx_jw *w, void *vc)
{
  const pool *pl = vc;
  size_t j, s;
  plx_manifest_invocation(w, "report", pl->runs[0], NULL, 0);
  plx_jw_array_begin(w, "report_of");
  for (j = 0; j < pl->n_runs; j++)
    plx_jw_string(w, NULL, pl->runs[j]);
  plx_jw_array_end(w);
  plx_jw_string(w, "task", "natural_images");
  plx_jw_array_begin(w, "seeds");
  for (s = 0; s < pl->n_seeds; s++)
    plx_jw_int(w, NULL, pl->seed[s]);
  plx_jw_array_end(w);
  plx_manifest_total_and_environment(w, pl->seconds);
}

static int write_pool(pool *pl, plx_natimg_opts *op, plx_error *err)
{
  static const char *const sn[] = {"seed",         "condition", "layer", "cardinal_oblique_ratio",
                                   "log_contrast", "z",         "run"};
  plx_table *ts = plx_table_new(7, sn, "issfffs");
  plx_rundir *rd = NULL;
  size_t s, p;
  int k, rc;
  if (!ts)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  plx_table_comment(ts, "the pooled seeds: each run's tables/seeds.csv, and the run");
  for (s = 0; s < pl->n_seeds; s++)
    for (k = 0; k < K; k++)
      for (p = 0; p < pl->P; p++) {
        const size_t i = (s * K + (size_t)k) * pl->P + p;
        const char *str[3] = {plx_natimg_condition_names[k], op->probe_names[p],
                              pl->runs[pl->run_of[s]]};
        double v[4] = {(double)pl->seed[s], pl->ratio[i], pl->con[i], pl->z[i]};
        if (!isnan(pl->con[i]))
          plx_table_append(ts, str, v);
      }
  if ((rc = plx_rundir_open(&rd, op->out, 0, err)))
    goto done;
  snprintf(op->out_used, sizeof op->out_used, "%s", op->out);
  if (op->watch)
    *op->watch = rd;
  if ((rc = plx_rundir_table(rd, "seeds", ts, err)) ||
      (rc = plx_natimg_write_statistics(op, rd, err)))
    goto done;
  if (op->watch)
    *op->watch = NULL;
  rc = plx_rundir_commit(rd, pool_manifest, pl, err);
  rd = NULL;
done:
  if (op->watch)
    *op->watch = NULL;
  if (rd)
    plx_rundir_abort(rd);
  plx_table_free(ts);
  return rc;
}

/* a run's config (pooled runs must share their design: their configs may
 * differ only in the seeds, the name, the conditions run, the probes while
 * learning, which leave the training untouched, and the output formats) */
static int load_run_config(plx_config **cfg, const char *run, plx_error *err)
{
  char path[1300];
  snprintf(path, sizeof path, "%s/config.resolved.cfg", run);
  if (access(path, R_OK))
    return plx_error_set(err, PLX_EINVAL, "%s: not a run directory (expected "
                         "config.resolved.cfg in it)", run);
  if (!plx_natimg_is(path))
    return plx_error_set(err, PLX_EINVAL, "%s: not a natural-image run (a report pools runs "
                         "of one task)", run);
  return plx_config_load(cfg, path, NULL, 0, err);
}

int plx_natimg_report_runs(plx_natimg_opts *op, const char *const *runs, size_t n_runs,
                           plx_error *err)
{
  static const char *const may_differ[] = {"experiment.seed", "experiment.seeds",
                                           "experiment.name", "conditions.run", "probe.steps",
                                           "output", NULL};
  plx_config *first = NULL, *cfg = NULL;
  plx_table **seeds = calloc(n_runs + 1, sizeof *seeds), **summ = calloc(n_runs + 1, sizeof *summ);
  pool pl;
  double t0 = plx_clock_seconds();
  size_t j;
  int m, rc = PLX_OK;
  memset(&pl, 0, sizeof pl);
  pl.runs = runs;
  pl.n_runs = n_runs;
  pl.op = op;
  op->n_probes = 0;
  memset(op->measured, 0, sizeof op->measured);
  if (!seeds || !summ) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  if (op->n_overrides) {
    rc = plx_error_set(err, PLX_EINVAL, "--set %s: a report of natural-image runs changes no "
                       "key (it pools the runs' seeds as measured)", op->overrides[0]);
    goto done;
  }
  if (!op->out) {
    rc = plx_error_set(err, PLX_EINVAL, "a report of natural-image runs needs -o DIR (the "
                       "directory of the statistics over their seeds)");
    goto done;
  }
  if ((rc = plx_rundir_not_input(op->out, runs, n_runs, err)) ||
      (rc = plx_rundir_distinct(runs, n_runs, err)))
    goto done;
  for (j = 0; j < n_runs && !rc; j++) {
    if ((rc = load_run_config(j ? &cfg : &first, runs[j], err)))
      break;
    if (j)
      rc = plx_config_same_design(first, cfg, may_differ, NULL, err);
    plx_config_free(cfg);
    cfg = NULL;
    if (!rc && !(rc = read_table(&seeds[j], runs[j], "seeds", err)))
      rc = read_table(&summ[j], runs[j], "preferred_summary", err);
  }
  if (rc || (rc = collect_seeds(&pl, seeds, op, err)) || (rc = fill(&pl, seeds, summ, op, err)))
    goto done;
  op->n_seeds = pl.n_seeds;
  plx_natimg_seed_statistics(pl.n_seeds, pl.P, op->measured, pl.con, &op->seed_contrast);
  for (m = 0; m < M; m++)
    plx_natimg_seed_statistics(pl.n_seeds, pl.P, op->measured, pl.units[m], &op->seed_units[m]);
  pl.seconds = plx_clock_seconds() - t0;
  rc = write_pool(&pl, op, err);
done:
  plx_config_free(first);
  for (j = 0; seeds && summ && j < n_runs; j++) {
    plx_table_free(seeds[j]);
    plx_table_free(summ[j]);
  }
  free(seeds);
  free(summ);
  pool_free(&pl);
  return rc;
}
