/* images2d.c -- masked gratings and Gabor patches with their exact
 * derivative with respect to orientation (see plastix/images2d.h), and the
 * inverse binary entropy used to balance label noise against a prior. */
#include "config.h"
#include "plastix/images2d.h"

#include <math.h>

void plx_grating2d_render(const plx_grating2d *g, double theta, double phase,
                          float *img, float *dimg)
{
  const size_t n = g->size;
  const double c0 = 0.5 * ((double)n - 1.0), k = 2.0 * M_PI / g->period;
  const double st = sin(theta), ct = cos(theta);
  size_t i, j;
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      const double x = (double)j - c0, y = c0 - (double)i;
      const double u = x * st - y * ct, du = x * ct + y * st;
      double m = 1.0, env = 1.0, arg = k * u + phase;
      if (g->mask_radius > 0) {
        double r = sqrt(x * x + y * y);
        m = g->mask_blur > 0 ? 0.5 * erfc((r - g->mask_radius) / (M_SQRT2 * g->mask_blur))
                             : (r <= g->mask_radius ? 1.0 : 0.0);
      }
      if (g->envelope > 0)
        env = exp(-0.5 * (x * x + y * y) / (g->envelope * g->envelope));
      img[i * n + j] = (float)(g->offset + m * env * g->contrast * cos(arg));
      if (dimg)
        dimg[i * n + j] = (float)(-m * env * g->contrast * sin(arg) * k * du);
    }
}

static double binary_entropy(double p)
{
  if (p <= 0 || p >= 1)
    return 0.0;
  return -(p * log2(p) + (1 - p) * log2(1 - p));
}

double plx_inverse_binary_entropy(double h)
{
  /* H_b decreases from 1 to 0 on [1/2, 1] */
  double lo = 0.5, hi = 1.0;
  int it;
  if (h >= 1)
    return 0.5;
  if (h <= 0)
    return 1.0;
  for (it = 0; it < 200; it++) {
    double mid = 0.5 * (lo + hi);
    if (binary_entropy(mid) > h)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}
