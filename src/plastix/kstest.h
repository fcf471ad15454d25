/* plastix/kstest.h -- Kolmogorov-Smirnov tests, the test Wenliang & Seitz
 * (2018) use for changes in the distribution of units' preferred
 * orientations: two samples (trained against naive units) and one sample
 * against a uniform distribution. */
#ifndef PLASTIX_KSTEST_H
#define PLASTIX_KSTEST_H

#include <stddef.h>

typedef struct plx_ks_test {
  double d; /* sup |F_1 - F_2| over the real line                         */
  double p; /* two-sided p from Kolmogorov's limiting distribution         */
} plx_ks_test;

/* Q(lambda) = P(K > lambda) = 2 sum_{k>=1} (-1)^{k-1} exp(-2 k^2 lambda^2),
 * the survival function of Kolmogorov's distribution (scipy.stats.kstwobign);
 * 1 for lambda <= 0. */
double plx_kolmogorov_q(double lambda);

/* Two-sample test of a[0..na) against b[0..nb) (non-finite values are left
 * out): D = sup_x |F_a(x) - F_b(x)| with the empirical distribution
 * functions (ties handled exactly, as scipy.stats.ks_2samp), p =
 * Q(sqrt(na nb / (na + nb)) D), the large-sample approximation.  Returns
 * 0; -1 (both fields NaN) when a sample is empty or memory runs out. */
int plx_ks_two_sample(const double *a, size_t na, const double *b, size_t nb,
                      plx_ks_test *out);

/* One-sample test of x[0..n) against the uniform distribution on [lo, hi]
 * (lo < hi): D = sup |F_n(x) - (x - lo) / (hi - lo)| (scipy.stats.kstest's
 * statistic), p = Q(sqrt(n) D).  Returns 0; -1 (NaN fields) for an empty
 * sample, lo >= hi or no memory. */
int plx_ks_uniform(const double *x, size_t n, double lo, double hi, plx_ks_test *out);

#endif
