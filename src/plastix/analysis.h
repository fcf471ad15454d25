/* plastix/analysis.h -- the mathematics of the frozen-network probes, as
 * pure functions of the protocol statistics (no files, no figures), so tests
 * can check them directly.  Angles index the grid of plx_grid_stats. */
#ifndef PLASTIX_ANALYSIS_H
#define PLASTIX_ANALYSIS_H

#include "plastix/protocol.h"
#include "plastix/task.h"

/* Tuning curves: mean and s.d. (ddof 1) of unit i at angle g, N × G. */
void plx_tuning(const plx_grid_stats *st, double *mean, double *sd);
/* Preferred angle index of each unit: argmax_g mean[i, g] over the angles
 * that were shown (non-NaN means). */
void plx_preferred(const plx_grid_stats *st, const double *mean, long *pref);
/* Wrapped Gaussian kernel density of angles x[0..n) (padded by +-2 pi as
 * the reference does) evaluated at t[0..m); integrates to 1 over the circle. */
void plx_kde_circular(const double *x, size_t n, double bandwidth,
                      const double *t, size_t m, double *out);
/* Population rate: mean over units of the tuning curve and its s.e.m.
 * across units, per angle. */
void plx_population_rate(const plx_grid_stats *st, const double *mean,
                         double *rate, double *sem);
/* Squared bias sum_d (y_d - <o_d>)^2 and variance sum_d var(o_d) per angle. */
void plx_bias_variance(const plx_grid_stats *st, const plx_task *task,
                       double *bias2, double *var);
/* Noise volume fraction per angle: det(Q^T S Q) / prod of the top-k
 * eigenvalues of S, S the covariance of r at that angle, Q an orthonormal
 * basis of the readout's row space (k = n_out rows of D, ld = n_out). */
int plx_noise_volume(const plx_grid_stats *st, const double *D, size_t ld,
                     double *vf, double *det_readout, double *det_pca,
                     plx_error *err);
/* d' = |m1 - m0| / sqrt((v0 + v1) / 2) from counts, sums and sums of squares. */
double plx_dprime(double n0, double s0, double ss0, double n1, double s1,
                  double ss1, double *mean_diff, double *pooled_sd);
/* Index of the grid angle nearest to theta. */
size_t plx_grid_nearest(const plx_grid_stats *st, double theta);
/* Mean and s.e.m. of a per-angle sum given sum of squares and counts. */
void plx_mean_sem(const double *sum, const double *sum2, const double *count,
                  size_t n, double *mean, double *sem);

/* Per-segment quantities of the grid protocol (one value per held
 * stimulus; segments are independent replicates). */
typedef enum {
  PLX_SEG_RATE,   /* mean rate over units and samples                  */
  PLX_SEG_ENERGY, /* mean reference energy                             */
  PLX_SEG_ERROR,  /* mean task error of the samples                    */
  PLX_SEG_BIAS2,  /* |y(theta) - mean readout of the segment|^2        */
  PLX_SEG_Z       /* mean of the first readout                         */
} plx_seg_quantity;

/* Mean, standard error and count of quantity q over the segments whose
 * grid angle theta satisfies lo <= theta <= hi (use -4, 4 for all; angles
 * are compared after wrapping to [-pi, pi)); abs_theta compares |theta|. */
void plx_segments_summary(const plx_grid_stats *st, const plx_task *task,
                          plx_seg_quantity q, double lo, double hi,
                          int abs_theta, double *mean, double *se, size_t *n);

/* Per grid angle: mean and standard error over that angle's segments. */
void plx_segments_by_angle(const plx_grid_stats *st, const plx_task *task,
                           plx_seg_quantity q, double *mean, double *se,
                           double *n);

/* Population sensitivity and linear Fisher information per grid angle:
 * f'(theta_g) by central differences of the mean response between the
 * neighbouring grid angles (periodic), sens = |f'|^2 (the Fisher
 * information under unit isotropic noise), fi = f'^T S^-1 f' with S the
 * response covariance at theta_g plus a ridge of 1e-6 tr(S)/N. */
int plx_fisher(const plx_grid_stats *st, double *sens, double *fi,
               plx_error *err);
/* How closely a nonnegative profile q follows a density p on the same grid
 * of n angles: Pearson correlation, and KL(p || q/sum q) in nats (both
 * normalised on the grid).  Angles where either is NaN are left out. */
void plx_profile_scores(const double *p, const double *q, size_t n,
                        double *corr, double *kl);

#endif
