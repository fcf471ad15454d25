/* pca.c -- principal components of a covariance matrix through LAPACKE's
 * divide-and-conquer symmetric eigensolver, with a deterministic sign
 * convention, the power-law summary of the spectrum and its write-out. */
#include "config.h"
#include "plastix/pca.h"
#include "plastix/error.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void plx_pca_free(plx_pca *p)
{
  if (!p)
    return;
  free(p->values);
  free(p->vectors);
  free(p);
}

int plx_pca_compute(plx_pca **out, const double *cov, size_t d,
                    plx_error *err)
{
  plx_pca *p = calloc(1, sizeof *p);
  double *w = malloc(d * sizeof *w), *a = malloc(d * d * sizeof *a);
  lapack_int info;
  size_t k, i;
  *out = NULL;
  if (!p || !w || !a || !(p->values = malloc(d * sizeof *p->values)) ||
      !(p->vectors = malloc(d * d * sizeof *p->vectors))) {
    free(w);
    free(a);
    plx_pca_free(p);
    return plx_error_set(err, PLX_ENOMEM, "out of memory for a %zux%zu PCA", d, d);
  }
  p->d = d;
  memcpy(a, cov, d * d * sizeof *a);
  info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)d, a, (lapack_int)d, w);
  if (info != 0) {
    free(w);
    free(a);
    plx_pca_free(p);
    return plx_error_set(err, PLX_EINVAL,
                         "PCA: the eigensolver (dsyevd) failed with info = %d "
                         "(covariance not finite?)", (int)info);
  }
  /* ascending -> descending, largest-magnitude entry of each vector > 0 */
  p->total = 0.0;
  for (k = 0; k < d; k++) {
    const double *src = a + (d - 1 - k) * d;
    double *dst = p->vectors + k * d, big = 0.0, sgn;
    size_t arg = 0;
    p->values[k] = w[d - 1 - k] > 0 ? w[d - 1 - k] : 0.0;
    p->total += p->values[k];
    for (i = 0; i < d; i++)
      if (fabs(src[i]) > big + 1e-12 * big) {
        big = fabs(src[i]);
        arg = i;
      }
    sgn = src[arg] < 0 ? -1.0 : 1.0;
    for (i = 0; i < d; i++)
      dst[i] = sgn * src[i];
  }
  free(w);
  free(a);
  *out = p;
  return PLX_OK;
}

double plx_pca_powerlaw(const plx_pca *p, size_t k0, size_t k1, double *c)
{
  double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0, slope;
  size_t k;
  if (k0 < 1)
    k0 = 1;
  if (k1 > p->d)
    k1 = p->d;
  for (k = k0; k <= k1; k++) {
    double x, y;
    if (!(p->values[k - 1] > 0))
      continue;
    x = log((double)k);
    y = log(p->values[k - 1]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    n += 1;
  }
  if (n < 2) {
    if (c)
      *c = NAN;
    return NAN;
  }
  slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  if (c)
    *c = (sy - slope * sx) / n;
  return slope;
}

int plx_pca_report(const plx_pca *p, const double *mean, size_t keep,
                   size_t k0, size_t k1, plx_rundir *rd, plx_error *err)
{
  static const char *const names[] = {"k", "variance", "share", "cumulative_share"};
  plx_table *t = plx_table_new(4, names, "ifff");
  plx_figure *fig = plx_figure_new(1, 1, 560, 440);
  double *x = malloc(p->d * sizeof *x), cum = 0, c, slope;
  char title[200], label[96];
  size_t k;
  int rc = PLX_OK;
  if (!t || !fig || !x) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  for (k = 0; k < p->d; k++) {
    double v[4];
    double share = p->total > 0 ? p->values[k] / p->total : 0.0;
    cum += share;
    v[0] = (double)(k + 1);
    v[1] = p->values[k];
    v[2] = share;
    v[3] = cum;
    x[k] = (double)(k + 1);
    if (plx_table_append(t, NULL, v)) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
      goto done;
    }
  }
  slope = plx_pca_powerlaw(p, k0, k1, &c);
  snprintf(title, sizeof title, "Patch spectrum: PC1 %.1f%% of variance, slope %.2f over k = %zu..%zu",
           100.0 * (p->total > 0 ? p->values[0] / p->total : 0.0), slope, k0,
           k1 < p->d ? k1 : p->d);
  plx_table_comment(t, title);
  if (keep > p->d)
    keep = p->d;
  if ((rc = plx_rundir_table(rd, "spectrum", t, err)) ||
      (rc = plx_h5_write_vector(plx_rundir_h5(rd), "pca/eigenvalues", p->values, p->d, err)) ||
      (rc = plx_h5_write_matrix(plx_rundir_h5(rd), "pca/vectors", p->vectors, p->d, keep,
                                p->d, err)) ||
      (mean && (rc = plx_h5_write_vector(plx_rundir_h5(rd), "pca/mean", mean, p->d, err))))
    goto done;
  {
    plx_axes *ax = plx_figure_axes(fig, 0, 0);
    double fx[2], fy[2];
    plx_figure_title(fig, title);
    plx_axes_logx(ax, 1);
    plx_axes_logy(ax, 1);
    plx_axes_xlabel(ax, "principal component k");
    plx_axes_ylabel(ax, "variance");
    plx_axes_line(ax, x, p->values, p->d, PLX_C_BLACK, PLX_SOLID, "patches");
    if (isfinite(slope)) {
      fx[0] = (double)k0;
      fx[1] = (double)(k1 < p->d ? k1 : p->d);
      fy[0] = exp(c) * pow(fx[0], slope);
      fy[1] = exp(c) * pow(fx[1], slope);
      snprintf(label, sizeof label, "fit k^%.2f", slope);
      plx_axes_line(ax, fx, fy, 2, PLX_C_VERMILLION, PLX_DASHED, label);
    }
    rc = plx_rundir_figure(rd, "spectrum", fig, err);
  }
done:
  plx_table_free(t);
  plx_figure_free(fig);
  free(x);
  return rc;
}
