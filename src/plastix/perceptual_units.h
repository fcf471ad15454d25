/* plastix/perceptual_units.h -- the unit-level probes of the
 * perceptual-learning experiment (Wenliang & Seitz 2018): tuning curves of
 * the units whose receptive fields sit at the image centre, measured over
 * evenly spaced orientations with repeated noisy presentations, the
 * attributes the paper compares with monkey physiology (preferred
 * orientation, tuning amplitude, selectivity index, normalised slope at the
 * trained orientation, Fano factor, best discriminability, per-unit Fisher
 * information) and each layer's linear Fisher information.
 *
 * The gradient of a tuning curve is exact: every presentation also carries
 * the forward-mode tangent d(activation)/d theta (plx_deepnet_jvp), and the
 * mean tangent over the noisy repeats is the derivative of the mean tuning
 * curve (the noise is additive and does not depend on theta). */
#ifndef PLASTIX_PERCEPTUAL_UNITS_H
#define PLASTIX_PERCEPTUAL_UNITS_H

#include "plastix/deepnet.h"
#include "plastix/perceptual_stimulus.h"

#include <gsl/gsl_matrix.h>

/* Responses of one layer's centre units: unit u at orientation k is at
 * [u * n_ori + k]; orientations theta_k = k pi / n_ori. */
typedef struct plx_tuning {
  size_t n_units, n_ori;
  double *mean;  /* mean response over repeats                           */
  double *var;   /* variance over repeats (divided by repeats - 1)       */
  double *grad;  /* d mean / d theta, per degree                          */
} plx_tuning;

/* Storage for n_units x n_ori; PLX_ENOMEM on failure (then nothing held). */
int plx_tuning_alloc(plx_tuning *t, size_t n_units, size_t n_ori);
void plx_tuning_release(plx_tuning *t);

typedef struct plx_tuning_probe {
  const int *layers;      /* indices of the probed layers in the net         */
  size_t n_layers;
  size_t n_ori, repeats;  /* orientations over [0, 180), presentations each  */
  double ridge;           /* layer FI: Sigma + ridge (tr Sigma / n) I        */
  double min_activation;  /* layer FI: units with a smaller mean at theta are
                             left out                                        */
  uint64_t seed, trial;   /* noise streams: (seed, trial, orientation)       */
} plx_tuning_probe;

/* Probe net (whose max_batch bounds the chunk of presentations) with the
 * stimulus s: out[l] (allocated by the caller with plx_tuning_alloc for
 * the layer's out_c units) receives the tuning of probed layer l;
 * fi[l * n_ori + k] (may be NULL) the layer's linear Fisher information
 * f'^T Sigma^-1 f' / n at theta_k, per degree^2, over the n units whose
 * mean there is at least min_activation (0 when none).  x and dx hold
 * max_batch images.  rng is reseeded for each orientation, so two probes
 * with the same (seed, trial) see the same noisy images. */
int plx_tuning_measure(plx_deepnet *net, const plx_tuning_probe *p,
                       const plx_gabor_stim *s, plx_rng *rng, float *x, float *dx,
                       plx_tuning *out, double *fi, plx_error *err);

/* Linear Fisher information f'^T (Sigma + ridge (tr Sigma / n) I)^-1 f' / n
 * of n units from R noisy responses x[r * n + i] (Sigma: their sample
 * covariance, divided by R - 1) and the tuning-curve derivatives fprime.
 * work must be at least n x (n + 2).  NaN when R < 2 or Sigma + ridge is
 * not positive definite. */
double plx_linear_fisher(const double *x, size_t R, size_t n, const double *fprime,
                         double ridge, gsl_matrix *work);

/* Attributes of one unit, from its tuning smoothed circularly with a
 * Gaussian of s.d. smooth_deg (0: no smoothing). */
typedef struct plx_unit_attr {
  int included;      /* mean over orientations >= min_activation          */
  double mean_act;   /* mean over orientations                            */
  double pref_deg;   /* orientation of the peak, [0, 180)                 */
  double pref_rel;   /* pref_deg - trained orientation, in [-90, 90)      */
  double amplitude;  /* peak - trough                                     */
  double si;         /* |sum s_k e^{2 i theta_k}| / sum s_k               */
  double half_width; /* half-width at half-height, degrees (NaN: flat)    */
  double slope;      /* |f'(trained)| / peak, per degree                  */
  double fano;       /* variance / mean at the preferred orientation      */
  double best_disc;  /* min over theta of variance / f'^2 (degree^2)      */
  double fi;         /* f'^2 / variance at the trained orientation        */
} plx_unit_attr;

void plx_unit_attributes(const plx_tuning *t, size_t unit, double trained_deg,
                         double smooth_deg, double min_activation, plx_unit_attr *a);

/* Circular Gaussian smoothing of n samples over a period of 180 degrees
 * (spacing 180/n) with s.d. sd_deg into out (may not alias in). */
void plx_circular_smooth(const double *in, size_t n, double sd_deg, double *out);

/* Linear interpolation of a periodic curve on theta_k = k 180 / n at
 * theta_deg. */
double plx_circular_interp(const double *f, size_t n, double theta_deg);

/* Half-width at half-height of a periodic tuning curve f on theta_k =
 * k 180 / n, in degrees: from the (first) largest sample, on each side, the
 * distance at which f first falls to halfway between its largest and its
 * smallest sample (linear interpolation between samples); the mean of the
 * two sides.  NaN when f is flat.  cos 2 theta tuning gives 45. */
double plx_tuning_half_width(const double *f, size_t n);

/* Overlap of the layer's tuning slopes at a rotation lag_deg:
 *   K(lag) / K(0),  K(lag) = sum_i sum_k f_i'(theta_k) f_i'(theta_k + lag),
 * f_i' taken between grid points by plx_circular_interp; NaN when every
 * slope is zero.  A readout learned from zero on pair differences at a
 * reference theta0 starts as w ~ sum_i f_i'(theta0) e_i, so it answers a
 * test at theta0 + lag with the sign of sum_i f_i'(theta0) f_i'(theta0 + lag);
 * averaged over evenly spaced references that is K(lag).  With each curve a
 * sum of orientation harmonics c_n e^{2 i n theta}, K(lag) is proportional to
 * sum_n n^2 |c_n|^2 cos(2 n lag): for cos 2 theta tuning K(45) = 0 and
 * K(90) = -K(0); a second harmonic makes K(45) negative. */
double plx_slope_overlap(const plx_tuning *t, double lag_deg);

#endif
