/* natimg_report.c -- what the natural-image experiment (natimg.c)
 * reports: the cardinal/oblique contrast of a sensitivity curve, the
 * centre units' preferred orientations, widths and gains, statistics over
 * seeds, sensitivity over training, and every table, HDF5 array, figure
 * and the manifest of its run directory. */
#include "config.h"
#include "plastix/natimg_state.h"
#include "plastix/error.h"
#include "plastix/h5io.h"
#include "plastix/perceptual_units.h"
#include "plastix/plot.h"
#include "plastix/seedstats.h"
#include "plastix/table.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* angular distance in degrees between orientations a and b (period 180) */
static double orient_dist(double a, double b)
{
  double d = fmod(fabs(a - b), 180.0);
  return d > 90.0 ? 180.0 - d : d;
}

/* distance in degrees of orientation th from the nearest cardinal (0, 90)
 * and from the nearest oblique (45, 135) */
static double from_cardinal(double th)
{
  return fmin(orient_dist(th, 0), orient_dist(th, 90));
}

static double from_oblique(double th)
{
  return fmin(orient_dist(th, 45), orient_dist(th, 135));
}

/* cardinal / oblique ratio of sqrt D, the difference c of mean log sqrt D
 * between the two windows and its z-score over the orientations */
void plx_natimg_cardinal_ratio(const natimg *ni, const double *D, double *ratio, double *z,
                           double *contrast)
{
  double sc = 0, so = 0, lc = 0, lo = 0, lc2 = 0, lo2 = 0, nc = 0, no = 0;
  size_t i;
  for (i = 0; i < ni->probe_t; i++) {
    const double th = (double)i * 180.0 / (double)ni->probe_t;
    const double r = sqrt(D[i]), lg = log(r > 1e-300 ? r : 1e-300);
    const double dc = from_cardinal(th), dob = from_oblique(th);
    if (dc <= ni->window + 1e-9) {
      sc += r;
      lc += lg;
      lc2 += lg * lg;
      nc += 1;
    } else if (dob <= ni->window + 1e-9) {
      so += r;
      lo += lg;
      lo2 += lg * lg;
      no += 1;
    }
  }
  *ratio = so > 0 ? (sc / nc) / (so / no) : NAN;
  {
    const double mc = lc / nc, mo = lo / no;
    const double vc = nc > 1 ? (lc2 - nc * mc * mc) / (nc - 1) : 0;
    const double vo = no > 1 ? (lo2 - no * mo * mo) / (no - 1) : 0;
    const double se = sqrt(vc / nc + vo / no);
    *z = se > 0 ? (mc - mo) / se : (mc > mo ? INFINITY : mc < mo ? -INFINITY : 0);
    *contrast = mc - mo;
  }
}

/* ------------------------------------------------------------ outputs */


void plx_natimg_manifest(plx_jw *w, void *vc)
{
  const plx_natimg_manifest_ctx *c = vc;
  size_t i, p;
  int k;
  plx_manifest_invocation(w, "run", c->op->config, c->op->overrides, c->op->n_overrides);
  plx_jw_string(w, "experiment", c->ni->name);
  plx_jw_int(w, "seed", (long long)c->ni->seed0);
  plx_jw_int(w, "seeds", (long long)c->ni->n_seeds);
  plx_jw_int(w, "threads", c->threads);
  plx_jw_string(w, "task", c->ni->denoise ? "natural_images (denoise)"
                                           : "natural_images (photo_id)");
  plx_jw_string(w, "rule", c->ni->pretrained && !c->ni->pretrained_initial
                               ? "none (model.pretrained: trained elsewhere)"
                               : "gradient (backpropagation, SGD with momentum)");
  if (c->ni->pretrained) {
    plx_jw_string(w, "pretrained", c->ni->pretrained_path);
    plx_jw_string(w, "pretrained_group", plx_params_string(plx_params_group(c->ni->root,
                                                                            "model"),
                                                           "pretrained_group"));
    plx_jw_string(w, "pretrained_as", c->ni->pretrained_initial ? "initial" : "trained");
  }
  plx_jw_array_begin(w, "photographs");
  for (i = 0; i < c->ni->n_photos; i++)
    plx_jw_string(w, NULL, c->ni->paths[i]);
  plx_jw_array_end(w);
  plx_jw_int(w, "parameters", (long long)plx_deepnet_params(c->ni->net));
  plx_jw_number(w, "final_loss", c->op->final_loss);
  plx_jw_number(w, "eval_accuracy", c->op->eval_accuracy);
  plx_jw_number(w, "chance", c->op->chance);
  plx_jw_number(w, "photo_orientation_ratio_geomean", c->op->photo_ratio_geomean);
  plx_jw_object_begin(w, "cardinal_oblique_ratio");
  for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++) {
    if (!c->op->measured[k])
      continue;
    plx_jw_object_begin(w, plx_natimg_condition_names[k]);
    for (p = 0; p < c->op->n_probes; p++)
      plx_jw_number(w, c->op->probe_names[p], c->op->ratio[k][p]);
    plx_jw_object_end(w);
  }
  plx_jw_object_end(w);
  plx_manifest_total_and_environment(w, c->seconds);
}

