/* probe.c -- the frozen-network probes of the recurrent/feedforward
 * circuits: each writes HDF5 arrays, a tidy CSV table and a figure. */
#include "config.h"
#include "plastix/probe.h"
#include "plastix/analysis.h"
#include "plastix/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KDE_POINTS 256
#define KDE_BANDWIDTH 0.4

/* ------------------------------------------------------------- helpers */

static plx_table *table_f(size_t n, const char *const *names, const char *types)
{
  return plx_table_new(n, names, types);
}

static int put_table(const plx_probe_ctx *c, const char *name, plx_table *t,
                     plx_error *err)
{
  int rc;
  if (!t)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  rc = plx_rundir_table(c->rd, name, t, err);
  plx_table_free(t);
  return rc;
}

static int put_figure(const plx_probe_ctx *c, const char *name,
                      plx_figure *fig, plx_error *err)
{
  int rc;
  if (!fig)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  rc = plx_rundir_figure(c->rd, name, fig, err);
  plx_figure_free(fig);
  return rc;
}

static void theta_axis(plx_axes *ax)
{
  plx_axes_xlabel(ax, "stimulus angle theta (rad)");
  plx_axes_xlim(ax, -M_PI, M_PI);
}

static int h5vec(const plx_probe_ctx *c, const char *probe, const char *name,
                 const double *v, size_t n, plx_error *err)
{
  char path[256];
  snprintf(path, sizeof path, "/probes/%s/%s", probe, name);
  return plx_h5_write_vector(plx_rundir_h5(c->rd), path, v, n, err);
}

static int h5mat(const plx_probe_ctx *c, const char *probe, const char *name,
                 const double *a, size_t rows, size_t cols, plx_error *err)
{
  char path[256];
  snprintf(path, sizeof path, "/probes/%s/%s", probe, name);
  return plx_h5_write_matrix(plx_rundir_h5(c->rd), path, a, rows, cols, rows, err);
}

/* ---------------------------------------------------------- tuning */

