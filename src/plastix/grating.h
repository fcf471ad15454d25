/* plastix/grating.h -- sensitivity of a linear map to the spatial frequency
 * of a vertical grating (paper Fig. 5e-h).
 *
 * On a P x P patch (pixel (r, c) at index r P + c) the stimulus is
 *   s(f, phi)_{r,c} = 0.5 sin(f x_c + phi) + 0.5,   x_c = pi c / (P - 1),
 * constant down each column; f is in the reference code's units (one
 * period spans 2 (P - 1) / f pixels: 100 f / 62 cycles per 100 pixels for
 * P = 32).  Its exact derivative is ds/df = 0.5 x_c cos(f x_c + phi), and
 *   D(f) = mean over phi of || W ds/df ||^2,
 * averaged over phases phi_j = phase_max j / (n - 1), j < n (the reference:
 * 64 phases over [0, pi]).  Writing ds/df = cos(phi) a + sin(phi) b with
 * a_c = 0.5 x_c cos(f x_c), b_c = -0.5 x_c sin(f x_c) (per column),
 *   D(f) = <cos^2> a'Ga + 2 <sin cos> a'Gb + <sin^2> b'Gb,
 * where G = Wc^T Wc and Wc (d x P) sums the columns of W that belong to
 * one image column: the phase average is exact and each frequency costs
 * O(P^2) once G is known.  Threshold = D^(-1/2); acuity = the highest f of
 * a fine grid below which every grid threshold stays under a cutoff. */
#ifndef PLASTIX_GRATING_H
#define PLASTIX_GRATING_H

#include <stddef.h>

typedef struct plx_grating {
  size_t side;           /* P                                           */
  size_t n_phases;
  double phase_max;
  double c2, s2, cs;     /* phase means of cos^2, sin^2, sin cos        */
} plx_grating;

/* n_phases >= 1 (one phase: phi = 0). */
void plx_grating_init(plx_grating *g, size_t side, size_t n_phases,
                      double phase_max);

/* x_c of column c. */
double plx_grating_x(const plx_grating *g, size_t c);
/* The stimulus and its exact derivative in f, as d = P^2 vectors. */
void plx_grating_stimulus(const plx_grating *g, double f, double phi,
                          double *s);
void plx_grating_dstimulus(const plx_grating *g, double f, double phi,
                           double *ds);

/* G (P x P) for the map W (d x d column-major); wc is d x P workspace. */
void plx_grating_gram(const plx_grating *g, const double *W, size_t d,
                      double *wc, double *G);
/* D(f), exact, from G. */
double plx_grating_sensitivity(const plx_grating *g, const double *G,
                               double f);
/* Highest f = f_lo + k step <= f_hi such that D(f')^(-1/2) < cutoff for
 * every grid f' <= f; 0 when already f_lo fails. */
double plx_grating_acuity(const plx_grating *g, const double *G, double f_lo,
                          double f_hi, double step, double cutoff);

#endif
