/* perceptual_report.c -- reductions of a perceptual-learning run: the
 * paper's comparisons as effects with z-scores over matched conditions,
 * peak-speed iterations, tidy tables, HDF5 arrays and figures.  See
 * plastix/perceptual_results.h. */
#include "config.h"
#include "plastix/perceptual_results.h"
#include "plastix/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const plx_pl_test_names[PLX_PL_N_TESTS] = {"trained", "ori+45", "ori+90",
                                                       "sf*0.5", "sf*2"};
const char *const plx_pl_change_names[PLX_PL_N_CHANGE] = {"d_rel1", "d_rel2", "d_m1",
                                                          "d_m2"};

long plx_pl_peak_speed(const double *d, long T, long window)
{
  long t, best = 1, h = window / 2;
  double bv = -INFINITY;
  for (t = 1; t <= T; t++) {
    long a = t - h < 1 ? 1 : t - h, b = t + h > T ? T : t + h, s;
    double m = 0;
    for (s = a; s <= b; s++)
      m += d[s] - d[s - 1];
    m /= (double)(b - a + 1);
    if (m > bv) {
      bv = m;
      best = t;
    }
  }
  return best;
}

/* ---------------------------------------------------------------- effects */

void plx_pl_effect_from(plx_pl_effect *e, const char *name, const char *over,
                        const double *v, size_t n)
{
  double m = 0, s = 0;
  size_t i, k = 0;
  snprintf(e->name, sizeof e->name, "%s", name);
  snprintf(e->over, sizeof e->over, "%s", over);
  for (i = 0; i < n; i++)
    if (isfinite(v[i])) {
      m += v[i];
      k++;
    }
  e->n = k;
  if (k < 2) {
    e->mean = k ? m : NAN;
    e->sem = e->z = NAN;
    return;
  }
  m /= (double)k;
  for (i = 0; i < n; i++)
    if (isfinite(v[i]))
      s += (v[i] - m) * (v[i] - m);
  e->mean = m;
  e->sem = sqrt(s / (double)(k - 1) / (double)k);
  e->z = e->sem > 0 ? m / e->sem : (m > 0 ? INFINITY : m < 0 ? -INFINITY : NAN);
}

/* condition of group g at separation index s */
static size_t cond_of(const plx_pl_results *r, size_t g, size_t s)
{
  return s * r->n_groups + g;
}

static size_t log_index(const plx_pl_results *r, long it)
{
  size_t k;
  for (k = 0; k < r->n_log; k++)
    if (r->log_iter[k] >= it)
      return k;
  return r->n_log - 1;
}

/* final accuracy on test set ts (at the trained separation): the paper's
 * Fig. 2B compares these, not the transfer index, whose denominator (the
 * trained accuracy) differs between precisions */
static double transfer_acc(const plx_pl_results *r, size_t c, int ts)
{
  return PLX_PL_ACC(r, c, ts, r->n_log - 1);
}

/* distance between orientations in degrees, in [0, 90] */
static double ori_dist(double a, double b)
{
  double d = fmod(fabs(a - b), 180.0);
  return d > 90.0 ? 180.0 - d : d;
}

/* log of (mean FI trained / mean FI naive) over orientations within
 * [lo, hi] degrees of the trained orientation, probed layer l */
static double fi_gain(const plx_pl_results *r, size_t c, size_t l, double lo, double hi)
{
  const double *ft = r->fi_trained + (c * r->n_pl + l) * r->n_ori,
               *fn = r->fi_naive + l * r->n_ori;
  double st = 0, sn = 0;
  size_t k, n = 0;
  for (k = 0; k < r->n_ori; k++) {
    double d = ori_dist((double)k * 180.0 / (double)r->n_ori, r->cond[c].ref_deg);
    if (d < lo || d > hi || !isfinite(ft[k]) || !isfinite(fn[k]))
      continue;
    st += ft[k];
    sn += fn[k];
    n++;
  }
  return n && st > 0 && sn > 0 ? log(st / sn) : NAN;
}

/* The paper's unit comparisons (its Figs. 6-8): the change trained -
 * naive of a unit's attributes, for units included in both states.
 * Measures: the attributes of plx_unit_attr; |pref_rel| (negative: pulled
 * toward the trained orientation); and the slope change of the units
 * whose naive preference is 12 to 20 degrees from the trained orientation
 * (NaN for the others; the low layers' signature of fine training). */
enum { UC_AMP, UC_SI, UC_HW, UC_SLOPE, UC_FANO, UC_BEST, UC_PULL, UC_FLANK, UC_N };
static const char *const uc_names[UC_N] = {"amplitude", "si", "half_width_deg", "slope", "fano",
                                           "best_disc", "abs_pref_rel_deg", "slope_flank_12_20"};

/* unit u of probed layer l in condition c: 0 when not included before and
 * after, else 1 and its changes d[UC_N] (NaN where undefined) */
static int unit_deltas(const plx_pl_results *r, size_t c, size_t l, size_t u, double *d)
{
  plx_unit_attr a0, a1;
  plx_unit_attributes(&r->naive[l], u, r->cond[c].ref_deg, r->smooth_deg, r->min_activation,
                      &a0);
  plx_unit_attributes(&r->trained[c * r->n_pl + l], u, r->cond[c].ref_deg, r->smooth_deg,
                      r->min_activation, &a1);
  if (!a0.included || !a1.included)
    return 0;
  d[UC_AMP] = a1.amplitude - a0.amplitude;
  d[UC_SI] = a1.si - a0.si;
  d[UC_HW] = a1.half_width - a0.half_width;
  d[UC_SLOPE] = a1.slope - a0.slope;
  d[UC_FANO] = a1.fano - a0.fano;
  d[UC_BEST] = a1.best_disc - a0.best_disc;
  d[UC_PULL] = fabs(a1.pref_rel) - fabs(a0.pref_rel);
  d[UC_FLANK] = fabs(a0.pref_rel) >= 12.0 && fabs(a0.pref_rel) <= 20.0 ? d[UC_SLOPE] : NAN;
  return 1;
}

/* condition c: the mean over the units of probed layers l0 .. l1 - 1
 * (pooled) of every change with a value, out[UC_N] (NaN: none) */
static void unit_changes_of(const plx_pl_results *r, size_t c, size_t l0, size_t l1,
                            double *out)
{
  double sum[UC_N] = {0}, n[UC_N] = {0}, d[UC_N];
  size_t l, u, m;
  for (l = l0; l < l1; l++)
    for (u = 0; u < r->n_units[l]; u++)
      if (unit_deltas(r, c, l, u, d))
        for (m = 0; m < UC_N; m++)
          if (isfinite(d[m])) {
            sum[m] += d[m];
            n[m] += 1;
          }
  for (m = 0; m < UC_N; m++)
    out[m] = n[m] > 0 ? sum[m] / n[m] : NAN;
}

/* Every condition's changes pooled over the low layers (uc[(c * 2) *
 * UC_N + m]) and over the high layers (uc[(c * 2 + 1) * UC_N + m]): each
 * unit's attributes are computed once here, not once per effect.  NULL
 * when out of memory. */
static double *pooled_unit_changes(const plx_pl_results *r)
{
  double *uc = malloc(r->n_cond * 2 * UC_N * sizeof *uc);
  size_t c;
  if (!uc)
    return NULL;
  for (c = 0; c < r->n_cond; c++) {
    unit_changes_of(r, c, 0, r->high_from, uc + c * 2 * UC_N);
    unit_changes_of(r, c, r->high_from, r->n_pl, uc + (c * 2 + 1) * UC_N);
  }
  return uc;
}

/* The unit effects of the high layers: each a difference the paper
 * predicts positive (sign +1 for a predicted rise of the measure, -1 for
 * a fall), at the finest or the coarsest separation */