static const int cond_color[PLX_NATIMG_N_CONDITIONS] = {PLX_C_BLUE, PLX_C_BLACK, PLX_C_ORANGE,
                                                         PLX_C_VERMILLION};
static const int cond_style[PLX_NATIMG_N_CONDITIONS] = {PLX_SOLID, PLX_DOTTED, PLX_DASHED,
                                                         PLX_SOLID};

/* A figure with one panel per probed layer, three to a row, titled; panel
 * p is plx_figure_axes(fig, p / 3, p % 3).  NULL when out of memory. */
static plx_figure *layer_figure(const natimg *ni, const char *title)
{
  const size_t P = ni->n_probes;
  const int cols = P < 3 ? (int)P : 3, rows = (int)((P + 2) / 3);
  plx_figure *fig = plx_figure_new(rows, cols, 420.0 * cols, 330.0 * rows + 40);
  if (fig)
    plx_figure_title(fig, title);
  return fig;
}

/* the panel of probed layer p in a layer_figure: titled with the layer's
 * name, x axis labelled and spanning [0, xmax] */
static plx_axes *layer_axes(const natimg *ni, plx_figure *fig, size_t p, const char *xlabel,
                            double xmax)
{
  plx_axes *ax = plx_figure_axes(fig, (int)(p / 3), (int)(p % 3));
  plx_axes_title(ax, ni->net->layers[ni->probes[p]].name);
  plx_axes_xlabel(ax, xlabel);
  plx_axes_xlim(ax, 0, xmax);
  return ax;
}

/* one panel per probed layer: normalised sqrt D against orientation, a
 * line per condition */
static int figure_sensitivity(const natimg *ni, plx_rundir *rd, double *const *sens,
                              const double *th, plx_error *err)
{
  const size_t T = ni->probe_t, P = ni->n_probes;
  plx_figure *fig =
      layer_figure(ni, "Orientation sensitivity of each layer (sqrt D, normalised to sum 1)");
  double *y = malloc(T * sizeof *y);
  size_t p, i;
  int k, rc;
  if (!fig || !y) {
    plx_figure_free(fig);
    free(y);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  for (p = 0; p < P; p++) {
    plx_axes *ax = layer_axes(ni, fig, p, "orientation (deg)", 180);
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++) {
      double z = 0;
      if (!sens[k])
        continue;
      for (i = 0; i < T; i++)
        z += sqrt(sens[k][p * T + i]);
      for (i = 0; i < T; i++)
        y[i] = sqrt(sens[k][p * T + i]) / (z > 0 ? z : 1);
      plx_axes_line(ax, th, y, T, cond_color[k], cond_style[k],
                    p == 0 ? plx_natimg_condition_names[k] : NULL);
    }
    plx_axes_vline(ax, 90.0, PLX_C_BLACK, PLX_DOTTED);
  }
  rc = plx_rundir_figure(rd, "sensitivity", fig, err);
  plx_figure_free(fig);
  free(y);
  return rc;
}

