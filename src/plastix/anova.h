/* plastix/anova.h -- the interaction test of a two-way analysis of
 * variance on unbalanced data, the test Wenliang & Seitz (2018) use for
 * "does training change the slope differently for units of different
 * preferred orientations" (factor a: naive or trained; factor b: the
 * preferred-orientation bin). */
#ifndef PLASTIX_ANOVA_H
#define PLASTIX_ANOVA_H

#include <stddef.h>

typedef struct plx_f_test {
  double f;        /* F statistic                                   */
  double df1, df2; /* numerator and denominator degrees of freedom   */
  double p;        /* P(F(df1, df2) > f)                             */
  double ss;       /* the tested sum of squares (numerator x df1)    */
} plx_f_test;

/* The a x b interaction of y[0..n) with levels a[i] < na, b[i] < nb
 * (observations with a non-finite y are left out).  The interaction sum of
 * squares is RSS(additive model a + b) - RSS(cell means), tested against
 * the cell-means residual: F = (SS / df1) / (RSS_cells / df2) with df1 =
 * (non-empty cells) - rank(additive design), df2 = n - (non-empty cells).
 * For the highest-order term this is the same in type I, II and III
 * sums of squares.  Returns 0; -1 (NaN fields) when df1 or df2 is below 1,
 * the cells have no residual variance, or memory runs out. */
int plx_anova2_interaction(const double *y, const size_t *a, const size_t *b, size_t n,
                           size_t na, size_t nb, plx_f_test *out);

#endif
