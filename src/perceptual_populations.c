/* perceptual_populations.c -- the population statistics of unit tuning
 * that Wenliang & Seitz (2018) report (Figs. 6-9): per probed layer and
 * training separation, the naive and the trained population of units --
 * each the centre units included in that state (mean response over
 * orientations >= units.min_activation), pooled over the separation's
 * conditions, the naive units once per condition as the paper measured
 * the naive network for every reference -- compared by the paper's tests:
 *   tables/unit_distributions.csv        Mann-Whitney U of each attribute;
 *   tables/preference_distributions.csv  Kolmogorov-Smirnov of the distance
 *       of the preferred from the trained orientation, trained against
 *       naive (Fig. 6E) and each against uniform on [0, 90] (Fig. 8D);
 *   tables/slope_by_preference.csv       the normalised slope at the trained
 *       orientation by preference bin (8-degree bins within 48 degrees, the
 *       paper's six), Mann-Whitney per bin, Bonferroni over the bins
 *       (Figs. 6C, 8B);
 *   tables/slope_anova.csv               the training x preference-bin
 *       interaction of that slope, two-way ANOVA (Fig. 8B).
 * Every test treats the pooled units as independent, as the paper does;
 * the paired changes over references are in effects.csv and
 * unit_changes.csv (perceptual_report.c). */
#include "config.h"
#include "plastix/anova.h"
#include "plastix/error.h"
#include "plastix/kstest.h"
#include "plastix/perceptual_results.h"
#include "plastix/ranktest.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* preference bins of slope_by_preference.csv: the paper's six bins of 8
 * degrees within 48 degrees of the trained orientation */
enum { PB_N = 6 };
static const double pb_width = 8.0;

/* the attributes compared in unit_distributions.csv */
enum { UD_N = 6 };
static const char *const ud_names[UD_N] = {"amplitude", "si",   "half_width_deg",
                                           "slope",     "fano", "best_disc"};
static double ud_value(const plx_unit_attr *a, size_t m)
{
  const double v[UD_N] = {a->amplitude, a->si, a->half_width, a->slope, a->fano, a->best_disc};
  return v[m];
}

/* median of v[0..n) (sorted in place; NaN when n = 0) */
static double median_sorting(double *v, size_t n)
{
  if (!n)
    return NAN;
  gsl_sort(v, 1, n);
  return gsl_stats_median_from_sorted_data(v, 1, n);
}

static double mean_of(const double *v, size_t n)
{
  return n ? gsl_stats_mean(v, 1, n) : NAN;
}

/* One layer's populations at one separation: pop[st][0..n[st]) the
 * attributes of the units included in state st (0 naive, 1 trained). */
typedef struct {
  plx_unit_attr *pop[2];
  size_t n[2];
} populations;

static void populations_fill(const plx_pl_results *r, size_t l, size_t s, populations *p)
{
  size_t c, u, st;
  p->n[0] = p->n[1] = 0;
  for (c = 0; c < r->n_cond; c++) {
    if (r->cond[c].i_sep != s)
      continue;
    for (st = 0; st < 2; st++)
      for (u = 0; u < r->n_units[l]; u++) {
        plx_unit_attr *a = &p->pop[st][p->n[st]];
        plx_unit_attributes(st ? &r->trained[c * r->n_pl + l] : &r->naive[l], u,
                            r->cond[c].ref_deg, r->smooth_deg, r->min_activation, a);
        p->n[st] += a->included != 0;
      }
  }
}

/* the finite values of attribute `get` of population p[0..n) into v;
 * returns their number */
static size_t values_of(const plx_unit_attr *p, size_t n, double (*get)(const plx_unit_attr *),
                        double *v)
{
  size_t i, k = 0;
  for (i = 0; i < n; i++) {
    const double x = get(&p[i]);
    if (isfinite(x))
      v[k++] = x;
  }
  return k;
}

static double pref_distance(const plx_unit_attr *a)
{
  return fabs(a->pref_rel);
}

/* preference bin of a unit (PB_N: beyond the binned range) */
static size_t pref_bin(const plx_unit_attr *a)
{
  const double d = pref_distance(a);
  return isfinite(d) && d < PB_N * pb_width ? (size_t)(d / pb_width) : PB_N;
}

/* The four tables, built row by row over layers and separations. */
typedef struct {
  plx_table *dist, *pref, *slope, *anova;
} pop_tables;

