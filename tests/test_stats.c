/* test_stats.c -- the statistical tests behind the perceptual-learning
 * unit tables (Wenliang & Seitz 2018 use all three): the Mann-Whitney U,
 * the Kolmogorov-Smirnov tests and the interaction F of a two-way ANOVA.
 * Each against an independent implementation (scipy 1.10.1 and numpy's
 * least squares, values quoted below) and against what the maths gives
 * exactly: statistics of separated or identical samples, symmetry, and the
 * closed-form interaction sum of squares of a balanced design.  And the
 * statistics over seeds (mean, t, p, sign test) in closed form. */
#include "config.h"
#include "plastix/anova.h"
#include "plastix/kstest.h"
#include "plastix/ranktest.h"
#include "plastix/seedstats.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

/* Mann-Whitney U: exact U of separated and of tied samples; the p values
 * of a sample with ties against scipy.stats.mannwhitneyu (1.10.1, method
 * "asymptotic", continuity correction), an independent implementation */
START_TEST(test_mann_whitney_known)
{
  const double a[] = {1.5, 2.0, 2.0, 3.25, 4.0, 7.5, 0.5, 2.0, NAN};
  const double b[] = {0.25, 1.0, 2.0, 2.0, 1.5, 3.0, 0.75};
  const double lo[] = {1, 2, 3}, hi[] = {4, 5, 6, 7}, same[] = {2, 2, 2};
  plx_rank_test t, t2;
  ck_assert_int_eq(plx_mann_whitney(a, 9, b, 7, &t), 0);
  ck_assert(t.u == 40.5); /* the NaN is left out: 8 x 7 pairs */
  ck_assert_msg(fabs(t.p_greater - 0.07845733518389071) < 1e-12, "%.17g", t.p_greater);
  ck_assert_msg(fabs(t.p_less - 0.9374218302090642) < 1e-12, "%.17g", t.p_less);
  /* U(a, b) + U(b, a) = na nb, and z changes sign */
  ck_assert_int_eq(plx_mann_whitney(b, 7, a, 9, &t2), 0);
  ck_assert(t.u + t2.u == 56.0);
  ck_assert(fabs(t.z + t2.z) < 1e-12);
  /* every value of hi above every value of lo */
  ck_assert_int_eq(plx_mann_whitney(hi, 4, lo, 3, &t), 0);
  ck_assert(t.u == 12.0 && t.z > 0 && t.p_greater < t.p_less);
  /* undefined: an empty sample, all values tied */
  ck_assert_int_eq(plx_mann_whitney(hi, 0, lo, 3, &t), -1);
  ck_assert(isnan(t.u) && isnan(t.p_greater));
  ck_assert_int_eq(plx_mann_whitney(same, 3, same, 2, &t), -1);
  ck_assert(isnan(t.z));
}
END_TEST

/* Kolmogorov's distribution against scipy.stats.kstwobign.sf, on both
 * sides of the switch between its two series */
START_TEST(test_kolmogorov_q_known)
{
  static const double lam[] = {0.3, 0.8, 1.17, 1.19, 2.0, 4.0};
  static const double want[] = {0.99999069419866549, 0.54414241157419807,
                                0.12939004218561884, 0.11774229287977166,
                                0.00067092525577969533, 2.5328331098188351e-14};
  size_t i;
  for (i = 0; i < sizeof lam / sizeof lam[0]; i++)
    ck_assert_msg(fabs(plx_kolmogorov_q(lam[i]) - want[i]) <= 1e-13 + 1e-12 * want[i],
                  "Q(%g) = %.17g, want %.17g", lam[i], plx_kolmogorov_q(lam[i]), want[i]);
  ck_assert(plx_kolmogorov_q(0) == 1.0 && plx_kolmogorov_q(-1) == 1.0);
  ck_assert(plx_kolmogorov_q(0.05) == 1.0);
}
END_TEST

/* K-S statistics of samples with ties against scipy.stats.ks_2samp and
 * scipy.stats.kstest (1.10.1); p = kstwobign.sf(sqrt(n_eff) D) */
