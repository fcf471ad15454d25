/* images2d.c -- masked gratings, Gabor patches and rotated crops of
 * photographs, each with its exact derivative with respect to orientation
 * (see plastix/images2d.h), the cardinal and oblique gradient energy of a
 * photograph, and the inverse binary entropy used to balance label noise
 * against a prior. */
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

/* Keys' cubic convolution kernel (a = -1/2) and its derivative */
static double keys(double t)
{
  const double a = -0.5;
  t = fabs(t);
  if (t <= 1)
    return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2)
    return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

static double keys_d(double t)
{
  const double a = -0.5;
  double s = t < 0 ? -1.0 : 1.0;
  t = fabs(t);
  if (t <= 1)
    return s * (3 * (a + 2) * t - 2 * (a + 3)) * t;
  if (t < 2)
    return s * ((3 * a * t - 10 * a) * t + 8 * a);
  return 0;
}

void plx_orientation_energy(const float *grey, size_t w, size_t h, size_t x_end,
                            double window_deg, double *cardinal, double *oblique)
{
  double ec = 0.0, eo = 0.0;
  size_t r, c;
  if (x_end > w)
    x_end = w;
  for (r = 1; r + 1 < h; r++)
    for (c = 1; c + 1 < x_end; c++) {
      const double gx = (double)grey[r * w + c + 1] - (double)grey[r * w + c - 1];
      const double gy = (double)grey[(r + 1) * w + c] - (double)grey[(r - 1) * w + c];
      const double e = gx * gx + gy * gy;
      double a, d;
      if (e == 0.0)
        continue;
      /* a in [0, 90]; d its distance from the nearer axis, in [0, 45] */
      a = atan2(fabs(gy), fabs(gx)) * 180.0 / M_PI;
      d = a < 45.0 ? a : 90.0 - a;
      if (d <= window_deg)
        ec += e;
      else if (d >= 45.0 - window_deg)
        eo += e;
    }
  *cardinal = ec;
  *oblique = eo;
}

double plx_rotated_crop_radius(size_t size)
{
  return 0.5 * M_SQRT2 * ((double)size - 1.0) + 2.0;
}

void plx_rotated_crop(const float *grey, size_t w, size_t h, double cx, double cy,
                      size_t size, double theta, float *img, float *dimg)
{
  const double c0 = 0.5 * ((double)size - 1.0), ct = cos(theta), st = sin(theta);
  size_t i, j;
  (void)h;
  for (i = 0; i < size; i++)
    for (j = 0; j < size; j++) {
      /* output point u (y up); it shows the source point R(-theta) u */
      const double ux = (double)j - c0, uy = c0 - (double)i;
      const double sx = ct * ux + st * uy, sy = -st * ux + ct * uy;
      const double col = cx + sx, row = cy - sy;
      const long c1 = (long)floor(col), r1 = (long)floor(row);
      double v = 0, gx = 0, gy = 0, wx[4], wy[4], dwx[4], dwy[4];
      int a, b;
      for (a = 0; a < 4; a++) {
        wx[a] = keys(col - (double)(c1 - 1 + a));
        wy[a] = keys(row - (double)(r1 - 1 + a));
        dwx[a] = keys_d(col - (double)(c1 - 1 + a));
        dwy[a] = keys_d(row - (double)(r1 - 1 + a));
      }
      for (b = 0; b < 4; b++) {
        const float *line = grey + (size_t)(r1 - 1 + b) * w + (size_t)(c1 - 1);
        double sv = 0, sd = 0;
        for (a = 0; a < 4; a++) {
          sv += wx[a] * line[a];
          sd += dwx[a] * line[a];
        }
        v += wy[b] * sv;
        gx += wy[b] * sd;  /* d/d col */
        gy += dwy[b] * sv; /* d/d row */
      }
      img[i * size + j] = (float)v;
      if (dimg) {
        /* d col / d theta = d sx; d row / d theta = -d sy */
        const double dsx = -st * ux + ct * uy, dsy = -ct * ux - st * uy;
        dimg[i * size + j] = (float)(gx * dsx - gy * dsy);
      }
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