static void unit_distribution_rows(const plx_pl_results *r, size_t l, size_t s,
                                   const populations *p, double *v0, double *v1,
                                   plx_table *tb)
{
  size_t m, st;
  for (m = 0; m < UD_N; m++) {
    const char *sv[3] = {r->pl_name[l], l >= r->high_from ? "high" : "low", ud_names[m]};
    double *v[2] = {v0, v1}, row[9];
    size_t k[2];
    plx_rank_test t;
    for (st = 0; st < 2; st++) {
      size_t i;
      k[st] = 0;
      for (i = 0; i < p->n[st]; i++) {
        const double x = ud_value(&p->pop[st][i], m);
        if (isfinite(x))
          v[st][k[st]++] = x;
      }
    }
    plx_mann_whitney(v1, k[1], v0, k[0], &t);
    row[0] = r->seps[s];
    row[1] = (double)k[0];
    row[2] = (double)k[1];
    row[3] = median_sorting(v0, k[0]);
    row[4] = median_sorting(v1, k[1]);
    row[5] = t.u;
    row[6] = t.z;
    row[7] = t.p_greater;
    row[8] = t.p_less;
    plx_table_append(tb, sv, row);
  }
}

static void preference_row(const plx_pl_results *r, size_t l, size_t s, const populations *p,
                           double *v0, double *v1, plx_table *tb)
{
  const char *sv[2] = {r->pl_name[l], l >= r->high_from ? "high" : "low"};
  const size_t k0 = values_of(p->pop[0], p->n[0], pref_distance, v0),
               k1 = values_of(p->pop[1], p->n[1], pref_distance, v1);
  plx_ks_test two, u0, u1;
  double row[11];
  plx_ks_two_sample(v1, k1, v0, k0, &two);
  plx_ks_uniform(v0, k0, 0.0, 90.0, &u0);
  plx_ks_uniform(v1, k1, 0.0, 90.0, &u1);
  row[0] = r->seps[s];
  row[1] = (double)k0;
  row[2] = (double)k1;
  row[3] = mean_of(v0, k0);
  row[4] = mean_of(v1, k1);
  row[5] = two.d;
  row[6] = two.p;
  row[7] = u0.d;
  row[8] = u0.p;
  row[9] = u1.d;
  row[10] = u1.p;
  plx_table_append(tb, sv, row);
}

/* slope_by_preference rows and the slope_anova row; y, fa and fb hold
 * both populations' binned slopes for the ANOVA */
static void slope_rows(const plx_pl_results *r, size_t l, size_t s, const populations *p,
                       double *v0, double *v1, double *y, size_t *fa, size_t *fb,
                       plx_table *tslope, plx_table *tanova)
{
  const char *sv[2] = {r->pl_name[l], l >= r->high_from ? "high" : "low"};
  size_t b, st, i, n = 0;
  plx_f_test f;
  double row[11];
  for (b = 0; b < PB_N; b++) {
    double *v[2] = {v0, v1};
    size_t k[2];
    plx_rank_test t;
    for (st = 0; st < 2; st++) {
      k[st] = 0;
      for (i = 0; i < p->n[st]; i++)
        if (pref_bin(&p->pop[st][i]) == b && isfinite(p->pop[st][i].slope))
          v[st][k[st]++] = p->pop[st][i].slope;
    }
    plx_mann_whitney(v1, k[1], v0, k[0], &t);
    row[0] = r->seps[s];
    row[1] = (double)b * pb_width;
    row[2] = (double)(b + 1) * pb_width;
    row[3] = (double)k[0];
    row[4] = (double)k[1];
    row[5] = median_sorting(v0, k[0]);
    row[6] = median_sorting(v1, k[1]);
    row[7] = t.u;
    row[8] = t.z;
    row[9] = t.p_greater;
    row[10] = isnan(t.p_greater) ? NAN : fmin(1.0, PB_N * t.p_greater);
    plx_table_append(tslope, sv, row);
  }
  for (st = 0; st < 2; st++)
    for (i = 0; i < p->n[st]; i++) {
      const size_t bin = pref_bin(&p->pop[st][i]);
      if (bin < PB_N && isfinite(p->pop[st][i].slope)) {
        y[n] = p->pop[st][i].slope;
        fa[n] = st;
        fb[n++] = bin;
      }
    }
  plx_anova2_interaction(y, fa, fb, n, 2, PB_N, &f);
  row[0] = r->seps[s];
  row[1] = (double)n;
  row[2] = f.df1;
  row[3] = f.df2;
  row[4] = f.f;
  row[5] = f.p;
  plx_table_append(tanova, sv, row);
}

static void pop_tables_free(pop_tables *t)
{
  plx_table_free(t->dist);
  plx_table_free(t->pref);
  plx_table_free(t->slope);
  plx_table_free(t->anova);
}