static int figure_training(const natimg *ni, plx_rundir *rd, const train_log *lg,
                           const int *have, plx_error *err)
{
  plx_figure *fig = plx_figure_new(1, 2, 1000, 420);
  double *st = malloc((size_t)ni->steps * sizeof *st);
  size_t i;
  int c, rc;
  if (!fig || !st) {
    plx_figure_free(fig);
    free(st);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  for (i = 0; i < (size_t)ni->steps; i++)
    st[i] = (double)i;
  for (c = 0; c < 2; c++) {
    const int cond = c ? PLX_NATIMG_ROTATED : PLX_NATIMG_TRAINED;
    if (!have[c])
      continue;
    plx_axes_line(plx_figure_axes(fig, 0, 0), st, lg[c].loss, (size_t)ni->steps,
                  cond_color[cond], PLX_SOLID, plx_natimg_condition_names[cond]);
    plx_axes_line(plx_figure_axes(fig, 0, 1), lg[c].eval_step, lg[c].eval_acc, lg[c].n_eval,
                  cond_color[cond], PLX_SOLID, plx_natimg_condition_names[cond]);
  }
  plx_axes_hline(plx_figure_axes(fig, 0, 1), ni->denoise ? 0.0 : 1.0 / (double)ni->n_photos,
                 PLX_C_BLACK, PLX_DOTTED);
  plx_axes_title(plx_figure_axes(fig, 0, 0), ni->denoise ? "training loss (squared error)"
                                                         : "training loss (cross-entropy)");
  plx_axes_xlabel(plx_figure_axes(fig, 0, 0), "step");
  plx_axes_title(plx_figure_axes(fig, 0, 1),
                 ni->denoise ? "variance of held-out targets explained (dotted: 0)"
                             : "accuracy on held-out crops (dotted: chance)");
  plx_axes_xlabel(plx_figure_axes(fig, 0, 1), "step");
  rc = plx_rundir_figure(rd, "training", fig, err);
  plx_figure_free(fig);
  free(st);
  return rc;
}

int plx_natimg_write_outputs(natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                         double *const *sens, const train_log *lg, const int *have,
                         plx_deepnet_weights *const *wsnap, plx_error *err)
{
  plx_h5 *h = plx_rundir_h5(rd);
  const size_t T = ni->probe_t;
  static const char *const sn[] = {"condition", "layer", "theta_deg", "D", "sqrtD_normalised"};
  static const char *const rn[] = {"condition", "layer", "cardinal_oblique_ratio", "z"};
  static const char *const tn[] = {"condition", "step", "loss"};
  static const char *const en_id[] = {"condition", "step", "heldout_accuracy"};
  static const char *const en_dn[] = {"condition", "step", "heldout_r2"};
  const char *const *en = ni->denoise ? en_dn : en_id;
  static const char *const pn[] = {"photo", "cardinal_energy", "oblique_energy", "ratio"};
  plx_table *ts = plx_table_new(5, sn, "ssfff"), *tr = plx_table_new(4, rn, "ssff");
  plx_table *tt = plx_table_new(3, tn, "sif"), *te = plx_table_new(3, en, "sif");
  plx_table *tp = plx_table_new(4, pn, "sfff");
  double *th = malloc(T * sizeof *th);
  size_t p, i;
  int k, rc = PLX_OK;
  char path[256];
  if (!ts || !tr || !tt || !te || !tp || !th) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  for (i = 0; i < T; i++)
    th[i] = (double)i * 180.0 / (double)T;
  for (i = 0; i < ni->n_photos; i++) {
    const char *s[1] = {ni->paths[i]};
    const photo *f = &ni->ph[i];
    double v[3] = {f->e_card, f->e_obl, f->e_obl > 0 ? f->e_card / f->e_obl : NAN};
    plx_table_append(tp, s, v);
  }
  for (k = 0; k < PLX_NATIMG_N_CONDITIONS && !rc; k++) {
    if (!sens[k])
      continue;
    for (p = 0; p < ni->n_probes && !rc; p++) {
      const char *ln = ni->net->layers[ni->probes[p]].name;
      const char *s[2] = {plx_natimg_condition_names[k], ln};
      double z = 0;
      for (i = 0; i < T; i++)
        z += sqrt(sens[k][p * T + i]);
      for (i = 0; i < T; i++) {
        double v[3] = {th[i], sens[k][p * T + i], sqrt(sens[k][p * T + i]) / (z > 0 ? z : 1)};
        plx_table_append(ts, s, v);
      }
      {
        double v[2] = {op->ratio[k][p], op->z[k][p]};
        plx_table_append(tr, s, v);
      }
      snprintf(path, sizeof path, "/natural_images/%s/%s/D", plx_natimg_condition_names[k], ln);
      rc = plx_h5_write_vector(h, path, sens[k] + p * T, T, err);
    }
  }
  for (k = 0; k < 2; k++) {
    const char *s[1] = {plx_natimg_condition_names[k ? PLX_NATIMG_ROTATED : PLX_NATIMG_TRAINED]};
    if (!have[k])
      continue;
    for (i = 0; i < (size_t)ni->steps; i++) {
      double v[2] = {(double)i, lg[k].loss[i]};
      plx_table_append(tt, s, v);
    }
    for (i = 0; i < lg[k].n_eval; i++) {
      double v[2] = {lg[k].eval_step[i], lg[k].eval_acc[i]};
      plx_table_append(te, s, v);
    }
    snprintf(path, sizeof path, "/train/%s/loss", s[0]);
    if (!rc) rc = plx_h5_write_vector(h, path, lg[k].loss, (size_t)ni->steps, err);
    snprintf(path, sizeof path, "/train/%s/%s", s[0], en[2]);
    if (!rc) rc = plx_h5_write_vector(h, path, lg[k].eval_acc, lg[k].n_eval, err);
  }
  if (!rc) rc = plx_h5_write_vector(h, "/natural_images/theta_deg", th, T, err);
  /* weights: the initial ones, the trained ones (for perceptual learning)
   * and the rotated-training ones */
  {
    static const char *const wn[3] = {"/weights/initial", "/weights/trained", "/weights/rotated"};
    plx_deepnet_weights *keep = plx_deepnet_weights_new(ni->net);
    if (!keep && !rc)
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    if (keep) {
      for (k = 0; k < 3 && !rc; k++)
        if (wsnap[k]) {
          plx_deepnet_weights_set(ni->net, wsnap[k]);
          rc = plx_deepnet_save(ni->net, h, wn[k], err);
        }
      plx_deepnet_weights_set(ni->net, keep);
      plx_deepnet_weights_free(keep);
    }
  }
  if (!rc) rc = plx_rundir_table(rd, "sensitivity", ts, err);
  if (!rc) rc = plx_rundir_table(rd, "cardinal_ratio", tr, err);
  if (!rc) rc = plx_rundir_table(rd, "training", tt, err);
  if (!rc) rc = plx_rundir_table(rd, "heldout", te, err);
  if (!rc) rc = plx_rundir_table(rd, "photo_orientation", tp, err);
  if (!rc) rc = figure_sensitivity(ni, rd, sens, th, err);
  if (!rc) rc = figure_training(ni, rd, lg, have, err);
out:
  plx_table_free(ts);
  plx_table_free(tr);
  plx_table_free(tt);
  plx_table_free(te);
  plx_table_free(tp);
  free(th);
  return rc;
}

/* Statistics over seeds of a per-seed measure x[(s * N_CONDITIONS + k) * P
 * + p] (the log contrast c, or a measure of the centre units): for the trained
 * condition x itself, for every other condition the paired difference
 * x_trained - x_k, over the seeds where both are numbers (a seed without
 * the condition has NaN there); Student's t with n - 1 degrees of freedom. */
void plx_natimg_seed_statistics(size_t n_seeds, size_t n_probes, const int *measured,
                                const double *x, plx_natimg_seed_stats *st)
{
  const size_t P = n_probes, K = PLX_NATIMG_N_CONDITIONS;
  double *d = malloc((n_seeds + 1) * sizeof *d);
  size_t s, p;
  int k;
  for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++)
    for (p = 0; p < P; p++) {
      plx_seed_stat one;
      st->n[k][p] = 0;
      if (!d || !measured[k] || !measured[PLX_NATIMG_TRAINED])
        continue;
      for (s = 0; s < n_seeds; s++)
        d[s] = x[(s * K + PLX_NATIMG_TRAINED) * P + p] -
               (k == PLX_NATIMG_TRAINED ? 0.0 : x[(s * K + (size_t)k) * P + p]);
      plx_seed_stat_of(d, n_seeds, 1, &one);
      st->n[k][p] = one.n;
      st->mean[k][p] = one.mean;
      st->sd[k][p] = one.sd;
      st->t[k][p] = one.t;
      st->p[k][p] = one.p;
      st->positive[k][p] = one.positive;
      st->p_sign[k][p] = one.p_sign;
    }
  free(d);
}

