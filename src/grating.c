/* grating.c -- spatial-frequency sensitivity of a linear map to a vertical
 * grating: the stimulus, its exact derivative, the phase-averaged
 * sensitivity D(f) through a P x P Gram matrix, thresholds and acuity. */
#include "config.h"
#include "plastix/grating.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void plx_grating_init(plx_grating *g, size_t side, size_t n_phases,
                      double phase_max)
{
  size_t j;
  memset(g, 0, sizeof *g);
  g->side = side;
  g->n_phases = n_phases ? n_phases : 1;
  g->phase_max = phase_max;
  for (j = 0; j < g->n_phases; j++) {
    double phi = g->n_phases > 1 ? phase_max * (double)j / (double)(g->n_phases - 1) : 0.0;
    double c = cos(phi), s = sin(phi);
    g->c2 += c * c;
    g->s2 += s * s;
    g->cs += s * c;
  }
  g->c2 /= (double)g->n_phases;
  g->s2 /= (double)g->n_phases;
  g->cs /= (double)g->n_phases;
}

double plx_grating_x(const plx_grating *g, size_t c)
{
  return g->side > 1 ? M_PI * (double)c / (double)(g->side - 1) : 0.0;
}

void plx_grating_stimulus(const plx_grating *g, double f, double phi,
                          double *s)
{
  size_t r, c;
  for (c = 0; c < g->side; c++) {
    double v = 0.5 * sin(f * plx_grating_x(g, c) + phi) + 0.5;
    for (r = 0; r < g->side; r++)
      s[r * g->side + c] = v;
  }
}

void plx_grating_dstimulus(const plx_grating *g, double f, double phi,
                           double *ds)
{
  size_t r, c;
  for (c = 0; c < g->side; c++) {
    double x = plx_grating_x(g, c), v = 0.5 * x * cos(f * x + phi);
    for (r = 0; r < g->side; r++)
      ds[r * g->side + c] = v;
  }
}

void plx_grating_gram(const plx_grating *g, const double *W, size_t d,
                      double *wc, double *G)
{
  const size_t P = g->side;
  size_t r, c, i;
  memset(wc, 0, d * P * sizeof *wc);
  for (r = 0; r < P; r++)
    for (c = 0; c < P; c++) {
      const double *col = W + (r * P + c) * d;
      double *dst = wc + c * d;
      for (i = 0; i < d; i++)
        dst[i] += col[i];
    }
  cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)P, (int)P, (int)d, 1.0, wc,
              (int)d, wc, (int)d, 0.0, G, (int)P);
}

double plx_grating_sensitivity(const plx_grating *g, const double *G,
                               double f)
{
  const size_t P = g->side;
  double a[256], b[256], aa = 0, ab = 0, bb = 0;
  size_t i, j;
  if (P > 256)
    return NAN;
  for (i = 0; i < P; i++) {
    double x = plx_grating_x(g, i);
    a[i] = 0.5 * x * cos(f * x);
    b[i] = -0.5 * x * sin(f * x);
  }
  for (j = 0; j < P; j++) {
    double ga = 0, gb = 0;
    for (i = 0; i < P; i++) {
      ga += G[i + j * P] * a[i];
      gb += G[i + j * P] * b[i];
    }
    aa += a[j] * ga;
    ab += a[j] * gb;
    bb += b[j] * gb;
  }
  return g->c2 * aa + 2.0 * g->cs * ab + g->s2 * bb;
}

double plx_grating_acuity(const plx_grating *g, const double *G, double f_lo,
                          double f_hi, double step, double cutoff)
{
  double best = 0.0;
  long k, n = (long)floor((f_hi - f_lo) / step + 1e-9);
  for (k = 0; k <= n; k++) {
    double f = f_lo + (double)k * step;
    double D = plx_grating_sensitivity(g, G, f);
    if (!(D > 0) || 1.0 / sqrt(D) >= cutoff)
      break;
    best = f;
  }
  return best;
}