static int pop_tables_new(pop_tables *t)
{
  static const char *const nd[] = {"layer", "level", "separation_deg", "measure", "n_naive",
                                   "n_trained", "median_naive", "median_trained", "u", "z",
                                   "p_trained_greater", "p_trained_less"};
  static const char *const np[] = {"layer", "level", "separation_deg", "n_naive", "n_trained",
                                   "mean_distance_naive", "mean_distance_trained", "ks_d",
                                   "ks_p", "uniform_d_naive", "uniform_p_naive",
                                   "uniform_d_trained", "uniform_p_trained"};
  static const char *const ns[] = {"layer", "level", "separation_deg", "bin_lo_deg",
                                   "bin_hi_deg", "n_naive", "n_trained", "median_naive",
                                   "median_trained", "u", "z", "p_trained_greater",
                                   "p_bonferroni"};
  static const char *const na[] = {"layer", "level", "separation_deg", "n", "df1", "df2",
                                   "f_interaction", "p_interaction"};
  t->dist = plx_table_new(12, nd, "ssfsiiffffff");
  t->pref = plx_table_new(13, np, "ssfiiffffffff");
  t->slope = plx_table_new(13, ns, "ssfffiiffffff");
  t->anova = plx_table_new(8, na, "ssfiffff");
  if (!t->dist || !t->pref || !t->slope || !t->anova)
    return -1;
  plx_table_comment(t->dist, "Mann-Whitney U of the trained against the naive units of a "
                             "layer, each population the units included in that state, "
                             "pooled over the conditions of a separation (the naive units "
                             "once per condition, as in the paper); normal approximation "
                             "with tie and continuity corrections; medians of the "
                             "populations");
  plx_table_comment(t->pref, "distance of each included unit's preferred orientation from "
                             "the trained one, in [0, 90] degrees, populations as in "
                             "unit_distributions.csv; two-sample Kolmogorov-Smirnov of "
                             "trained against naive (ks_d, ks_p) and one-sample against "
                             "uniform on [0, 90] (uniform_*); p from Kolmogorov's "
                             "limiting distribution");
  plx_table_comment(t->slope, "normalised slope at the trained orientation of the units "
                              "preferring [bin_lo, bin_hi) degrees from it (the paper's six "
                              "8-degree bins within 48 degrees); Mann-Whitney U of trained "
                              "against naive per bin, p_bonferroni = min(1, 6 "
                              "p_trained_greater)");
  plx_table_comment(t->anova, "two-way ANOVA of the normalised slope at the trained "
                              "orientation, factors state (naive, trained) and preference "
                              "bin (the six of slope_by_preference.csv): F test of the "
                              "interaction, unbalanced cells by least squares");
  return 0;
}

int plx_pl_population_tables(const plx_pl_results *r, plx_rundir *rd, plx_error *err)
{
  size_t cap = 0, l, s;
  populations p = {{NULL, NULL}, {0, 0}};
  pop_tables t = {NULL, NULL, NULL, NULL};
  double *v0 = NULL, *v1 = NULL, *y = NULL;
  size_t *fa = NULL, *fb = NULL;
  int rc;
  for (l = 0; l < r->n_pl; l++)
    if (r->n_units[l] * r->n_cond > cap)
      cap = r->n_units[l] * r->n_cond;
  p.pop[0] = malloc((cap + 1) * sizeof *p.pop[0]);
  p.pop[1] = malloc((cap + 1) * sizeof *p.pop[1]);
  v0 = malloc((cap + 1) * sizeof *v0);
  v1 = malloc((cap + 1) * sizeof *v1);
  y = malloc((2 * cap + 1) * sizeof *y);
  fa = malloc((2 * cap + 1) * sizeof *fa);
  fb = malloc((2 * cap + 1) * sizeof *fb);
  if (!p.pop[0] || !p.pop[1] || !v0 || !v1 || !y || !fa || !fb || pop_tables_new(&t)) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  for (l = 0; l < r->n_pl; l++)
    for (s = 0; s < r->n_sep; s++) {
      populations_fill(r, l, s, &p);
      unit_distribution_rows(r, l, s, &p, v0, v1, t.dist);
      preference_row(r, l, s, &p, v0, v1, t.pref);
      slope_rows(r, l, s, &p, v0, v1, y, fa, fb, t.slope, t.anova);
    }
  rc = plx_rundir_table(rd, "unit_distributions", t.dist, err);
  if (!rc)
    rc = plx_rundir_table(rd, "preference_distributions", t.pref, err);
  if (!rc)
    rc = plx_rundir_table(rd, "slope_by_preference", t.slope, err);
  if (!rc)
    rc = plx_rundir_table(rd, "slope_anova", t.anova, err);
done:
  pop_tables_free(&t);
  free(p.pop[0]);
  free(p.pop[1]);
  free(v0);
  free(v1);
  free(y);
  free(fa);
  free(fb);
  return rc;
}