/* The statistics over seeds as rows of a table: per layer and comparison
 * (the trained network, or trained - <condition>) n, mean, s.d., sem, t,
 * p, seeds positive and the sign test's p; after the layer, the measure's
 * name when measure is not NULL. */
static int stats_rows(plx_table *tt, const plx_natimg_opts *op, const plx_natimg_seed_stats *st,
                      const char *measure)
{
  char cmp[64];
  size_t p;
  int k, rc = PLX_OK;
  for (p = 0; p < op->n_probes && !rc; p++)
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS && !rc; k++) {
      const char *str[3] = {op->probe_names[p], measure ? measure : cmp, cmp};
      const double n = (double)st->n[k][p];
      double v[8];
      if (!op->measured[k] || !op->measured[PLX_NATIMG_TRAINED])
        continue;
      snprintf(cmp, sizeof cmp, k == PLX_NATIMG_TRAINED ? "trained" : "trained - %s",
               plx_natimg_condition_names[k]);
      v[0] = n;
      v[1] = st->mean[k][p];
      v[2] = st->sd[k][p];
      v[3] = st->sd[k][p] / sqrt(n);
      v[4] = st->t[k][p];
      v[5] = st->p[k][p];
      v[6] = (double)st->positive[k][p];
      v[7] = st->p_sign[k][p];
      rc = plx_table_append(tt, str, v);
    }
  return rc;
}

