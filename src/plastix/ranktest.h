/* plastix/ranktest.h -- the Mann-Whitney U (Wilcoxon rank-sum) test of
 * two independent samples, the test Wenliang & Seitz (2018) use for every
 * change of a unit attribute with training (trained units against naive
 * units, pooled over reference orientations). */
#ifndef PLASTIX_RANKTEST_H
#define PLASTIX_RANKTEST_H

#include <stddef.h>

typedef struct plx_rank_test {
  double u;         /* U of sample a: pairs (a_i, b_j) with a_i > b_j, ties 1/2 */
  double z;         /* (U - na nb / 2) / sd, sd with the tie correction       */
  double p_greater; /* one-sided p of "a tends to be larger than b"           */
  double p_less;    /* one-sided p of "a tends to be smaller than b"          */
} plx_rank_test;

/* Mann-Whitney U of a[0..na) against b[0..nb) (non-finite values are left
 * out), with the normal approximation, the tie correction of the variance
 * and a continuity correction of 1/2 (scipy.stats.mannwhitneyu's
 * "asymptotic" method).  Returns 0; -1 (every field NaN) when either
 * sample is empty, every value is tied, or memory runs out. */
int plx_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
                     plx_rank_test *out);

#endif
