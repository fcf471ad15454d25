/* plastix/perceptual_stimulus.h -- the stimuli of the perceptual-learning
 * experiment (Wenliang & Seitz 2018): Gabor patches on a grey 8-bit
 * background with additive Gaussian pixel noise drawn anew for every image,
 * and two-interval pairs of them (a reference and a target rotated by the
 * angle separation, clockwise or counter-clockwise).
 *
 * An image is built in grey levels, G = background + A cos(...) env + noise
 * with A = contrast * 127.5 (contrast is the fraction of the dynamic range)
 * and noise ~ N(0, noise_sd^2) grey levels, clipped to [0, 255]; the network
 * sees x = (G - input_offset) * input_scale.  Orientations follow
 * plastix/images2d.h (theta counter-clockwise from horizontal stripes, y
 * up), so the clockwise target of a reference theta is theta - separation. */
#ifndef PLASTIX_PERCEPTUAL_STIMULUS_H
#define PLASTIX_PERCEPTUAL_STIMULUS_H

#include "plastix/rng.h"

#include <stddef.h>

typedef struct plx_gabor_stim {
  size_t size;          /* pixels per side                                 */
  double wavelength;    /* pixels per cycle                                */
  double envelope;      /* s.d. of the Gaussian window, pixels             */
  double contrast;      /* amplitude / 127.5                               */
  double noise_sd;      /* grey levels                                     */
  double phase;         /* radians, used unless random_phase               */
  int random_phase;     /* 1: phase uniform in [0, 2 pi) for every image   */
  double background;    /* grey level of the background (127.5)           */
  double input_offset;  /* network input = (grey - offset) * scale         */
  double input_scale;
  int clip;             /* 1: clip grey levels to [0, 255]                 */
  int normalise;        /* 1: every image (after noise and clipping) to
                           zero mean and unit variance over its pixels,
                           instead of input_offset / input_scale (the
                           per-crop normalisation of the natural-image
                           pretraining)                                  */
} plx_gabor_stim;

/* Render one image at orientation theta (radians) with phase `phase`,
 * adding fresh noise from rng (rng may be NULL: no noise).  dimg (may be
 * NULL) receives d img / d theta in network units (zero where the grey
 * level was clipped; with normalise, the exact derivative of the
 * normalised image). */
void plx_gabor_render(const plx_gabor_stim *s, double theta, double phase, plx_rng *rng,
                      float *img, float *dimg);

/* Phase of the next image: s->phase, or uniform in [0, 2 pi) from rng. */
double plx_gabor_phase(const plx_gabor_stim *s, plx_rng *rng);

/* B two-interval pairs around the reference orientation ref (radians) at
 * angle separation sep (radians): targets into x[0 .. B), references into
 * x[B .. 2B) (each size^2 floats, sample-major); label[b] = 1 when the
 * target is clockwise of the reference (theta_t = ref - sep), else
 * theta_t = ref + sep.  Labels, phases and noise come from rng in a fixed
 * order: label, then per image phase (when random) and noise, target
 * first. */
void plx_gabor_pairs(const plx_gabor_stim *s, double ref, double sep, size_t B,
                     plx_rng *rng, float *x, unsigned char *label);

#endif
