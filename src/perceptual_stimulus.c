/* perceptual_stimulus.c -- noisy Gabor patches and two-interval pairs for
 * the perceptual-learning experiment.  See plastix/perceptual_stimulus.h. */
#include "config.h"
#include "plastix/perceptual_stimulus.h"
#include "plastix/images2d.h"

#include <math.h>

double plx_gabor_phase(const plx_gabor_stim *s, plx_rng *rng)
{
  return s->random_phase && rng ? 2.0 * M_PI * plx_rng_uniform(rng) : s->phase;
}

void plx_gabor_render(const plx_gabor_stim *s, double theta, double phase, plx_rng *rng,
                      float *img, float *dimg)
{
  plx_grating2d g;
  const size_t n = s->size * s->size;
  const double sc = s->input_scale, off = s->input_offset;
  size_t i;
  g.size = s->size;
  g.period = s->wavelength;
  g.contrast = s->contrast * 127.5;
  g.mask_radius = 0.0;
  g.mask_blur = 0.0;
  g.envelope = s->envelope;
  g.offset = s->background;
  plx_grating2d_render(&g, theta, phase, img, dimg);
  for (i = 0; i < n; i++) {
    double v = (double)img[i];
    int clipped = 0;
    if (rng && s->noise_sd > 0)
      v += s->noise_sd * plx_rng_normal(rng);
    if (s->clip && (v < 0.0 || v > 255.0)) {
      v = v < 0.0 ? 0.0 : 255.0;
      clipped = 1;
    }
    if (s->normalise) {
      /* grey levels for now; normalised below */
      img[i] = (float)v;
      if (dimg && clipped)
        dimg[i] = 0.0f;
      continue;
    }
    img[i] = (float)((v - off) * sc);
    if (dimg)
      dimg[i] = clipped ? 0.0f : (float)((double)dimg[i] * sc);
  }
  if (s->normalise) {
    /* z = (g - m) / sd: dz = (dg - dm) / sd - (g - m) dsd / sd^2 with
     * dsd = sum (g - m)(dg - dm) / (n sd) */
    double m = 0, q = 0, dm = 0, c = 0, sd, dsd;
    for (i = 0; i < n; i++) {
      m += img[i];
      if (dimg)
        dm += dimg[i];
    }
    m /= (double)n;
    dm /= (double)n;
    for (i = 0; i < n; i++) {
      const double a = (double)img[i] - m;
      q += a * a;
      if (dimg)
        c += a * ((double)dimg[i] - dm);
    }
    sd = sqrt(q / (double)n);
    if (!(sd > 1e-6)) {
      for (i = 0; i < n; i++) {
        img[i] = 0.0f;
        if (dimg)
          dimg[i] = 0.0f;
      }
      return;
    }
    dsd = c / ((double)n * sd);
    for (i = 0; i < n; i++) {
      const double a = (double)img[i] - m;
      if (dimg)
        dimg[i] = (float)(((double)dimg[i] - dm) / sd - a * dsd / (sd * sd));
      img[i] = (float)(a / sd);
    }
  }
}

void plx_gabor_pairs(const plx_gabor_stim *s, double ref, double sep, size_t B,
                     plx_rng *rng, float *x, unsigned char *label)
{
  const size_t n = s->size * s->size;
  size_t b;
  for (b = 0; b < B; b++) {
    double ph;
    label[b] = plx_rng_uniform(rng) < 0.5;
    ph = plx_gabor_phase(s, rng);
    plx_gabor_render(s, label[b] ? ref - sep : ref + sep, ph, rng, x + b * n, NULL);
    ph = plx_gabor_phase(s, rng);
    plx_gabor_render(s, ref, ph, rng, x + (B + b) * n, NULL);
  }
}