static const struct {
  int effect, measure, sign, coarse;
  const char *name;
} high_effects[] = {
    {PLX_PL_SI_UP, UC_SI, 1, 0, "si_trained_minus_naive_high_fine"},
    {PLX_PL_FANO_DOWN, UC_FANO, -1, 0, "fano_naive_minus_trained_high_fine"},
    {PLX_PL_AMP_UP_FINE, UC_AMP, 1, 0, "amplitude_trained_minus_naive_high_fine"},
    {PLX_PL_AMP_UP_COARSE, UC_AMP, 1, 1, "amplitude_trained_minus_naive_high_coarse"},
    {PLX_PL_SLOPE_UP_FINE, UC_SLOPE, 1, 0, "slope_trained_minus_naive_high_fine"},
    {PLX_PL_SLOPE_UP_COARSE, UC_SLOPE, 1, 1, "slope_trained_minus_naive_high_coarse"},
    {PLX_PL_PULL_FINE, UC_PULL, -1, 0, "pref_pulled_toward_trained_high_fine"},
    {PLX_PL_PULL_COARSE, UC_PULL, -1, 1, "pref_pulled_toward_trained_high_coarse"},
    {PLX_PL_BEST_DOWN_FINE, UC_BEST, -1, 0, "best_disc_naive_minus_trained_high_fine"},
    {PLX_PL_BEST_DOWN_COARSE, UC_BEST, -1, 1, "best_disc_naive_minus_trained_high_coarse"}};
#define N_HIGH_EFFECTS (sizeof high_effects / sizeof high_effects[0])

/* Fig. 2B: final accuracy in each transfer test, coarse - fine (the paper:
 * a positive effect of log separation in all four) */
static const struct {
  int effect, test;
  const char *name;
} transfer_effects[] = {
    {PLX_PL_TRANSFER45_COARSE, PLX_PL_TEST_ORI45, "transfer45_coarse_minus_fine"},
    {PLX_PL_TRANSFER90_COARSE, PLX_PL_TEST_ORI90, "transfer90_coarse_minus_fine"},
    {PLX_PL_TRANSFER_SF_HALF_COARSE, PLX_PL_TEST_SF_HALF, "transfer_sf_half_coarse_minus_fine"},
    {PLX_PL_TRANSFER_SF_DOUBLE_COARSE, PLX_PL_TEST_SF_DOUBLE,
     "transfer_sf_double_coarse_minus_fine"}};
#define N_TRANSFER_EFFECTS (sizeof transfer_effects / sizeof transfer_effects[0])

void plx_pl_effects(plx_pl_results *r)
{
  const size_t G = r->n_groups, fine = 0, coarse = r->n_sep - 1;
  const size_t k1 = log_index(r, 1), ke = log_index(r, r->early_iter);
  double *v = calloc(r->n_cond + G + 1, sizeof *v), *uc = NULL;
  size_t g, i;
  for (i = 0; i < PLX_PL_N_EFFECTS; i++) {
    memset(&r->effects[i], 0, sizeof r->effects[i]);
    r->effects[i].mean = r->effects[i].sem = r->effects[i].z = NAN;
  }
  if (!v)
    return;
  snprintf(r->effects[PLX_PL_START_COARSE].name, 64, "start_coarse_minus_fine");
  snprintf(r->effects[PLX_PL_RISE_COARSE].name, 64, "early_rise_coarse_minus_fine");
  for (i = 0; i < N_TRANSFER_EFFECTS; i++)
    snprintf(r->effects[transfer_effects[i].effect].name, 64, "%s", transfer_effects[i].name);
  snprintf(r->effects[PLX_PL_TRANSFER_45_90].name, 64, "transfer45_minus_transfer90");
  snprintf(r->effects[PLX_PL_CHANGE_LOWER].name, 64, "fine_change_toward_lower_layers");
  snprintf(r->effects[PLX_PL_FI_TOP].name, 64, "fi_gain_top_minus_bottom_fine");
  snprintf(r->effects[PLX_PL_FI_NEAR].name, 64, "fi_gain_near_minus_far_top_fine");
  for (i = 0; i < N_HIGH_EFFECTS; i++)
    snprintf(r->effects[high_effects[i].effect].name, 64, "%s", high_effects[i].name);
  snprintf(r->effects[PLX_PL_FLANK_LOW].name, 64, "flank_slope_low_fine_minus_coarse");
  if (r->n_sep >= 2) {
    for (g = 0; g < G; g++) {
      size_t cf = cond_of(r, g, fine), cc = cond_of(r, g, coarse);
      v[g] = PLX_PL_ACC(r, cc, 0, k1) - PLX_PL_ACC(r, cf, 0, k1);
    }
    plx_pl_effect_from(&r->effects[PLX_PL_START_COARSE], "start_coarse_minus_fine", "groups", v, G);
    for (g = 0; g < G; g++) {
      size_t cf = cond_of(r, g, fine), cc = cond_of(r, g, coarse);
      v[g] = (PLX_PL_ACC(r, cc, 0, ke) - PLX_PL_ACC(r, cc, 0, k1)) -
             (PLX_PL_ACC(r, cf, 0, ke) - PLX_PL_ACC(r, cf, 0, k1));
    }
    plx_pl_effect_from(&r->effects[PLX_PL_RISE_COARSE], "early_rise_coarse_minus_fine", "groups", v,
                       G);
    for (i = 0; i < N_TRANSFER_EFFECTS && r->transfer; i++) {
      const int ts = transfer_effects[i].test;
      for (g = 0; g < G; g++)
        v[g] = transfer_acc(r, cond_of(r, g, coarse), ts) -
               transfer_acc(r, cond_of(r, g, fine), ts);
      plx_pl_effect_from(&r->effects[transfer_effects[i].effect], transfer_effects[i].name,
                         "groups", v, G);
    }
    /* relative change: slope over conv layers of log(fine / coarse) */
    if (r->n_wl >= 3) {
      const size_t L = r->n_wl - 1;
      for (g = 0; g < G; g++) {
        size_t cf = cond_of(r, g, fine), cc = cond_of(r, g, coarse), l;
        double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
        for (l = 0; l < L; l++) {
          double a = PLX_PL_CHANGE(r, cf, l, PLX_PL_REL1, r->T),
                 b = PLX_PL_CHANGE(r, cc, l, PLX_PL_REL1, r->T), x = (double)(l + 1), y;
          if (!(a > 0 && b > 0))
            continue;
          y = log(a / b);
          sx += x;
          sy += y;
          sxx += x * x;
          sxy += x * y;
          n++;
        }
        v[g] = n >= 2 ? -(n * sxy - sx * sy) / (n * sxx - sx * sx) : NAN;
      }
      plx_pl_effect_from(&r->effects[PLX_PL_CHANGE_LOWER], "fine_change_toward_lower_layers",
                         "groups", v, G);
    }
  }
  if (r->transfer) {
    for (g = 0; g < G; g++) {
      double s = 0;
      size_t k;
      for (k = 0; k < r->n_sep; k++) {
        size_t c = cond_of(r, g, k);
        s += transfer_acc(r, c, PLX_PL_TEST_ORI45) - transfer_acc(r, c, PLX_PL_TEST_ORI90);
      }
      v[g] = s / (double)r->n_sep;
    }
    plx_pl_effect_from(&r->effects[PLX_PL_TRANSFER_45_90], "transfer45_minus_transfer90", "groups",
                       v, G);
  }
  if (r->units && r->n_pl >= 2) {
    const double w = r->fi_window;
    for (g = 0; g < G; g++) {
      size_t c = cond_of(r, g, fine);
      v[g] = fi_gain(r, c, r->n_pl - 1, 0, w) - fi_gain(r, c, 0, 0, w);
    }
    plx_pl_effect_from(&r->effects[PLX_PL_FI_TOP], "fi_gain_top_minus_bottom_fine", "conditions", v,
                       G);
    for (g = 0; g < G; g++) {
      size_t c = cond_of(r, g, fine);
      v[g] = fi_gain(r, c, r->n_pl - 1, 0, w) - fi_gain(r, c, r->n_pl - 1, 90.0 - w, 90.0);
    }
    plx_pl_effect_from(&r->effects[PLX_PL_FI_NEAR], "fi_gain_near_minus_far_top_fine", "conditions",
                       v, G);
  }
  if (r->units && (uc = pooled_unit_changes(r))) {
    for (i = 0; i < N_HIGH_EFFECTS; i++) {
      const size_t sep = high_effects[i].coarse ? coarse : fine;
      if (high_effects[i].coarse && r->n_sep < 2)
        continue;
      for (g = 0; g < G; g++)
        v[g] = high_effects[i].sign * uc[(cond_of(r, g, sep) * 2 + 1) * UC_N +
                                         (size_t)high_effects[i].measure];
      plx_pl_effect_from(&r->effects[high_effects[i].effect], high_effects[i].name, "conditions", v,
                         G);
    }
    if (r->n_sep >= 2 && r->high_from > 0) {
      for (g = 0; g < G; g++)
        v[g] = uc[cond_of(r, g, fine) * 2 * UC_N + UC_FLANK] -
               uc[cond_of(r, g, coarse) * 2 * UC_N + UC_FLANK];
      plx_pl_effect_from(&r->effects[PLX_PL_FLANK_LOW], "flank_slope_low_fine_minus_coarse",
                         "groups", v, G);
    }
  }
  free(uc);
  free(v);
}

