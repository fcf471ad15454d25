/* anova.c -- interaction F test of a two-way analysis of variance on
 * unbalanced data, by least squares (GSL's truncated SVD for the additive
 * model).  See plastix/anova.h. */
#include "config.h"
#include "plastix/anova.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_multifit.h>
#include <math.h>
#include <stdlib.h>

int plx_anova2_interaction(const double *y, const size_t *a, const size_t *b, size_t n,
                           size_t na, size_t nb, plx_f_test *out)
{
  const size_t ncell = na * nb, p = na + nb - 1;
  double *sum = calloc(ncell + 1, sizeof *sum), rss_cells = 0, rss_add = 0;
  size_t *cnt = calloc(ncell + 1, sizeof *cnt), m = 0, cells = 0, i, k, row, rank = 0;
  gsl_matrix *X = NULL, *cov = NULL;
  gsl_vector *yv = NULL, *c = NULL;
  gsl_multifit_linear_workspace *w = NULL;
  int rc = -1;
  out->f = out->df1 = out->df2 = out->p = out->ss = NAN;
  if (!sum || !cnt || !na || !nb)
    goto done;
  for (i = 0; i < n; i++)
    if (isfinite(y[i]) && a[i] < na && b[i] < nb) {
      sum[a[i] * nb + b[i]] += y[i];
      cnt[a[i] * nb + b[i]]++;
      m++;
    }
  for (k = 0; k < ncell; k++)
    cells += cnt[k] > 0;
  if (m <= cells || m < p + 1)
    goto done;
  for (i = 0; i < n; i++)
    if (isfinite(y[i]) && a[i] < na && b[i] < nb) {
      const size_t cl = a[i] * nb + b[i];
      const double r = y[i] - sum[cl] / (double)cnt[cl];
      rss_cells += r * r;
    }
  /* the additive model: intercept, then treatment dummies of a and b */
  X = gsl_matrix_calloc(m, p);
  cov = gsl_matrix_alloc(p, p);
  yv = gsl_vector_alloc(m);
  c = gsl_vector_alloc(p);
  w = gsl_multifit_linear_alloc(m, p);
  if (!X || !cov || !yv || !c || !w)
    goto done;
  for (i = 0, row = 0; i < n; i++)
    if (isfinite(y[i]) && a[i] < na && b[i] < nb) {
      gsl_matrix_set(X, row, 0, 1.0);
      if (a[i] > 0)
        gsl_matrix_set(X, row, a[i], 1.0);
      if (b[i] > 0)
        gsl_matrix_set(X, row, na - 1 + b[i], 1.0);
      gsl_vector_set(yv, row++, y[i]);
    }
  if (gsl_multifit_linear_tsvd(X, yv, 1e-12, c, cov, &rss_add, &rank, w))
    goto done;
  out->df1 = (double)cells - (double)rank;
  out->df2 = (double)m - (double)cells;
  if (out->df1 < 1 || out->df2 < 1 || !(rss_cells > 0)) {
    out->df1 = out->df2 = NAN;
    goto done;
  }
  out->ss = fmax(0.0, rss_add - rss_cells);
  out->f = (out->ss / out->df1) / (rss_cells / out->df2);
  out->p = gsl_cdf_fdist_Q(out->f, out->df1, out->df2);
  rc = 0;
done:
  free(sum);
  free(cnt);
  gsl_matrix_free(X);
  gsl_matrix_free(cov);
  gsl_vector_free(yv);
  gsl_vector_free(c);
  gsl_multifit_linear_free(w);
  return rc;
}