int plx_natimg_write_statistics(const plx_natimg_opts *op, plx_rundir *rd, plx_error *err)
{
  static const char *const tn[] = {"layer", "comparison", "n", "mean", "sd", "sem", "t",
                                   "p_two_sided", "n_positive", "p_sign"};
  static const char *const qn[] = {"layer", "measure", "comparison", "n", "mean", "sd", "sem",
                                   "t", "p_two_sided", "n_positive", "p_sign"};
  plx_table *tt = plx_table_new(10, tn, "ssifffffif");
  plx_table *tq = plx_table_new(11, qn, "sssifffffif");
  int m, rc = PLX_OK;
  if (!tt || !tq || stats_rows(tt, op, &op->seed_contrast, NULL))
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
  for (m = 0; m < PLX_NATIMG_N_UNIT_MEASURES && !rc; m++)
    if (stats_rows(tq, op, &op->seed_units[m], plx_natimg_unit_measures[m]))
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
  if (!rc) rc = plx_rundir_table(rd, "seed_statistics", tt, err);
  if (!rc) rc = plx_rundir_table(rd, "preferred_statistics", tq, err);
  plx_table_free(tt);
  plx_table_free(tq);
  return rc;
}

/* tables/seeds.csv, every seed's D in results.h5
 * (/natural_images/seeds/<condition>/<layer>/D: orientation x seed), and
 * with more than one seed the tables of the statistics over them */
int plx_natimg_write_seed_outputs(const natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                              const double *sens_all, const double *ratio, const double *zs,
                              const double *con, plx_error *err)
{
  static const char *const sn[] = {"seed", "condition", "layer", "cardinal_oblique_ratio",
                                   "log_contrast", "z"};
  const size_t n = ni->n_seeds, P = ni->n_probes, T = ni->probe_t, K = PLX_NATIMG_N_CONDITIONS;
  plx_table *ts = plx_table_new(6, sn, "issfff");
  plx_h5 *h = plx_rundir_h5(rd);
  double *seeds = malloc(n * sizeof *seeds);
  char path[256];
  size_t s, p;
  int k, rc = PLX_OK;
  if (!ts || !seeds) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  for (s = 0; s < n; s++) {
    seeds[s] = (double)(ni->seed0 + s);
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++)
      for (p = 0; p < P && op->measured[k]; p++) {
        const size_t i = (s * K + (size_t)k) * P + p;
        const char *str[2] = {plx_natimg_condition_names[k], op->probe_names[p]};
        double v[4] = {seeds[s], ratio[i], con[i], zs[i]};
        plx_table_append(ts, str, v);
      }
  }
  for (k = 0; k < PLX_NATIMG_N_CONDITIONS && !rc; k++)
    for (p = 0; p < P && op->measured[k] && !rc; p++) {
      snprintf(path, sizeof path, "/natural_images/seeds/%s/%s/D", plx_natimg_condition_names[k],
               op->probe_names[p]);
      rc = plx_h5_write_matrix(h, path, sens_all + ((size_t)k * P + p) * T, T, n, K * P * T, err);
    }
  if (!rc) rc = plx_h5_write_vector(h, "/natural_images/seeds/seed", seeds, n, err);
  if (!rc) rc = plx_rundir_table(rd, "seeds", ts, err);
  if (!rc && n > 1) rc = plx_natimg_write_statistics(op, rd, err);
out:
  plx_table_free(ts);
  free(seeds);
  return rc;
}