START_TEST(test_ks_known)
{
  const double a[] = {1.5, 2.0, 2.0, 3.25, 4.0, 7.5, 0.5, 2.0, NAN};
  const double b[] = {0.25, 1.0, 2.0, 2.0, 1.5, 3.0, 0.75};
  const double x[] = {3.0, 10.0, 10.0, 25.5, 40.0, 41.0, 60.0, 89.0, 12.0, 7.0};
  const double lo[] = {1, 2, 3}, hi[] = {4, 5, 6, 7};
  double grid[90];
  plx_ks_test t, t2;
  size_t i;
  ck_assert_int_eq(plx_ks_two_sample(a, 9, b, 7, &t), 0);
  ck_assert_msg(fabs(t.d - 0.375) < 1e-15, "D %.17g", t.d); /* the NaN is left out */
  ck_assert_msg(fabs(t.p - 0.67004162258922983) < 1e-12, "p %.17g", t.p);
  /* symmetric in the two samples */
  ck_assert_int_eq(plx_ks_two_sample(b, 7, a, 9, &t2), 0);
  ck_assert(t2.d == t.d && t2.p == t.p);
  /* separated samples: D = 1; a sample against itself: D = 0, p = 1 */
  ck_assert_int_eq(plx_ks_two_sample(hi, 4, lo, 3, &t), 0);
  ck_assert(t.d == 1.0 && t.p == plx_kolmogorov_q(sqrt(4.0 * 3.0 / 7.0)));
  ck_assert_int_eq(plx_ks_two_sample(a, 8, a, 8, &t), 0);
  ck_assert(t.d == 0.0 && t.p == 1.0);
  ck_assert_int_eq(plx_ks_uniform(x, 10, 0, 90, &t), 0);
  ck_assert_msg(fabs(t.d - 0.3666666666666667) < 1e-15, "D %.17g", t.d);
  ck_assert_msg(fabs(t.p - 0.13587015597696245) < 1e-12, "p %.17g", t.p);
  /* the midpoints of n equal bins: D = 1 / (2n) exactly */
  for (i = 0; i < 90; i++)
    grid[i] = (double)i + 0.5;
  ck_assert_int_eq(plx_ks_uniform(grid, 90, 0, 90, &t), 0);
  ck_assert(fabs(t.d - 1.0 / 180) < 1e-15 && t.p == 1.0);
  /* undefined: an empty sample, an empty interval */
  ck_assert_int_eq(plx_ks_two_sample(a, 0, b, 7, &t), -1);
  ck_assert(isnan(t.d) && isnan(t.p));
  ck_assert_int_eq(plx_ks_uniform(x, 10, 1, 1, &t), -1);
}
END_TEST

/* two-way ANOVA interaction: an unbalanced 2 x 3 design against numpy's
 * least squares and scipy.stats.f.sf; a balanced design against the closed
 * form SS = r sum_ij (y_ij. - y_i.. - y_.j. + y_...)^2; purely additive
 * cell means give SS = 0 and p = 1 */
