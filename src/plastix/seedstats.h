/* seedstats.h -- statistics of one measure over independent seeds (or
 * runs, networks): mean, standard deviation, Student's t of the mean
 * against zero with its two-sided p, how many are positive and the exact
 * two-sided sign test.  Shared by every path that reports a measure over
 * seeds (natural images, the supervised orientation task). */
#ifndef PLASTIX_SEEDSTATS_H
#define PLASTIX_SEEDSTATS_H

#include <stddef.h>

typedef struct plx_seed_stat {
  size_t n;       /* values counted (NaN values are left out)       */
  double mean, sd; /* sd with n - 1 in the denominator               */
  double t, p;    /* t = mean / (sd / sqrt n), Student's t, n - 1 dof;
                     NaN when n < 2 or sd = 0                        */
  int positive;   /* values > 0                                     */
  double p_sign;  /* two-sided exact binomial test of that count     */
} plx_seed_stat;

/* Over x[0], x[stride], ..., x[(n - 1) stride], NaN skipped. */
void plx_seed_stat_of(const double *x, size_t n, size_t stride, plx_seed_stat *st);

#endif