/* A centre unit's tuning curve f over the T probe orientations: the index
 * of its largest value (the first, on ties) and its maximum and minimum. */
static size_t tuning_peak(const double *f, size_t T, double *mx, double *mn)
{
  size_t i, im = 0;
  *mx = *mn = f[0];
  for (i = 1; i < T; i++) {
    if (f[i] > *mx) {
      *mx = f[i];
      im = i;
    }
    if (f[i] < *mn)
      *mn = f[i];
  }
  return im;
}

/* figures/preferred: per probed layer, the tuned centre units of every
 * seed by the distance of their preferred orientation pref (degrees, NAN
 * for units without a tuning; laid out as the tuning rows) from the
 * nearest cardinal, in 9 bins of 5 degrees, as a share relative to
 * preferences spread evenly over the probe grid (1 = even), one line per
 * condition. */
static int figure_preferred(const natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                            const double *pref, plx_error *err)
{
  const size_t T = ni->probe_t, P = ni->n_probes, K = PLX_NATIMG_N_CONDITIONS;
  const size_t U = ni->tune_off[P];
  plx_figure *fig = layer_figure(ni, "Preferred orientations of the centre units, all seeds "
                                     "(share per 5-degree bin of distance from a cardinal; "
                                     "1 = even)");
  double x[9], y[9], grid[9] = {0};
  size_t p, s, u, i, b;
  int k, rc;
  if (!fig)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  for (i = 0; i < T; i++)
    grid[(size_t)fmin(from_cardinal((double)i * 180.0 / (double)T) / 5.0, 8.0)] +=
        1.0 / (double)T;
  for (b = 0; b < 9; b++)
    x[b] = 5.0 * (double)b + 2.5;
  for (p = 0; p < P; p++) {
    plx_axes *ax = layer_axes(ni, fig, p, "distance from the nearest cardinal (deg)", 45);
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++) {
      double h[9] = {0}, n = 0;
      if (!op->measured[k])
        continue;
      for (s = 0; s < ni->n_seeds; s++)
        for (u = ni->tune_off[p]; u < ni->tune_off[p + 1]; u++) {
          const double d = pref[(s * K + (size_t)k) * U + u];
          if (isnan(d))
            continue;
          h[(size_t)fmin(from_cardinal(d) / 5.0, 8.0)] += 1;
          n += 1;
        }
      for (b = 0; b < 9; b++)
        y[b] = n > 0 && grid[b] > 0 ? h[b] / n / grid[b] : 0.0;
      plx_axes_line(ax, x, y, 9, cond_color[k], cond_style[k],
                    p == 0 ? plx_natimg_condition_names[k] : NULL);
    }
    plx_axes_hline(ax, 1.0, PLX_C_BLACK, PLX_DOTTED);
  }
  rc = plx_rundir_figure(rd, "preferred", fig, err);
  plx_figure_free(fig);
  return rc;
}

/* Preferred orientations and tuning widths of the probed layers' centre
 * units, every seed and condition: tables/preferred_orientation.csv (per
 * unit: the probe orientation of its largest phase-averaged response, that
 * response, its modulation (max - min) / max and its half-width at
 * half-height), tables/preferred_summary.csv (per seed, condition and
 * layer: units, units with a tuning (max > min, max > 0), how many of
 * those prefer an orientation within probe.window of a cardinal and of an
 * oblique -- equal windows, so equal counts expected from preferences
 * spread evenly; that excess e -- the tuned units' median half-width, the
 * log contrast c of the centre units' own sensitivity csens, as
 * cardinal_ratio gives it for the whole layer's, and the same excess
 * weighted by each unit's squared tuning amplitude (max - min)^2, its gain
 * in D), and the first seed's tuning curves in results.h5
 * (/natural_images/<condition>/<layer>/tuning: orientation x unit).  The
 * per-seed measures go to measures[((m * n_seeds + s) * N_CONDITIONS + k) *
 * P + p] for m in plx_natimg_unit_measures' order. */
