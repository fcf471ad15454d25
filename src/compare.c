/* compare.c -- `plastix compare`: every (rule, seed) pair of a config is an
 * independent job (its own experiment, streams keyed by its seed); jobs run
 * in parallel over OpenMP threads and are aggregated in (rule, seed) order,
 * so the output does not depend on the thread count.  Per rule: mean +-
 * s.e.m. over seeds of the preferred-stimulus density, population rate,
 * learning curve, test error by angle, sensitivity and Fisher information,
 * and the efficient-coding scorecard. */
#include "config.h"
#include "plastix/compare.h"
#include "plastix/blas_threads.h"
#include "plastix/analysis.h"
#include "plastix/clock.h"
#include "plastix/error.h"
#include "plastix/experiment.h"
#include "plastix/parallel.h"
#include "plastix/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_BINS 12
#define KDE_BANDWIDTH 0.4

enum { SC_CORR_FI, SC_KL_FI, SC_CORR_PREF, SC_KL_PREF, SC_CORR_RATE, SC_TEST_ERR,
       SC_DPRIME_BOUNDARY, SC_DPRIME_OPPOSITE, SC_N };
static const char *const score_names[SC_N] = {
    "corr_sqrtFI_vs_stimulus_density", "kl_stimulus_density_vs_sqrtFI",
    "corr_preferred_density_vs_stimulus_density",
    "kl_stimulus_density_vs_preferred_density",
    "corr_population_rate_vs_stimulus_density", "test_error",
    "dprime_around_boundary", "dprime_opposite_boundary"};

typedef struct job {
  int rule;        /* index into the rule list */
  long seed;
  int rc;
  plx_error err;
  double seconds;
  double *rate;    /* [G]   population rate on the test grid        */
  double *pref;    /* [GF]  kernel density of preferred angles      */
  double *sens, *fi, *sqfi; /* [GF]                                  */
  double *err_angle; /* [ERR_BINS] prior-protocol error by angle   */
  double *eval;    /* [n_eval] frozen test error over training      */
  double score[SC_N];
} job;

typedef struct plan {
  size_t R, S, G, GF, n_eval;
  char rules[PLX_MAX_RULES][64];
  long first_seed;
  double *theta, *theta_f, *pdens, *pdens_f, *eval_trial;
  double *bin_center;
  char name[128];
  unsigned formats;
  long fisher_angles, fisher_trials, fisher_spt;
  double fisher_duration;
} plan;

static void job_free(job *j)
{
  free(j->rate);
  free(j->pref);
  free(j->sens);
  free(j->fi);
  free(j->sqfi);
  free(j->err_angle);
  free(j->eval);
}