START_TEST(test_anova_interaction_known)
{
  const double y[] = {1.0, 2.0, 1.5, 3.0, 2.5, 4.0, 3.5, 0.5, 2.2, 5.0, 4.1, 1.1, 0.7, 2.9, 3.3};
  const size_t a[] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
  const size_t b[] = {0, 0, 1, 1, 2, 2, 2, 0, 0, 1, 1, 2, 2, 2, 0};
  /* balanced 2 x 3, r = 2 per cell: y = m_ij +- 1 */
  const double m[2][3] = {{1.0, 4.0, 2.0}, {3.0, 1.0, 5.0}};
  double yb[12], ya[12], ss = 0, gm = 0, rm[2] = {0}, cm[3] = {0};
  const size_t one_a[] = {0, 0, 0, 1, 1, 1}, one_b[] = {0, 1, 2, 0, 1, 2};
  size_t ab[12], bb[12], i, j, k = 0;
  plx_f_test t;
  ck_assert_int_eq(plx_anova2_interaction(y, a, b, 15, 2, 3, &t), 0);
  ck_assert(t.df1 == 2 && t.df2 == 9);
  ck_assert_msg(fabs(t.ss - 10.254774774774779) < 1e-10, "SS %.17g", t.ss);
  ck_assert_msg(fabs(t.f - 4.6503009559778139) < 1e-10, "F %.17g", t.f);
  ck_assert_msg(fabs(t.p - 0.041020137266898023) < 1e-10, "p %.17g", t.p);
  for (i = 0; i < 2; i++)
    for (j = 0; j < 3; j++) {
      gm += m[i][j] / 6;
      rm[i] += m[i][j] / 3;
      cm[j] += m[i][j] / 2;
    }
  for (i = 0; i < 2; i++)
    for (j = 0; j < 3; j++) {
      const double e = m[i][j] - rm[i] - cm[j] + gm;
      ss += 2 * e * e;
      yb[k] = m[i][j] + 1;
      ya[k] = rm[i] + cm[j] - gm + 1;
      ab[k] = i;
      bb[k++] = j;
      yb[k] = m[i][j] - 1;
      ya[k] = rm[i] + cm[j] - gm - 1;
      ab[k] = i;
      bb[k++] = j;
    }
  ck_assert_int_eq(plx_anova2_interaction(yb, ab, bb, 12, 2, 3, &t), 0);
  ck_assert(t.df1 == 2 && t.df2 == 6);
  ck_assert_msg(fabs(t.ss - ss) < 1e-12 * ss, "SS %.17g, want %.17g", t.ss, ss);
  /* within-cell residual 12 x 1^2 = 12 over 6 degrees of freedom */
  ck_assert(fabs(t.f - (ss / 2) / (12.0 / 6)) < 1e-12 * t.f);
  ck_assert_int_eq(plx_anova2_interaction(ya, ab, bb, 12, 2, 3, &t), 0);
  ck_assert_msg(t.ss < 1e-12 && fabs(t.p - 1) < 1e-9, "SS %g p %g", t.ss, t.p);
  /* undefined: one observation per cell leaves no residual */
  ck_assert_int_eq(plx_anova2_interaction(&m[0][0], one_a, one_b, 6, 2, 3, &t), -1);
  ck_assert(isnan(t.f) && isnan(t.p));
}
END_TEST

/* over seeds: {1, 2, NaN, 4} (stride 2 over a longer array) counts three
 * values, mean 7/3, variance 7/3, t = sqrt 7; with 2 degrees of freedom
 * Student's two-sided p is 1 - t / sqrt(t^2 + 2) = 1 - sqrt 7 / 3; all
 * three positive: sign test 2 / 8.  One value: no t; equal values: no t,
 * even where their mean rounds away from them */
START_TEST(test_seed_stat_known)
{
  const double x[] = {1, -9, 2, -9, NAN, -9, 4, -9}, one[] = {3}, same[] = {2, 2, 2};
  plx_seed_stat st;
  plx_seed_stat_of(x, 4, 2, &st);
  ck_assert_uint_eq(st.n, 3);
  ck_assert_double_eq_tol(st.mean, 7.0 / 3.0, 1e-15);
  ck_assert_double_eq_tol(st.sd, sqrt(7.0 / 3.0), 1e-15);
  ck_assert_double_eq_tol(st.t, sqrt(7.0), 1e-14);
  ck_assert_double_eq_tol(st.p, 1.0 - sqrt(7.0) / 3.0, 1e-12);
  ck_assert_int_eq(st.positive, 3);
  ck_assert_double_eq_tol(st.p_sign, 0.25, 1e-15);
  plx_seed_stat_of(one, 1, 1, &st);
  ck_assert(st.n == 1 && st.mean == 3 && isnan(st.t) && isnan(st.p));
  plx_seed_stat_of(same, 3, 1, &st);
  ck_assert(st.sd == 0 && isnan(st.t) && st.positive == 3);
  /* ten equal values whose sum rounds: the mean is 0.1 - 1.4e-17, yet
     there is no spread */
  {
    double tenth[10];
    size_t i;
    for (i = 0; i < 10; i++)
      tenth[i] = 0.1;
    plx_seed_stat_of(tenth, 10, 1, &st);
    ck_assert(st.mean != 0.1); /* the rounding the check is about */
    ck_assert(st.sd == 0 && isnan(st.t) && isnan(st.p));
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("stats");
  TCase *tc = tcase_create("exact");
  SRunner *sr;
  int nf;
  tcase_add_test(tc, test_mann_whitney_known);
  tcase_add_test(tc, test_kolmogorov_q_known);
  tcase_add_test(tc, test_ks_known);
  tcase_add_test(tc, test_anova_interaction_known);
  tcase_add_test(tc, test_seed_stat_known);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