int plx_natimg_write_preferred(const natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                           const double *tune_all, const double *csens_all, double *measures,
                           plx_error *err)
{
  static const char *const un[] = {"seed",     "condition",    "layer",      "unit",
                                   "pref_deg", "max_response", "modulation", "half_width_deg"};
  static const char *const sn[] = {"seed",     "condition",
                                   "layer",    "units",
                                   "tuned",    "cardinal",
                                   "oblique",  "cardinal_minus_oblique",
                                   "median_half_width_deg", "centre_contrast",
                                   "gain_cardinal_minus_oblique"};
  const size_t T = ni->probe_t, K = PLX_NATIMG_N_CONDITIONS, U = ni->tune_off[ni->n_probes];
  plx_table *tu = plx_table_new(8, un, "issiffff"), *ts = plx_table_new(11, sn, "issiiiiffff");
  plx_h5 *h = plx_rundir_h5(rd);
  double *tuned_pref = malloc(ni->n_seeds * K * U * sizeof *tuned_pref);
  double *width = malloc(U * sizeof *width);
  char path[256];
  size_t s, p, u;
  int k, rc = PLX_OK;
  if (!tu || !ts || !tuned_pref || !width) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  for (s = 0; s < ni->n_seeds; s++)
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++) {
      if (!op->measured[k])
        continue;
      for (p = 0; p < ni->n_probes; p++) {
        const plx_layer *l = &ni->net->layers[ni->probes[p]];
        const char *str[2] = {plx_natimg_condition_names[k], l->name};
        const size_t row0 = (s * K + (size_t)k) * U + ni->tune_off[p];
        const double *f0 = tune_all + row0 * T;
        size_t tuned = 0, card = 0, obl = 0;
        double ratio, z, centre_c, g_all = 0, g_card = 0, g_obl = 0;
        for (u = 0; u < l->out_c; u++) {
          double mx, mn;
          const double pref = (double)tuning_peak(f0 + u * T, T, &mx, &mn) * 180.0 / (double)T;
          const double hw = plx_tuning_half_width(f0 + u * T, T);
          {
            double v[6] = {(double)(ni->seed0 + s), (double)u, pref, mx,
                           mx > 0 ? (mx - mn) / mx : 0.0, hw};
            plx_table_append(tu, str, v);
          }
          tuned_pref[row0 + u] = NAN;
          if (mx > 0 && mx > mn) {
            const int is_card = from_cardinal(pref) <= ni->window + 1e-9;
            const int is_obl = from_oblique(pref) <= ni->window + 1e-9;
            const double g = (mx - mn) * (mx - mn);
            width[tuned++] = hw;
            card += is_card;
            obl += is_obl;
            g_all += g;
            g_card += is_card ? g : 0.0;
            g_obl += is_obl ? g : 0.0;
            tuned_pref[row0 + u] = pref;
          }
        }
        gsl_sort(width, 1, tuned);
        plx_natimg_cardinal_ratio(ni, csens_all + ((s * K + (size_t)k) * ni->n_probes + p) * T,
                                  &ratio, &z, &centre_c);
        {
          double v[9] = {(double)(ni->seed0 + s),
                         (double)l->out_c,
                         (double)tuned,
                         (double)card,
                         (double)obl,
                         tuned ? ((double)card - (double)obl) / (double)tuned : NAN,
                         tuned ? gsl_stats_median_from_sorted_data(width, 1, tuned) : NAN,
                         centre_c,
                         g_all > 0 ? (g_card - g_obl) / g_all : NAN};
          const size_t i = (s * K + (size_t)k) * ni->n_probes + p;
          const size_t NKP = ni->n_seeds * K * ni->n_probes; /* one measure's block */
          plx_table_append(ts, str, v);
          measures[PLX_NATIMG_PREFERENCE * NKP + i] = v[5];
          measures[PLX_NATIMG_HALF_WIDTH * NKP + i] = v[6];
          measures[PLX_NATIMG_CENTRE * NKP + i] = v[7];
          measures[PLX_NATIMG_GAIN * NKP + i] = v[8];
        }
        if (s == 0 && !rc) {
          snprintf(path, sizeof path, "/natural_images/%s/%s/tuning",
                   plx_natimg_condition_names[k], l->name);
          rc = plx_h5_write_matrix(h, path, f0, T, l->out_c, T, err);
        }
      }
    }
  if (!rc) rc = plx_rundir_table(rd, "preferred_orientation", tu, err);
  if (!rc) rc = plx_rundir_table(rd, "preferred_summary", ts, err);
  if (!rc) rc = figure_preferred(ni, op, rd, tuned_pref, err);
out:
  plx_table_free(tu);
  plx_table_free(ts);
  free(tuned_pref);
  free(width);
  return rc;
}

