/* ranktest.c -- the Mann-Whitney U test of two independent samples.  See
 * plastix/ranktest.h. */
#include "config.h"
#include "plastix/ranktest.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>

typedef struct {
  double v;
  int from_a;
} ranked;

static int by_value(const void *x, const void *y)
{
  const double a = ((const ranked *)x)->v, b = ((const ranked *)y)->v;
  return (a > b) - (a < b);
}

int plx_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
                     plx_rank_test *out)
{
  ranked *s = malloc((na + nb + 1) * sizeof *s);
  size_t n = 0, n1 = 0, i, j;
  double r1 = 0, ties = 0, mu, var, n2;
  out->u = out->z = out->p_greater = out->p_less = NAN;
  if (!s)
    return -1;
  for (i = 0; i < na; i++)
    if (isfinite(a[i])) {
      s[n].v = a[i];
      s[n++].from_a = 1;
      n1++;
    }
  for (i = 0; i < nb; i++)
    if (isfinite(b[i])) {
      s[n].v = b[i];
      s[n++].from_a = 0;
    }
  n2 = (double)(n - n1);
  if (n1 == 0 || n1 == n) {
    free(s);
    return -1;
  }
  qsort(s, n, sizeof *s, by_value);
  /* mid-ranks (1-based) over each run of tied values */
  for (i = 0; i < n; i = j) {
    double t, rank;
    for (j = i + 1; j < n && s[j].v == s[i].v; j++)
      ;
    t = (double)(j - i);
    rank = 0.5 * (double)(i + 1 + j);
    ties += t * t * t - t;
    for (size_t k = i; k < j; k++)
      if (s[k].from_a)
        r1 += rank;
  }
  free(s);
  out->u = r1 - 0.5 * (double)n1 * (double)(n1 + 1);
  mu = 0.5 * (double)n1 * n2;
  var = (double)n1 * n2 / 12.0 *
        ((double)(n + 1) - ties / ((double)n * (double)(n - 1)));
  if (!(var > 0)) {
    out->u = NAN;
    return -1;
  }
  out->z = (out->u - mu) / sqrt(var);
  out->p_greater = gsl_cdf_ugaussian_Q((out->u - mu - 0.5) / sqrt(var));
  out->p_less = gsl_cdf_ugaussian_P((out->u - mu + 0.5) / sqrt(var));
  return 0;
}
