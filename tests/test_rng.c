/* test_rng.c -- keyed streams are reproducible and independent; the
 * ziggurat sampler has the normal distribution (moments and a
 * Kolmogorov--Smirnov test with sample-size-derived thresholds). */
#include "config.h"
#include "plastix/rng.h"

#include <check.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

START_TEST(test_streams_reproducible)
{
  plx_rng *a = plx_rng_alloc(42, 3, PLX_POP_NETWORK);
  plx_rng *b = plx_rng_alloc(42, 3, PLX_POP_NETWORK);
  plx_rng *c = plx_rng_alloc(42, 4, PLX_POP_NETWORK);
  plx_rng *d = plx_rng_alloc(42, 3, PLX_POP_STIMULUS);
  int i, same_c = 0, same_d = 0;
  for (i = 0; i < 1000; i++) {
    uint64_t x = plx_rng_u64(a), y = plx_rng_u64(b);
    ck_assert_uint_eq(x, y);
    same_c += plx_rng_u64(c) == x;
    same_d += plx_rng_u64(d) == x;
  }
  ck_assert_int_eq(same_c, 0);
  ck_assert_int_eq(same_d, 0);
  plx_rng_reseed(a, 42, 3, PLX_POP_NETWORK);
  plx_rng_reseed(b, 42, 3, PLX_POP_NETWORK);
  ck_assert_uint_eq(plx_rng_u64(a), plx_rng_u64(b));
  /* usable as a GSL generator */
  ck_assert(gsl_rng_uniform(plx_rng_gsl(a)) < 1.0);
  plx_rng_free(a);
  plx_rng_free(b);
  plx_rng_free(c);
  plx_rng_free(d);
}
END_TEST

START_TEST(test_normal_moments_and_ks)
{
  enum { N = 200000 };
  double *x = malloc(N * sizeof *x), m = 0, v = 0, k4 = 0, dmax = 0;
  plx_rng *r = plx_rng_alloc(7, 0, PLX_POP_NETWORK);
  size_t i;
  plx_rng_normal_fill(r, x, N, 1.0);
  for (i = 0; i < N; i++)
    m += x[i];
  m /= N;
  for (i = 0; i < N; i++) {
    v += (x[i] - m) * (x[i] - m);
    k4 += pow(x[i] - m, 4);
  }
  v /= N - 1;
  k4 /= N;
  /* 5-sigma bands from the sampling distributions of the estimators */
  ck_assert_double_lt(fabs(m), 5.0 / sqrt(N));
  ck_assert_double_lt(fabs(v - 1.0), 5.0 * sqrt(2.0 / N));
  ck_assert_double_lt(fabs(k4 - 3.0), 5.0 * sqrt(96.0 / N));
  qsort(x, N, sizeof *x, cmp_double);
  for (i = 0; i < N; i++) {
    double F = gsl_cdf_ugaussian_P(x[i]);
    double d1 = fabs(F - (double)i / N), d2 = fabs(F - (double)(i + 1) / N);
    if (d1 > dmax) dmax = d1;
    if (d2 > dmax) dmax = d2;
  }
  /* KS critical value at alpha = 1e-4: sqrt(-ln(alpha/2)/2)/sqrt(N) */
  ck_assert_double_lt(dmax, sqrt(-log(0.5e-4) / 2.0) / sqrt(N));
  /* tail beyond the ziggurat base layer is populated */
  ck_assert(x[0] < -3.5 || x[N - 1] > 3.5);
  free(x);
  plx_rng_free(r);
}
END_TEST

/* The vector fill is the same sampler as single draws: same values, bit
 * for bit (including draws that go through the wedge and tail), and the
 * stream ends at the same place. */
START_TEST(test_normal_fill_equals_single_draws)
{
  enum { N = 100000 };
  double *x = malloc(N * sizeof *x);
  plx_rng *a = plx_rng_alloc(11, 5, PLX_POP_NETWORK);
  plx_rng *b = plx_rng_alloc(11, 5, PLX_POP_NETWORK);
  size_t i, n_big = 0;
  plx_rng_normal_fill(a, x, 7, 0.3); /* odd sizes too */
  for (i = 0; i < 7; i++)
    ck_assert(x[i] == 0.3 * plx_rng_normal(b));
  plx_rng_normal_fill(a, x, N, 1.0);
  for (i = 0; i < N; i++) {
    ck_assert(x[i] == plx_rng_normal(b));
    n_big += fabs(x[i]) > 3.442619855899; /* beyond the base layer */
  }
  ck_assert_uint_gt(n_big, 0);
  ck_assert_uint_eq(plx_rng_u64(a), plx_rng_u64(b));
  free(x);
  plx_rng_free(a);
  plx_rng_free(b);
}
END_TEST

START_TEST(test_below_uniform)
{
  plx_rng *r = plx_rng_alloc(1, 2, PLX_POP_DATA);
  int counts[12] = {0}, i, n = 120000;
  double chi2 = 0;
  for (i = 0; i < n; i++)
    counts[plx_rng_below(r, 12)]++;
  for (i = 0; i < 12; i++)
    chi2 += pow(counts[i] - n / 12.0, 2) / (n / 12.0);
  ck_assert_double_lt(chi2, gsl_cdf_chisq_Qinv(1e-4, 11));
  plx_rng_free(r);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("rng");
  TCase *tc = tcase_create("core");
  SRunner *sr;
  int nf;
  tcase_add_test(tc, test_streams_reproducible);
  tcase_add_test(tc, test_normal_moments_and_ks);
  tcase_add_test(tc, test_normal_fill_equals_single_draws);
  tcase_add_test(tc, test_below_uniform);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