/* Sensitivity over training (probe.steps), every seed's trained and
 * rotated networks as they learn, ck[((s * N_CONDITIONS + k) * n_ckpt + c)
 * * P * T + p * T + i]: tables/sensitivity_over_training.csv (per seed,
 * condition, step and layer: the cardinal/oblique ratio of sqrt D, the log
 * contrast c and its z over orientations), the first seed's D in
 * results.h5 (/natural_images/<condition>/<layer>/D_over_training:
 * orientation x step; the steps in /natural_images/probe_steps) and
 * figures/sensitivity_over_training (per layer, c against the step, mean
 * and s.e.m. over seeds, a line per condition). */
int plx_natimg_write_over_training(const natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                               const double *ck, plx_error *err)
{
  static const char *const cn[] = {"seed", "step", "condition", "layer",
                                   "cardinal_oblique_ratio", "log_contrast", "z"};
  static const int trained_k[2] = {PLX_NATIMG_TRAINED, PLX_NATIMG_ROTATED};
  const size_t n = ni->n_seeds, NC = ni->n_ckpt, P = ni->n_probes, T = ni->probe_t;
  plx_table *tc = plx_table_new(7, cn, "iissfff");
  plx_figure *fig = layer_figure(ni, "Sensitivity over training: log contrast c of sqrt D, "
                                     "cardinal minus oblique (mean and s.e.m. over seeds)");
  plx_h5 *h = plx_rundir_h5(rd);
  double *x = malloc(NC * sizeof *x), *c = malloc(n * NC * sizeof *c);
  double *m = malloc(3 * NC * sizeof *m);
  char path[256];
  size_t s, p, j;
  int q, rc = PLX_OK;
  if (!tc || !fig || !x || !c || !m) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  for (j = 0; j < NC; j++)
    x[j] = (double)ni->ckpt[j];
  rc = plx_h5_write_vector(h, "/natural_images/probe_steps", x, NC, err);
  for (p = 0; p < P && !rc; p++) {
    plx_axes *ax = layer_axes(ni, fig, p, "training step", (double)ni->steps);
    for (q = 0; q < 2 && !rc; q++) {
      const int k = trained_k[q];
      const char *str[2] = {plx_natimg_condition_names[k],
                            ni->net->layers[ni->probes[p]].name};
      if (!op->measured[k] && !(k == PLX_NATIMG_TRAINED && op->measured[PLX_NATIMG_SHUFFLED]))
        continue;
      for (s = 0; s < n && !rc; s++)
        for (j = 0; j < NC && !rc; j++) {
          double v[5] = {(double)(ni->seed0 + s), x[j]};
          plx_natimg_cardinal_ratio(ni, ck + ((s * 2 + (size_t)q) * NC + j) * P * T + p * T,
                                    &v[2], &v[4], &v[3]);
          c[s * NC + j] = v[3];
          rc = plx_table_append(tc, str, v);
        }
      for (j = 0; j < NC; j++) {
        double mean = 0, var = 0;
        for (s = 0; s < n; s++)
          mean += c[s * NC + j] / (double)n;
        for (s = 0; s < n; s++)
          var += (c[s * NC + j] - mean) * (c[s * NC + j] - mean);
        var = n > 1 ? var / (double)(n - 1) / (double)n : 0.0; /* s.e.m.^2 */
        m[j] = mean;
        m[NC + j] = mean - sqrt(var);
        m[2 * NC + j] = mean + sqrt(var);
      }
      if (n > 1)
        plx_axes_band(ax, x, m + NC, m + 2 * NC, NC, cond_color[k]);
      plx_axes_line(ax, x, m, NC, cond_color[k], cond_style[k],
                    p == 0 ? plx_natimg_condition_names[k] : NULL);
      snprintf(path, sizeof path, "/natural_images/%s/%s/D_over_training",
               plx_natimg_condition_names[k], ni->net->layers[ni->probes[p]].name);
      if (!rc)
        rc = plx_h5_write_matrix(h, path, ck + (size_t)q * NC * P * T + p * T, T, NC, P * T, err);
    }
    plx_axes_hline(ax, 0.0, PLX_C_BLACK, PLX_DOTTED);
  }
  if (!rc) rc = plx_rundir_table(rd, "sensitivity_over_training", tc, err);
  if (!rc) rc = plx_rundir_figure(rd, "sensitivity_over_training", fig, err);
out:
  plx_table_free(tc);
  plx_figure_free(fig);
  free(x);
  free(c);
  free(m);
  return rc;
}

