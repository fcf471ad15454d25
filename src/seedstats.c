/* seedstats.c -- statistics of one measure over seeds.  See
 * plastix/seedstats.h. */
#include "config.h"
#include "plastix/seedstats.h"

#include <gsl/gsl_cdf.h>
#include <math.h>

void plx_seed_stat_of(const double *x, size_t n, size_t stride, plx_seed_stat *st)
{
  double m = 0, v = 0, vmin = INFINITY, vmax = -INFINITY;
  size_t i, k = 0;
  int pos = 0;
  for (i = 0; i < n; i++) {
    const double d = x[i * stride];
    if (isnan(d))
      continue;
    m += d;
    pos += d > 0;
    vmin = fmin(vmin, d);
    vmax = fmax(vmax, d);
    k++;
  }
  m = k ? m / (double)k : NAN;
  for (i = 0; i < n; i++) {
    const double d = x[i * stride] - m;
    if (!isnan(d))
      v += d * d;
  }
  v = k > 1 ? v / (double)(k - 1) : NAN;
  /* equal values (one network probed under every seed) have no spread;
     the rounded mean would leave one of about 1e-17 and t near 1e16 */
  if (k > 1 && vmin == vmax)
    v = 0;
  st->n = k;
  st->mean = m;
  st->sd = sqrt(v);
  st->t = v > 0 ? m / sqrt(v / (double)k) : NAN; /* no spread: undefined */
  st->p = k > 1 && v > 0 ? 2.0 * gsl_cdf_tdist_Q(fabs(st->t), (double)(k - 1)) : NAN;
  st->positive = pos;
  /* sign test: as many values positive as this or more extreme, when
   * either sign is equally likely (two-sided, exact binomial) */
  {
    const double lo = gsl_cdf_binomial_P((unsigned)pos, 0.5, (unsigned)k);
    const double hi = pos > 0 ? gsl_cdf_binomial_Q((unsigned)pos - 1, 0.5, (unsigned)k) : 1.0;
    st->p_sign = k ? fmin(1.0, 2.0 * fmin(lo, hi)) : NAN;
  }
}