/* ------------------------------------------------------------- helpers */

/* mean and s.e.m. of vals[0..n) (finite values only) */
static void mean_sem(const double *vals, size_t n, double *m, double *s)
{
  double a = 0, q = 0;
  size_t i, k = 0;
  for (i = 0; i < n; i++)
    if (isfinite(vals[i])) {
      a += vals[i];
      k++;
    }
  if (!k) {
    *m = *s = NAN;
    return;
  }
  a /= (double)k;
  for (i = 0; i < n; i++)
    if (isfinite(vals[i]))
      q += (vals[i] - a) * (vals[i] - a);
  *m = a;
  *s = k > 1 ? sqrt(q / (double)(k - 1) / (double)k) : 0.0;
}

/* tables/unit_changes.csv: per probed layer, training separation and
 * measure, the mean over a condition's units of the change, then mean,
 * s.e.m. and z over the conditions of that separation */
static int unit_changes_table(const plx_pl_results *r, plx_rundir *rd, plx_error *err)
{
  static const char *const n[] = {"layer", "level", "separation_deg", "measure", "n", "mean",
                                  "sem", "z"};
  plx_table *tb = plx_table_new(8, n, "ssfsifff");
  double *per = malloc(r->n_cond * r->n_pl * UC_N * sizeof *per);
  double *v = malloc(r->n_cond * sizeof *v);
  size_t c, l, s, m;
  int rc;
  if (!tb || !per || !v) {
    plx_table_free(tb);
    free(per);
    free(v);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  plx_table_comment(tb, "trained - naive per unit (included in both), mean over a condition's "
                        "units, then mean, sem and z = mean / sem over the conditions of a "
                        "separation; abs_pref_rel_deg < 0: preferences pulled toward the "
                        "trained orientation");
  for (c = 0; c < r->n_cond; c++)
    for (l = 0; l < r->n_pl; l++)
      unit_changes_of(r, c, l, l + 1, per + (c * r->n_pl + l) * UC_N);
  for (l = 0; l < r->n_pl; l++)
    for (s = 0; s < r->n_sep; s++)
      for (m = 0; m < UC_N; m++) {
        const char *sv[3] = {r->pl_name[l], l >= r->high_from ? "high" : "low", uc_names[m]};
        double row[5], mean, sem;
        size_t k = 0;
        for (c = 0; c < r->n_cond; c++)
          if (r->cond[c].i_sep == s && isfinite(per[(c * r->n_pl + l) * UC_N + m]))
            v[k++] = per[(c * r->n_pl + l) * UC_N + m];
        mean_sem(v, k, &mean, &sem);
        row[0] = r->seps[s];
        row[1] = (double)k;
        row[2] = mean;
        row[3] = sem;
        row[4] = sem > 0 ? mean / sem : NAN;
        plx_table_append(tb, sv, row);
      }
  rc = plx_rundir_table(rd, "unit_changes", tb, err);
  plx_table_free(tb);
  free(per);
  free(v);
  return rc;
}

static int sep_color(size_t s, size_t n)
{
  static const int c[] = {PLX_C_BLUE,   PLX_C_SKYBLUE, PLX_C_GREEN, PLX_C_ORANGE,
                          PLX_C_VERMILLION, PLX_C_PURPLE, PLX_C_YELLOW, PLX_C_BLACK};
  (void)n;
  return c[s % 8];
}

/* ------------------------------------------------------------- tables */

static int tables(plx_pl_results *r, plx_rundir *rd, plx_error *err)
{
  int rc = 0;
  size_t c, t, k, l, s, m;
  plx_table *tb;
  char lab[96];
  {
    static const char *const n[] = {"condition", "group", "ref_deg", "separation_deg",
                                    "wavelength_px", "contrast", "noise_sd",
                                    "final_accuracy", "t95"};
    tb = plx_table_new(9, n, "iifffffff");
    if (!tb)
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    for (c = 0; c < r->n_cond; c++) {
      const plx_pl_condition *q = &r->cond[c];
      double v[9] = {(double)c, (double)q->group, q->ref_deg, q->sep_deg, q->wavelength,
                     q->contrast, q->noise_sd, PLX_PL_ACC(r, c, 0, r->n_log - 1),
                     (double)r->t95[c]};
      plx_table_append(tb, NULL, v);
    }
    rc = plx_rundir_table(rd, "conditions", tb, err);
    plx_table_free(tb);
    if (rc)
      return rc;
  }
  {
    static const char *const n[] = {"condition", "separation_deg", "ref_deg", "test",
                                    "iteration", "accuracy", "transfer_index"};
    tb = plx_table_new(7, n, "iffsiff");
    if (!tb)
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    for (c = 0; c < r->n_cond; c++)
      for (t = 0; t < (r->transfer ? PLX_PL_N_TESTS : 1); t++)
        for (k = 0; k < r->n_log; k++) {
          double a0 = PLX_PL_ACC(r, c, 0, k), a = PLX_PL_ACC(r, c, t, k);
          double v[6] = {(double)c, r->cond[c].sep_deg, r->cond[c].ref_deg,
                         (double)r->log_iter[k], a, a0 > 0 ? a / a0 : NAN};
          const char *sv[1] = {plx_pl_test_names[t]};
          plx_table_append(tb, sv, v);
        }
    rc = plx_rundir_table(rd, "accuracy", tb, err);
    plx_table_free(tb);
    if (rc)
      return rc;
  }
  {
    static const char *const n[] = {"condition", "train_separation_deg", "test",
                                    "test_separation_deg", "accuracy"};
    tb = plx_table_new(5, n, "ifsff");
    if (!tb)
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    for (c = 0; c < r->n_cond; c++)
      for (t = 0; t < (r->transfer ? PLX_PL_N_TESTS : 1); t++)
        for (s = 0; s < r->n_sep; s++) {
          double v[4] = {(double)c, r->cond[c].sep_deg, r->seps[s],
                         PLX_PL_ACCSEP(r, c, t, s)};
          const char *sv[1] = {plx_pl_test_names[t]};
          if (!isfinite(v[3]))
            continue;
          plx_table_append(tb, sv, v);
        }
    rc = plx_rundir_table(rd, "accuracy_final", tb, err);
    plx_table_free(tb);
    if (rc)
      return rc;
  }
  {
    static const char *const n[] = {"condition", "separation_deg", "layer", "layer_index",
                                    "iteration", "d_rel1", "d_rel2", "d_m1", "d_m2"};
    tb = plx_table_new(9, n, "ifsiiffff");
    if (!tb)
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    for (c = 0; c < r->n_cond; c++)
      for (l = 0; l < r->n_wl; l++)
        for (k = 0; k < r->n_log; k++) {
          long it = r->log_iter[k];
          double v[8] = {(double)c, r->cond[c].sep_deg, (double)(l + 1), (double)it, 0, 0, 0,
                         0};
          const char *sv[1] = {r->wl_name[l]};
          for (m = 0; m < PLX_PL_N_CHANGE; m++)
            v[4 + m] = PLX_PL_CHANGE(r, c, l, m, it);
          plx_table_append(tb, sv, v);
        }
    rc = plx_rundir_table(rd, "layer_change", tb, err);
    plx_table_free(tb);
    if (rc)
      return rc;
  }
  {
    static const char *const n[] = {"condition", "separation_deg", "layer", "layer_index",
                                    "d_rel1", "d_rel2", "d_m1", "d_m2",
                                    "peak_speed_iteration"};
    tb = plx_table_new(9, n, "ifsifffff");
    if (!tb)
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    for (c = 0; c < r->n_cond; c++)
      for (l = 0; l < r->n_wl; l++) {
        double v[8] = {(double)c, r->cond[c].sep_deg, (double)(l + 1), 0, 0, 0, 0,
                       r->psi[c * r->n_wl + l]};
        const char *sv[1] = {r->wl_name[l]};
        for (m = 0; m < PLX_PL_N_CHANGE; m++)
          v[3 + m] = PLX_PL_CHANGE(r, c, l, m, r->T);
        plx_table_append(tb, sv, v);
      }
    rc = plx_rundir_table(rd, "layer_final", tb, err);
    plx_table_free(tb);
    if (rc)
      return rc;
  }
  if (r->n_freeze) {
    static const char *const n[] = {"condition", "separation_deg", "frozen_layers", "t95",
                                    "accuracy_plastic", "accuracy_frozen", "drop"};
    tb = plx_table_new(7, n, "ifiifff");
    if (!tb)
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    for (c = 0; c < r->n_cond; c++) {
      size_t kt = log_index(r, r->t95[c] >= 0 ? r->t95[c] : r->T);
      for (k = 0; k < r->n_freeze; k++) {
        double ap = PLX_PL_ACC(r, c, 0, kt), af = r->freeze_acc[c * r->n_freeze + k];
        double v[7] = {(double)c, r->cond[c].sep_deg, (double)r->freeze_depth[k],
                       (double)r->t95[c], ap, af, ap - af};
        plx_table_append(tb, NULL, v);
      }
    }
    rc = plx_rundir_table(rd, "freeze", tb, err);
    plx_table_free(tb);
    if (rc)
      return rc;
  }
  if (r->units) {
    static const char *const n[] = {"condition", "separation_deg", "layer", "unit", "state",
                                    "included", "mean_activation", "pref_deg", "pref_rel_deg",
                                    "amplitude", "si", "half_width_deg", "slope", "fano",
                                    "best_disc", "fi"};
    static const char *const nf[] = {"condition", "separation_deg", "layer",
                                     "theta_rel_deg", "theta_deg", "fi_naive", "fi_trained"};
    plx_table *tf;
    tb = plx_table_new(16, n, "ifsisiffffffffff");
    tf = plx_table_new(7, nf, "ifsffff");
    if (!tb || !tf) {
      plx_table_free(tb);
      plx_table_free(tf);
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    }
    for (c = 0; c < r->n_cond; c++)
      for (l = 0; l < r->n_pl; l++) {
        size_t u;
        for (u = 0; u < r->n_units[l]; u++)
          for (s = 0; s < 2; s++) {
            plx_unit_attr a;
            const plx_tuning *tu = s ? &r->trained[c * r->n_pl + l] : &r->naive[l];
            const char *sv[2] = {r->pl_name[l], s ? "trained" : "naive"};
            double v[14];
            plx_unit_attributes(tu, u, r->cond[c].ref_deg, r->smooth_deg, r->min_activation,
                                &a);
            v[0] = (double)c;
            v[1] = r->cond[c].sep_deg;
            v[2] = (double)u;
            v[3] = a.included;
            v[4] = a.mean_act;
            v[5] = a.pref_deg;
            v[6] = a.pref_rel;
            v[7] = a.amplitude;
            v[8] = a.si;
            v[9] = a.half_width;
            v[10] = a.slope;
            v[11] = a.fano;
            v[12] = a.best_disc;
            v[13] = a.fi;
            plx_table_append(tb, sv, v);
          }
        for (k = 0; k < r->n_ori; k++) {
          double th = (double)k * 180.0 / (double)r->n_ori;
          double rel = fmod(th - r->cond[c].ref_deg + 270.0, 180.0) - 90.0;
          double v[6] = {(double)c, r->cond[c].sep_deg, rel, th, r->fi_naive[l * r->n_ori + k],
                         r->fi_trained[(c * r->n_pl + l) * r->n_ori + k]};
          const char *sv[1] = {r->pl_name[l]};
          plx_table_append(tf, sv, v);
        }
      }
    rc = plx_rundir_table(rd, "units", tb, err);
    if (!rc)
      rc = plx_rundir_table(rd, "layer_fisher", tf, err);
    if (!rc)
      rc = unit_changes_table(r, rd, err);
    if (!rc)
      rc = plx_pl_population_tables(r, rd, err);
    plx_table_free(tb);
    plx_table_free(tf);
    if (rc)
      return rc;
  }
  if (r->units) {
    /* the readout-only prediction of transfer to a rotated reference:
     * the overlap of the probed units' tuning slopes at 45 and 90 degrees */
    static const char *const n[] = {"condition", "separation_deg", "layer", "state",
                                    "overlap45", "overlap90"};
    tb = plx_table_new(6, n, "ifssff");
    if (!tb)
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    plx_table_comment(tb, "K(lag)/K(0), K(lag) = sum over units and orientations of "
                          "f'(theta) f'(theta + lag): a readout learned from zero answers "
                          "a reference rotated by lag with the sign of K, on average over "
                          "references");
    for (c = 0; c < r->n_cond; c++)
      for (l = 0; l < r->n_pl; l++)
        for (s = 0; s < 2; s++) {
          const plx_tuning *tu = s ? &r->trained[c * r->n_pl + l] : &r->naive[l];
          const char *sv[2] = {r->pl_name[l], s ? "trained" : "naive"};
          double v[4] = {(double)c, r->cond[c].sep_deg, plx_slope_overlap(tu, 45.0),
                         plx_slope_overlap(tu, 90.0)};
          plx_table_append(tb, sv, v);
        }
    rc = plx_rundir_table(rd, "slope_overlap", tb, err);
    plx_table_free(tb);
    if (rc)
      return rc;
  }
  {
    static const char *const n[] = {"effect", "over", "n", "mean", "sem", "z"};
    tb = plx_table_new(6, n, "ssifff");
    if (!tb)
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    plx_table_comment(tb, "the paper's comparisons: each a difference predicted positive; "
                          "z = mean / sem over the `over` units");
    for (k = 0; k < PLX_PL_N_EFFECTS; k++) {
      const plx_pl_effect *e = &r->effects[k];
      const char *sv[2] = {e->name, e->over};
      double v[4] = {(double)e->n, e->mean, e->sem, e->z};
      plx_table_append(tb, sv, v);
    }
    rc = plx_rundir_table(rd, "effects", tb, err);
    plx_table_free(tb);
  }
  (void)lab;
  return rc;
}

/* ---------------------------------------------------------------- arrays */

static int arrays(plx_pl_results *r, plx_rundir *rd, plx_error *err)
{
  plx_h5 *h = plx_rundir_h5(rd);
  double *tmp;
  long *li;
  size_t c, l, dims[4];
  int rc = 0;
  tmp = malloc((r->n_cond * 6 + 1) * sizeof *tmp);
  li = malloc((r->n_log + 1) * sizeof *li);
  if (!tmp || !li) {
    free(tmp);
    free(li);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  for (c = 0; c < r->n_cond; c++) {
    tmp[c * 5 + 0] = r->cond[c].ref_deg;
    tmp[c * 5 + 1] = r->cond[c].sep_deg;
    tmp[c * 5 + 2] = r->cond[c].wavelength;
    tmp[c * 5 + 3] = r->cond[c].contrast;
    tmp[c * 5 + 4] = r->cond[c].noise_sd;
  }
  dims[0] = r->n_cond;
  dims[1] = 5;
  rc = plx_h5_write_array(h, "/perceptual/conditions", tmp, 2, dims, err);
  if (!rc)
    rc = plx_h5_attr_string(h, "/perceptual/conditions", "columns",
                            "ref_deg, separation_deg, wavelength_px, contrast, noise_sd", err);
  memcpy(li, r->log_iter, r->n_log * sizeof *li);
  dims[0] = r->n_log;
  if (!rc)
    rc = plx_h5_write_int_array(h, "/perceptual/behaviour/iterations", li, 1, dims, err);
  dims[0] = r->n_cond;
  dims[1] = PLX_PL_N_TESTS;
  dims[2] = r->n_log;
  if (!rc)
    rc = plx_h5_write_array(h, "/perceptual/behaviour/accuracy", r->acc, 3, dims, err);
  if (!rc)
    rc = plx_h5_attr_string(h, "/perceptual/behaviour/accuracy", "tests",
                            "trained, ori+45, ori+90, sf*0.5, sf*2", err);
  dims[2] = r->n_sep;
  if (!rc)
    rc = plx_h5_write_array(h, "/perceptual/behaviour/accuracy_by_test_separation",
                            r->acc_sep, 3, dims, err);
  if (!rc)
    rc = plx_h5_write_vector(h, "/perceptual/behaviour/separations", r->seps, r->n_sep, err);
  dims[0] = r->n_cond;
  dims[1] = (size_t)r->T;
  if (!rc)
    rc = plx_h5_write_array(h, "/perceptual/train/loss", r->loss, 2, dims, err);
  dims[0] = r->n_cond;
  dims[1] = r->n_wl;
  dims[2] = PLX_PL_N_CHANGE;
  dims[3] = (size_t)r->T + 1;
  if (!rc)
    rc = plx_h5_write_array(h, "/perceptual/layers/change", r->change, 4, dims, err);
  if (!rc)
    rc = plx_h5_attr_string(h, "/perceptual/layers/change", "measures",
                            "d_rel1, d_rel2, d_m1, d_m2", err);
  if (!rc) {
    char names[1024] = "";
    size_t o = 0;
    for (l = 0; l < r->n_wl && o < sizeof names - 40; l++)
      o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", l ? ", " : "", r->wl_name[l]);
    rc = plx_h5_attr_string(h, "/perceptual/layers/change", "layers", names, err);
  }
  dims[1] = r->n_wl;
  if (!rc)
    rc = plx_h5_write_array(h, "/perceptual/layers/peak_speed_iteration", r->psi, 2, dims,
                            err);
  if (!rc && r->n_freeze) {
    for (c = 0; c < r->n_cond; c++)
      tmp[c] = (double)r->t95[c];
    rc = plx_h5_write_vector(h, "/perceptual/freeze/t95", tmp, r->n_cond, err);
    dims[0] = r->n_cond;
    dims[1] = r->n_freeze;
    if (!rc)
      rc = plx_h5_write_array(h, "/perceptual/freeze/accuracy", r->freeze_acc, 2, dims, err);
    if (!rc)
      rc = plx_h5_write_int_array(h, "/perceptual/freeze/depths", r->freeze_depth, 1,
                                  &r->n_freeze, err);
  }
  if (!rc && r->units) {
    char p[256];
    for (l = 0; l < r->n_pl && !rc; l++) {
      const plx_tuning *t = &r->naive[l];
      dims[0] = t->n_units;
      dims[1] = t->n_ori;
      snprintf(p, sizeof p, "/perceptual/units/naive/%s/mean", r->pl_name[l]);
      rc = plx_h5_write_array(h, p, t->mean, 2, dims, err);
      snprintf(p, sizeof p, "/perceptual/units/naive/%s/var", r->pl_name[l]);
      if (!rc)
        rc = plx_h5_write_array(h, p, t->var, 2, dims, err);
      snprintf(p, sizeof p, "/perceptual/units/naive/%s/grad", r->pl_name[l]);
      if (!rc)
        rc = plx_h5_write_array(h, p, t->grad, 2, dims, err);
      for (c = 0; c < r->n_cond && !rc; c++) {
        const plx_tuning *q = &r->trained[c * r->n_pl + l];
        snprintf(p, sizeof p, "/perceptual/units/trained/%04zu/%s/mean", c, r->pl_name[l]);
        rc = plx_h5_write_array(h, p, q->mean, 2, dims, err);
        snprintf(p, sizeof p, "/perceptual/units/trained/%04zu/%s/var", c, r->pl_name[l]);
        if (!rc)
          rc = plx_h5_write_array(h, p, q->var, 2, dims, err);
        snprintf(p, sizeof p, "/perceptual/units/trained/%04zu/%s/grad", c, r->pl_name[l]);
        if (!rc)
          rc = plx_h5_write_array(h, p, q->grad, 2, dims, err);
      }
    }
    dims[0] = r->n_pl;
    dims[1] = r->n_ori;
    if (!rc)
      rc = plx_h5_write_array(h, "/perceptual/units/fisher_naive", r->fi_naive, 2, dims, err);
    dims[0] = r->n_cond;
    dims[1] = r->n_pl;
    dims[2] = r->n_ori;
    if (!rc)
      rc = plx_h5_write_array(h, "/perceptual/units/fisher_trained", r->fi_trained, 3, dims,
                              err);
  }
  free(tmp);
  free(li);
  return rc;
}

/* --------------------------------------------------------------- figures */

/* mean over conditions at separation s of f(c) into m, e (s.e.m.) */
typedef double (*cond_fn)(const plx_pl_results *r, size_t c, size_t a, size_t b);

static void by_sep(const plx_pl_results *r, size_t s, cond_fn f, size_t a, size_t b,
                   double *m, double *e, double *buf)
{
  size_t g;
  for (g = 0; g < r->n_groups; g++)
    buf[g] = f(r, cond_of(r, g, s), a, b);
  mean_sem(buf, r->n_groups, m, e);
}

static double f_acc(const plx_pl_results *r, size_t c, size_t t, size_t k)
{
  return PLX_PL_ACC(r, c, t, k);
}
static double f_ti(const plx_pl_results *r, size_t c, size_t t, size_t k)
{
  double a = PLX_PL_ACC(r, c, 0, k);
  return a > 0 ? PLX_PL_ACC(r, c, t, k) / a : NAN;
}
static double f_change(const plx_pl_results *r, size_t c, size_t l, size_t it)
{
  return PLX_PL_CHANGE(r, c, l, PLX_PL_REL1, it);
}
static double f_psi(const plx_pl_results *r, size_t c, size_t l, size_t unused)
{
  (void)unused;
  return r->psi[c * r->n_wl + l];
}
static double f_rel(const plx_pl_results *r, size_t c, size_t l, size_t unused)
{
  size_t cc = cond_of(r, r->cond[c].group, r->n_sep - 1);
  double b = PLX_PL_CHANGE(r, cc, l, PLX_PL_REL1, r->T);
  (void)unused;
  return b > 0 ? PLX_PL_CHANGE(r, c, l, PLX_PL_REL1, r->T) / b : NAN;
}
static double f_accsep(const plx_pl_results *r, size_t c, size_t t, size_t s)
{
  return PLX_PL_ACCSEP(r, c, t, s);
}

static void sep_label(const plx_pl_results *r, size_t s, char *buf, size_t n)
{
  snprintf(buf, n, "%g deg", r->seps[s]);
}

static int fig_behaviour(plx_pl_results *r, plx_rundir *rd, plx_error *err)
{
  const size_t nt = r->transfer ? PLX_PL_N_TESTS : 1, K = r->n_log;
  plx_figure *fig = plx_figure_new(2, 4, 1800, 860);
  double *x = malloc(K * sizeof *x), *m = malloc((K + r->n_sep) * sizeof *m),
         *e = malloc((K + r->n_sep) * sizeof *e), *lo = malloc((K + r->n_sep) * sizeof *lo),
         *hi = malloc((K + r->n_sep) * sizeof *hi), *buf = malloc((r->n_groups + 1) * sizeof *buf);
  size_t t, s, k;
  char lab[64];
  int rc = 0;
  if (!fig || !x || !m || !e || !lo || !hi || !buf) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  plx_figure_title(fig, "Perceptual learning: accuracy (mean confidence of the correct "
                        "label) by training separation");
  for (k = 0; k < K; k++)
    x[k] = r->log_iter[k] > 0 ? (double)r->log_iter[k] : 0.5;
  for (t = 0; t < nt; t++) {
    plx_axes *ax = plx_figure_axes(fig, (int)(t / 4), (int)(t % 4));
    double ymin = 0.4; /* lower when a transfer falls below chance */
    for (s = 0; s < r->n_sep; s++) {
      for (k = 0; k < K; k++) {
        by_sep(r, s, f_acc, t, k, &m[k], &e[k], buf);
        lo[k] = m[k] - e[k];
        hi[k] = m[k] + e[k];
        if (lo[k] < ymin)
          ymin = floor(lo[k] * 10.0) / 10.0;
      }
      sep_label(r, s, lab, sizeof lab);
      plx_axes_band(ax, x, lo, hi, K, sep_color(s, r->n_sep));
      plx_axes_line(ax, x, m, K, sep_color(s, r->n_sep), PLX_SOLID, t == 0 ? lab : NULL);
    }
    plx_axes_hline(ax, 0.5, PLX_C_BLACK, PLX_DOTTED); /* chance */
    plx_axes_logx(ax, 1);
    plx_axes_ylim(ax, ymin < 0.0 ? 0.0 : ymin, 1.0);
    snprintf(lab, sizeof lab, "test: %s", plx_pl_test_names[t]);
    plx_axes_title(ax, lab);
    plx_axes_xlabel(ax, "iteration (0 plotted at 0.5)");
    plx_axes_ylabel(ax, "accuracy");
  }
  if (r->transfer) {
    plx_axes *ax = plx_figure_axes(fig, 1, 1);
    for (s = 0; s < r->n_sep; s++)
      for (t = PLX_PL_TEST_ORI45; t <= PLX_PL_TEST_ORI90; t++) {
        for (k = 0; k < K; k++)
          by_sep(r, s, f_ti, t, k, &m[k], &e[k], buf);
        sep_label(r, s, lab, sizeof lab);
        plx_axes_line(ax, x, m, K, sep_color(s, r->n_sep),
                      t == PLX_PL_TEST_ORI45 ? PLX_SOLID : PLX_DASHED, NULL);
      }
    plx_axes_logx(ax, 1);
    plx_axes_title(ax, "transfer index: ori+45 (solid), ori+90 (dashed)");
    plx_axes_xlabel(ax, "iteration");
    plx_axes_ylabel(ax, "transfer / trained accuracy");
    ax = plx_figure_axes(fig, 1, 2);
    for (t = 1; t < nt; t++) {
      for (s = 0; s < r->n_sep; s++) {
        by_sep(r, s, f_ti, t, K - 1, &m[s], &e[s], buf);
        lo[s] = r->seps[s];
      }
      plx_axes_errorbars(ax, lo, m, e, r->n_sep, (int)t, plx_pl_test_names[t]);
      plx_axes_line(ax, lo, m, r->n_sep, (int)t, PLX_SOLID, NULL);
    }
    plx_axes_logx(ax, 1);
    plx_axes_title(ax, "final transfer index");
    plx_axes_xlabel(ax, "training separation (deg)");
    plx_axes_ylabel(ax, "transfer index");
  }
  {
    /* final accuracy, train separation x test separation (trained stimuli) */
    plx_axes *ax = plx_figure_axes(fig, 1, 3);
    double *z = malloc(r->n_sep * r->n_sep * sizeof *z);
    if (z) {
      size_t a, b;
      for (a = 0; a < r->n_sep; a++)
        for (b = 0; b < r->n_sep; b++) {
          double mm, ee;
          by_sep(r, a, f_accsep, 0, b, &mm, &ee, buf);
          z[a + b * r->n_sep] = mm;
        }
      plx_axes_heatmap(ax, z, r->n_sep, r->n_sep, 0, (double)r->n_sep, 0, (double)r->n_sep,
                       "accuracy");
      free(z);
    }
    plx_axes_title(ax, "final accuracy: train sep (x) vs test sep (y), index order");
    plx_axes_xlabel(ax, "training separation index (fine to coarse)");
    plx_axes_ylabel(ax, "test separation index");
  }
  rc = plx_rundir_figure(rd, "perceptual_behaviour", fig, err);
out:
  plx_figure_free(fig);
  free(x);
  free(m);
  free(e);
  free(lo);
  free(hi);
  free(buf);
  return rc;
}

static int fig_layers(plx_pl_results *r, plx_rundir *rd, plx_error *err)
{
  const size_t L = r->n_wl, K = r->n_log, N = L + 3; /* a panel per layer, three summaries */
  /* three or four to a row, whichever leaves fewer panels empty */
  const int cols = (3 - N % 3) % 3 <= (4 - N % 4) % 4 ? 3 : 4;
  const int rows = (int)((N + (size_t)cols - 1) / (size_t)cols);
  plx_figure *fig = plx_figure_new(rows, cols, 450.0 * cols, 430.0 * rows);
  double *x = malloc((K + L) * sizeof *x), *m = malloc((K + L) * sizeof *m),
         *e = malloc((K + L) * sizeof *e), *lo = malloc((K + L) * sizeof *lo),
         *hi = malloc((K + L) * sizeof *hi), *buf = malloc((r->n_groups + 1) * sizeof *buf);
  size_t l, s, k;
  char lab[96];
  int rc = 0;
  plx_axes *ax;
  if (!fig || !x || !m || !e || !lo || !hi || !buf) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  plx_figure_title(fig, "Layer change d_rel1 by training separation");
  for (l = 0; l < L; l++) {
    ax = plx_figure_axes(fig, (int)(l / cols), (int)(l % cols));
    for (s = 0; s < r->n_sep; s++) {
      size_t n = 0;
      for (k = 0; k < K; k++) {
        if (r->log_iter[k] == 0)
          continue;
        x[n] = (double)r->log_iter[k];
        by_sep(r, s, f_change, l, (size_t)r->log_iter[k], &m[n], &e[n], buf);
        lo[n] = m[n] - e[n];
        hi[n] = m[n] + e[n];
        n++;
      }
      sep_label(r, s, lab, sizeof lab);
      plx_axes_band(ax, x, lo, hi, n, sep_color(s, r->n_sep));
      plx_axes_line(ax, x, m, n, sep_color(s, r->n_sep), PLX_SOLID, l == 0 ? lab : NULL);
    }
    plx_axes_logx(ax, 1);
    snprintf(lab, sizeof lab, "%s%s", r->wl_name[l], l + 1 == L ? " (sum |dw| / N)" : "");
    plx_axes_title(ax, lab);
    plx_axes_xlabel(ax, "iteration");
    plx_axes_ylabel(ax, "d_rel1");
  }
  for (k = 0; k < L; k++)
    x[k] = (double)(k + 1);
  ax = plx_figure_axes(fig, (int)(L / cols), (int)(L % cols));
  for (s = 0; s < r->n_sep; s++) {
    for (l = 0; l + 1 < L; l++)
      by_sep(r, s, f_psi, l, 0, &m[l], &e[l], buf);
    sep_label(r, s, lab, sizeof lab);
    plx_axes_errorbars(ax, x, m, e, L - 1, sep_color(s, r->n_sep), lab);
    plx_axes_line(ax, x, m, L - 1, sep_color(s, r->n_sep), PLX_SOLID, NULL);
  }
  plx_axes_title(ax, "peak-speed iteration");
  plx_axes_xlabel(ax, "layer");
  plx_axes_ylabel(ax, "iteration");
  ax = plx_figure_axes(fig, (int)((L + 1) / cols), (int)((L + 1) % cols));
  for (s = 0; s < r->n_sep; s++) {
    for (l = 0; l + 1 < L; l++)
      by_sep(r, s, f_change, l, (size_t)r->T, &m[l], &e[l], buf);
    plx_axes_errorbars(ax, x, m, e, L - 1, sep_color(s, r->n_sep), NULL);
    plx_axes_line(ax, x, m, L - 1, sep_color(s, r->n_sep), PLX_SOLID, NULL);
  }
  plx_axes_logy(ax, 1);
  plx_axes_title(ax, "final layer change");
  plx_axes_xlabel(ax, "layer");
  plx_axes_ylabel(ax, "d_rel1");
  ax = plx_figure_axes(fig, (int)((L + 2) / cols), (int)((L + 2) % cols));
  for (s = 0; s < r->n_sep; s++) {
    for (l = 0; l + 1 < L; l++)
      by_sep(r, s, f_rel, l, 0, &m[l], &e[l], buf);
    plx_axes_errorbars(ax, x, m, e, L - 1, sep_color(s, r->n_sep), NULL);
    plx_axes_line(ax, x, m, L - 1, sep_color(s, r->n_sep), PLX_SOLID, NULL);
  }
  plx_axes_hline(ax, 1.0, PLX_C_BLACK, PLX_DOTTED);
  plx_axes_title(ax, "change relative to the coarsest separation");
  plx_axes_xlabel(ax, "layer");
  plx_axes_ylabel(ax, "d_rel1 / d_rel1(coarsest)");
  rc = plx_rundir_figure(rd, "perceptual_layers", fig, err);
out:
  plx_figure_free(fig);
  free(x);
  free(m);
  free(e);
  free(lo);
  free(hi);
  free(buf);
  return rc;
}

/* FI of probed layer l, condition c, at relative orientation index j
 * (theta_rel = (j - n/2) * 180/n): the nearest grid orientation */
static double fi_rel(const double *f, size_t n, double ref_deg, size_t j)
{
  long shift = (long)floor(ref_deg / (180.0 / (double)n) + 0.5);
  long k = ((shift + (long)j - (long)n / 2) % (long)n + (long)n) % (long)n;
  return f[k];
}

static int fig_fisher(plx_pl_results *r, plx_rundir *rd, plx_error *err)
{
  const size_t n = r->n_ori, P = r->n_pl, NS = r->n_sep;
  plx_figure *fig = plx_figure_new((int)P, (int)NS, 330.0 * (double)NS + 100, 260.0 * (double)P + 80);
  double *x = malloc(n * sizeof *x), *mt = malloc(n * sizeof *mt), *mn = malloc(n * sizeof *mn),
         *lo = malloc(n * sizeof *lo), *hi = malloc(n * sizeof *hi),
         *buf = malloc((r->n_groups + 1) * sizeof *buf);
  size_t l, s, j, g;
  char lab[96];
  int rc = 0;
  if (!fig || !x || !mt || !mn || !lo || !hi || !buf) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  plx_figure_title(fig, "Layer linear FI per unit: naive (dashed), trained (black, "
                        "band 1 sem); layers (rows) x training separation");
  for (j = 0; j < n; j++)
    x[j] = ((double)j - (double)(n / 2)) * 180.0 / (double)n;
  for (l = 0; l < P; l++)
    for (s = 0; s < NS; s++) {
      plx_axes *ax = plx_figure_axes(fig, (int)l, (int)s);
      for (j = 0; j < n; j++) {
        double e;
        for (g = 0; g < r->n_groups; g++) {
          size_t c = cond_of(r, g, s);
          buf[g] = fi_rel(r->fi_trained + (c * P + l) * n, n, r->cond[c].ref_deg, j);
        }
        mean_sem(buf, r->n_groups, &mt[j], &e);
        lo[j] = mt[j] - e;
        hi[j] = mt[j] + e;
        for (g = 0; g < r->n_groups; g++) {
          size_t c = cond_of(r, g, s);
          buf[g] = fi_rel(r->fi_naive + l * n, n, r->cond[c].ref_deg, j);
        }
        mean_sem(buf, r->n_groups, &mn[j], &e);
      }
      plx_axes_band(ax, x, lo, hi, n, PLX_C_BLACK);
      plx_axes_line(ax, x, mn, n, PLX_C_SKYBLUE, PLX_DASHED, NULL);
      plx_axes_line(ax, x, mt, n, PLX_C_BLACK, PLX_SOLID, NULL);
      plx_axes_logy(ax, 1);
      snprintf(lab, sizeof lab, "%s, trained at %g deg", r->pl_name[l], r->seps[s]);
      plx_axes_title(ax, lab);
      if (l + 1 == P)
        plx_axes_xlabel(ax, "orientation - trained (deg)");
      if (s == 0)
        plx_axes_ylabel(ax, "FI (1/deg^2)");
    }
  rc = plx_rundir_figure(rd, "perceptual_fisher", fig, err);
out:
  plx_figure_free(fig);
  free(x);
  free(mt);
  free(mn);
  free(lo);
  free(hi);
  free(buf);
  return rc;
}

static int fig_units(plx_pl_results *r, plx_rundir *rd, plx_error *err)
{
  const size_t P = r->n_pl, NS = r->n_sep;
  /* bins of preferred orientation relative to trained: 12 bins of 15 deg */
  enum { NB = 12, NATTR = 4 };
  static const char *const an[NATTR] = {"selectivity index", "Fano factor at preferred",
                                        "tuning amplitude", "best discriminability (deg^2)"};
  plx_figure *fig = plx_figure_new(3, NATTR, 1800, 1150);
  size_t maxu = 0, l, s, c, u, b;
  double *acc = NULL, *cnt = NULL;
  int rc = 0;
  char lab[128];
  const size_t lsel[2] = {P > 1 ? 1 : 0, P - 1}; /* "layer 2" and the top layer */
  for (l = 0; l < P; l++)
    if (r->n_units[l] > maxu)
      maxu = r->n_units[l];
  acc = calloc(2 * NB * 2, sizeof *acc);
  cnt = calloc(2 * NB * 2, sizeof *cnt);
  if (!fig || !acc || !cnt) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  plx_figure_title(fig, "Tuning of centre units, naive (blue) vs trained (vermillion): "
                        "finest and coarsest training separation");
  /* row 0: normalised slope at the trained orientation by preferred-orientation
   * bin; row 1: preferred-orientation histograms.  Columns: layer lsel[0]
   * fine, coarse; layer lsel[1] fine, coarse */
  {
    int col = 0, li;
    for (li = 0; li < 2; li++)
      for (s = 0; s < 2; s++, col++) {
        size_t si = s ? NS - 1 : 0, st;
        double x[NB], ys[2][NB], es[2][NB], hs[2][NB];
        l = lsel[li];
        memset(acc, 0, 2 * NB * 2 * sizeof *acc);
        memset(cnt, 0, 2 * NB * 2 * sizeof *cnt);
        for (c = 0; c < r->n_cond; c++) {
          if (r->cond[c].i_sep != si)
            continue;
          for (u = 0; u < r->n_units[l]; u++)
            for (st = 0; st < 2; st++) {
              plx_unit_attr a;
              plx_unit_attributes(st ? &r->trained[c * P + l] : &r->naive[l], u,
                                  r->cond[c].ref_deg, r->smooth_deg, r->min_activation, &a);
              if (!a.included)
                continue;
              b = (size_t)floor((a.pref_rel + 90.0) / 15.0);
              if (b >= NB)
                b = NB - 1;
              acc[(st * NB + b) * 2] += a.slope;
              acc[(st * NB + b) * 2 + 1] += a.slope * a.slope;
              cnt[st * NB + b] += 1;
            }
        }
        for (b = 0; b < NB; b++) {
          x[b] = -90.0 + 7.5 + 15.0 * (double)b;
          for (st = 0; st < 2; st++) {
            double nn = cnt[st * NB + b], mm = nn ? acc[(st * NB + b) * 2] / nn : NAN;
            double vv = nn > 1 ? (acc[(st * NB + b) * 2 + 1] - nn * mm * mm) / (nn - 1) : 0;
            ys[st][b] = mm;
            es[st][b] = nn > 1 ? sqrt(vv > 0 ? vv : 0) / sqrt(nn) : 0;
            hs[st][b] = nn;
          }
        }
        {
          plx_axes *ax = plx_figure_axes(fig, 0, col);
          double xs[NB];
          for (b = 0; b < NB; b++)
            xs[b] = x[b] + 2.0;
          plx_axes_errorbars(ax, x, ys[0], es[0], NB, PLX_C_BLUE, "naive");
          plx_axes_errorbars(ax, xs, ys[1], es[1], NB, PLX_C_VERMILLION, "trained");
          snprintf(lab, sizeof lab, "%s, %g deg: slope at trained ori.", r->pl_name[l],
                   r->seps[si]);
          plx_axes_title(ax, lab);
          plx_axes_xlabel(ax, "preferred - trained (deg)");
          plx_axes_ylabel(ax, "|f'| / max f (1/deg)");
          ax = plx_figure_axes(fig, 1, col);
          plx_axes_bars(ax, x, hs[0], NB, 6.0, PLX_C_BLUE, "naive");
          plx_axes_bars(ax, xs, hs[1], NB, 6.0, PLX_C_VERMILLION, "trained");
          snprintf(lab, sizeof lab, "%s, %g deg: preferred orientations", r->pl_name[l],
                   r->seps[si]);
          plx_axes_title(ax, lab);
          plx_axes_xlabel(ax, "preferred - trained (deg)");
          plx_axes_ylabel(ax, "units");
        }
      }
  }
  /* row 2: attribute means by layer, naive vs trained, finest (solid) and
   * coarsest (dashed) separation */
  {
    int k;
    double *xs = malloc(P * sizeof *xs), *m0 = malloc(P * sizeof *m0),
           *m1 = malloc(P * sizeof *m1), *e0 = malloc(P * sizeof *e0),
           *e1 = malloc(P * sizeof *e1), *v0 = malloc((r->n_cond * maxu + 1) * sizeof *v0),
           *v1 = malloc((r->n_cond * maxu + 1) * sizeof *v1);
    if (!xs || !m0 || !m1 || !e0 || !e1 || !v0 || !v1) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    } else {
      for (k = 0; k < NATTR; k++) {
        plx_axes *ax = plx_figure_axes(fig, 2, k);
        size_t ss;
        for (ss = 0; ss < 2; ss++) {
          size_t si = ss ? NS - 1 : 0;
          for (l = 0; l < P; l++) {
            size_t n = 0;
            xs[l] = (double)(l + 1);
            for (c = 0; c < r->n_cond; c++) {
              if (r->cond[c].i_sep != si)
                continue;
              for (u = 0; u < r->n_units[l]; u++) {
                plx_unit_attr a0, a1;
                double q0, q1;
                plx_unit_attributes(&r->naive[l], u, r->cond[c].ref_deg, r->smooth_deg,
                                    r->min_activation, &a0);
                plx_unit_attributes(&r->trained[c * P + l], u, r->cond[c].ref_deg,
                                    r->smooth_deg, r->min_activation, &a1);
                if (!a0.included || !a1.included)
                  continue;
                q0 = k == 0 ? a0.si : k == 1 ? a0.fano : k == 2 ? a0.amplitude : a0.best_disc;
                q1 = k == 0 ? a1.si : k == 1 ? a1.fano : k == 2 ? a1.amplitude : a1.best_disc;
                v0[n] = q0;
                v1[n] = q1;
                n++;
              }
            }
            mean_sem(v0, n, &m0[l], &e0[l]);
            mean_sem(v1, n, &m1[l], &e1[l]);
          }
          plx_axes_errorbars(ax, xs, m0, e0, P, PLX_C_BLUE, ss ? NULL : "naive");
          plx_axes_line(ax, xs, m0, P, PLX_C_BLUE, ss ? PLX_DASHED : PLX_SOLID, NULL);
          plx_axes_errorbars(ax, xs, m1, e1, P, PLX_C_VERMILLION, ss ? NULL : "trained");
          plx_axes_line(ax, xs, m1, P, PLX_C_VERMILLION, ss ? PLX_DASHED : PLX_SOLID, NULL);
        }
        if (k == 3)
          plx_axes_logy(ax, 1);
        snprintf(lab, sizeof lab, "%s (solid %g deg, dashed %g deg)", an[k], r->seps[0],
                 r->seps[NS - 1]);
        plx_axes_title(ax, lab);
        plx_axes_xlabel(ax, "probed layer");
      }
    }
    free(xs);
    free(m0);
    free(m1);
    free(e0);
    free(e1);
    free(v0);
    free(v1);
  }
  if (!rc)
    rc = plx_rundir_figure(rd, "perceptual_units", fig, err);
out:
  plx_figure_free(fig);
  free(acc);
  free(cnt);
  return rc;
}

static int fig_freeze(plx_pl_results *r, plx_rundir *rd, plx_error *err)
{
  plx_figure *fig = plx_figure_new(1, 1, 700, 500);
  double *x = malloc(r->n_freeze * sizeof *x), *m = malloc(r->n_freeze * sizeof *m),
         *e = malloc(r->n_freeze * sizeof *e), *buf = malloc((r->n_groups + 1) * sizeof *buf);
  size_t s, k, g;
  char lab[64];
  int rc = 0;
  if (!fig || !x || !m || !e || !buf) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  {
    plx_axes *ax = plx_figure_axes(fig, 0, 0);
    for (s = 0; s < r->n_sep; s++) {
      for (k = 0; k < r->n_freeze; k++) {
        x[k] = (double)r->freeze_depth[k];
        for (g = 0; g < r->n_groups; g++) {
          size_t c = cond_of(r, g, s);
          size_t kt = log_index(r, r->t95[c] >= 0 ? r->t95[c] : r->T);
          buf[g] = PLX_PL_ACC(r, c, 0, kt) - r->freeze_acc[c * r->n_freeze + k];
        }
        mean_sem(buf, r->n_groups, &m[k], &e[k]);
      }
      sep_label(r, s, lab, sizeof lab);
      plx_axes_errorbars(ax, x, m, e, r->n_freeze, sep_color(s, r->n_sep), lab);
      plx_axes_line(ax, x, m, r->n_freeze, sep_color(s, r->n_sep), PLX_SOLID, NULL);
    }
    plx_axes_hline(ax, 0.0, PLX_C_BLACK, PLX_DOTTED);
    plx_axes_title(ax, "Accuracy drop at t95 with layers 1..k frozen");
    plx_axes_xlabel(ax, "frozen layers k");
    plx_axes_ylabel(ax, "accuracy drop");
  }
  rc = plx_rundir_figure(rd, "perceptual_freeze", fig, err);
out:
  plx_figure_free(fig);
  free(x);
  free(m);
  free(e);
  free(buf);
  return rc;
}

int plx_pl_write(plx_pl_results *r, plx_rundir *rd, plx_error *err)
{
  int rc;
  if ((rc = tables(r, rd, err)) || (rc = arrays(r, rd, err)))
    return rc;
  if (!plx_rundir_formats(rd))
    return PLX_OK;
  if ((rc = fig_behaviour(r, rd, err)) || (rc = fig_layers(r, rd, err)))
    return rc;
  if (r->units && (rc = fig_fisher(r, rd, err)))
    return rc;
  if (r->units && (rc = fig_units(r, rd, err)))
    return rc;
  if (r->n_freeze && (rc = fig_freeze(r, rd, err)))
    return rc;
  return PLX_OK;
}
