/* kstest.c -- Kolmogorov-Smirnov tests (two samples; one sample against a
 * uniform distribution) with Kolmogorov's limiting distribution for p.
 * See plastix/kstest.h. */
#include "config.h"
#include "plastix/kstest.h"

#include <math.h>
#include <stdlib.h>

double plx_kolmogorov_q(double lambda)
{
  double s = 0;
  int k;
  if (!(lambda > 0))
    return 1.0;
  if (lambda < 1.18) {
    /* Jacobi's theta form, fast for small lambda:
     * P(K <= l) = sqrt(2 pi) / l sum_{k>=1} exp(-(2k - 1)^2 pi^2 / (8 l^2)) */
    const double w = M_PI * M_PI / (8 * lambda * lambda);
    for (k = 1; k <= 20; k++)
      s += exp(-(double)((2 * k - 1) * (2 * k - 1)) * w);
    return 1.0 - sqrt(2 * M_PI) / lambda * s;
  }
  for (k = 1; k <= 100; k++) {
    const double t = exp(-2.0 * k * k * lambda * lambda);
    s += k % 2 ? t : -t;
    if (t < 1e-17 * s)
      break;
  }
  return 2 * s;
}

static int ascending(const void *x, const void *y)
{
  const double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* the finite values of v[0..n) into a new array, sorted; NULL when none */
static double *sorted_finite(const double *v, size_t n, size_t *m)
{
  double *s = malloc((n + 1) * sizeof *s);
  size_t i;
  *m = 0;
  if (!s)
    return NULL;
  for (i = 0; i < n; i++)
    if (isfinite(v[i]))
      s[(*m)++] = v[i];
  if (!*m) {
    free(s);
    return NULL;
  }
  qsort(s, *m, sizeof *s, ascending);
  return s;
}

int plx_ks_two_sample(const double *a, size_t na, const double *b, size_t nb,
                      plx_ks_test *out)
{
  size_t ma, mb, i = 0, j = 0;
  double *sa, *sb, d = 0;
  out->d = out->p = NAN;
  sa = sorted_finite(a, na, &ma);
  sb = sorted_finite(b, nb, &mb);
  if (!sa || !sb) {
    free(sa);
    free(sb);
    return -1;
  }
  /* step both distribution functions past each distinct value in turn */
  while (i < ma && j < mb) {
    const double v = sa[i] < sb[j] ? sa[i] : sb[j];
    while (i < ma && sa[i] == v)
      i++;
    while (j < mb && sb[j] == v)
      j++;
    d = fmax(d, fabs((double)i / (double)ma - (double)j / (double)mb));
  }
  /* once one sample is exhausted the gap only closes */
  free(sa);
  free(sb);
  out->d = d;
  out->p = plx_kolmogorov_q(sqrt((double)ma * (double)mb / (double)(ma + mb)) * d);
  return 0;
}

int plx_ks_uniform(const double *x, size_t n, double lo, double hi, plx_ks_test *out)
{
  size_t m, i;
  double *s, d = 0;
  out->d = out->p = NAN;
  if (!(lo < hi))
    return -1;
  s = sorted_finite(x, n, &m);
  if (!s)
    return -1;
  for (i = 0; i < m; i++) {
    const double f = fmin(1.0, fmax(0.0, (s[i] - lo) / (hi - lo)));
    d = fmax(d, fmax((double)(i + 1) / (double)m - f, f - (double)i / (double)m));
  }
  free(s);
  out->d = d;
  out->p = plx_kolmogorov_q(sqrt((double)m) * d);
  return 0;
}
