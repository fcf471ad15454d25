/* plastix/pca.h -- principal components of a covariance matrix (LAPACKE
 * dsyevd), the spectrum's summary (share of PC1, power-law slope of the
 * variance against the component index) and its write-out to a run
 * directory (table, HDF5 arrays, log-log figure). */
#ifndef PLASTIX_PCA_H
#define PLASTIX_PCA_H

#include "plastix/rundir.h"
#include "plastix/rule.h"

#include <stddef.h>

typedef struct plx_pca {
  size_t d;
  double *values;  /* [d] variances, descending (negative rounding clamped to 0) */
  double *vectors; /* [d * d] column-major; column k is PC k+1, unit length,
                      its largest-magnitude entry positive                 */
  double total;    /* sum of the variances (trace of the covariance)        */
} plx_pca;

/* Eigen-decomposition of the symmetric d x d `cov` (not modified). */
int plx_pca_compute(plx_pca **out, const double *cov, size_t d,
                    plx_error *err);
void plx_pca_free(plx_pca *p);

/* Least-squares fit of log(values[k-1]) = c + slope log(k) over 1-based
 * k in [k0, k1] (clipped to d; components with zero variance skipped).
 * Returns the slope (NaN with fewer than two points); *c may be NULL. */
double plx_pca_powerlaw(const plx_pca *p, size_t k0, size_t k1, double *c);

/* tables/spectrum.csv (k, variance, share, cumulative share),
 * results.h5 /pca/{eigenvalues, vectors (first `keep` columns), mean
 * (when mean != NULL)}, figures/spectrum.png (log-log, with the fitted
 * power law over [k0, k1]). */
int plx_pca_report(const plx_pca *p, const double *mean, size_t keep,
                   size_t k0, size_t k1, plx_rundir *rd, plx_error *err);

#endif