/* One (rule, seed): train, probe, score. */
static int run_job(const plx_compare_opts *o, const plan *pl, job *jb)
{
  plx_load_opts lo;
  plx_experiment *e = NULL;
  plx_learning_curve lc;
  plx_grid_stats gs, gf;
  plx_prior_stats ps;
  double t0 = plx_clock_seconds(), *mean = NULL, z;
  long *pref = NULL;
  size_t i, g;
  int rc;
  plx_test_opts keep;

  memset(&lc, 0, sizeof lc);
  memset(&gs, 0, sizeof gs);
  memset(&gf, 0, sizeof gf);
  memset(&ps, 0, sizeof ps);
  lo.rule = pl->rules[jb->rule];
  lo.allow_many_rules = 0;
  lo.seed_set = 1;
  lo.seed = (uint64_t)jb->seed;
  if ((rc = plx_experiment_load_opts(&e, o->config, o->overrides, o->n_overrides, &lo,
                                     &jb->err)))
    return rc;
  if ((rc = plx_experiment_init_weights(e, &jb->err)))
    goto done;
  if (e->rule && e->train.trials > 0 &&
      (rc = plx_train(e, &lc, 1, NULL, &jb->err)))
    goto done;
  for (i = 0; i < pl->n_eval; i++)
    jb->eval[i] = i < lc.n_eval ? lc.eval_error[i] : NAN;
  /* test protocol: tuning, preferred stimuli, population rate */
  if ((rc = plx_protocol_grid(e, &gs, 1, NULL, &jb->err)))
    goto done;
  mean = malloc(gs.N * gs.G * sizeof *mean);
  pref = malloc(gs.N * sizeof *pref);
  if (!mean || !pref) {
    rc = plx_error_set(&jb->err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  {
    double *sem = malloc(gs.G * sizeof *sem), *pth = malloc(gs.N * sizeof *pth);
    if (!sem || !pth) {
      free(sem);
      free(pth);
      rc = plx_error_set(&jb->err, PLX_ENOMEM, "out of memory");
      goto done;
    }
    plx_tuning(&gs, mean, NULL);
    plx_population_rate(&gs, mean, jb->rate, sem);
    /* classification: d' of the readout for grid pairs pi/6 either side of
     * the boundary and of the point opposite it */
    jb->score[SC_DPRIME_BOUNDARY] = jb->score[SC_DPRIME_OPPOSITE] = NAN;
    if (e->task.kind == PLX_TASK_CLASSIFICATION) {
      const double bnd = e->task.boundary;
      const size_t no = gs.n_out;
      int q;
      for (q = 0; q < 2; q++) {
        double c0 = bnd + q * M_PI;
        size_t a = plx_grid_nearest(&gs, c0 - M_PI / 6), b = plx_grid_nearest(&gs, c0 + M_PI / 6);
        jb->score[q ? SC_DPRIME_OPPOSITE : SC_DPRIME_BOUNDARY] =
            plx_dprime(gs.count[a], gs.sum_o[a * no], gs.sum_oo[a * no * no], gs.count[b],
                       gs.sum_o[b * no], gs.sum_oo[b * no * no], NULL, NULL);
      }
    }
    plx_preferred(&gs, mean, pref);
    for (i = 0; i < gs.N; i++)
      pth[i] = gs.theta[pref[i]];
    plx_kde_circular(pth, gs.N, KDE_BANDWIDTH, pl->theta_f, pl->GF, jb->pref);
    free(sem);
    free(pth);
  }
  /* the Fisher-information protocol: a finer grid held longer */
  keep = e->test;
  e->test.angles = pl->fisher_angles;
  e->test.trials = pl->fisher_trials;
  e->test.duration = pl->fisher_duration;
  e->test.stimuli_per_trial = pl->fisher_spt;
  e->test.record_trials = 0;
  rc = plx_protocol_grid(e, &gf, 1, NULL, &jb->err);
  e->test = keep;
  if (rc)
    goto done;
  if ((rc = plx_fisher(&gf, jb->sens, jb->fi, &jb->err)))
    goto done;
  z = 0;
  for (g = 0; g < pl->GF; g++) {
    jb->sqfi[g] = isfinite(jb->fi[g]) ? sqrt(jb->fi[g] > 0 ? jb->fi[g] : 0.0) : NAN;
    if (isfinite(jb->sqfi[g]))
      z += jb->sqfi[g] * 2.0 * M_PI / (double)pl->GF;
  }
  for (g = 0; g < pl->GF; g++)
    jb->sqfi[g] /= z;
  /* errors on prior-distributed trials */
  if (e->test.prior_trials > 0) {
    if ((rc = plx_protocol_prior(e, e->test.prior_trials, e->test.prior_duration,
                                 e->test.prior_transient, e->test.record_every, -1,
                                 ERR_BINS, &ps, 1, &jb->err)))
      goto done;
    for (i = 0; i < ERR_BINS; i++)
      jb->err_angle[i] = ps.bin_count[i] > 0 ? ps.bin_err[i] / ps.bin_count[i] : NAN;
    jb->score[SC_TEST_ERR] = ps.err / ps.count;
  } else {
    for (i = 0; i < ERR_BINS; i++)
      jb->err_angle[i] = NAN;
    jb->score[SC_TEST_ERR] = NAN;
  }
  plx_profile_scores(pl->pdens_f, jb->sqfi, pl->GF, &jb->score[SC_CORR_FI],
                     &jb->score[SC_KL_FI]);
  plx_profile_scores(pl->pdens_f, jb->pref, pl->GF, &jb->score[SC_CORR_PREF],
                     &jb->score[SC_KL_PREF]);
  {
    double kl_unused;
    plx_profile_scores(pl->pdens, jb->rate, pl->G, &jb->score[SC_CORR_RATE], &kl_unused);
  }
done:
  if (rc) {
    char what[160];
    snprintf(what, sizeof what, "rule %s, seed %ld", pl->rules[jb->rule], jb->seed);
    plx_error_prefix(&jb->err, "%s", what);
  }
  jb->seconds = plx_clock_seconds() - t0;
  free(mean);
  free(pref);
  plx_learning_curve_release(&lc);
  plx_grid_stats_release(&gs);
  plx_grid_stats_release(&gf);
  plx_prior_stats_release(&ps);
  plx_experiment_free(e);
  return rc;
}

/* ------------------------------------------------------------ output */

/* mean and s.e.m. over the seeds of rule r of field(job)[k], k < n */
static void aggregate(job *jobs, const plan *pl, size_t r, size_t n,
                      double *(*field)(job *), double *mean, double *sem)
{
  size_t k, s;
  for (k = 0; k < n; k++) {
    double m = 0, v = 0, c = 0;
    for (s = 0; s < pl->S; s++) {
      double x = field(&jobs[r * pl->S + s])[k];
      if (isfinite(x)) {
        m += x;
        c += 1;
      }
    }
    m = c > 0 ? m / c : NAN;
    for (s = 0; s < pl->S; s++) {
      double x = field(&jobs[r * pl->S + s])[k];
      if (isfinite(x))
        v += (x - m) * (x - m);
    }
    mean[k] = m;
    sem[k] = c > 1 ? sqrt(v / (c - 1) / c) : NAN;
  }
}

static double *f_rate(job *j) { return j->rate; }
static double *f_pref(job *j) { return j->pref; }
static double *f_sqfi(job *j) { return j->sqfi; }
static double *f_sens(job *j) { return j->sens; }
static double *f_fi(job *j) { return j->fi; }
static double *f_err(job *j) { return j->err_angle; }
static double *f_eval(job *j) { return j->eval; }
static double *f_score(job *j) { return j->score; }

typedef struct quantity {
  const char *name, *title, *ylabel;
  double *(*field)(job *);
  int fine;    /* 0: test grid, 1: Fisher grid, 2: error bins, 3: evaluations */
  int overlay; /* draw the stimulus density too */
} quantity;

static const quantity quantities[] = {
    {"preferred_density", "Preferred-stimulus density", "density", f_pref, 1, 1},
    {"population_rate", "Population rate", "mean rate", f_rate, 0, 0},
    {"sqrt_fisher_density", "sqrt(Fisher information), normalised", "density", f_sqfi, 1, 1},
    {"sensitivity", "Population sensitivity |f'(theta)|^2", "sensitivity", f_sens, 1, 0},
    {"fisher", "Linear Fisher information", "FI", f_fi, 1, 0},
    {"error_by_angle", "Test error by angle (prior trials)", "error", f_err, 2, 0},
    {"learning_curve", "Frozen test error over training", "test error", f_eval, 3, 0},
};
#define N_QUANT (sizeof quantities / sizeof quantities[0])

static const double *q_axis(const plan *pl, int fine, size_t *n)
{
  switch (fine) {
  case 0: *n = pl->G; return pl->theta;
  case 1: *n = pl->GF; return pl->theta_f;
  case 2: *n = ERR_BINS; return pl->bin_center;
  default: *n = pl->n_eval; return pl->eval_trial;
  }
}

typedef struct manifest_ctx {
  const plx_compare_opts *o;
  const plan *pl;
  job *jobs;
  double seconds;
} manifest_ctx;

static void manifest_body(plx_jw *w, void *vctx)
{
  manifest_ctx *c = vctx;
  size_t r, s;
  plx_manifest_invocation(w, "compare", c->o->config, c->o->overrides, c->o->n_overrides);
  plx_jw_string(w, "experiment", c->pl->name);
  plx_jw_array_begin(w, "rules");
  for (r = 0; r < c->pl->R; r++)
    plx_jw_string(w, NULL, c->pl->rules[r]);
  plx_jw_array_end(w);
  plx_jw_array_begin(w, "seeds");
  for (s = 0; s < c->pl->S; s++)
    plx_jw_int(w, NULL, c->pl->first_seed + (long)s);
  plx_jw_array_end(w);
  plx_jw_int(w, "threads", c->o->threads);
  plx_jw_object_begin(w, "timings_seconds");
  plx_jw_number(w, "total", c->seconds);
  for (r = 0; r < c->pl->R; r++) {
    double t = 0;
    for (s = 0; s < c->pl->S; s++)
      t += c->jobs[r * c->pl->S + s].seconds;
    plx_jw_number(w, c->pl->rules[r], t);
  }
  plx_jw_object_end(w);
  plx_manifest_environment(w);
}

static int write_outputs(plx_rundir *rd, const plan *pl, job *jobs, plx_error *err)
{
  const size_t R = pl->R, S = pl->S;
  size_t qi, r, k, s, n;
  double *mean = NULL, *sem = NULL;
  int rc = PLX_OK;
  size_t nmax = pl->GF > pl->G ? pl->GF : pl->G;
  if (pl->n_eval > nmax) nmax = pl->n_eval;
  if (ERR_BINS > nmax) nmax = ERR_BINS;
  mean = malloc((nmax + SC_N) * sizeof *mean);
  sem = malloc((nmax + SC_N) * sizeof *sem);
  if (!mean || !sem) {
    free(mean);
    free(sem);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  for (qi = 0; qi < N_QUANT && !rc; qi++) {
    const quantity *q = &quantities[qi];
    static const char *const names[] = {"rule", "x", "mean", "sem", "stimulus_density"};
    const double *x = q_axis(pl, q->fine, &n);
    plx_table *t = plx_table_new(5, names, "sffff");
    plx_figure *fig = plx_figure_new(1, (int)R, 380.0 * (double)R + 60, 400);
    char path[256];
    if (!t || !fig) {
      plx_table_free(t);
      plx_figure_free(fig);
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
      break;
    }
    plx_figure_title(fig, q->title);
    plx_table_comment(t, q->fine == 3 ? "x: training trials" : "x: stimulus angle (rad)");
    for (r = 0; r < R && !rc; r++) {
      const char *sv[1] = {pl->rules[r]};
      plx_axes *ax = plx_figure_axes(fig, 0, (int)r);
      double *lo = malloc(2 * n * sizeof *lo);
      aggregate(jobs, pl, r, n, q->field, mean, sem);
      for (k = 0; k < n; k++) {
        double v[4] = {x[k], mean[k], sem[k],
                       q->fine == 1 ? pl->pdens_f[k] : (q->fine == 0 ? pl->pdens[k] : NAN)};
        plx_table_append(t, sv, v);
      }
      if (lo) {
        for (k = 0; k < n; k++) {
          lo[k] = mean[k] - (isfinite(sem[k]) ? sem[k] : 0);
          lo[n + k] = mean[k] + (isfinite(sem[k]) ? sem[k] : 0);
        }
        plx_axes_band(ax, x, lo, lo + n, n, (int)r);
        free(lo);
      }
      plx_axes_line(ax, x, mean, n, (int)r, PLX_SOLID, "mean +- s.e.m.");
      if (q->overlay)
        plx_axes_line(ax, x, pl->pdens_f, n, PLX_C_BLACK, PLX_DASHED, "stimulus density");
      plx_axes_title(ax, pl->rules[r]);
      plx_axes_xlabel(ax, q->fine == 3 ? "training trials" : "theta (rad)");
      if (r == 0)
        plx_axes_ylabel(ax, q->ylabel);
      if (q->fine != 3)
        plx_axes_xlim(ax, -M_PI, M_PI);
      snprintf(path, sizeof path, "/compare/%s/%s/mean", pl->rules[r], q->name);
      if (!rc) rc = plx_h5_write_vector(plx_rundir_h5(rd), path, mean, n, err);
      snprintf(path, sizeof path, "/compare/%s/%s/sem", pl->rules[r], q->name);
      if (!rc) rc = plx_h5_write_vector(plx_rundir_h5(rd), path, sem, n, err);
      /* every seed's curve too */
      {
        double *all = malloc(n * S * sizeof *all);
        if (all) {
          for (s = 0; s < S; s++)
            memcpy(all + s * n, q->field(&jobs[r * S + s]), n * sizeof *all);
          snprintf(path, sizeof path, "/compare/%s/%s/seeds", pl->rules[r], q->name);
          if (!rc) rc = plx_h5_write_matrix(plx_rundir_h5(rd), path, all, n, S, n, err);
          free(all);
        }
      }
    }
    if (!rc) {
      snprintf(path, sizeof path, "/compare/axes/%s", q->name);
      rc = plx_h5_write_vector(plx_rundir_h5(rd), path, x, n, err);
    }
    if (!rc) rc = plx_rundir_table(rd, q->name, t, err);
    if (!rc) rc = plx_rundir_figure(rd, q->name, fig, err);
    plx_table_free(t);
    plx_figure_free(fig);
  }
  /* scorecard: per rule mean +- s.e.m.; per seed values */
  if (!rc) {
    static const char *const sn[] = {"rule", "metric", "mean", "sem", "seeds"};
    static const char *const pn[] = {"rule", "seed", "metric", "value"};
    plx_table *t = plx_table_new(5, sn, "ssffi"), *ts = plx_table_new(4, pn, "sisf");
    plx_figure *fig = plx_figure_new(1, 3, 1140, 400);
    static const int shown[3] = {SC_CORR_FI, SC_CORR_PREF, SC_TEST_ERR};
    double bars[3][PLX_MAX_RULES], errs[3][PLX_MAX_RULES], xs[PLX_MAX_RULES];
    if (!t || !ts || !fig) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    } else {
      plx_table_comment(t, "efficient coding: sqrt(FI) and the preferred-stimulus "
                           "density against the stimulus density the network saw "
                           "(correlation over angles; KL in nats), beside the task error");
      for (r = 0; r < R; r++) {
        aggregate(jobs, pl, r, SC_N, f_score, mean, sem);
        for (k = 0; k < SC_N; k++) {
          const char *sv[2] = {pl->rules[r], score_names[k]};
          double v[3] = {mean[k], sem[k], (double)S};
          plx_table_append(t, sv, v);
          for (s = 0; s < S; s++) {
            const char *pv[2] = {pl->rules[r], score_names[k]};
            double vv[2] = {(double)(pl->first_seed + (long)s), jobs[r * S + s].score[k]};
            plx_table_append(ts, pv, vv);
          }
        }
        for (k = 0; k < 3; k++) {
          bars[k][r] = mean[shown[k]];
          errs[k][r] = sem[shown[k]];
        }
        xs[r] = (double)r;
      }
      for (k = 0; k < 3; k++) {
        plx_axes *ax = plx_figure_axes(fig, 0, (int)k);
        for (r = 0; r < R; r++) {
          plx_axes_bars(ax, &xs[r], &bars[k][r], 1, 0.6, (int)r, pl->rules[r]);
          plx_axes_errorbars(ax, &xs[r], &bars[k][r], &errs[k][r], 1, PLX_C_BLACK, NULL);
        }
        plx_axes_xlim(ax, -0.7, (double)R - 0.3);
        plx_axes_title(ax, k == 0 ? "corr(sqrt FI, p)" : k == 1 ? "corr(preferred, p)"
                                                                : "test error");
        plx_axes_xlabel(ax, "rule");
        plx_axes_legend(ax, k == 2);
      }
      plx_figure_title(fig, "Efficient-coding scorecard (mean +- s.e.m. over seeds)");
      rc = plx_rundir_table(rd, "scorecard", t, err);
      if (!rc) rc = plx_rundir_table(rd, "seeds", ts, err);
      if (!rc) rc = plx_rundir_figure(rd, "scorecard", fig, err);
    }
    plx_table_free(t);
    plx_table_free(ts);
    plx_figure_free(fig);
  }
  free(mean);
  free(sem);
  return rc;
}

/* ---------------------------------------------------------------- run */

static int make_plan(const plx_compare_opts *o, plan *pl, plx_error *err)
{
  plx_load_opts lo = {NULL, 1, 0, 0};
  plx_experiment *e;
  const plx_params *cmp;
  config_setting_t *rs;
  size_t i;
  int rc;
  memset(pl, 0, sizeof *pl);
  if ((rc = plx_experiment_load_opts(&e, o->config, o->overrides, o->n_overrides, &lo, err)))
    return rc;
  cmp = plx_params_group(e->root, "compare");
  snprintf(pl->name, sizeof pl->name, "%s", e->name);
  pl->formats = e->figure_formats;
  pl->S = o->seeds > 0 ? (size_t)o->seeds : (size_t)plx_params_int(cmp, "seeds");
  /* compare.first_seed, or experiment.seed when absent */
  pl->first_seed = plx_params_has(cmp, "first_seed") ? plx_params_int(cmp, "first_seed")
                                                     : (long)e->seed;
  pl->fisher_angles = plx_params_int(cmp, "fisher_angles");
  pl->fisher_trials = plx_params_int(cmp, "fisher_trials");
  pl->fisher_duration = plx_params_float(cmp, "fisher_duration");
  pl->fisher_spt = plx_params_int(cmp, "fisher_stimuli_per_trial");
  /* the rules: --rules, compare.rules, or every entry of `rules` */
  rs = plx_params_setting(cmp, "rules");
  if (o->rules) {
    char buf[1024], *save = NULL, *tok;
    snprintf(buf, sizeof buf, "%s", o->rules);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      if (pl->R == PLX_MAX_RULES) {
        plx_experiment_free(e);
        return plx_error_set(err, PLX_EINVAL, "--rules: at most %d rules", PLX_MAX_RULES);
      }
      snprintf(pl->rules[pl->R++], sizeof pl->rules[0], "%s", tok);
    }
  } else if (rs) {
    for (i = 0; i < (size_t)config_setting_length(rs) && pl->R < PLX_MAX_RULES; i++)
      snprintf(pl->rules[pl->R++], sizeof pl->rules[0], "%s",
               config_setting_get_string(config_setting_get_elem(rs, (unsigned)i)));
  } else if (e->n_rule_names) {
    for (i = 0; i < e->n_rule_names; i++)
      snprintf(pl->rules[pl->R++], sizeof pl->rules[0], "%s", e->rule_names[i]);
  } else if (e->rule) {
    snprintf(pl->rules[pl->R++], sizeof pl->rules[0], "%s", e->rule->name);
  }
  if (pl->R == 0) {
    plx_experiment_free(e);
    return plx_error_set(err, PLX_EINVAL, "%s: nothing to compare: define rules = { "
                         "name = {...}; ... } (or a rule section)", o->config);
  }
  /* every named rule must load (a typo fails before any job starts) */
  for (i = 0; i < pl->R; i++) {
    plx_experiment *e2;
    plx_load_opts l2 = {pl->rules[i], 0, 0, 0};
    if ((rc = plx_experiment_load_opts(&e2, o->config, o->overrides, o->n_overrides,
                                       &l2, err))) {
      plx_experiment_free(e);
      return rc;
    }
    plx_experiment_free(e2);
  }
  pl->G = e->test.angles > 0 ? (size_t)e->test.angles : e->encoder.n;
  pl->GF = (size_t)pl->fisher_angles;
  pl->n_eval = e->train.eval_every > 0 && e->train.trials > 0
                   ? (size_t)(e->train.trials / e->train.eval_every) + 1 +
                         (e->train.trials % e->train.eval_every != 0)
                   : 0;
  pl->theta = malloc(pl->G * sizeof(double));
  pl->pdens = malloc(pl->G * sizeof(double));
  pl->theta_f = malloc(pl->GF * sizeof(double));
  pl->pdens_f = malloc(pl->GF * sizeof(double));
  pl->eval_trial = malloc((pl->n_eval + 1) * sizeof(double));
  pl->bin_center = malloc(ERR_BINS * sizeof(double));
  if (!pl->theta || !pl->pdens || !pl->theta_f || !pl->pdens_f || !pl->eval_trial ||
      !pl->bin_center) {
    plx_experiment_free(e);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  for (i = 0; i < pl->G; i++) {
    pl->theta[i] = -M_PI + 2.0 * M_PI * (double)i / (double)pl->G;
    pl->pdens[i] = plx_process_stationary_density(&e->process, pl->theta[i]);
  }
  for (i = 0; i < pl->GF; i++) {
    pl->theta_f[i] = -M_PI + 2.0 * M_PI * (double)i / (double)pl->GF;
    pl->pdens_f[i] = plx_process_stationary_density(&e->process, pl->theta_f[i]);
  }
  for (i = 0; i < pl->n_eval; i++) {
    long t = (long)i * e->train.eval_every;
    pl->eval_trial[i] = (double)(t > e->train.trials ? e->train.trials : t);
  }
  for (i = 0; i < ERR_BINS; i++)
    pl->bin_center[i] = -M_PI + 2.0 * M_PI * ((double)i + 0.5) / ERR_BINS;
  plx_experiment_free(e);
  return PLX_OK;
}

static void plan_free(plan *pl)
{
  free(pl->theta);
  free(pl->pdens);
  free(pl->theta_f);
  free(pl->pdens_f);
  free(pl->eval_trial);
  free(pl->bin_center);
}

static int compare_run(plx_compare_opts *o, plx_error *err)
{
  plan pl;
  job *jobs = NULL;
  plx_rundir *rd = NULL;
  char outdir[1200], buf[4400];
  size_t nj, i, done_n = 0;
  double t0 = plx_clock_seconds();
  int rc, nt;
  manifest_ctx mc;

  if ((rc = make_plan(o, &pl, err)))
    return rc;
  nj = pl.R * pl.S;
  nt = plx_team_size(o->threads, nj);
  jobs = calloc(nj, sizeof *jobs);
  if (!jobs) {
    plan_free(&pl);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  for (i = 0; i < nj; i++) {
    job *j = &jobs[i];
    j->rule = (int)(i / pl.S);
    j->seed = pl.first_seed + (long)(i % pl.S);
    j->rate = calloc(pl.G, sizeof(double));
    j->pref = calloc(pl.GF, sizeof(double));
    j->sens = calloc(pl.GF, sizeof(double));
    j->fi = calloc(pl.GF, sizeof(double));
    j->sqfi = calloc(pl.GF, sizeof(double));
    j->err_angle = calloc(ERR_BINS, sizeof(double));
    j->eval = calloc(pl.n_eval + 1, sizeof(double));
    if (!j->rate || !j->pref || !j->sens || !j->fi || !j->sqfi || !j->err_angle ||
        !j->eval) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
      goto done;
    }
  }
  /* the output directory is checked before hours of work */
  snprintf(outdir, sizeof outdir, "%s", o->out ? o->out : "");
  if (!o->out)
    snprintf(outdir, sizeof outdir, "runs/%s-compare", pl.name);
  if ((rc = plx_rundir_open(&rd, outdir, pl.formats, err)))
    goto done;
  snprintf(o->out_used, sizeof o->out_used, "%s", outdir);
  if (o->watch)
    *o->watch = rd;
  if (o->prog && o->prog->fn)
    o->prog->fn(o->prog->ctx, "compare", 0.0);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (long k = 0; k < (long)nj; k++) {
    jobs[k].rc = run_job(o, &pl, &jobs[k]);
#pragma omp critical(plx_compare_progress)
    {
      done_n++;
      if (o->prog && o->prog->fn)
        o->prog->fn(o->prog->ctx, "compare", (double)done_n / (double)nj);
    }
  }
  for (i = 0; i < nj; i++)
    if (jobs[i].rc) {
      rc = jobs[i].rc;
      if (err)
        *err = jobs[i].err;
      goto done;
    }
  if ((rc = plx_rundir_copy(rd, o->config, "config.cfg", err)))
    goto done;
  {
    /* the configuration as resolved (overrides applied, paths absolute) */
    plx_experiment *e;
    plx_load_opts lo = {NULL, 1, 0, 0};
    if ((rc = plx_experiment_load_opts(&e, o->config, o->overrides, o->n_overrides, &lo, err)))
      goto done;
    rc = plx_config_write(e->cfg, plx_rundir_file(rd, "config.resolved.cfg", buf, sizeof buf),
                          err);
    plx_experiment_free(e);
    if (rc)
      goto done;
  }
  if ((rc = write_outputs(rd, &pl, jobs, err)))
    goto done;
  mc.o = o;
  mc.pl = &pl;
  mc.jobs = jobs;
  mc.seconds = plx_clock_seconds() - t0;
  if (o->watch)
    *o->watch = NULL;
  rc = plx_rundir_commit(rd, manifest_body, &mc, err);
  rd = NULL;
done:
  if (o->watch)
    *o->watch = NULL;
  if (rd)
    plx_rundir_abort(rd);
  if (jobs)
    for (i = 0; i < nj; i++)
      job_free(&jobs[i]);
  free(jobs);
  plan_free(&pl);
  return rc;
}

/* the entry point: the run with OpenBLAS single-threaded (plastix/blas_threads.h) */
int plx_compare_run(plx_compare_opts *o, plx_error *err)
{
  int rc;
  plx_blas_serial_enter();
  rc = compare_run(o, err);
  plx_blas_serial_leave();
  return rc;
}