static int probe_tuning(const plx_probe_ctx *c, plx_error *err)
{
  const plx_grid_stats *st = c->grid;
  static const char *const names[] = {"unit", "theta", "mean", "sd"};
  size_t N, G, i, g;
  double *mean, *sd;
  plx_table *t;
  plx_figure *fig;
  plx_axes *ax;
  int rc;
  if (!st || st->G == 0)
    return PLX_EUNSUPPORTED;
  N = st->N;
  G = st->G;
  mean = malloc(N * G * sizeof *mean);
  sd = malloc(N * G * sizeof *sd);
  if (!mean || !sd) {
    free(mean);
    free(sd);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  plx_tuning(st, mean, sd);
  t = table_f(4, names, "ifff");
  for (i = 0; t && i < N; i++)
    for (g = 0; g < G; g++) {
      double v[4] = {(double)i, st->theta[g], mean[i + g * N], sd[i + g * N]};
      plx_table_append(t, NULL, v);
    }
  rc = put_table(c, "tuning", t, err);
  if (!rc) rc = h5vec(c, "tuning", "theta", st->theta, G, err);
  if (!rc) rc = h5mat(c, "tuning", "mean", mean, N, G, err);
  if (!rc) rc = h5mat(c, "tuning", "sd", sd, N, G, err);
  if (!rc) {
    double *row = malloc(G * sizeof *row);
    fig = plx_figure_new(1, 1, 640, 440);
    ax = fig ? plx_figure_axes(fig, 0, 0) : NULL;
    if (row && ax) {
      plx_figure_title(fig, "Tuning curves (mean rate per grid angle)");
      for (i = 0; i < N; i++) {
        for (g = 0; g < G; g++)
          row[g] = mean[i + g * N];
        plx_axes_line(ax, st->theta, row, G, (int)(i % 7), PLX_SOLID, NULL);
      }
      theta_axis(ax);
      plx_axes_ylabel(ax, "rate r");
    }
    free(row);
    rc = put_figure(c, "tuning", fig, err);
  }
  free(mean);
  free(sd);
  return rc;
}

/* ---------------------------------------------------------- preferred */

static int probe_preferred(const plx_probe_ctx *c, plx_error *err)
{
  const plx_grid_stats *st = c->grid;
  const plx_experiment *e = c->e;
  static const char *const hn[] = {"bin_center", "count", "density"};
  static const char *const kn[] = {"theta", "kde", "prior_density",
                                   "stationary_density"};
  static const char *const un[] = {"unit", "preferred_theta", "peak_rate"};
  size_t N, G, i, g;
  double *mean = NULL, *pref_theta = NULL, *count = NULL, *dens = NULL;
  double *kt = NULL, *kde = NULL, *pd = NULL, *sd = NULL;
  long *pref = NULL;
  plx_table *t;
  int rc = PLX_OK;
  if (!st || st->G == 0)
    return PLX_EUNSUPPORTED;
  N = st->N;
  G = st->G;
  mean = malloc(N * G * sizeof *mean);
  pref = malloc(N * sizeof *pref);
  pref_theta = malloc(N * sizeof *pref_theta);
  count = calloc(G, sizeof *count);
  dens = calloc(G, sizeof *dens);
  kt = malloc(KDE_POINTS * sizeof *kt);
  kde = malloc(KDE_POINTS * sizeof *kde);
  pd = malloc(KDE_POINTS * sizeof *pd);
  sd = malloc(KDE_POINTS * sizeof *sd);
  if (!mean || !pref || !pref_theta || !count || !dens || !kt || !kde || !pd || !sd) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  plx_tuning(st, mean, NULL);
  plx_preferred(st, mean, pref);
  for (i = 0; i < N; i++) {
    pref_theta[i] = st->theta[pref[i]];
    count[pref[i]] += 1;
  }
  for (g = 0; g < G; g++)
    dens[g] = count[g] / ((double)N * 2.0 * M_PI / (double)G);
  for (i = 0; i < KDE_POINTS; i++) {
    kt[i] = -M_PI + 2.0 * M_PI * (double)i / (double)KDE_POINTS;
    pd[i] = plx_prior_density(e->prior, kt[i]);
    sd[i] = plx_process_stationary_density(&e->process, kt[i]);
  }
  plx_kde_circular(pref_theta, N, KDE_BANDWIDTH, kt, KDE_POINTS, kde);

  t = table_f(3, hn, "fff");
  for (g = 0; t && g < G; g++) {
    double v[3] = {st->theta[g], count[g], dens[g]};
    plx_table_append(t, NULL, v);
  }
  if ((rc = put_table(c, "preferred_histogram", t, err)))
    goto done;
  t = table_f(4, kn, "ffff");
  for (i = 0; t && i < KDE_POINTS; i++) {
    double v[4] = {kt[i], kde[i], pd[i], sd[i]};
    plx_table_append(t, NULL, v);
  }
  if ((rc = put_table(c, "preferred_kde", t, err)))
    goto done;
  t = table_f(3, un, "iff");
  for (i = 0; t && i < N; i++) {
    double v[3] = {(double)i, pref_theta[i], mean[i + (size_t)pref[i] * N]};
    plx_table_append(t, NULL, v);
  }
  if ((rc = put_table(c, "preferred_units", t, err)))
    goto done;
  if ((rc = h5vec(c, "preferred", "preferred_theta", pref_theta, N, err)) ||
      (rc = h5vec(c, "preferred", "histogram_density", dens, G, err)) ||
      (rc = h5vec(c, "preferred", "kde_theta", kt, KDE_POINTS, err)) ||
      (rc = h5vec(c, "preferred", "kde", kde, KDE_POINTS, err)))
    goto done;
  {
    plx_figure *fig = plx_figure_new(1, 1, 640, 440);
    plx_axes *ax = fig ? plx_figure_axes(fig, 0, 0) : NULL;
    if (ax) {
      plx_figure_title(fig, "Preferred stimuli of the recurrent units");
      plx_axes_bars(ax, st->theta, dens, G, 2.0 * M_PI / (double)G * 0.9,
                    PLX_C_SKYBLUE, "histogram");
      plx_axes_line(ax, kt, kde, KDE_POINTS, PLX_C_BLUE, PLX_SOLID,
                    "kernel density (bw 0.4)");
      plx_axes_line(ax, kt, sd, KDE_POINTS, PLX_C_BLACK, PLX_DASHED,
                    "stimulus density (stationary)");
      if (e->process.kind == PLX_PROCESS_LANGEVIN)
        plx_axes_line(ax, kt, pd, KDE_POINTS, PLX_C_BLACK, PLX_DOTTED,
                      "prior p(theta)");
      if (e->task.kind == PLX_TASK_CLASSIFICATION)
        plx_axes_vline(ax, e->task.boundary, PLX_C_GREEN, PLX_DASHED);
      theta_axis(ax);
      plx_axes_ylabel(ax, "density");
    }
    rc = put_figure(c, "preferred", fig, err);
  }
done:
  free(mean);
  free(pref);
  free(pref_theta);
  free(count);
  free(dens);
  free(kt);
  free(kde);
  free(pd);
  free(sd);
  return rc;
}

/* ---------------------------------------------------- population rate */

static int probe_population_rate(const plx_probe_ctx *c, plx_error *err)
{
  const plx_grid_stats *st = c->grid;
  static const char *const names[] = {"theta", "mean", "sem"};
  size_t N, G, g;
  double *mean, *rate, *sem, *lo, *hi;
  plx_table *t;
  int rc;
  if (!st || st->G == 0)
    return PLX_EUNSUPPORTED;
  N = st->N;
  G = st->G;
  mean = malloc(N * G * sizeof *mean);
  rate = malloc(5 * G * sizeof *rate);
  if (!mean || !rate) {
    free(mean);
    free(rate);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  sem = rate + G;
  lo = rate + 2 * G;
  hi = rate + 3 * G;
  plx_tuning(st, mean, NULL);
  plx_population_rate(st, mean, rate, sem);
  t = table_f(3, names, "fff");
  for (g = 0; t && g < G; g++) {
    double v[3] = {st->theta[g], rate[g], sem[g]};
    plx_table_append(t, NULL, v);
    lo[g] = rate[g] - sem[g];
    hi[g] = rate[g] + sem[g];
  }
  rc = put_table(c, "population_rate", t, err);
  if (!rc) rc = h5vec(c, "population_rate", "mean", rate, G, err);
  if (!rc) rc = h5vec(c, "population_rate", "sem", sem, G, err);
  if (!rc) {
    plx_figure *fig = plx_figure_new(1, 1, 640, 440);
    plx_axes *ax = fig ? plx_figure_axes(fig, 0, 0) : NULL;
    if (ax) {
      plx_figure_title(fig, "Population rate (mean over units, +- s.e.m.)");
      plx_axes_band(ax, st->theta, lo, hi, G, PLX_C_ORANGE);
      plx_axes_line(ax, st->theta, rate, G, PLX_C_ORANGE, PLX_SOLID, NULL);
      theta_axis(ax);
      plx_axes_ylabel(ax, "mean rate");
    }
    rc = put_figure(c, "population_rate", fig, err);
  }
  free(mean);
  free(rate);
  return rc;
}

/* ------------------------------------------------------ bias/variance */

static int probe_bias_variance(const plx_probe_ctx *c, plx_error *err)
{
  const plx_grid_stats *st = c->grid;
  static const char *const names[] = {"theta", "bias2", "variance"};
  size_t G, g;
  double *b2, *var;
  plx_table *t;
  int rc;
  if (!st || st->G == 0 || c->e->task.kind != PLX_TASK_ESTIMATION)
    return PLX_EUNSUPPORTED;
  G = st->G;
  b2 = malloc(2 * G * sizeof *b2);
  if (!b2)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  var = b2 + G;
  plx_bias_variance(st, &c->e->task, b2, var);
  t = table_f(3, names, "fff");
  for (g = 0; t && g < G; g++) {
    double v[3] = {st->theta[g], b2[g], var[g]};
    plx_table_append(t, NULL, v);
  }
  rc = put_table(c, "bias_variance", t, err);
  if (!rc) rc = h5vec(c, "bias_variance", "bias2", b2, G, err);
  if (!rc) rc = h5vec(c, "bias_variance", "variance", var, G, err);
  if (!rc) {
    plx_figure *fig = plx_figure_new(1, 1, 640, 440);
    plx_axes *ax = fig ? plx_figure_axes(fig, 0, 0) : NULL;
    if (ax) {
      plx_figure_title(fig, "Readout error decomposition per angle");
      plx_axes_line(ax, st->theta, b2, G, PLX_C_VERMILLION, PLX_SOLID, "squared bias");
      plx_axes_line(ax, st->theta, var, G, PLX_C_BLUE, PLX_SOLID, "variance");
      theta_axis(ax);
      plx_axes_ylabel(ax, "squared error");
    }
    rc = put_figure(c, "bias_variance", fig, err);
  }
  free(b2);
  return rc;
}

/* -------------------------------------------------------- noise volume */

static int probe_noise_volume(const plx_probe_ctx *c, plx_error *err)
{
  const plx_grid_stats *st = c->grid;
  static const char *const names[] = {"theta", "volume_fraction",
                                      "det_readout", "det_top_pcs"};
  plx_projection *D = plx_model_projection(c->e->model, "D");
  size_t G, g;
  double *vf;
  plx_table *t;
  int rc;
  if (!st || st->G == 0 || !D || D->n_post > st->N)
    return PLX_EUNSUPPORTED;
  G = st->G;
  vf = malloc(3 * G * sizeof *vf);
  if (!vf)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  rc = plx_noise_volume(st, D->w, D->ld, vf, vf + G, vf + 2 * G, err);
  if (!rc) {
    t = table_f(4, names, "ffff");
    for (g = 0; t && g < G; g++) {
      double v[4] = {st->theta[g], vf[g], vf[G + g], vf[2 * G + g]};
      plx_table_append(t, NULL, v);
    }
    rc = put_table(c, "noise_volume", t, err);
  }
  if (!rc) rc = h5vec(c, "noise_volume", "volume_fraction", vf, G, err);
  if (!rc) {
    plx_figure *fig = plx_figure_new(1, 1, 640, 440);
    plx_axes *ax = fig ? plx_figure_axes(fig, 0, 0) : NULL;
    if (ax) {
      plx_figure_title(fig, "Noise volume inside the readout space / top PCs");
      plx_axes_line(ax, st->theta, vf, G, PLX_C_PURPLE, PLX_SOLID, NULL);
      theta_axis(ax);
      plx_axes_ylabel(ax, "volume fraction");
    }
    rc = put_figure(c, "noise_volume", fig, err);
  }
  free(vf);
  return rc;
}

/* --------------------------------------------------------------- d' */

static int probe_dprime(const plx_probe_ctx *c, plx_error *err)
{
  const plx_grid_stats *st = c->grid;
  const plx_prior_stats *ps = c->prior;
  static const char *const names[] = {"measure", "theta_a", "theta_b",
                                      "dprime", "mean_diff", "pooled_sd"};
  /* pairs pi/6 on either side of the decision boundary, and of the point
   * opposite it on the circle (the paper: boundary at the prior mode, so
   * these are the high- and low-prior pairs) */
  const double bnd = c->e->task.boundary;
  const double pairs[2][2] = {{bnd - M_PI / 6, bnd + M_PI / 6},
                              {bnd + M_PI - M_PI / 6, bnd + M_PI + M_PI / 6}};
  static const char *const labels[2] = {"grid_at_boundary", "grid_opposite_boundary"};
  double vals[3][3] = {{NAN, NAN, NAN}, {NAN, NAN, NAN}, {NAN, NAN, NAN}};
  plx_table *t;
  size_t k, no;
  int rc;
  if (c->e->task.kind != PLX_TASK_CLASSIFICATION || !st || st->G == 0)
    return PLX_EUNSUPPORTED;
  no = st->n_out;
  t = table_f(6, names, "sfffff");
  if (!t)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  if (ps && ps->count > 0) {
    const char *s[1] = {"prior_trials"};
    double v[5];
    v[2] = plx_dprime(ps->n[0], ps->sum_z[0], ps->sum_zz[0], ps->n[1],
                      ps->sum_z[1], ps->sum_zz[1], &v[3], &v[4]);
    v[0] = NAN;
    v[1] = NAN;
    plx_table_append(t, s, v);
    vals[2][0] = v[2];
  }
  for (k = 0; k < 2; k++) {
    size_t a = plx_grid_nearest(st, pairs[k][0]), b = plx_grid_nearest(st, pairs[k][1]);
    const char *s[1] = {labels[k]};
    double v[5];
    v[0] = st->theta[a];
    v[1] = st->theta[b];
    v[2] = plx_dprime(st->count[a], st->sum_o[0 + a * no],
                      st->sum_oo[0 + a * no * no], st->count[b],
                      st->sum_o[0 + b * no], st->sum_oo[0 + b * no * no], &v[3],
                      &v[4]);
    vals[k][0] = v[2];
    vals[k][1] = v[3];
    vals[k][2] = v[4];
    plx_table_append(t, s, v);
  }
  rc = put_table(c, "dprime", t, err);
  if (!rc) {
    double dv[2] = {vals[0][0], vals[1][0]};
    rc = h5vec(c, "dprime", "grid_pairs", dv, 2, err);
  }
  if (!rc && ps && ps->count > 0)
    rc = h5vec(c, "dprime", "prior_trials", &vals[2][0], 1, err);
  if (!rc) {
    plx_figure *fig = plx_figure_new(1, 1, 520, 400);
    plx_axes *ax = fig ? plx_figure_axes(fig, 0, 0) : NULL;
    if (ax) {
      double x[2] = {0, 1}, h[2] = {vals[0][0], vals[1][0]};
      plx_figure_title(fig, "d' of the readout for stimulus pairs 2 pi/6 apart");
      plx_axes_bars(ax, x, h, 2, 0.6, PLX_C_BLUE, NULL);
      plx_axes_xlim(ax, -0.6, 1.6);
      plx_axes_xlabel(ax, "pair (0: around the boundary, 1: opposite it)");
      plx_axes_ylabel(ax, "d'");
    }
    rc = put_figure(c, "dprime", fig, err);
  }
  return rc;
}

/* ----------------------------------------------------------- energy */

static int probe_energy(const plx_probe_ctx *c, plx_error *err)
{
  const plx_grid_stats *st = c->grid;
  static const char *const names[] = {"theta", "energy", "energy_sem",
                                      "energy_exact", "energy_exact_sem",
                                      "energy_sem_segments"};
  size_t G, g;
  double *m;
  plx_table *t;
  int rc;
  if (!st || st->G == 0 || !st->has_energy)
    return PLX_EUNSUPPORTED;
  G = st->G;
  m = malloc(6 * G * sizeof *m);
  if (!m)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  plx_segments_by_angle(st, &c->e->task, PLX_SEG_ENERGY, m + 4 * G, m + 5 * G, NULL);
  plx_mean_sem(st->sum_energy, st->sum_energy2, st->count, G, m, m + G);
  plx_mean_sem(st->sum_energy_exact, st->sum_energy_exact2, st->count, G,
               m + 2 * G, m + 3 * G);
  if (!c->e->test.energy_exact)
    for (g = 0; g < G; g++)
      m[2 * G + g] = m[3 * G + g] = NAN;
  t = table_f(6, names, "ffffff");
  if (t)
    plx_table_comment(t, "*_sem: over samples (autocorrelated, optimistic); "
                         "energy_sem_segments: over held stimuli");
  for (g = 0; t && g < G; g++) {
    double v[6] = {st->theta[g], m[g], m[G + g], m[2 * G + g], m[3 * G + g],
                   m[5 * G + g]};
    plx_table_append(t, NULL, v);
  }
  rc = put_table(c, "energy", t, err);
  if (!rc) rc = h5vec(c, "energy", "mean", m, G, err);
  if (!rc) rc = h5vec(c, "energy", "mean_exact", m + 2 * G, G, err);
  if (!rc) {
    plx_figure *fig = plx_figure_new(1, 1, 640, 440);
    plx_axes *ax = fig ? plx_figure_axes(fig, 0, 0) : NULL;
    if (ax) {
      plx_figure_title(fig, "Mean energy E(r, s) per angle");
      plx_axes_line(ax, st->theta, m, G, PLX_C_GREEN, PLX_SOLID,
                    "reference (integral of f^-1 ~ r^2/2)");
      if (c->e->test.energy_exact)
        plx_axes_line(ax, st->theta, m + 2 * G, G, PLX_C_BLUE, PLX_DASHED,
                      "exact integral of f^-1");
      theta_axis(ax);
      plx_axes_ylabel(ax, "energy");
    }
    rc = put_figure(c, "energy", fig, err);
  }
  free(m);
  return rc;
}

/* --------------------------------------------------------- currents */

static int probe_currents(const plx_probe_ctx *c, plx_error *err)
{
  const plx_grid_stats *st = c->grid;
  static const char *const names[] = {"theta", "recurrent", "input", "ratio"};
  size_t G, g;
  double *v3, tr = 0, ti = 0, all;
  plx_table *t;
  int rc;
  if (!st || st->G == 0 || !plx_model_projection(c->e->model, "W") ||
      !plx_model_projection(c->e->model, "C"))
    return PLX_EUNSUPPORTED;
  G = st->G;
  v3 = malloc(3 * G * sizeof *v3);
  if (!v3)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  t = table_f(4, names, "ffff");
  for (g = 0; g < G; g++) {
    double cnt = st->count[g];
    v3[g] = st->sum_abs_rec[g] / cnt;
    v3[G + g] = st->sum_abs_in[g] / cnt;
    v3[2 * G + g] = v3[g] / v3[G + g];
    tr += st->sum_abs_rec[g];
    ti += st->sum_abs_in[g];
    if (t) {
      double v[4] = {st->theta[g], v3[g], v3[G + g], v3[2 * G + g]};
      plx_table_append(t, NULL, v);
    }
  }
  all = tr / ti;
  if (t) {
    char line[128];
    snprintf(line, sizeof line, "overall mean|Wr| / mean|Cs| = %.6g", all);
    plx_table_comment(t, line);
  }
  rc = put_table(c, "currents", t, err);
  if (!rc) rc = h5vec(c, "currents", "ratio", v3 + 2 * G, G, err);
  if (!rc) rc = h5vec(c, "currents", "overall_ratio", &all, 1, err);
  if (!rc) {
    plx_figure *fig = plx_figure_new(1, 1, 640, 440);
    plx_axes *ax = fig ? plx_figure_axes(fig, 0, 0) : NULL;
    if (ax) {
      char title[128];
      snprintf(title, sizeof title, "Recurrent / input current (overall %.3g)", all);
      plx_figure_title(fig, title);
      plx_axes_line(ax, st->theta, v3, G, PLX_C_VERMILLION, PLX_SOLID, "mean |W r|");
      plx_axes_line(ax, st->theta, v3 + G, G, PLX_C_BLUE, PLX_SOLID, "mean |C s|");
      theta_axis(ax);
      plx_axes_ylabel(ax, "current");
    }
    rc = put_figure(c, "currents", fig, err);
  }
  free(v3);
  return rc;
}

/* ------------------------------------------------------------ errors */

static int probe_errors(const plx_probe_ctx *c, plx_error *err)
{
  const plx_prior_stats *ps = c->prior;
  const plx_grid_stats *st = c->grid;
  static const char *const names[] = {"protocol", "theta", "error", "sem", "samples"};
  plx_table *t;
  size_t i;
  double *m, *s, *lo, *hi;
  int rc;
  size_t nb = ps ? ps->n_bins : 0, G = st ? st->G : 0, nmax;
  if (!ps && !st)
    return PLX_EUNSUPPORTED;
  nmax = nb > G ? nb : G;
  m = malloc(4 * (nmax ? nmax : 1) * sizeof *m);
  if (!m)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  s = m + nmax;
  lo = m + 2 * nmax;
  hi = m + 3 * nmax;
  t = table_f(5, names, "sffff");
  if (st) {
    const char *p[1] = {"grid"};
    /* mean over samples, s.e.m. over held stimuli (independent) */
    plx_mean_sem(st->sum_err, st->sum_err2, st->count, G, m, s);
    plx_segments_by_angle(st, &c->e->task, PLX_SEG_ERROR, lo, s, NULL);
    for (i = 0; t && i < G; i++) {
      double v[4] = {st->theta[i], m[i], s[i], st->count[i]};
      plx_table_append(t, p, v);
    }
    rc = h5vec(c, "errors", "grid_error", m, G, err);
    if (rc) {
      plx_table_free(t);
      free(m);
      return rc;
    }
  }
  if (t)
    plx_table_comment(t, "grid: s.e.m. over held stimuli; prior: s.e.m. over samples");
  if (ps && ps->count > 0) {
    const char *p[1] = {"prior"};
    double tm = ps->err / ps->count;
    plx_mean_sem(ps->bin_err, ps->bin_err2, ps->bin_count, nb, m, s);
    for (i = 0; t && i < nb; i++) {
      double v[4] = {ps->bin_center[i], m[i], s[i], ps->bin_count[i]};
      plx_table_append(t, p, v);
    }
    if (t) {
      char line[160];
      snprintf(line, sizeof line, "prior protocol: mean error %.6g over %.0f samples",
               tm, ps->count);
      plx_table_comment(t, line);
    }
    rc = h5vec(c, "errors", "prior_error_by_bin", m, nb, err);
    if (!rc) rc = h5vec(c, "errors", "prior_error_mean", &tm, 1, err);
    if (!rc) rc = h5vec(c, "errors", "prior_trial_error", ps->trial_err,
                        (size_t)ps->trials, err);
    if (rc) {
      plx_table_free(t);
      free(m);
      return rc;
    }
  }
  rc = put_table(c, "errors", t, err);
  if (!rc) {
    plx_figure *fig = plx_figure_new(1, 1, 640, 440);
    plx_axes *ax = fig ? plx_figure_axes(fig, 0, 0) : NULL;
    if (ax) {
      plx_figure_title(fig, "Test error by stimulus angle");
      if (st) {
        plx_mean_sem(st->sum_err, st->sum_err2, st->count, G, m, s);
        plx_segments_by_angle(st, &c->e->task, PLX_SEG_ERROR, lo, s, NULL);
        plx_axes_errorbars(ax, st->theta, m, s, G, PLX_C_BLUE, "grid protocol");
        plx_axes_line(ax, st->theta, m, G, PLX_C_BLUE, PLX_SOLID, NULL);
      }
      if (ps && ps->count > 0) {
        plx_mean_sem(ps->bin_err, ps->bin_err2, ps->bin_count, nb, m, s);
        for (i = 0; i < nb; i++) {
          lo[i] = m[i] - s[i];
          hi[i] = m[i] + s[i];
        }
        plx_axes_band(ax, ps->bin_center, lo, hi, nb, PLX_C_VERMILLION);
        plx_axes_line(ax, ps->bin_center, m, nb, PLX_C_VERMILLION, PLX_SOLID,
                      "prior-distributed trials");
      }
      theta_axis(ax);
      plx_axes_ylabel(ax, c->e->task.kind == PLX_TASK_ESTIMATION
                              ? "squared error |y - Dr|^2" : "misclassified fraction");
    }
    rc = put_figure(c, "errors", fig, err);
  }
  free(m);
  return rc;
}

/* ------------------------------------------------------ learning curve */

static int probe_learning_curve(const plx_probe_ctx *c, plx_error *err)
{
  const plx_learning_curve *lc = c->lc;
  static const char *const names[] = {"time", "objective", "error"};
  static const char *const en[] = {"trial", "error", "sem"};
  plx_table *t;
  size_t i;
  int rc;
  if (!lc || (lc->n == 0 && lc->n_eval == 0))
    return PLX_EUNSUPPORTED;
  t = table_f(3, names, "fff");
  for (i = 0; t && i < lc->n; i++) {
    double v[3] = {lc->time[i], lc->reward[i], lc->error[i]};
    plx_table_append(t, NULL, v);
  }
  if ((rc = put_table(c, "learning_curve", t, err)))
    return rc;
  if (lc->n &&
      ((rc = h5vec(c, "learning_curve", "time", lc->time, lc->n, err)) ||
       (rc = h5vec(c, "learning_curve", "objective", lc->reward, lc->n, err)) ||
       (rc = h5vec(c, "learning_curve", "error", lc->error, lc->n, err))))
    return rc;
  if (lc->n_eval) {
    t = table_f(3, en, "fff");
    for (i = 0; t && i < lc->n_eval; i++) {
      double v[3] = {lc->eval_trial[i], lc->eval_error[i], lc->eval_sem[i]};
      plx_table_append(t, NULL, v);
    }
    if ((rc = put_table(c, "test_error_curve", t, err)))
      return rc;
    if ((rc = h5vec(c, "learning_curve", "eval_trial", lc->eval_trial, lc->n_eval, err)) ||
        (rc = h5vec(c, "learning_curve", "eval_error", lc->eval_error, lc->n_eval, err)) ||
        (rc = h5vec(c, "learning_curve", "eval_sem", lc->eval_sem, lc->n_eval, err)))
      return rc;
  }
  {
    plx_figure *fig = plx_figure_new(1, lc->n_eval ? 2 : 1, lc->n_eval ? 1100 : 640, 440);
    plx_axes *ax = fig ? plx_figure_axes(fig, 0, 0) : NULL;
    if (ax) {
      /* smooth the per-block error with a running mean of 20 blocks */
      size_t w = 20, j;
      double *sm = malloc((lc->n ? lc->n : 1) * sizeof *sm), acc = 0;
      plx_figure_title(fig, "Learning curve");
      if (sm) {
        for (j = 0; j < lc->n; j++) {
          acc += lc->error[j];
          if (j >= w)
            acc -= lc->error[j - w];
          sm[j] = acc / (double)(j + 1 < w ? j + 1 : w);
        }
        plx_axes_line(ax, lc->time, lc->error, lc->n, PLX_C_SKYBLUE, PLX_SOLID,
                      "per block");
        plx_axes_line(ax, lc->time, sm, lc->n, PLX_C_BLUE, PLX_SOLID,
                      "running mean (20 blocks)");
        free(sm);
      }
      plx_axes_xlabel(ax, "training time (time units)");
      plx_axes_ylabel(ax, "training error");
      if (lc->n_eval) {
        plx_axes *a2 = plx_figure_axes(fig, 0, 1);
        double *lo = malloc(2 * lc->n_eval * sizeof *lo);
        if (lo) {
          for (j = 0; j < lc->n_eval; j++) {
            lo[j] = lc->eval_error[j] - lc->eval_sem[j];
            lo[lc->n_eval + j] = lc->eval_error[j] + lc->eval_sem[j];
          }
          plx_axes_band(a2, lc->eval_trial, lo, lo + lc->n_eval, lc->n_eval,
                        PLX_C_VERMILLION);
          free(lo);
        }
        plx_axes_line(a2, lc->eval_trial, lc->eval_error, lc->n_eval,
                      PLX_C_VERMILLION, PLX_SOLID, NULL);
        plx_axes_title(a2, "frozen test error (+- s.e.m.)");
        plx_axes_xlabel(a2, "training trials");
        plx_axes_ylabel(a2, "test error");
      }
    }
    rc = put_figure(c, "learning_curve", fig, err);
  }
  return rc;
}

/* ----------------------------------------------------------- segments */

static int probe_segments(const plx_probe_ctx *c, plx_error *err)
{
  const plx_grid_stats *st = c->grid;
  static const char *const names[] = {"segment", "theta", "rate", "error",
                                      "energy", "readout0", "readout1"};
  plx_table *t;
  size_t k, no;
  double *th;
  int rc;
  if (!st || st->n_seg == 0)
    return PLX_EUNSUPPORTED;
  no = st->n_out;
  t = table_f(7, names, "iffffff");
  th = malloc(st->n_seg * sizeof *th);
  if (!t || !th) {
    plx_table_free(t);
    free(th);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  plx_table_comment(t, "one row per held stimulus of the grid protocol: "
                       "means over its samples (independent replicates)");
  for (k = 0; k < st->n_seg; k++) {
    double v[7] = {(double)k, st->theta[st->seg_g[k]], st->seg_rate[k],
                   st->seg_err[k], st->seg_energy[k], st->seg_o[k * no],
                   no > 1 ? st->seg_o[1 + k * no] : NAN};
    th[k] = v[1];
    plx_table_append(t, NULL, v);
  }
  rc = put_table(c, "segments", t, err);
  if (!rc) rc = h5vec(c, "segments", "theta", th, st->n_seg, err);
  if (!rc) rc = h5vec(c, "segments", "rate", st->seg_rate, st->n_seg, err);
  if (!rc) rc = h5vec(c, "segments", "error", st->seg_err, st->n_seg, err);
  if (!rc) rc = h5vec(c, "segments", "energy", st->seg_energy, st->n_seg, err);
  if (!rc) rc = h5mat(c, "segments", "readout", st->seg_o, no, st->n_seg, err);
  free(th);
  return rc;
}

/* ------------------------------------------------------------- fisher */

static int probe_fisher(const plx_probe_ctx *c, plx_error *err)
{
  const plx_grid_stats *st = c->grid;
  static const char *const names[] = {"theta", "sensitivity", "fisher",
                                      "sqrt_fisher_density", "stimulus_density"};
  size_t G, g;
  double *v, z = 0, corr, kl;
  plx_table *t;
  int rc;
  if (!st || st->G < 4)
    return PLX_EUNSUPPORTED;
  G = st->G;
  v = malloc(4 * G * sizeof *v);
  if (!v)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  if ((rc = plx_fisher(st, v, v + G, err))) {
    free(v);
    return rc;
  }
  for (g = 0; g < G; g++) {
    v[2 * G + g] = isfinite(v[G + g]) ? sqrt(v[G + g] > 0 ? v[G + g] : 0) : NAN;
    if (isfinite(v[2 * G + g]))
      z += v[2 * G + g] * 2.0 * M_PI / (double)G;
    v[3 * G + g] = plx_process_stationary_density(&c->e->process, st->theta[g]);
  }
  for (g = 0; g < G; g++)
    v[2 * G + g] /= z;
  plx_profile_scores(v + 3 * G, v + 2 * G, G, &corr, &kl);
  t = table_f(5, names, "fffff");
  if (t) {
    char line[200];
    snprintf(line, sizeof line, "sqrt(FI) vs stimulus density: correlation %.4f, "
             "KL(p || sqrt FI) %.4f nats", corr, kl);
    plx_table_comment(t, line);
  }
  for (g = 0; t && g < G; g++) {
    double r[5] = {st->theta[g], v[g], v[G + g], v[2 * G + g], v[3 * G + g]};
    plx_table_append(t, NULL, r);
  }
  rc = put_table(c, "fisher", t, err);
  if (!rc) rc = h5vec(c, "fisher", "sensitivity", v, G, err);
  if (!rc) rc = h5vec(c, "fisher", "fisher", v + G, G, err);
  if (!rc) {
    plx_figure *fig = plx_figure_new(1, 1, 640, 440);
    plx_axes *ax = fig ? plx_figure_axes(fig, 0, 0) : NULL;
    if (ax) {
      char title[160];
      snprintf(title, sizeof title, "sqrt(Fisher information) vs stimulus density "
               "(corr %.2f)", corr);
      plx_figure_title(fig, title);
      plx_axes_line(ax, st->theta, v + 2 * G, G, PLX_C_BLUE, PLX_SOLID,
                    "sqrt(FI), normalised");
      plx_axes_line(ax, st->theta, v + 3 * G, G, PLX_C_BLACK, PLX_DASHED,
                    "stimulus density");
      theta_axis(ax);
      plx_axes_ylabel(ax, "density");
    }
    rc = put_figure(c, "fisher", fig, err);
  }
  free(v);
  return rc;
}

/* ----------------------------------------------------------- activity */

static int probe_activity(const plx_probe_ctx *c, plx_error *err)
{
  const plx_grid_stats *st = c->grid;
  plx_h5 *h;
  size_t n;
  int rc;
  if (!st || st->act_trials == 0)
    return PLX_EUNSUPPORTED;
  h = plx_rundir_h5(c->rd);
  n = st->act_trials * st->act_per_trial;
  if ((rc = plx_h5_write_vector(h, "/activity/time", st->act_t, n, err)) ||
      (rc = plx_h5_write_vector(h, "/activity/theta", st->act_theta, n, err)) ||
      (rc = plx_h5_write_matrix(h, "/activity/rates", st->act_r, st->N, n, st->N, err)) ||
      (rc = plx_h5_write_matrix(h, "/activity/readout", st->act_o, st->n_out, n,
                                st->n_out, err)))
    return rc;
  return plx_h5_attr_double(h, "/activity", "samples_per_trial",
                            (double)st->act_per_trial, err);
}

/* ------------------------------------------------------------ example */

static int probe_example(const plx_probe_ctx *c, plx_error *err)
{
  const plx_grid_stats *st = c->grid;
  static const char *const names[] = {"time", "theta", "output", "value"};
  const char *const *labels;
  static const char *const est[] = {"cos", "sin"};
  static const char *const cls[] = {"z"};
  plx_table *t;
  size_t i, d, no;
  int rc;
  if (!st || st->ex_n == 0)
    return PLX_EUNSUPPORTED;
  no = st->n_out;
  labels = c->e->task.kind == PLX_TASK_ESTIMATION ? est : cls;
  t = table_f(4, names, "ffsf");
  for (i = 0; t && i < st->ex_n; i++)
    for (d = 0; d < no && d < 2; d++) {
      const char *s[1] = {labels[d]};
      double v[3] = {st->ex_t[i], st->ex_theta[i], st->ex_out[d + i * no]};
      plx_table_append(t, s, v);
    }
  if ((rc = put_table(c, "example_trial", t, err)))
    return rc;
  {
    plx_figure *fig = plx_figure_new(1, 1, 900, 380);
    plx_axes *ax = fig ? plx_figure_axes(fig, 0, 0) : NULL;
    double *o = malloc(2 * st->ex_n * sizeof *o);
    if (ax && o) {
      plx_figure_title(fig, "Example test trial: readout and target");
      for (d = 0; d < no && d < 2; d++) {
        for (i = 0; i < st->ex_n; i++) {
          double y[2];
          plx_task_target(&c->e->task, st->ex_theta[i], y);
          o[i] = st->ex_out[d + i * no];
          o[st->ex_n + i] = y[d];
        }
        plx_axes_line(ax, st->ex_t, o, st->ex_n, (int)d, PLX_SOLID, labels[d]);
        plx_axes_line(ax, st->ex_t, o + st->ex_n, st->ex_n, PLX_C_BLACK,
                      PLX_DASHED, d == 0 ? "target" : NULL);
      }
      plx_axes_xlabel(ax, "time (time units)");
      plx_axes_ylabel(ax, "readout");
    }
    free(o);
    rc = put_figure(c, "example_trial", fig, err);
  }
  return rc;
}

const plx_probe plx_probes[] = {
    {"tuning", "tuning curves: mean and s.d. of each unit per grid angle", probe_tuning},
    {"preferred", "preferred-stimulus histogram and kernel density (bw 0.4)", probe_preferred},
    {"population_rate", "population rate +- s.e.m. across units", probe_population_rate},
    {"bias_variance", "squared bias and variance of the readout per angle (estimation)", probe_bias_variance},
    {"noise_volume", "noise volume fraction det(C_D)/det(C_PCA) per angle", probe_noise_volume},
    {"dprime", "d' of the readout: prior trials and grid pairs (classification)", probe_dprime},
    {"energy", "mean energy E(r, s) per angle (reference and exact)", probe_energy},
    {"currents", "recurrent / input current ratio", probe_currents},
    {"errors", "test error per angle (grid and prior protocols)", probe_errors},
    {"learning_curve", "training objective over time and frozen test error", probe_learning_curve},
    {"example_trial", "readout and target in the first test trial", probe_example},
    {"fisher", "population sensitivity |f'|^2 and linear Fisher information f'^T S^-1 f'", probe_fisher},
    {"segments", "per held stimulus: mean rate, error, energy, readout (replicates)", probe_segments},
    {"activity", "every recorded sample of the first test.record_trials trials (HDF5)", probe_activity},
    {NULL, NULL, NULL}};

int plx_probes_run_all(const plx_probe_ctx *ctx, plx_error *err)
{
  size_t i;
  for (i = 0; plx_probes[i].name; i++) {
    int rc = plx_probes[i].run(ctx, err);
    if (rc == PLX_EUNSUPPORTED)
      continue;
    if (rc) {
      plx_error_prefix(err, "probe %s", plx_probes[i].name);
      return rc;
    }
  }
  return PLX_OK;
}
